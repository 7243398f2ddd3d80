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
mod conntrack;
mod containers;
mod devices;
mod drops;
mod iface;
mod netns;
mod netwatch;
mod output;
mod privdrop;
mod procs;
mod rotate;
mod run_cmd;
mod session;
mod sockdiag;

use std::process::ExitCode;

use clap::{ArgAction, CommandFactory, FromArgMatches, Parser, ValueEnum};

use analyze::gen;
use bpf::Direction;
use formats::meta::CommentMode;
use formats::pcapng::write::PCAP_NO_METADATA;
use formats::render::{Context, DumpMode, RenderOptions, TimestampMode};

const AFTER_HELP: &str = "\
COMMAND
  Everything after the first `--` is a command to run and capture (its packets only, from
  its first packet on; the expression stays before `--`):
      ptcap -w curl.pcapng -- curl -s http://198.18.0.2/
  So `--` does not end the flags here as in other programs: an expression that starts with a
  dash needs no `--`, and a word after `--` is never taken for a flag of ptcap.

OWNER FILTERS
  --pid, --pname, --uid, --container-id, --container-name, --pod-name: every kind given must
  match one end of a packet (AND across kinds, OR within one), and a packet between two local
  processes (pod to pod, loopback) is kept when either end matches. The file records both ends,
  so ptanalyze's same filters keep the same packets offline. Live, children of a selected
  process are selected too.

READING FILES
  -r FILE (or -V LIST) reads capture files instead of capturing: ptcap then runs ptanalyze's
  reader with the same listing flags (-v, -e, -c, -t, -x, -X, -A, -q, -S, -#, --count, owner
  filters, -w, --json, --flows, --stats): `ptcap -r FILE ...` is `ptanalyze FILE ...`.

EXAMPLES
  ptcap -i any -v 'host 198.18.0.2 and port 80'     tcpdump -v text + process and container
  ptcap -i eth0 -e -c 10                            link-level headers (MACs, ethertype)
  ptcap -D                                          interfaces, numbered as tcpdump -D does
  ptcap -i 2 -nn tcp                                the interface numbered 2 by -D
  ptcap --container-name web1 -w web1.pcapng        one container (also one started later)
  ptcap --pod-name api.shop --pname nginx -v        a pod's nginx processes
  ptcap -w cap.pcapng -C 100MB -W 5                 a ring of five files of 100 MB
  ptcap -w plain.pcap port 53                       classic pcap (no metadata), for old tools
  ptcap -w - | tshark -r -                          live pcapng on a pipe
  ptcap -w curl.pcapng -- curl -s http://198.18.0.2/   one command's traffic
  ptcap -r cap.pcapng --pname curl                  read a file back (as ptanalyze)

Flags of tcpdump and ptcpdump and what ptcap does with each: docs/flags.md; man ptcap.";

/// `--drops`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum DropsArg {
    On,
    Off,
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Precision {
    Micro,
    Nano,
}

#[derive(Parser, Debug)]
#[command(
    name = "ptcap",
    version,
    about = "Process- and container-aware packet capture (eBPF)",
    override_usage = "ptcap [OPTIONS] [EXPRESSION]... [-- CMD [ARGS]...]\n       ptcap -r FILE [OPTIONS] [EXPRESSION]...",
    disable_version_flag = true,
    after_help = AFTER_HELP
)]
struct Args {
    /// Interface(s) to capture on: repeatable or comma-separated; `any` (the default) is every
    /// interface of the current network namespace, including ones created during the capture;
    /// a number is the interface -D lists under it.
    #[arg(short = 'i', long = "interface", value_name = "IFACE")]
    interfaces: Vec<String>,
    /// List the interfaces, numbered as tcpdump -D does (`any` included), and exit.
    #[arg(short = 'D', long = "list-interfaces")]
    list: bool,
    /// Read packets from FILE instead of capturing (as `ptanalyze FILE`; see READING FILES).
    #[arg(short = 'r', long = "read-file", value_name = "FILE")]
    read: Vec<String>,
    /// Read the names of capture files from FILE (tcpdump -V; as -r).
    #[arg(short = 'V', value_name = "FILE")]
    file_list: Option<String>,
    /// Take the filter expression from FILE (`#` starts a comment); a command-line expression
    /// is then ignored, as tcpdump does.
    #[arg(short = 'F', long = "expression-file", value_name = "FILE")]
    expression_file: Option<String>,
    /// Print ptcap's, libpcap's and libbpf's versions and exit.
    #[arg(long)]
    version: bool,
    /// Accepted for tcpdump users (-n, -nn): addresses and ports are always numbers.
    #[arg(short = 'n', long = "no-convert-addr", action = ArgAction::Count)]
    numeric: u8,
    /// Print the link-level header: MAC addresses and ethertype; SLL2 ifindex, address and
    /// ethertype with several interfaces or -i any (as tcpdump -e).
    #[arg(short = 'e')]
    link_header: bool,
    /// Start each line with the packet's number.
    #[arg(short = '#', long = "number")]
    number: bool,
    /// Line-buffered text (tcpdump -l): packets are handled and text and file flushed every
    /// ~5 ms (without it, every ~50 ms).
    #[arg(short = 'l')]
    line_buffered: bool,
    /// Packet-buffered output (tcpdump -U): as -l, the output is flushed every ~5 ms (without
    /// it, every ~50 ms).
    #[arg(short = 'U', long = "packet-buffered")]
    packet_buffered: bool,
    /// With -r: print only the number of matching packets (tcpdump 4.99).
    #[arg(long = "count")]
    count_only: bool,
    /// The ring buffer between kernel and ptcap, in KiB (tcpdump's -B; rounded up to a power
    /// of two; default 8192).
    #[arg(short = 'B', long = "buffer-size", value_name = "KIB")]
    buffer_kib: Option<u64>,
    /// Which context the text shows: any of process,thread,parentproc,user,container,pod
    /// (ptcpdump's --context; default: all).
    #[arg(long = "context", value_name = "LIST", value_delimiter = ',')]
    context: Vec<String>,
    /// Accepted (tcpdump -p): ptcap never puts an interface into promiscuous mode.
    #[arg(short = 'p', long = "no-promiscuous-mode")]
    no_promiscuous: bool,
    /// Deliver packets at once (tcpdump --immediate-mode): as -l, batches of ~5 ms instead of
    /// ~50 ms.
    #[arg(long = "immediate-mode")]
    immediate: bool,
    /// Accepted (tcpdump -N): names are never resolved.
    #[arg(short = 'N')]
    no_domain: bool,
    /// Accepted (ptcpdump -f, --follow-forks): the children of selected processes are always
    /// followed; tcpdump's -f (foreign addresses as numbers) holds too: nothing is resolved.
    #[arg(short = 'f', long = "follow-forks")]
    follow_forks: bool,
    /// ptcpdump's --backend: `tc` and `tcx` select --attach; its other backends are not ptcap's.
    #[arg(long = "backend", value_name = "BACKEND", value_parser = parse_backend)]
    backend: Option<String>,
    /// Exit after capturing N packets.
    #[arg(short = 'c', long = "receive-count", value_name = "N")]
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
    /// Write packets to FILE (`-` for standard output): pcapng with the metadata; classic pcap
    /// (no metadata) when the name ends in `.pcap`.
    #[arg(short = 'w', long = "write-file", value_name = "FILE")]
    write: Option<String>,
    /// Print packets as text also when writing a file.
    #[arg(long)]
    print: bool,
    /// More detail in the text (repeat for more); -v also reports timing, -vvv libbpf's messages.
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    verbose: u8,
    /// Print each packet, context included, on one line.
    #[arg(long)]
    oneline: bool,
    /// Timestamp format: -t none, -tt epoch, -ttt delta, -tttt date, -ttttt since first.
    #[arg(short = 't', long = "print-timestamp", action = ArgAction::Count)]
    timestamp: u8,
    /// Nanosecond timestamps (also -w .pcap: a nanosecond pcap).
    #[arg(long)]
    nano: bool,
    /// Microsecond timestamps (the default).
    #[arg(long)]
    micro: bool,
    /// Timestamp precision: micro (the default) or nano.
    #[arg(long = "time-stamp-precision", value_enum, value_name = "PRECISION")]
    time_stamp_precision: Option<Precision>,
    /// Hex dump (-xx: with the link-layer header).
    #[arg(short = 'x', long = "print-data-in-hex", action = ArgAction::Count)]
    hex: u8,
    /// Hex and ASCII dump (-XX: with the link-layer header).
    #[arg(short = 'X', long = "print-data-in-hex-ascii", action = ArgAction::Count)]
    hex_ascii: u8,
    /// ASCII dump.
    #[arg(short = 'A', long = "print-data-in-ascii")]
    ascii: bool,
    /// Less protocol detail.
    #[arg(short = 'q', long = "quiet")]
    quiet: bool,
    /// Absolute TCP sequence numbers.
    #[arg(short = 'S', long = "absolute-tcp-sequence-numbers")]
    absolute_seq: bool,
    /// Rotate: start a new file when the current one is larger than SIZE: millions of bytes, or
    /// with a unit as ptcpdump takes it: 100KB, 100MB, 1GB (also k, m, g; units of 1024).
    #[arg(short = 'C', long = "file-size", value_name = "SIZE", value_parser = parse_file_size)]
    file_size: Option<u64>,
    /// With -C: a ring of N files (FILE0..FILE{N-1}); with -G: stop after N files.
    #[arg(short = 'W', long = "file-count", value_name = "N")]
    file_count: Option<u32>,
    /// Rotate every SECONDS seconds; FILE is a strftime(3) pattern.
    #[arg(short = 'G', value_name = "SECONDS")]
    rotate_seconds: Option<u64>,
    /// Drop privileges to USER once the capture is set up.
    #[arg(short = 'Z', long = "relinquish-privileges", value_name = "USER")]
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
    /// Packets the kernel's network stack drops (tracepoint skb:kfree_skb) on the captured
    /// interfaces, with the reason: on, off, or all (also the unspecified reasons).
    #[arg(long, value_enum, value_name = "MODE", default_value = "on")]
    drops: DropsArg,
    /// The owner through NAT: auto (conntrack from the packet programs, else ctnetlink),
    /// kernel, netlink, or off.
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = parse_nat)]
    nat: session::NatMode,
    /// Capture the interfaces of another network namespace: a name under /var/run/netns or a
    /// path (/proc/PID/ns/net). Repeatable (up to 8): interfaces are then named NS:IFACE, and
    /// `-i IFACE` means that interface in every namespace that has it.
    #[arg(long = "netns", value_name = "PATH|NAME")]
    netns: Vec<String>,
    /// Debug: deliver packets the filter rejects too and compare the kernel's verdict with
    /// libpcap's (pcap_offline_filter) on the same bytes; exit status 1 on any mismatch.
    #[arg(long, hide = true)]
    check_filter: bool,
    /// containerd's socket (every containerd namespace is watched); `none` or '' turns it off.
    #[arg(
        long = "containerd-address",
        value_name = "SOCK",
        value_parser = any_path,
        default_value = "/run/containerd/containerd.sock"
    )]
    containerd_address: std::path::PathBuf,
    /// The Docker Engine API socket; `none` or '' turns it off.
    #[arg(
        long = "docker-address",
        value_name = "SOCK",
        value_parser = any_path,
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

/// `-C SIZE`: a number of millions of bytes (tcpdump), or with a unit (ptcpdump): `k`/`kb`,
/// `m`/`mb`, `g`/`gb`, any case, units of 1024 bytes.
fn parse_file_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{t}: a size is a number, optionally with KB, MB or GB"))?;
    let mult: f64 = match unit.trim() {
        "" => 1_000_000.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("{t}: unknown unit {other:?} (KB, MB or GB)")),
    };
    let bytes = n * mult;
    if !bytes.is_finite() || bytes < 1.0 {
        return Err(format!("{t}: the file size must be positive"));
    }
    Ok(bytes as u64)
}

/// Whether the command line reads files (-r, -V) rather than capturing: a `-r`/`-V` flag, also
/// in a cluster of flags that take no value (`-nr FILE`, `-ner FILE`), before any `--`.
fn reads_files(argv: &[String]) -> bool {
    const NO_VALUE: &str = "nelU#vtxXAqSdhpNf";
    for a in argv.iter().skip(1) {
        if a == "--" {
            return false;
        }
        if a == "--read-file" || a.starts_with("--read-file=") {
            return true;
        }
        if let Some(cluster) = a.strip_prefix('-').filter(|c| !c.starts_with('-')) {
            for ch in cluster.chars() {
                if ch == 'r' || ch == 'V' {
                    return true;
                }
                if !NO_VALUE.contains(ch) {
                    break;
                }
            }
        }
    }
    false
}

/// ptcap's, libpcap's and libbpf's versions, one a line, as tcpdump --version prints them.
fn version_text() -> String {
    // SAFETY: libbpf_version_string returns a static NUL-terminated string.
    let bpf = unsafe { std::ffi::CStr::from_ptr(libbpf_sys::libbpf_version_string()) }
        .to_string_lossy()
        .into_owned();
    let bpf = bpf.trim_start_matches('v');
    format!(
        "ptcap version {}\n{}\nlibbpf version {bpf}\n",
        env!("CARGO_PKG_VERSION"),
        analyze::cli::libpcap_version()
    )
}

/// `--nat`.
fn parse_nat(v: &str) -> Result<session::NatMode, String> {
    match v {
        "auto" => Ok(session::NatMode::Auto),
        "kernel" => Ok(session::NatMode::Kernel),
        "netlink" => Ok(session::NatMode::Netlink),
        "off" => Ok(session::NatMode::Off),
        _ => Err(format!(
            "--nat {v:?}: expected auto, kernel, netlink or off"
        )),
    }
}

/// ptcpdump's `--backend`: `tc` or `tcx` (as --attach); its others are refused in one line.
fn parse_backend(s: &str) -> Result<String, String> {
    match s {
        "tc" | "tcx" => Ok(s.to_string()),
        other => Err(format!(
            "ptcap hooks interfaces with tcx or tc only (--backend tc, or --attach \
             auto|tcx|tc); ptcpdump's {other} backend is not ptcap's"
        )),
    }
}

/// A path, also an empty one (clap's own parser refuses `''`, which turns a runtime off).
fn any_path(s: &str) -> Result<std::path::PathBuf, String> {
    Ok(std::path::PathBuf::from(s))
}

/// `--docker-address none` / `''`: the runtime is off (an empty path).
fn runtime_address(p: std::path::PathBuf) -> std::path::PathBuf {
    if p.as_os_str() == "none" {
        std::path::PathBuf::new()
    } else {
        p
    }
}

fn main() -> ExitCode {
    let mut argv: Vec<String> = std::env::args().collect();
    if reads_files(&argv) {
        return analyze::cli::main_from("ptcap", argv);
    }
    // Before any `--`: what follows it is a command's own arguments.
    let flags_end = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
    if let Some(i) = argv[..flags_end].iter().position(|a| a == "--generate") {
        return generate(argv.get(i + 1).map(String::as_str).unwrap_or(""));
    }
    let command = argv.iter().position(|a| a == "--").map(|p| {
        let cmd = argv.split_off(p + 1);
        argv.pop();
        cmd
    });
    if command.as_ref().is_some_and(|c| c.is_empty()) {
        fail("-- must be followed by a command".into());
    }
    let args = match Args::command()
        .try_get_matches_from(&argv)
        .and_then(|m| Args::from_arg_matches(&m))
    {
        Ok(a) => a,
        Err(e) => return analyze::cli::print_clap_error(&e),
    };
    if args.version {
        print!("{}", version_text());
        return ExitCode::SUCCESS;
    }
    if !args.read.is_empty() || args.file_list.is_some() {
        // A cluster reads_files did not recognise: read mode all the same.
        let mut again: Vec<String> = std::env::args().collect();
        again[0] = "ptcap".into();
        return analyze::cli::main_from("ptcap", again);
    }
    if args.count_only {
        fail("--count counts the packets of a file: it needs -r FILE (as tcpdump's)".into());
    }
    if args.list || args.dump_filter {
        // Listings end as tcpdump's do when the reader goes away (`| head`): SIGPIPE, no
        // message. Rust ignores SIGPIPE by default, which turns the write into EPIPE.
        // SAFETY: restoring the default disposition of a signal has no preconditions.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    if args.list {
        if let Err(e) = devices::write_list(&mut std::io::stdout()) {
            eprintln!("ptcap: {e}");
            return ExitCode::from(1);
        }
        return ExitCode::SUCCESS;
    }
    if !args.context.is_empty() {
        if let Err(msg) = Context::parse(&args.context) {
            fail(msg);
        }
    }
    let interfaces: Vec<String> = args
        .interfaces
        .iter()
        .flat_map(|i| i.split(','))
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(|i| devices::resolve_number(i).unwrap_or_else(|e| fail(e)))
        .collect();
    let expression = match &args.expression_file {
        Some(path) => {
            if !args.expression.is_empty() {
                eprintln!(
                    "ptcap: -F {path}: the expression on the command line is ignored, as tcpdump does"
                );
            }
            analyze::cli::read_expression_file(path).unwrap_or_else(|e| fail(e))
        }
        None => args.expression.join(" "),
    };
    let ring_bytes = args.buffer_kib.map(|k| {
        let bytes = k.saturating_mul(1024).clamp(4096, 1 << 30);
        bytes.next_power_of_two().min(1 << 30) as u32
    });
    let nano = !args.micro && (args.nano || args.time_stamp_precision == Some(Precision::Nano));
    if let Some(w) = args.write.as_deref() {
        if formats::pcapng::write::FileFormat::for_path(w, nano).is_classic() {
            eprintln!("ptcap: {w}: {PCAP_NO_METADATA}");
        }
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
        nano,
        dump,
        oneline: args.oneline,
        link_header: args.link_header,
        number: args.number,
        context: if args.context.is_empty() {
            Context::default()
        } else {
            Context::parse(&args.context).unwrap_or_default()
        },
    };
    let comments = match args.comments.as_str() {
        "full" => CommentMode::Full,
        "short" => CommentMode::Short,
        "none" => CommentMode::None,
        other => fail(format!("--comments {other}: full, short or none")),
    };
    let attach_name = args.backend.as_deref().unwrap_or(args.attach.as_str());
    let attach = match attach_name {
        "auto" => bpf::AttachPreference::Auto,
        "tcx" => bpf::AttachPreference::Tcx,
        "tc" => bpf::AttachPreference::Tc,
        other => fail(format!("--attach {other}: auto, tcx or tc")),
    };
    let size_bytes = args.file_size;
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
        interfaces,
        count: args.count,
        snaplen,
        directions,
        write: args.write,
        print: args.print,
        verbose: args.verbose,
        expression,
        check_filter: args.check_filter,
        attach,
        drops: match args.drops {
            DropsArg::On => bpf::DropsMode::On,
            DropsArg::Off => bpf::DropsMode::Off,
            DropsArg::All => bpf::DropsMode::All,
        },
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
        ring_bytes,
        immediate: args.line_buffered || args.packet_buffered || args.immediate,
        nat: args.nat,
        netns: args.netns,
        containers: containers::Config {
            containerd_address: runtime_address(args.containerd_address),
            docker_address: runtime_address(args.docker_address),
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

/// `--generate man|bash|zsh|fish` (hidden; scripts/run.sh installs the results): the man page
/// or a completion script, from the clap definitions.
fn generate(what: &str) -> ExitCode {
    let cmd = Args::command().name("ptcap").bin_name("ptcap");
    match gen::write(cmd, what, &mut std::io::stdout()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ptcap: --generate {what}: {e}");
            ExitCode::from(2)
        }
    }
}
