//! Free local ports for the servers a test starts.

use std::net::TcpListener;

/// A port on 127.0.0.1 that was free a moment ago. The listener is dropped
/// before returning, so a (rare) race with another process is possible;
/// callers that can bind port 0 themselves should prefer that.
pub fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}
