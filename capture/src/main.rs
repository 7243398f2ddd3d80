//! ptcap: live packet capture with eBPF (tcx), tcpdump's filter expressions evaluated in the
//! kernel. This binary only parses flags; the capture is in [`session`], the kernel side in
//! the `bpf` crate.

mod attribution;
mod containers;
mod iface;
mod output;
mod procs;
mod session;
mod sockdiag;

use clap::Parser;

use bpf::Direction;

#[derive(Parser, Debug)]
#[command(name = "ptcap", version, about = "Process- and container-aware packet capture (eBPF)")]
struct Args {
    /// Interface(s) to capture on: repeatable or comma-separated; `any` (the default) is every
    /// interface of the current network namespace.
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    interfaces: Vec<String>,
    /// List the interfaces and exit.
    #[arg(short = 'D', long = "list-interfaces")]
    list: bool,
    /// Exit after capturing N packets.
    #[arg(short = 'c', value_name = "N")]
    count: Option<u64>,
    /// Bytes to capture per packet (0 = 262144, the most).
    #[arg(short = 's', long = "snapshot-length", value_name = "SNAPLEN", default_value_t = 262144)]
    snaplen: u32,
    /// Direction: in, out or inout.
    #[arg(short = 'Q', long = "direction", value_name = "DIR", default_value = "inout")]
    direction: String,
    /// Write packets to a pcapng FILE (`-` for standard output).
    #[arg(short = 'w', value_name = "FILE")]
    write: Option<String>,
    /// Print packets as text also when writing a file.
    #[arg(long)]
    print: bool,
    /// More messages (libbpf's, timing); twice also dumps the compiled filter.
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    verbose: u8,
    /// Debug: deliver packets the filter rejects too and compare the kernel's verdict with
    /// libpcap's (pcap_offline_filter) on the same bytes; exit status 1 on any mismatch.
    #[arg(long, hide = true)]
    check_filter: bool,
    /// Keep only packets of process PID (repeatable); its children are followed.
    #[arg(long = "pid", value_name = "PID")]
    pids: Vec<u32>,
    /// Keep only packets of processes named NAME: comm or executable basename (repeatable);
    /// their children are followed.
    #[arg(long = "pname", value_name = "NAME")]
    pnames: Vec<String>,
    /// Keep only packets of processes running as UID (repeatable); children are followed.
    #[arg(long = "uid", value_name = "UID")]
    uids: Vec<u32>,
    /// containerd's socket (every containerd namespace is watched).
    #[arg(long = "containerd-address", value_name = "SOCK", default_value = "/run/containerd/containerd.sock")]
    containerd_address: std::path::PathBuf,
    /// The Docker Engine API socket.
    #[arg(long = "docker-address", value_name = "SOCK", default_value = "/var/run/docker.sock")]
    docker_address: std::path::PathBuf,
    /// Keep only packets of the container ID (full id or unique prefix; repeatable), also
    /// when it starts or restarts after the capture began.
    #[arg(long = "container-id", value_name = "ID")]
    container_ids: Vec<String>,
    /// Keep only packets of the container named NAME (Docker name, nerdctl or Kubernetes
    /// container name; repeatable).
    #[arg(long = "container-name", value_name = "NAME")]
    container_names: Vec<String>,
    /// Keep only packets of the pod NAME.NAMESPACE (Kubernetes labels; repeatable).
    #[arg(long = "pod-name", value_name = "NAME.NAMESPACE")]
    pod_names: Vec<String>,
    /// Filter expression (tcpdump/pcap-filter syntax).
    #[arg(trailing_var_arg = true, value_name = "EXPRESSION")]
    expression: Vec<String>,
}

fn main() {
    let args = Args::parse();
    if args.list {
        if let Err(e) = session::list_interfaces(&mut std::io::stdout()) {
            eprintln!("ptcap: {e}");
            std::process::exit(1);
        }
        return;
    }
    let directions = match args.direction.as_str() {
        "in" => vec![Direction::In],
        "out" => vec![Direction::Out],
        "inout" => vec![Direction::In, Direction::Out],
        other => {
            eprintln!("ptcap: -Q {other}: the direction must be in, out or inout");
            std::process::exit(2);
        }
    };
    let snaplen = match args.snaplen {
        0 => bpf::MAX_SNAPLEN,
        n if n > bpf::MAX_SNAPLEN => {
            eprintln!("ptcap: -s {n}: the snapshot length is at most {}", bpf::MAX_SNAPLEN);
            std::process::exit(2);
        }
        n => n,
    };
    let settings = session::Settings {
        interfaces: args.interfaces,
        count: args.count,
        snaplen,
        directions,
        write: args.write,
        print: args.print,
        verbose: args.verbose,
        expression: args.expression.join(" "),
        check_filter: args.check_filter,
        selection: attribution::Selection { pids: args.pids, names: args.pnames, uids: args.uids },
        containers: containers::Config {
            containerd_address: args.containerd_address,
            docker_address: args.docker_address,
            selectors: args
                .container_ids
                .into_iter()
                .map(containers::Selector::Id)
                .chain(args.container_names.into_iter().map(containers::Selector::Name))
                .chain(args.pod_names.iter().map(|p| containers::Selector::pod(p)))
                .collect(),
            verbose: args.verbose,
        },
    };
    match session::run(&settings) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("ptcap: {e}");
            std::process::exit(1);
        }
    }
}
