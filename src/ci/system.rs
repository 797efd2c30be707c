//! What each CI system asks of its users and offers a driver, so that the
//! drivers ask here instead of naming a system: what it is called, where the
//! user's login for it comes from, whether its runs can be followed live,
//! and whether it has a backfill action of its own.

use crate::model::CiSystem;

/// Where a user's login for a CI system comes from: it decides what a
/// driver tells the user when the login is missing or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// The user's Treeherder login: Treeherder keeps the system's
    /// credentials for a logged-in user (`localStorage.userCredentials`),
    /// read on each click; logging in to Treeherder is what fixes it.
    Treeherder,
    /// An account the driver keeps in its own settings: `service` asks for
    /// `account` (Self-Serve BuildAPI asks for the user's LDAP login).
    DriverSettings {
        /// The service that asks, as the user knows it.
        service: &'static str,
        /// What it asks for.
        account: &'static str,
    },
}

/// The one login a driver keeps in its own settings (the other comes from
/// Treeherder): what to ask for when a refusal cannot be tied to a system.
pub const SETTINGS_LOGIN: Login = Login::DriverSettings {
    service: "BuildAPI",
    account: "LDAP login",
};

/// The CI systems' traits, kept with the CI code.
impl CiSystem {
    /// The system's name as its users know it.
    pub fn name(self) -> &'static str {
        match self {
            CiSystem::Buildbot => "Buildbot",
            CiSystem::Taskcluster => "Taskcluster",
        }
    }

    /// Where the user's login for this system comes from.
    pub fn login(self) -> Login {
        match self {
            CiSystem::Buildbot => SETTINGS_LOGIN,
            CiSystem::Taskcluster => Login::Treeherder,
        }
    }

    /// Whether runs of this system can be followed through live events
    /// (Taskcluster's GraphQL subscriptions, see `ci::live_events`); runs
    /// of the others are polled only.
    pub fn has_live_events(self) -> bool {
        matches!(self, CiSystem::Taskcluster)
    }

    /// Whether the system has its own fixed-range backfill
    /// (`CiBackend::backfill_action`: Taskcluster's `backfill` action).
    pub fn has_backfill_action(self) -> bool {
        matches!(self, CiSystem::Taskcluster)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_system_says_where_its_login_comes_from() {
        assert_eq!(CiSystem::Taskcluster.login(), Login::Treeherder);
        assert_eq!(
            CiSystem::Buildbot.login(),
            Login::DriverSettings {
                service: "BuildAPI",
                account: "LDAP login"
            }
        );
        assert!(CiSystem::Taskcluster.has_live_events() && !CiSystem::Buildbot.has_live_events());
        assert!(
            CiSystem::Taskcluster.has_backfill_action()
                && !CiSystem::Buildbot.has_backfill_action()
        );
    }
}
