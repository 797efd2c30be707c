//! The Job abstraction: one trait over both CI systems.
//!
//! Code above this module asks for "jobs of this type on this push" or
//! "trigger N of this type" without naming Buildbot or Taskcluster.

pub mod buildbot;
