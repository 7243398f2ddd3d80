//! ptcap: process- and container-aware live packet capture (the eBPF backend lands with the
//! capture issue; until then this binary says so instead of pretending).

fn main() {
    eprintln!("ptcap: live capture is not in this build yet; read files with `ptanalyze FILE`");
    std::process::exit(2);
}
