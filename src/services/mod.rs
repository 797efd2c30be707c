//! Clients of the services that are not CI systems: requests built and
//! answers parsed by `sources/`, sent through `http/`, returned as `model/`
//! types. Treeherder shows every CI system's runs, so `ci/`'s backends and
//! the engine both read it through [`treeherder`].

pub mod treeherder;
