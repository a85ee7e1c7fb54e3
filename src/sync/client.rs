//! The connection to a team server and the statements a sync sends.

use std::path::PathBuf;
use std::time::Duration;

use postgres::config::Host;
use postgres::{Client, Config, NoTls};

use super::server_error;
use crate::error::{Error, Result};

/// A connection to one remote.
pub struct Server {
    pub(crate) client: Client,
    pub(crate) remote: String,
}

/// Connects to `url` as the remote `remote`. The password comes from the URL, else
/// `PGPASSWORD`, else `~/.pgpass` (or `PGPASSFILE`), as with `psql`. TLS is used as the URL's
/// `sslmode` asks, as libpq reads it (see [`TlsMode`]); a server that cannot be reached, or
/// whose certificate is refused, is [`Error::Unreachable`].
pub fn connect(remote: &str, url: &str) -> Result<Server> {
    let (mut config, tls) = parse(url)?;
    if config.get_password().is_none()
        && let Some(password) = std::env::var("PGPASSWORD")
            .ok()
            .or_else(|| pgpass_password(&config))
    {
        config.password(password);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    let unix_only = config
        .get_hosts()
        .iter()
        .all(|h| matches!(h, Host::Unix(_)));
    // As libpq: a Unix socket is never encrypted.
    let connected = if tls.mode == TlsMode::Disable || unix_only {
        config.connect(NoTls)
    } else {
        config.connect(tls.connector()?)
    };
    let client = connected.map_err(|e| Error::Unreachable {
        remote: remote.to_owned(),
        reason: match e.as_db_error() {
            Some(db) => db.message().to_owned(),
            None => e.to_string(),
        },
    })?;
    Ok(Server {
        client,
        remote: remote.to_owned(),
    })
}

/// A remote's URL read as the client crate reads it, with what it asks of TLS. Also what
/// `remote add` checks a URL with.
pub(crate) fn parse(url: &str) -> Result<(Config, Tls)> {
    let (url_for_crate, tls) = tls_options(url)?;
    let config = url_for_crate.parse::<Config>().map_err(|e| {
        Error::Usage(format!(
            "{} is not a PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE): {e}",
            redact_url(url)
        ))
    })?;
    Ok((config, tls))
}

/// The URL's `sslmode`, as libpq reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsMode {
    /// `disable`: never encrypted.
    Disable,
    /// `allow`, `prefer` (the default): encrypted when the server offers it, certificate
    /// not checked.
    Prefer,
    /// `require`: encrypted or no connection; the certificate is not checked unless a root
    /// certificate is given (then as `verify-ca`, as libpq does).
    Require,
    /// `verify-ca`: encrypted, and the server's certificate signed by the root certificate.
    VerifyCa,
    /// `verify-full`: as `verify-ca`, and the certificate names the host connected to.
    VerifyFull,
}

/// What a connection asks of TLS: the mode and the root certificate to check the server's
/// against (`sslrootcert`: a file, or `system` for the system's trusted roots).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tls {
    pub mode: TlsMode,
    root: Option<String>,
}

/// Takes `sslmode` and `sslrootcert` out of a URL (or a `key=value` connection string): the
/// client crate knows neither `verify-ca`/`verify-full` nor `sslrootcert`, so it is given
/// `sslmode=require` for those and TLS is set up here.
fn tls_options(url: &str) -> Result<(String, Tls)> {
    let (head, params, sep) = match url.split_once("://") {
        Some(_) => match url.split_once('?') {
            Some((head, query)) => (format!("{head}?"), query.to_owned(), '&'),
            None => (url.to_owned(), String::new(), '&'),
        },
        None => (String::new(), url.to_owned(), ' '),
    };
    let mut mode = None;
    let mut root = None;
    let mut kept = Vec::new();
    for param in params.split(sep).filter(|p| !p.is_empty()) {
        match param.split_once('=') {
            Some(("sslmode", value)) => {
                let (m, for_crate) = match value {
                    "disable" => (TlsMode::Disable, "disable"),
                    "allow" | "prefer" => (TlsMode::Prefer, "prefer"),
                    "require" => (TlsMode::Require, "require"),
                    "verify-ca" => (TlsMode::VerifyCa, "require"),
                    "verify-full" => (TlsMode::VerifyFull, "require"),
                    other => {
                        return Err(Error::Usage(format!(
                            "sslmode={other} in {}: use disable, allow, prefer, require, verify-ca or verify-full",
                            redact_url(url)
                        )));
                    }
                };
                mode = Some(m);
                kept.push(format!("sslmode={for_crate}"));
            }
            Some(("sslrootcert", value)) => root = Some(value.to_owned()),
            _ => kept.push(param.to_owned()),
        }
    }
    let rest = kept.join(&sep.to_string());
    let url_for_crate = match (head.is_empty(), rest.is_empty()) {
        (true, _) => rest,
        (false, true) => head.trim_end_matches('?').to_owned(),
        (false, false) => format!("{head}{rest}"),
    };
    let mut mode = mode.unwrap_or(TlsMode::Prefer);
    if mode == TlsMode::Require && root.is_some() {
        mode = TlsMode::VerifyCa;
    }
    Ok((url_for_crate, Tls { mode, root }))
}

impl Tls {
    /// The connector for this mode. `verify-ca` and `verify-full` need a root certificate:
    /// `sslrootcert`, else `PGSSLROOTCERT`, else `~/.postgresql/root.crt`, as with libpq.
    fn connector(&self) -> Result<postgres_openssl::MakeTlsConnector> {
        use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
        let setup =
            |e: openssl::error::ErrorStack| Error::Unsupported(format!("cannot set up TLS: {e}"));
        let mut builder = SslConnector::builder(SslMethod::tls()).map_err(setup)?;
        let verify = matches!(self.mode, TlsMode::VerifyCa | TlsMode::VerifyFull);
        if verify {
            let root = self
                .root
                .clone()
                .or_else(|| std::env::var("PGSSLROOTCERT").ok())
                .or_else(|| {
                    let home = std::env::var_os("HOME")?;
                    let default = PathBuf::from(home).join(".postgresql").join("root.crt");
                    default
                        .is_file()
                        .then(|| default.to_string_lossy().into_owned())
                })
                .ok_or_else(|| {
                    Error::Usage(
                        "sslmode=verify-ca and verify-full check the server's certificate against \
                         a root certificate: add sslrootcert=PATH to the URL (or \
                         sslrootcert=system for the system's trusted roots), or put it in \
                         ~/.postgresql/root.crt"
                            .into(),
                    )
                })?;
            if root == "system" {
                builder.set_default_verify_paths().map_err(setup)?;
            } else {
                builder.set_ca_file(&root).map_err(|e| {
                    Error::Usage(format!("cannot read the root certificate {root}: {e}"))
                })?;
            }
            builder.set_verify(SslVerifyMode::PEER);
        } else {
            builder.set_verify(SslVerifyMode::NONE);
        }
        let mut connector = postgres_openssl::MakeTlsConnector::new(builder.build());
        if self.mode != TlsMode::VerifyFull {
            // Only verify-full checks that the certificate names the host.
            connector.set_callback(|config, _| {
                config.set_verify_hostname(false);
                Ok(())
            });
        }
        Ok(connector)
    }
}

/// The URL without its password (in the user part or as a `password=` parameter): what the
/// archive keeps and what messages show.
pub fn redact_url(url: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (url, None),
    };
    let main = match main.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(at) => rest.split_at(at),
                None => (rest, ""),
            };
            match authority.rsplit_once('@') {
                Some((user, host)) => {
                    let user = user.split_once(':').map_or(user, |(u, _)| u);
                    format!("{scheme}://{user}@{host}{path}")
                }
                None => main.to_owned(),
            }
        }
        None => main.to_owned(),
    };
    match query {
        None => main,
        Some(q) => {
            let kept: Vec<&str> = q
                .split('&')
                .filter(|p| !p.to_ascii_lowercase().starts_with("password="))
                .collect();
            if kept.is_empty() {
                main
            } else {
                format!("{main}?{}", kept.join("&"))
            }
        }
    }
}

/// The password `~/.pgpass` gives for this host, port, database and user (`*` matches any).
fn pgpass_password(config: &Config) -> Option<String> {
    let path = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
    let text = std::fs::read_to_string(path).ok()?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        _ => "localhost".to_owned(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default().to_owned();
    let database = config.get_dbname().unwrap_or(&user).to_owned();
    let wanted = [host, port, database, user];
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|line| {
            let fields = split_pgpass(line);
            if fields.len() != 5 {
                return None;
            }
            let matches = fields[..4]
                .iter()
                .zip(&wanted)
                .all(|(field, want)| field == "*" || field == want);
            matches.then(|| fields[4].clone())
        })
}

/// A `.pgpass` line's fields: `:` separates, `\` escapes `:` and `\`.
fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut().expect("one field").push(next);
                }
            }
            ':' => fields.push(String::new()),
            c => fields.last_mut().expect("one field").push(c),
        }
    }
    fields
}

/// One event as pushed: what it is (`note` or `record`), the entity it is a state of (a
/// note's id, a record's kind and key), its payload's digest, the payload.
pub(crate) struct OutEvent {
    pub kind: &'static str,
    pub entity: String,
    pub digest: String,
    pub payload: String,
}

impl Server {
    /// Whether this connection is encrypted, as the server sees it.
    pub fn encrypted(&mut self) -> Result<bool> {
        let row = self
            .client
            .query_opt(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .map_err(|e| server_error(&self.remote, &e))?;
        Ok(row.is_some_and(|r| r.get(0)))
    }

    /// The studies this login may read (row-level security leaves out the others).
    pub(crate) fn studies(&mut self) -> Result<Vec<String>> {
        let rows = self
            .client
            .query("SELECT study FROM studies ORDER BY study", &[])
            .map_err(|e| server_error(&self.remote, &e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Appends a batch of one study's events in one transaction. The study's counter row is
    /// locked by the update that numbers the batch until the commit, so batches are numbered
    /// in commit order; an event the server holds already (same entity and digest) is left
    /// out. `Ok(false)`: this login is not a member of the study.
    pub(crate) fn push(&mut self, study: &str, origin: &str, events: &[OutEvent]) -> Result<bool> {
        let remote = self.remote.clone();
        let fail = |e: postgres::Error| server_error(&remote, &e);
        let refused = |e: &postgres::Error| {
            e.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
        };
        let mut tx = self.client.transaction().map_err(fail)?;
        match tx.execute(
            "INSERT INTO studies (study) VALUES ($1) ON CONFLICT DO NOTHING",
            &[&study],
        ) {
            Ok(_) => {}
            Err(e) if refused(&e) => return Ok(false),
            Err(e) => return Err(fail(e)),
        }
        let count = events.len() as i64;
        let Some(row) = tx
            .query_opt(
                "UPDATE studies SET last_seq = last_seq + $2 WHERE study = $1 RETURNING last_seq",
                &[&study, &count],
            )
            .map_err(fail)?
        else {
            return Ok(false);
        };
        let base: i64 = row.get::<_, i64>(0) - count;
        let kinds: Vec<&str> = events.iter().map(|e| e.kind).collect();
        let entities: Vec<&str> = events.iter().map(|e| e.entity.as_str()).collect();
        let digests: Vec<&str> = events.iter().map(|e| e.digest.as_str()).collect();
        let payloads: Vec<&str> = events.iter().map(|e| e.payload.as_str()).collect();
        match tx.execute(
            "INSERT INTO events (study, seq, entity, kind, digest, payload, origin) \
             SELECT $1, $2::bigint + t.ord, t.entity, t.kind, t.digest, t.payload, $6 \
             FROM unnest($3::text[], $4::text[], $5::text[], $7::text[]) WITH ORDINALITY \
                  AS t(entity, digest, payload, kind, ord) \
             ON CONFLICT DO NOTHING",
            &[
                &study, &base, &entities, &digests, &payloads, &origin, &kinds,
            ],
        ) {
            Ok(_) => {}
            Err(e) if refused(&e) => return Ok(false),
            Err(e) => return Err(fail(e)),
        }
        tx.commit().map_err(fail)?;
        Ok(true)
    }

    /// Up to `limit` events of a study after `after`, in order: (sequence number, kind,
    /// payload), without the payloads `origin` pushed itself (merging back what it had
    /// changes nothing).
    pub(crate) fn pull(
        &mut self,
        study: &str,
        origin: &str,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String, Option<String>)>> {
        let rows = self
            .client
            .query(
                "SELECT seq, kind, CASE WHEN origin = $4 THEN NULL ELSE payload END FROM events \
                 WHERE study = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[&study, &after, &(limit as i64), &origin],
            )
            .map_err(|e| server_error(&self.remote, &e))?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_stay_in_a_saved_url() {
        assert_eq!(
            redact_url("postgres://ana:s3cr:et@db.example.org:5432/research?sslmode=require"),
            "postgres://ana@db.example.org:5432/research?sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://ana@db/research?password=x&sslmode=prefer"),
            "postgresql://ana@db/research?sslmode=prefer"
        );
        assert_eq!(
            redact_url("postgres://db/research"),
            "postgres://db/research"
        );
    }

    #[test]
    fn sslmode_is_read_as_libpq_reads_it() {
        let read = |url: &str| tls_options(url).unwrap();
        let (url, tls) = read("postgres://ana@db/research?sslmode=verify-full&sslrootcert=/ca.pem");
        assert_eq!(url, "postgres://ana@db/research?sslmode=require");
        assert_eq!(tls.mode, TlsMode::VerifyFull);
        assert_eq!(tls.root.as_deref(), Some("/ca.pem"));
        assert_eq!(read("postgres://db/r").1.mode, TlsMode::Prefer);
        assert_eq!(
            read("postgres://db/r?sslmode=disable").1.mode,
            TlsMode::Disable
        );
        // require with a root certificate checks it, as libpq does.
        let (url, tls) = read("postgres://db/r?sslrootcert=system&sslmode=require");
        assert_eq!(
            (url.as_str(), tls.mode),
            ("postgres://db/r?sslmode=require", TlsMode::VerifyCa)
        );
        let (kv, tls) = read("host=db user=ana sslmode=verify-ca sslrootcert=/ca.pem");
        assert_eq!(
            (kv.as_str(), tls.mode),
            ("host=db user=ana sslmode=require", TlsMode::VerifyCa)
        );
        assert!(tls_options("postgres://db/r?sslmode=sometimes").is_err());
    }

    #[test]
    fn pgpass_lines_split_on_unescaped_colons() {
        assert_eq!(
            split_pgpass(r"db:5432:*:ana:pa\:ss"),
            ["db", "5432", "*", "ana", "pa:ss"]
        );
    }
}
