//! Ids for notes that arrive without one, derived from what they are, so importing the same
//! material twice gives the same ids and adds nothing.

use chrono::{DateTime, Utc};

/// A ULID whose time part is `at` (so ids still sort by time) and whose random part is a
/// 128-bit FNV-1a hash of `parts`; stable across runs, machines and Rust versions.
pub fn stable_ulid(at: Option<DateTime<Utc>>, parts: &[&str]) -> String {
    let ms = at.map_or(0, |t| t.timestamp_millis().max(0) as u64);
    ulid::Ulid::from_parts(ms, stable_hash(parts)).to_string()
}

/// A GUID (`8-4-4-4-12` hex, version 8 "custom") derived from `parts`: what REFI-QDA files
/// need for every code, source, selection and case, the same on every export.
pub fn stable_guid(parts: &[&str]) -> String {
    let h = stable_hash(parts);
    let h = (h & !(0xf << 76) | (0x8 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{h:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A 128-bit FNV-1a hash of `parts`, separated so ("ab", "c") and ("a", "bc") differ.
fn stable_hash(parts: &[&str]) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut hash = OFFSET;
    for part in parts {
        for &b in part.as_bytes() {
            hash ^= b as u128;
            hash = hash.wrapping_mul(PRIME);
        }
        // A separator so ("ab", "c") and ("a", "bc") differ.
        hash ^= 0xff;
        hash = hash.wrapping_mul(PRIME);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_parts_same_id_and_order_matters() {
        let a = stable_ulid(None, &["s", "text"]);
        assert_eq!(a, stable_ulid(None, &["s", "text"]));
        assert_ne!(a, stable_ulid(None, &["st", "ext"]));
        assert_eq!(a.len(), 26);
    }

    #[test]
    fn guids_look_like_guids() {
        let g = stable_guid(&["code", "checkout"]);
        assert_eq!(g, stable_guid(&["code", "checkout"]));
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "8");
        assert!(g.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }
}
