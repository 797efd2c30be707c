//! The trychooser graph file (`graphs.json`) as read back: parsing, lookups,
//! and a write/read round trip that must give the same graph.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mozci::sources::allthethings::BuildType;
use mozci::sources::trychooser::TrychooserGraph;

fuzz_target!(|data: &[u8]| {
    let Ok(graph) = serde_json::from_slice::<TrychooserGraph>(data) else {
        return;
    };
    for build_type in [BuildType::Debug, BuildType::Opt, BuildType::Pgo] {
        for jobs in graph.platforms(build_type).values() {
            for build in jobs.builds.keys() {
                assert!(graph.tests_of_build(build).is_some());
            }
        }
    }
    let written = serde_json::to_vec(&graph).expect("a graph always serialises");
    let reread: TrychooserGraph =
        serde_json::from_slice(&written).expect("a written graph reads back");
    assert_eq!(reread, graph, "round trip changed the graph");
});
