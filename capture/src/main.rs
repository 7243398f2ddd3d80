//! ptcap: live packet capture with eBPF (tcx), tcpdump's filter expressions evaluated in the
//! kernel. This binary only parses flags; the capture is in [`session`], the kernel side in
//! the `bpf` crate.
//!
//! `ptcap [OPTIONS] [EXPRESSION] -- CMD [ARGS]`: everything after the first `--` is a command
//! to run and capture (the expression stays before it).
//!
//! A closed standard output or error never panics (see [`eprintln`] and `session`'s closing):
//! with tcpdump's behaviour, text output to a closed pipe ends the capture with one line and
//! status 14, `-w -` to a closed pipe ends it with the usual closing lines and status 0, `-D`
//! and `-d` die of SIGPIPE like tcpdump's listings, and a closed stderr is ignored.

/// `eprintln!` that ignores a closed or failing stderr (std's panics): shadows std's macro in
/// every module of this crate (a `macro_rules!` defined before the modules takes precedence
/// over the prelude's).
macro_rules! eprintln {
    () => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr());
    }};
    ($($t:tt)+) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)+);
    }};
}

mod attribution;
mod containers;
mod iface;
mod netwatch;
mod output;
mod privdrop;
mod procs;
mod rotate;
mod run_cmd;
mod session;
mod sockdiag;

use clap::{ArgAction, Parser};

use bpf::Direction;
use formats::meta::CommentMode;
use formats::render::{DumpMode, RenderOptions, TimestampMode};

#[derive(Parser, Debug)]
#[command(
    name = "ptcap",
    version,
    about = "Process- and container-aware packet capture (eBPF)"
)]
struct Args {
    /// Interface(s) to capture on: repeatable or comma-separated; `any` (the default) is every
    /// interface of the current network namespace, including ones created during the capture.
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    interfaces: Vec<String>,
    /// List the interfaces and exit.
    #[arg(short = 'D', long = "list-interfaces")]
    list: bool,
    /// Exit after capturing N packets.
    #[arg(short = 'c', value_name = "N")]
    count: Option<u64>,
    /// Bytes to capture per packet (0 = 262144, the most).
    #[arg(
        short = 's',
        long = "snapshot-length",
        value_name = "SNAPLEN",
        default_value_t = 262144
    )]
    snaplen: u32,
    /// Direction: in, out or inout.
    #[arg(
        short = 'Q',
        long = "direction",
        value_name = "DIR",
        default_value = "inout"
    )]
    direction: String,
    /// Write packets to a pcapng FILE (`-` for standard output).
    #[arg(short = 'w', value_name = "FILE")]
    write: Option<String>,
    /// Print packets as text also when writing a file.
    #[arg(long)]
    print: bool,
    /// More detail in the text (repeat for more); -v also reports timing, -vvv libbpf's messages.
    #[arg(short = 'v', action = ArgAction::Count)]
    verbose: u8,
    /// Print each packet, context included, on one line.
    #[arg(long)]
    oneline: bool,
    /// Timestamp format: -t none, -tt epoch, -ttt delta, -tttt date, -ttttt since first.
    #[arg(short = 't', action = ArgAction::Count)]
    timestamp: u8,
    /// Nanosecond timestamps.
    #[arg(long)]
    nano: bool,
    /// Hex dump (-xx: with the link-layer header).
    #[arg(short = 'x', action = ArgAction::Count)]
    hex: u8,
    /// Hex and ASCII dump (-XX: with the link-layer header).
    #[arg(short = 'X', action = ArgAction::Count)]
    hex_ascii: u8,
    /// ASCII dump.
    #[arg(short = 'A')]
    ascii: bool,
    /// Less protocol detail.
    #[arg(short = 'q')]
    quiet: bool,
    /// Absolute TCP sequence numbers.
    #[arg(short = 'S')]
    absolute_seq: bool,
    /// Rotate: start a new file when the current one is larger than SIZE million bytes.
    #[arg(short = 'C', value_name = "SIZE")]
    file_size: Option<f64>,
    /// With -C: a ring of N files (FILE0..FILE{N-1}); with -G: stop after N files.
    #[arg(short = 'W', value_name = "N")]
    file_count: Option<u32>,
    /// Rotate every SECONDS seconds; FILE is a strftime(3) pattern.
    #[arg(short = 'G', value_name = "SECONDS")]
    rotate_seconds: Option<u64>,
    /// Drop privileges to USER once the capture is set up.
    #[arg(short = 'Z', value_name = "USER")]
    user: Option<String>,
    /// Per-packet comment text in pcapng: full (ptcpdump's layout), short or none.
    #[arg(long, value_name = "MODE", default_value = "full")]
    comments: String,
    /// Only packets of these process ids (repeatable).
    #[arg(long = "pid", value_name = "PID")]
    pids: Vec<u32>,
    /// Only packets of processes with this name (comm; repeatable).
    #[arg(long = "pname", value_name = "NAME")]
    pnames: Vec<String>,
    /// Only packets of processes of this user id (repeatable).
    #[arg(long = "uid", value_name = "UID")]
    uids: Vec<u32>,
    /// Print the compiled filter (cBPF) and exit.
    #[arg(short = 'd')]
    dump_filter: bool,
    /// How to hook the interfaces: auto (tcx, else tc clsact), tcx, or tc.
    #[arg(long, value_name = "METHOD", default_value = "auto")]
    attach: String,
    /// Debug: deliver packets the filter rejects too and compare the kernel's verdict with
    /// libpcap's (pcap_offline_filter) on the same bytes; exit status 1 on any mismatch.
    #[arg(long, hide = true)]
    check_filter: bool,
    /// containerd's socket (every containerd namespace is watched).
    #[arg(
        long = "containerd-address",
        value_name = "SOCK",
        default_value = "/run/containerd/containerd.sock"
    )]
    containerd_address: std::path::PathBuf,
    /// The Docker Engine API socket.
    #[arg(
        long = "docker-address",
        value_name = "SOCK",
        default_value = "/var/run/docker.sock"
    )]
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

fn fail(msg: String) -> ! {
    eprintln!("ptcap: {msg}");
    std::process::exit(2);
}

fn main() {
    let mut argv: Vec<String> = std::env::args().collect();
    let command = argv.iter().position(|a| a == "--").map(|p| {
        let cmd = argv.split_off(p + 1);
        argv.pop();
        cmd
    });
    if command.as_ref().is_some_and(|c| c.is_empty()) {
        fail("-- must be followed by a command".into());
    }
    let args = Args::parse_from(argv);
    if args.list || args.dump_filter {
        // Listings end as tcpdump's do when the reader goes away (`| head`): SIGPIPE, no
        // message. Rust ignores SIGPIPE by default, which turns the write into EPIPE.
        // SAFETY: restoring the default disposition of a signal has no preconditions.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
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
        other => fail(format!(
            "-Q {other}: the direction must be in, out or inout"
        )),
    };
    let snaplen = match args.snaplen {
        0 => bpf::MAX_SNAPLEN,
        n if n > bpf::MAX_SNAPLEN => fail(format!(
            "-s {n}: the snapshot length is at most {}",
            bpf::MAX_SNAPLEN
        )),
        n => n,
    };
    let dump = if args.hex_ascii > 1 {
        DumpMode::HexAsciiWithLink
    } else if args.hex_ascii == 1 {
        DumpMode::HexAscii
    } else if args.hex > 1 {
        DumpMode::HexWithLink
    } else if args.hex == 1 {
        DumpMode::Hex
    } else if args.ascii {
        DumpMode::Ascii
    } else {
        DumpMode::None
    };
    let render = RenderOptions {
        verbose: args.verbose,
        quiet: args.quiet,
        absolute_seq: args.absolute_seq,
        timestamp: TimestampMode::from_count(args.timestamp),
        nano: args.nano,
        dump,
        oneline: args.oneline,
    };
    let comments = match args.comments.as_str() {
        "full" => CommentMode::Full,
        "short" => CommentMode::Short,
        "none" => CommentMode::None,
        other => fail(format!("--comments {other}: full, short or none")),
    };
    let attach = match args.attach.as_str() {
        "auto" => bpf::AttachPreference::Auto,
        "tcx" => bpf::AttachPreference::Tcx,
        "tc" => bpf::AttachPreference::Tc,
        other => fail(format!("--attach {other}: auto, tcx or tc")),
    };
    let size_bytes = args.file_size.map(|c| {
        if c.is_nan() || c <= 0.0 {
            fail(format!("-C {c}: the file size must be positive"));
        }
        (c * 1_000_000.0) as u64
    });
    if args.rotate_seconds == Some(0) {
        fail("-G 0: the rotation period must be positive".into());
    }
    if args.file_count == Some(0) {
        fail("-W 0: the file count must be positive".into());
    }
    let rotation = rotate::Rotation {
        size_bytes,
        count: args.file_count,
        seconds: args.rotate_seconds,
    };
    if rotation.is_on() || args.file_count.is_some() {
        match args.write.as_deref() {
            None => fail("-C, -G and -W need -w FILE".into()),
            Some("-") => fail("-C and -G cannot rotate standard output".into()),
            _ => {}
        }
    }
    let user = args
        .user
        .as_deref()
        .map(|u| privdrop::lookup(u).unwrap_or_else(|e| fail(e)));
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
        attach,
        dump_filter: args.dump_filter,
        render,
        comments,
        rotation,
        user,
        command,
        select: session::Selection {
            pids: args.pids,
            pnames: args.pnames,
            uids: args.uids,
            follow_children: false,
        },
        containers: containers::Config {
            containerd_address: args.containerd_address,
            docker_address: args.docker_address,
            selectors: args
                .container_ids
                .into_iter()
                .map(containers::Selector::Id)
                .chain(
                    args.container_names
                        .into_iter()
                        .map(containers::Selector::Name),
                )
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
