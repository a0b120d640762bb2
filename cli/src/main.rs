//! `spikegrad`: the command line of the spikegrad workspace.

use clap::Parser;

/// Exact gradients for gated-synapse spiking networks (Huh & Sejnowski, NeurIPS 2018).
#[derive(Parser, Debug)]
#[command(name = "spikegrad", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
    eprintln!("spikegrad: no subcommand yet; see README.md for what is implemented");
    std::process::exit(2);
}
