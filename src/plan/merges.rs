//! Following a merge push into the repository its changesets came from.
//!
//! A merge push (say on mozilla-central) carries changesets first pushed to
//! an integration repository (say autoland). Looking those changesets up in
//! the source repository's pushlog gives the source pushes that the merge
//! brought in, which is where a failure first seen after the merge is
//! backfilled.

#![warn(missing_docs)]

use crate::model::{Push, Revision};
use serde::{Deserialize, Serialize};

/// The source repository's pushes a merge brought in, by push id (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedRange {
    /// The oldest push brought in.
    pub first_push_id: u64,
    /// The newest push brought in.
    pub last_push_id: u64,
}

/// Given the merge push and, for each of its changesets, the source-repo push
/// that contains it (`None` when the changeset was not pushed there, e.g. the
/// merge commit itself), the range of source pushes merged. `None` when no
/// changeset came from the source repository.
pub fn merged_source_range(
    merge: &Push,
    source_push_of: &[(Revision, Option<u64>)],
) -> Option<MergedRange> {
    let ids = merge.changesets.iter().filter_map(|c| {
        source_push_of
            .iter()
            .find(|(rev, _)| rev.matches(&c.node))
            .and_then(|(_, id)| *id)
    });
    let (min, max) = ids.fold((None::<u64>, None::<u64>), |(lo, hi), id| {
        (
            Some(lo.map_or(id, |l| l.min(id))),
            Some(hi.map_or(id, |h| h.max(id))),
        )
    });
    Some(MergedRange {
        first_push_id: min?,
        last_push_id: max?,
    })
}

/// The changesets worth looking up: a merge's changesets minus the merge
/// commits themselves (two parents are not visible here, so the heuristic is
/// the description Mozilla's merge tooling writes).
pub fn changesets_to_look_up(merge: &Push) -> Vec<Revision> {
    merge
        .changesets
        .iter()
        .filter(|c| {
            let d = c.desc.to_ascii_lowercase();
            !(d.starts_with("merge ") || d.contains(" merge ") && d.contains("a=merge"))
        })
        .map(|c| c.node.clone())
        .collect()
}
