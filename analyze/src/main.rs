//! ptanalyze: offline analysis of pcap/pcapng captures with process, container and pod
//! context: the tcpdump-style listing, owner and expression filters, pcapng output, flows and
//! statistics, read in parallel. See `ptanalyze --help`.
//!
//! Exit codes: 0 success, 1 an input is damaged (everything before the damage is analysed),
//! 2 usage error, bad expression, or an input that cannot be opened.

use std::process::ExitCode;

fn main() -> ExitCode {
    analyze::cli::main("ptanalyze")
}
