//! The wall clock and fresh nonces for signing requests, in the browser and
//! natively (in wasm32 `SystemTime::now()` panics, so the browser's own
//! `Date.now()` is used there).

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    now_ms() / 1000
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as u64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// A fresh random nonce for a Hawk header: 12 random bytes, hex-encoded.
pub fn nonce() -> String {
    let mut bytes = [0u8; 12];
    // A failing OS random source is not something to sign with: fall back to
    // the clock mixed with a counter, unique per process, rather than panic.
    if getrandom::getrandom(&mut bytes).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed) ^ now_ms().rotate_left(17);
        bytes[..8].copy_from_slice(&n.to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn nonces_differ_and_clock_is_sane() {
        let (a, b) = (super::nonce(), super::nonce());
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
        assert!(super::now_secs() > 1_700_000_000);
    }
}
