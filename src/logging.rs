//! The log file: what fieldnotes did and what went wrong, for the researcher (or whoever helps
//! them) to read later. Never the note text at the default level: events carry ids, counts and
//! error messages. The app draws on the terminal, so it logs only to the file; a command can
//! also log to stderr (`--verbose`).

use std::path::PathBuf;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How many daily files are kept.
const KEEP_DAYS: usize = 7;

/// The folder the log lives in: `FIELDNOTES_LOG_DIR`, else the platform's state folder
/// (`~/.local/state/fieldnotes` on Linux), else its local data folder's `logs`.
pub fn log_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("FIELDNOTES_LOG_DIR") {
        return Some(PathBuf::from(dir));
    }
    let dirs = directories::ProjectDirs::from("", "", "fieldnotes")?;
    Some(match dirs.state_dir() {
        Some(state) => state.to_path_buf(),
        None => dirs.data_local_dir().join("logs"),
    })
}

/// Starts logging to a daily file (`fieldnotes.YYYY-MM-DD.log`, a week kept) at the level
/// `FIELDNOTES_LOG` asks for (default `info`), and to stderr as well when `stderr` is set.
/// Keep the guard until the program ends: it writes out what is still buffered. Logging is a
/// help, never a reason to fail: a folder that cannot be written means no file log.
pub fn init(stderr: bool) -> Option<WorkerGuard> {
    let filter =
        || EnvFilter::try_from_env("FIELDNOTES_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let file = log_dir().and_then(|dir| {
        std::fs::create_dir_all(&dir).ok()?;
        Builder::new()
            .rotation(Rotation::DAILY)
            .filename_prefix("fieldnotes")
            .filename_suffix("log")
            .max_log_files(KEEP_DAYS)
            .build(dir)
            .ok()
    });
    let (writer, guard) = match file {
        Some(appender) => {
            let (w, g) = tracing_appender::non_blocking(appender);
            (Some(w), Some(g))
        }
        None => (None, None),
    };
    let file_layer = writer.map(|w| {
        tracing_subscriber::fmt::layer()
            .with_writer(w)
            .with_ansi(false)
            .with_target(false)
            .with_filter(filter())
    });
    let stderr_layer = stderr.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(color_on_stderr())
            .with_target(false)
            .without_time()
            .with_filter(filter())
    });
    let _ = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    guard
}

fn color_on_stderr() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
        && !crate::config::no_color_asked(std::env::var("NO_COLOR").ok())
}
