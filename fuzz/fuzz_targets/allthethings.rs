//! allthethings.json: builder metadata, the test -> upstream build mapping
//! (by index and by name), SETA intervals, and the trychooser graph built
//! from it. The input doubles as a builder name for the name-only rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mozci::sources::allthethings::{
    parse_allthethings, parse_seta_intervals, upstream_builder_from_name,
};
use mozci::sources::trychooser::build_trychooser_graph;
use mozci_fuzz::text;

fuzz_target!(|data: &[u8]| {
    let as_name = text(data);
    let _ = upstream_builder_from_name(&as_name);
    let _ = parse_seta_intervals(data);
    let Ok(things) = parse_allthethings(data) else {
        return;
    };
    let index = things.upstream_index();
    let _ = index.upstream_builder(&as_name);
    for name in things.builders.keys() {
        let _ = (things.is_downstream(name), things.is_wanted_builder(name));
        if let Ok(metadata) = things.builder_metadata(name) {
            let _ = metadata.is_test();
        }
        let _ = index.upstream_builder(name);
        let _ = upstream_builder_from_name(name);
    }
    let _ = things.seta_intervals();
    let graph = build_trychooser_graph(&things);
    // Every build the graph lists must be a builder of the input.
    for platforms in [&graph.debug, &graph.opt, &graph.pgo] {
        for jobs in platforms.values() {
            for build in jobs.builds.keys() {
                assert!(
                    things.builders.contains_key(build),
                    "graph invented {build:?}"
                );
            }
        }
    }
});
