//! ptanalyze: offline analysis of pcap/pcapng captures with process, container and pod
//! context: the tcpdump-style listing, owner and expression filters, pcapng output, flows and
//! statistics, read in parallel. See `ptanalyze --help`.
//!
//! Exit codes: 0 success, 1 an input is damaged (everything before the damage is analysed),
//! 2 usage error, bad expression, or an input that cannot be opened.

mod cli;
mod engine;
mod filter;
mod input;
mod run;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    run::run(cli::Cli::parse())
}
