//! The hybrid logical clock that orders changes between laptops.
//!
//! A stamp is `<ms, 13 digits>-<counter, 6 digits>-<archive id>`: text order is stamp order.
//! Each local change takes a tick (the triggers of `schema/0013_team_sync.sql`): the larger
//! of this laptop's time and the largest stamp it has seen, the counter breaking ties. Every
//! merge and pull moves the clock past each stamp it brings in ([`observe_in`]), so a change
//! made after seeing another always sorts after it, even when the other laptop's clock runs
//! an hour ahead: that laptop wins only the changes nobody had seen yet.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use crate::error::Result;

/// The stamp of something written before stamps existed: its time, counter 0, no archive.
/// Sorts before any stamp taken in the same millisecond.
pub fn legacy(at: DateTime<Utc>) -> String {
    format!("{:013}-{:06}-", at.timestamp_millis().max(0), 0)
}

/// The stamp as given, or the one its time stands for.
pub fn effective(stamp: Option<&str>, at: DateTime<Utc>) -> String {
    stamp.map_or_else(|| legacy(at), str::to_owned)
}

/// A stamp's milliseconds and counter; `None` for text that is not a stamp.
pub fn parts(stamp: &str) -> Option<(i64, i64)> {
    let mut fields = stamp.splitn(3, '-');
    let ms = fields.next()?.parse().ok()?;
    let counter = fields.next()?.parse().ok()?;
    Some((ms, counter))
}

/// Moves the archive's clock past `stamp`, inside the merge's transaction: the next local
/// change is stamped after it.
pub(crate) fn observe_in(tx: &Connection, stamp: &str) -> Result<()> {
    let Some((ms, counter)) = parts(stamp) else {
        return Ok(());
    };
    tx.prepare_cached(
        "UPDATE sync_clock SET \
           counter = CASE WHEN ?1 > ms THEN ?2 WHEN ?1 = ms THEN max(counter, ?2) ELSE counter END, \
           ms = max(ms, ?1)",
    )?
    .execute(params![ms, counter])?;
    Ok(())
}

/// While set (inside one transaction), writes keep the stamps they carry: a merge writing
/// what another archive stamped.
pub(crate) fn applying_in(tx: &Connection, on: bool) -> Result<()> {
    tx.prepare_cached("UPDATE sync_clock SET applying = ?1")?
        .execute([on])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_stamps_sort_by_time_and_before_real_ones() {
        let a: DateTime<Utc> = "2026-09-03T10:00:00Z".parse().unwrap();
        let b: DateTime<Utc> = "2026-09-03T10:00:00.001Z".parse().unwrap();
        assert!(legacy(a) < legacy(b));
        let real = format!("{}-{:06}-01K", a.timestamp_millis(), 0);
        assert!(legacy(a) < real);
        assert_eq!(parts(&legacy(b)), Some((b.timestamp_millis(), 0)));
        assert_eq!(parts("nonsense"), None);
    }

    #[test]
    fn observing_a_stamp_ahead_puts_the_next_tick_after_it() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE archive_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             INSERT INTO archive_meta VALUES ('archive_id', 'B');",
        )
        .unwrap();
        conn.execute_batch(
            "CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT, kind TEXT, updated_at TEXT, hlc TEXT,
               trash_hlc TEXT, deleted_at TEXT);
             CREATE TABLE note_revisions (id INTEGER PRIMARY KEY, note_id TEXT, written_at TEXT, hlc TEXT);
             CREATE TABLE sessions (id TEXT PRIMARY KEY, title TEXT, ended_at TEXT,
               researcher TEXT, location TEXT, channel TEXT, hlc TEXT);",
        )
        .unwrap();
        // Only the clock and its triggers from the migration (not its ALTERs).
        let migration = include_str!("../../schema/0013_team_sync.sql");
        let clock = &migration[migration.find("CREATE TABLE sync_clock").unwrap()..];
        let clock_table = &clock[..clock.find("-- Stamps").unwrap()];
        conn.execute_batch(clock_table).unwrap();
        let triggers = &migration[migration.find("CREATE TRIGGER").unwrap()..];
        conn.execute_batch(triggers).unwrap();
        // A laptop an hour ahead stamped a note; this archive sees it.
        let now = Utc::now().timestamp_millis();
        let ahead = format!("{:013}-000003-A", now + 3_600_000);
        observe_in(&conn, &ahead).unwrap();
        conn.execute(
            "INSERT INTO notes (id, body, kind) VALUES ('n', 'x', 'quote')",
            [],
        )
        .unwrap();
        let mine: String = conn
            .query_row("SELECT hlc FROM notes WHERE id = 'n'", [], |r| r.get(0))
            .unwrap();
        assert!(mine > ahead, "{mine} should sort after {ahead}");
        conn.execute("UPDATE notes SET body = 'y' WHERE id = 'n'", [])
            .unwrap();
        let edited: String = conn
            .query_row("SELECT hlc FROM notes WHERE id = 'n'", [], |r| r.get(0))
            .unwrap();
        assert!(edited > mine);
        // While a merge applies, what it writes keeps its stamps.
        applying_in(&conn, true).unwrap();
        conn.execute("UPDATE notes SET body = 'z' WHERE id = 'n'", [])
            .unwrap();
        let kept: String = conn
            .query_row("SELECT hlc FROM notes WHERE id = 'n'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, edited);
    }
}
