//! `fieldnotes remote …` and `fieldnotes sync`: the team server.

use anyhow::Result;
use clap::{Args, Subcommand};

use super::output::Out;
use fieldnotes::Archive;

#[derive(Debug, Subcommand)]
pub enum RemoteCommand {
    /// Add a team server: `fieldnotes remote add team postgres://ana@db.example.org/research`
    /// (its password is never kept: it comes from the URL typed, PGPASSWORD or ~/.pgpass)
    Add {
        name: String,
        /// postgres://USER@HOST:PORT/DATABASE (?sslmode=require for TLS)
        url: String,
    },
    /// List the team servers, with the last sync and what waits to be pushed
    List,
    /// Forget a team server (nothing on the server changes)
    Remove { name: String },
    /// Create or update the server's tables (an administrator's job; see the README)
    Init {
        name: String,
        /// Connect with this URL instead (an administrator's login)
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The remote to sync with [default: the only one]
    pub remote: Option<String>,
    /// Only this study
    #[arg(long, value_name = "STUDY")]
    pub study: Option<String>,
}

pub fn remote(archive: &Archive, cmd: RemoteCommand, out: &Out) -> Result<()> {
    match cmd {
        RemoteCommand::Add { name, url } => {
            let remote = archive.add_remote(&name, &url)?;
            out.done(
                &remote,
                &format!(
                    "added remote {} ({}): `fieldnotes sync` pushes and pulls",
                    remote.name, remote.url
                ),
            )
        }
        RemoteCommand::List => {
            let remotes = archive.remotes()?;
            if remotes.is_empty() {
                return out.done(
                    &remotes,
                    "no remotes: `fieldnotes remote add NAME postgres://…` adds one",
                );
            }
            let mut text = String::new();
            for r in &remotes {
                let pending = archive.store().pending_for(&r.name)?;
                let last = r.last_sync.as_deref().unwrap_or("never");
                text.push_str(&format!(
                    "{}\t{}\tlast sync {last}\t{pending} to push",
                    r.name, r.url
                ));
                if let Some(e) = &r.last_error {
                    text.push_str(&format!("\tlast try failed: {e}"));
                }
                text.push('\n');
            }
            out.done(&remotes, text.trim_end())
        }
        RemoteCommand::Remove { name } => {
            archive.remove_remote(&name)?;
            out.done(
                &serde_json::json!({ "removed": name }),
                &format!("removed remote {name}"),
            )
        }
        RemoteCommand::Init { name, url } => {
            let applied = archive.init_remote(&name, url.as_deref())?;
            let message = if applied.is_empty() {
                format!("the server of {name} is up to date")
            } else {
                format!("applied {} on {name}", applied.join(", "))
            };
            out.done(&serde_json::json!({ "applied": applied }), &message)
        }
    }
}

pub fn sync(archive: &mut Archive, args: SyncArgs, out: &Out) -> Result<()> {
    let report = archive.sync(args.remote.as_deref(), args.study.as_deref())?;
    let mut message = format!(
        "synced with {}: pushed {} notes and {} records, pulled {} ({} notes changed here)",
        report.remote, report.pushed, report.records_pushed, report.pulled, report.changed
    );
    if !report.refused.is_empty() {
        message.push_str(&format!(
            "; not a member of {} on the server (those notes stay here: ask its administrator)",
            report.refused.join(", ")
        ));
    }
    out.done(&report, &message)
}
