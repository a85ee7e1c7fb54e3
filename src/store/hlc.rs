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

/// The archive's clock held in memory by an import, which stamps its notes itself: the
/// stamping trigger wrote each imported note's row a second time (a third of an import's
/// SQLite time). Ticks as the trigger does; [`Ticker::store_in`] moves the stored clock past
/// the last stamp before anything else in the transaction ticks it.
pub(crate) struct Ticker {
    ms: i64,
    counter: i64,
    archive: String,
    ticked: bool,
}

/// The largest counter the stamp's six digits hold: past it, the next millisecond.
const MAX_COUNTER: i64 = 999_999;

impl Ticker {
    pub(crate) fn load_in(tx: &Connection) -> Result<Ticker> {
        let (ms, counter, archive) = tx
            .prepare_cached(
                "SELECT ms, counter, \
                   coalesce((SELECT value FROM archive_meta WHERE key = 'archive_id'), '') \
                 FROM sync_clock",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(Ticker {
            ms,
            counter,
            archive,
            ticked: false,
        })
    }

    /// The next stamp: this laptop's time, or after the last stamp when that is ahead.
    pub(crate) fn tick(&mut self) -> String {
        self.tick_at(chrono::Utc::now().timestamp_millis())
    }

    fn tick_at(&mut self, now_ms: i64) -> String {
        if now_ms > self.ms {
            self.ms = now_ms;
            self.counter = 0;
        } else if self.counter >= MAX_COUNTER {
            // A clock running behind a stamp seen from elsewhere, a million ticks in one
            // millisecond: the counter's digits would overflow and break the text order.
            self.ms += 1;
            self.counter = 0;
        } else {
            self.counter += 1;
        }
        self.ticked = true;
        format!("{:013}-{:06}-{}", self.ms, self.counter, self.archive)
    }

    /// Stores the clock (never moving it back) if it ticked.
    pub(crate) fn store_in(&self, tx: &Connection) -> Result<()> {
        if self.ticked {
            observe_in(tx, &format!("{:013}-{:06}-", self.ms, self.counter))?;
        }
        Ok(())
    }
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
    fn an_import_ticks_like_the_trigger_and_never_overflows_the_counter() {
        let mut t = Ticker {
            ms: 1_000,
            counter: 5,
            archive: "A".into(),
            ticked: false,
        };
        // Behind the clock: the counter moves on.
        assert_eq!(t.tick_at(900), "0000000001000-000006-A");
        // Ahead: the new time, counter 0.
        assert_eq!(t.tick_at(2_000), "0000000002000-000000-A");
        assert_eq!(t.tick_at(2_000), "0000000002000-000001-A");
        t.counter = MAX_COUNTER;
        let next = t.tick_at(2_000);
        assert_eq!(next, "0000000002001-000000-A");
        assert!(next > format!("0000000002000-{MAX_COUNTER:06}-A"));
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
