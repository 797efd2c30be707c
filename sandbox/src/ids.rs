//! Deterministic identifiers and randomness: 40-hex revisions, Taskcluster
//! slugids and seeded draws, all derived by hashing so that a scenario and a
//! seed always produce the same world regardless of event order.

use base64::Engine;

/// splitmix64 finalizer: a good 64-bit mixer.
fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Hashes a list of string parts (FNV-1a then splitmix) into 64 bits.
pub fn mix(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.as_bytes().iter().chain(std::iter::once(&0xffu8)) {
            h ^= u64::from(*byte);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    splitmix(h)
}

/// A uniform draw in [0, 1) for the given parts.
pub fn unit(parts: &[&str]) -> f64 {
    (mix(parts) >> 11) as f64 / (1u64 << 53) as f64
}

/// A 40-hex Mercurial revision.
pub fn revision(parts: &[&str]) -> String {
    let mut out = String::with_capacity(48);
    let mut state = mix(parts);
    while out.len() < 40 {
        state = splitmix(state);
        out.push_str(&format!("{state:016x}"));
    }
    out.truncate(40);
    out
}

/// A Taskcluster slugid (22 characters of URL-safe base64 over 16 bytes,
/// first bit clear as in "nice" slugids).
pub fn slugid(parts: &[&str]) -> String {
    let a = mix(parts);
    let b = splitmix(a);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    bytes[0] &= 0x7f;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The UUID form of a slugid, as Treeherder's `job_guid` uses it.
pub fn slugid_to_uuid(slug: &str) -> String {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(slug)
        .unwrap_or_default();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if hex.len() != 32 {
        return hex;
    }
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_are_40_hex_and_stable() {
        let r = revision(&["a", "b"]);
        assert_eq!(r.len(), 40);
        assert_eq!(r, revision(&["a", "b"]));
        assert_ne!(r, revision(&["a", "c"]));
    }

    #[test]
    fn slugids_have_22_chars_and_a_uuid_form() {
        let s = slugid(&["task", "1"]);
        assert_eq!(s.len(), 22);
        assert_eq!(slugid_to_uuid(&s).len(), 36);
    }

    #[test]
    fn unit_draws_stay_in_range() {
        for i in 0..1000 {
            let u = unit(&["draw", &i.to_string()]);
            assert!((0.0..1.0).contains(&u));
        }
    }
}
