//! Treeherder job view page URLs (current, legacy `selectedJob`, 2015 hash
//! form). Property: what is read back names a repository.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mozci::sources::treeherder_page::parse_job_view_url;

fuzz_target!(|data: &[u8]| {
    let url = mozci_fuzz::text(data);
    if let Some(selection) = parse_job_view_url(&url) {
        assert!(!selection.repo.is_empty(), "a selection without repository");
    }
});
