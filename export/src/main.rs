//! ptanalyze: offline analysis of pcap/pcapng captures with process, container and pod
//! context: the tcpdump-style listing, owner and expression filters, pcapng output, flows and
//! statistics, and tables of packets and flows (Parquet, CSV, JSON lines), read in parallel.
//! See `ptanalyze --help`.
//!
//! Exit codes: 0 success, 1 an input is damaged or shrank while being read (everything before
//! is analysed), 2 usage error, bad expression, an input that cannot be opened, an output that
//! is one of the inputs or cannot be written, 14 standard output cannot be written (a closed
//! pipe: tcpdump's line and status, as ptcap's; `-w -` to a closed pipe ends with 0, as
//! tcpdump's does).

use std::process::ExitCode;

fn main() -> ExitCode {
    analyze::run::set_tables(&export::Writers);
    analyze::cli::main("ptanalyze")
}
