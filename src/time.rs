//! Timestamps as the archive stores them: UTC, RFC 3339, milliseconds, so text order is time order.

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};

use crate::error::{Error, Result};

pub fn now() -> DateTime<Utc> {
    // Millisecond precision so a value read back from the archive equals the one written.
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

pub fn to_db(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn from_db(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Corrupt(format!("stored time {s:?} is not RFC 3339: {e}")))
}

/// Reads a time a person typed: RFC 3339 (`2026-09-03T10:00:00Z`), `2026-09-03 10:00`, or a
/// date (`2026-09-03`, meaning its start in UTC).
pub fn parse_user(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists")));
    }
    Err(format!(
        "{s:?} is not a date: write 2026-09-03, 2026-09-03 14:30 or 2026-09-03T14:30:00Z"
    ))
}

/// The end of the day a bare date names, so `--until 2026-09-03` includes that day.
pub fn parse_user_until(s: &str) -> Result<DateTime<Utc>, String> {
    let t = parse_user(s)?;
    if NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").is_ok() {
        Ok(t + chrono::Duration::days(1) - chrono::Duration::milliseconds(1))
    } else {
        Ok(t)
    }
}
