//! `spikegrad`: the command line of the spikegrad workspace (its grammar and dispatch
//! are [`spikegrad_cli::command`]).

use clap::Parser;
use spikegrad_cli::command::{execute, Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    match execute(Cli::parse()) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
