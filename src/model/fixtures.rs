//! Values for hand-made test data whose decisions do not depend on them.

use super::CiSystem;

/// Some CI system, for jobs in tests of decisions that never look at which
/// one runs them (the engine and `plan/` name no CI system; `ci/`'s own
/// tests use the real ones).
pub const ANY_CI: CiSystem = CiSystem::Taskcluster;
