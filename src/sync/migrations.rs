//! The server schema's own numbered migrations (`schema/server/`), applied by
//! `fieldnotes remote init` and recorded in the server's `schema_migrations`.

use super::client::Server;
use super::server_error;
use crate::error::{Error, Result};

/// The server migrations, in order; migration N is recorded as version N.
pub const SERVER_MIGRATIONS: &[(&str, &str)] = &[(
    "0001_event_log",
    include_str!("../../schema/server/0001_event_log.sql"),
)];

/// The group role every researcher's login is made a member of: it holds the grants, while
/// row-level security decides which studies each login sees.
const GROUP: &str = "fieldnotes";

/// Brings the server's schema up to date; returns the migrations applied now. Run by an
/// administrator (a login that may create tables and roles).
pub fn init(server: &mut Server) -> Result<Vec<String>> {
    let remote = server.remote.clone();
    let fail = |e: postgres::Error| server_error(&remote, &e);
    let client = &mut server.client;
    let has_group = client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&GROUP])
        .map_err(fail)?
        .is_some();
    if !has_group {
        client
            .batch_execute(&format!("CREATE ROLE {GROUP} NOLOGIN"))
            .map_err(fail)?;
    }
    client
        .batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    integer NOT NULL PRIMARY KEY,
                 name       text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             );
             ALTER TABLE schema_migrations ENABLE ROW LEVEL SECURITY;
             DROP POLICY IF EXISTS schema_migrations_read ON schema_migrations;
             CREATE POLICY schema_migrations_read ON schema_migrations FOR SELECT USING (true);
             GRANT SELECT ON schema_migrations TO {GROUP};"
        ))
        .map_err(fail)?;
    let mut applied = Vec::new();
    for (number, (name, sql)) in SERVER_MIGRATIONS.iter().enumerate() {
        let version = number as i32 + 1;
        let mut tx = client.transaction().map_err(fail)?;
        // Taken in order: two administrators running init at once apply each migration once.
        tx.batch_execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
            .map_err(fail)?;
        let done = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[&version],
            )
            .map_err(fail)?
            .is_some();
        if !done {
            tx.batch_execute(sql).map_err(fail)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&version, name],
            )
            .map_err(fail)?;
            applied.push((*name).to_owned());
        }
        tx.commit().map_err(fail)?;
    }
    Ok(applied)
}

/// Refuses a server without the schema or with a newer one than this fieldnotes knows.
pub(crate) fn check(server: &mut Server) -> Result<()> {
    let remote = server.remote.clone();
    let version: Option<i32> = match server
        .client
        .query_one("SELECT max(version) FROM schema_migrations", &[])
    {
        Ok(row) => row.get(0),
        Err(e) if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) => None,
        Err(e) => return Err(server_error(&remote, &e)),
    };
    let known = SERVER_MIGRATIONS.len() as i32;
    match version {
        None => Err(Error::Server {
            remote,
            reason: format!(
                "it has no fieldnotes schema yet: an administrator runs `fieldnotes remote init {}`",
                server.remote
            ),
        }),
        Some(v) if v > known => Err(Error::Server {
            remote,
            reason: format!(
                "its schema (version {v}) is newer than this fieldnotes knows ({known}): upgrade fieldnotes"
            ),
        }),
        Some(_) => Ok(()),
    }
}
