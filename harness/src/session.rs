//! A native engine session on a running sandbox, signed in to its
//! Taskcluster as the sheriff its scenarios grant the action hooks' scopes:
//! what the scenario tests drive the engine with, as a driver would.

use crate::Sandbox;
use anyhow::{Context, Result};
use mozci::ci::taskcluster::TaskclusterCi;
use mozci::ci::{Backends, CiContext, Endpoints};
use mozci::engine::Session;
use mozci::http::NativeClient;
use mozci::sources::taskcluster::credentials::TaskclusterCredentials;
use mozci::sources::taskcluster::RootUrl;
use std::rc::Rc;
use std::time::Duration;

/// The sheriff's Taskcluster client id (a Treeherder login's client).
pub const SHERIFF_TC_CLIENT: &str = "mozilla-auth0/ad|Mozilla-LDAP|sheriff/treeherder-login";
/// Its access token, as the sandbox's scenarios know it.
pub const SHERIFF_TC_TOKEN: &str = "sheriff-access-token-0000000000000000000000";

/// A session on `sandbox`'s services with Taskcluster only, signed as
/// [`SHERIFF_TC_CLIENT`], and the HTTP client it uses (for admin calls
/// made the same way).
pub fn sheriff_session(sandbox: &Sandbox) -> Result<(Session, Rc<NativeClient>)> {
    let o = &sandbox.origins;
    let http = Rc::new(NativeClient::new(Duration::from_secs(10)).context("HTTP client")?);
    let ctx = CiContext::new(
        http.clone(),
        Endpoints::sandbox(&o.treeherder, &o.hg, &o.buildapi, &o.taskcluster),
    );
    let root = RootUrl::parse(&o.taskcluster).context("the sandbox's root URL")?;
    let taskcluster = TaskclusterCi::new(
        ctx.clone(),
        root,
        Some(TaskclusterCredentials {
            client_id: SHERIFF_TC_CLIENT.into(),
            access_token: SHERIFF_TC_TOKEN.into(),
            certificate: None,
        }),
    );
    let session = Session::new(ctx, Backends::only(Rc::new(taskcluster)));
    Ok((session, http))
}
