//! Decision tests over hand-made histories (see `test_support`).

mod backfill;
mod merges;
mod monitor;
mod tagged_shapes;
mod trigger;
mod verdict;
