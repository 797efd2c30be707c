//! `plan::merges` over hand-made changesets: which source pushes a merge
//! push brought in.

use crate::model::{Changeset, Revision};
use crate::plan::merges::*;
use crate::plan::test_support::*;

fn cs(n: u64, desc: &str) -> Changeset {
    Changeset {
        node: rev(n),
        author: "a".into(),
        desc: desc.into(),
    }
}

#[test]
fn merge_maps_to_the_source_pushes_it_brought_in() {
    let mut merge = push(500);
    merge.changesets = vec![
        cs(1, "Bug 1 - a"),
        cs(2, "Bug 2 - b"),
        cs(3, "Bug 3 - c"),
        cs(4, "Merge autoland to mozilla-central. a=merge"),
    ];
    let lookups: Vec<(Revision, Option<u64>)> = vec![
        (rev(1), Some(901)),
        (rev(2), Some(903)),
        (rev(3), Some(902)),
        (rev(4), None),
    ];
    assert_eq!(
        merged_source_range(&merge, &lookups),
        Some(MergedRange {
            first_push_id: 901,
            last_push_id: 903
        })
    );
    assert_eq!(changesets_to_look_up(&merge), vec![rev(1), rev(2), rev(3)]);
}

#[test]
fn short_revisions_match_and_foreign_merges_give_nothing() {
    let mut merge = push(500);
    merge.changesets = vec![cs(7, "Bug 7")];
    let short = Revision(rev(7).0[..12].to_string());
    assert_eq!(
        merged_source_range(&merge, &[(short, Some(42))]),
        Some(MergedRange {
            first_push_id: 42,
            last_push_id: 42
        })
    );
    assert_eq!(merged_source_range(&merge, &[(rev(7), None)]), None);
    assert_eq!(merged_source_range(&push(1), &[]), None);
}
