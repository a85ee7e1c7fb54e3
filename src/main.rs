//! The `fieldnotes` binary: a thin edge over the library. Errors become one line on stderr
//! and exit code 1; usage errors (clap's, and `cli::Usage`) exit 2.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("fieldnotes: {err:#}");
            let library_usage = matches!(
                err.downcast_ref::<fieldnotes::Error>(),
                Some(fieldnotes::Error::Usage(_))
            );
            if library_usage || err.downcast_ref::<cli::Usage>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
