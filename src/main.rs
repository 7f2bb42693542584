//! The `trialsim` command line: parse, dispatch to `trialsim::commands`, turn the one error into
//! its message and exit code (0 success, 2 bad input with nothing written, 1 any other failure).

use std::process::ExitCode;

use clap::Parser;
use trialsim::cli::Cli;

fn main() -> ExitCode {
    trialsim::commands::on_interrupt_remove_temporaries();
    match trialsim::commands::dispatch(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.exit_code())
        }
    }
}
