//! ptanalyze's command line.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{ArgAction, CommandFactory, FromArgMatches, Parser, ValueEnum};

use analyze::flows::Timeouts;
use formats::meta::CommentMode;
use formats::pcapng::Direction;
use formats::render::{Context, DumpMode, RenderOptions, TimestampMode};

use crate::filter::OwnerFilter;

const EXAMPLES: &str = "\
EXAMPLES
  ptanalyze capture.pcapng                              list every packet, tcpdump -nn style
  ptanalyze -r capture.pcapng -v --oneline port 80      tcpdump's -r works too
  ptanalyze -e -c 5 capture.pcap                        link-level headers (MACs, ethertype)
  ptanalyze --pname curl -w curl.pcapng capture.pcapng  one process's packets, metadata kept
  ptanalyze -w plain.pcap capture.pcapng                classic pcap (no metadata) for old tools
  ptanalyze --count capture.pcapng tcp                  only the number of matching packets
  ptanalyze --json capture.pcapng | jq -r 'select(.type==\"packet\") | .summary'
  ptanalyze --flows --json cap0.pcapng cap1.pcapng      flows of rotated files, as JSON lines
  ptanalyze --stats capture.pcapng                      totals per container, pod, process
  ptanalyze --stats --drops capture.pcapng              who had packets dropped, and why
  ptanalyze --flows -o flows.parquet cap*.pcapng        flows as Parquet, for DuckDB or Spark
  ptanalyze --packets -o pkts.parquet --pname curl cap.pcapng  one row per packet, with owners
  ptanalyze -F filter.txt capture.pcapng                the expression from a file
  ptanalyze --verify-policy netpol.yaml capture.pcapng  flows the NetworkPolicies disagree with

";

const AFTER_HELP: &str = "\
FILES AND EXPRESSION
  Positional arguments are read as input files as long as they exist (or are `-`, standard
  input); the first one that is not an existing file starts the filter expression, which runs
  to the end, as with tcpdump:
      ptanalyze capture.pcapng host 198.18.0.2 and port 80
  The first positional argument is always a file. To pass an expression whose first word is
  also a file name, put `--` before the expression:  ptanalyze a.pcapng b.pcapng -- host x
  Several files are read as one capture, merged by timestamp (rotated captures).

FILTERS
  Owner filters of different kinds must all match one end; repeating one kind matches any of
  its values. A packet between two local processes (pod to pod on one node, loopback) records
  both ends in ptcap's files, and it is kept when either end matches, as ptcap's live filters
  keep it; ptcpdump's files record one owner per packet, and that owner is what is matched. The expression has libpcap's semantics (pcap-filter(7)), compiled for each
  interface's link type; packets of a link type libpcap cannot filter are skipped and counted.

OUTPUT
  Default: the packet listing, as tcpdump -nn prints it, with process and container context.
  -w FILE: matching packets with their metadata as a self-contained pcapng (Wireshark shows
  the metadata as packet comments). --flows / --stats: reports. --json: the same as JSON lines.
  --packets -o FILE / --flows -o FILE: a table of packets or flows with their owners, as
  Parquet, CSV or JSON lines by FILE's extension (schema: docs/parquet.md).

FLOWS
  A flow is one connection or exchange between two endpoints (protocol, addresses, ports; ICMP
  echo: the identifier). When addresses and ports are reused, a TCP SYN (without ACK) starts
  a new flow if the connection before it was closed (FIN both ways, or RST), idle for longer
  than the TCP timeout, or began with a SYN of another sequence number from the same side; a
  retransmitted SYN (same sequence number) does not, as tshark's tcp.stream and zeek count
  connections. A UDP, ICMP or other flow ends once idle for longer than its timeout; its next
  packet starts a new flow. An idle TCP connection without a new SYN stays one flow (its
  sequence numbers go on). Flows of one 5-tuple share its Community ID; the JSON field `reuse`
  (text: `tcp#N` in PROTO) counts the tuple's flows before this one.
      --flow-timeout udp=10         UDP flows end after 10 s, the others keep the defaults
      --flow-timeout tcp=0          never split TCP for idleness (a close still counts)

NAMES
  Every flow's ends carry the names learnt for them: DNS answers (A, AAAA; through a CNAME
  chain, the name the client asked for and the chain's last name) name an address for the
  client that received the answer (its container, else its process or address), from the
  answer on, for the TTL (at most a week) plus an hour; a TLS ClientHello's server name and an
  HTTP/1 Host header name the server of their own flow; --names-from adds a hosts file's names
  (any client, any time) or a zeek dns.log's answers (its client, from its time). Text:
  198.18.3.7:443 (api.shop.test); JSON: initiator.names and responder.names, each
  {name, source: dns|sni|http|file}. --report OUT.html: one self-contained page (no network)
  of the --stats figures, traffic over time, who talked to whom, top flows and drops.

VERIFY POLICY
  --verify-policy POLICIES.yaml reads networking.k8s.io/v1 NetworkPolicy objects (several YAML
  documents or a List) and Namespace objects (their labels, for namespaceSelector; every
  namespace also has kubernetes.io/metadata.name). Each flow's ends are the pods the capture
  names (through NAT: the responder after DNAT); a plain container is a pod of
  --policy-namespace with the container's labels; a host process is the node (ingress from it
  is always allowed); anything else is an address for ipBlock. Named ports resolve against
  the pod's io.kubernetes.container.ports label when the capture has it; otherwise the flow is
  listed as undecided. Observed: completed (the responder answered), refused (a RST), dropped
  (with the kernel's reason, ptcap --drops), unanswered. not_enforced: denied but completed;
  blocked: allowed but dropped or unanswered. --json: violation, undecided and policy lines,
  then the summary with the totals.

EXIT STATUS
  0 success (also when nothing matched), 1 an input is damaged or truncated (everything before
  the damage is analysed; reports say they are incomplete), 2 a usage error, a bad expression,
  an input that cannot be opened or a policy file the API server would refuse, 3 a
  --verify-policy violation (before 1).";

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Comments {
    Full,
    Short,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Precision {
    Micro,
    Nano,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DirectionArg {
    In,
    Out,
    Inout,
}

#[derive(Parser, Debug)]
#[command(
    name = "ptanalyze",
    about = "Analyse pcap/pcapng captures with process and container context: list packets like \
             tcpdump -nn, filter by owner and expression, write pcapng, report flows and statistics",
    disable_version_flag = true,
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Capture files (`-` reads standard input), then an optional filter expression (with
    /// -r, -V or -F: the files come from there and every positional word is the expression).
    #[arg(value_name = "FILE... [EXPRESSION]")]
    pub positional: Vec<String>,
    /// The filter expression, after `--`.
    #[arg(last = true, value_name = "EXPRESSION")]
    pub after_dashes: Vec<String>,
    /// Read packets from FILE (repeatable), as tcpdump -r; `-` is standard input.
    #[arg(short = 'r', long = "read-file", value_name = "FILE")]
    pub read: Vec<String>,
    /// Read the names of the capture files from FILE, one per line (tcpdump -V).
    #[arg(short = 'V', value_name = "FILE")]
    pub file_list: Option<String>,
    /// Take the filter expression from FILE (`#` starts a comment); a command-line expression
    /// is then ignored, as tcpdump does.
    #[arg(short = 'F', long = "expression-file", value_name = "FILE")]
    pub expression_file: Option<String>,
    /// Print the version, with libpcap's, and exit.
    #[arg(long)]
    pub version: bool,

    /// Keep packets of the container with this name.
    #[arg(long = "container-name", value_name = "NAME", help_heading = "Filters")]
    pub container_name: Vec<String>,
    /// Keep packets of the container whose id starts with ID (a prefix that matches several
    /// containers the input defines is refused; in comment-only files it keeps them all).
    #[arg(long = "container-id", value_name = "ID", help_heading = "Filters")]
    pub container_id: Vec<String>,
    /// Keep packets of the pod NAME in namespace NAMESPACE (NAME alone: any namespace).
    #[arg(
        long = "pod-name",
        value_name = "NAME.NAMESPACE",
        help_heading = "Filters"
    )]
    pub pod_name: Vec<String>,
    /// Keep packets of this process id.
    #[arg(long, value_name = "PID", help_heading = "Filters")]
    pub pid: Vec<u32>,
    /// Keep packets of processes with this name (comm, or the executable's basename).
    #[arg(long, value_name = "NAME", help_heading = "Filters")]
    pub pname: Vec<String>,
    /// Keep packets of processes of this user id.
    #[arg(long, value_name = "UID", help_heading = "Filters")]
    pub uid: Vec<u32>,
    /// Keep packets no process was found for.
    #[arg(long, help_heading = "Filters")]
    pub unattributed: bool,
    /// Keep only packets the kernel dropped (`ptcap --drops` records them).
    #[arg(long, help_heading = "Filters")]
    pub drops: bool,
    /// Keep packets of this direction: in, out or inout (the file's packet flags, or the
    /// cooked header's packet type; packets of unknown direction are kept only by inout).
    #[arg(
        short = 'Q',
        long = "direction",
        value_enum,
        value_name = "DIR",
        help_heading = "Filters"
    )]
    pub direction: Option<DirectionArg>,
    /// Keep the packets of the interface named IFACE (repeatable; a packet seen on two veths
    /// is otherwise listed twice and counted as a retransmission).
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "IFACE",
        help_heading = "Filters"
    )]
    pub interface: Vec<String>,

    /// Write matching packets with their metadata to a pcapng file (`-`: standard output).
    #[arg(
        short = 'w',
        long = "write-file",
        value_name = "OUT.pcapng",
        help_heading = "Output"
    )]
    pub write: Option<String>,
    /// Write the --packets or --flows table to FILE; its extension chooses the format:
    /// .parquet (zstd, docs/parquet.md), .csv, .ndjson or .json (JSON lines, as --json).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        help_heading = "Output"
    )]
    pub output: Option<String>,
    /// One row per matching packet, to the file of -o (which it needs).
    #[arg(long, help_heading = "Output")]
    pub packets: bool,
    /// Write the --packets table of -o as a Hive-style directory of parts, a level per key
    /// in the order given: node=NAME (the capturing host, from ptcap's section header, else
    /// --node), date=YYYY-MM-DD and hour=HH (UTC; hour implies date). One part file per
    /// input and directory, readable as soon as that input is done.
    #[arg(
        long = "partition-by",
        value_enum,
        value_delimiter = ',',
        value_name = "KEY,...",
        help_heading = "Output"
    )]
    pub partition_by: Vec<crate::table::PartitionKey>,
    /// The node of inputs whose section headers name none (tcpdump's, ptcpdump's files),
    /// for --partition-by node [default: unknown].
    #[arg(long, value_name = "NAME", help_heading = "Output")]
    pub node: Option<String>,
    /// Comment text in -w output: ptcpdump's layout (full), one short line, or none.
    #[arg(long, value_enum, default_value = "full", help_heading = "Output")]
    pub comments: Comments,
    /// One row per flow (conversation) with its owners.
    #[arg(long, help_heading = "Output")]
    pub flows: bool,
    /// Inactivity timeouts of --flows in seconds, per protocol (0: none); name only those to
    /// change. The defaults are zeek's (tcp_inactivity_timeout 5 min, udp_ and
    /// icmp_inactivity_timeout 1 min). See FLOWS below.
    #[arg(
        long = "flow-timeout",
        value_name = "PROTO=SECS,...",
        value_parser = Timeouts::parse,
        default_value = "tcp=300,udp=60,icmp=60,other=60",
        help_heading = "Output"
    )]
    pub flow_timeout: Timeouts,
    /// Totals and rollups per container, pod, process and interface, with the packets the
    /// kernel dropped (ptcap --drops) by reason.
    #[arg(long, help_heading = "Output")]
    pub stats: bool,
    /// Names for addresses resolved before the capture began: a hosts-format file
    /// (ADDRESS NAME...) or a zeek dns.log. Names learnt from the capture itself (DNS answers,
    /// TLS server names, HTTP Host) need no flag. See NAMES below.
    #[arg(long = "names-from", value_name = "FILE", help_heading = "Output")]
    pub names_from: Option<String>,
    /// Write a self-contained HTML report (no network: scripts, styles and data inline) of
    /// the capture: summary, traffic over time, who talked to whom, top flows, drops.
    #[arg(
        long = "report",
        value_name = "OUT.html",
        conflicts_with_all = ["write", "count_only"],
        help_heading = "Output"
    )]
    pub report: Option<String>,
    /// Check every flow against the Kubernetes NetworkPolicies (and Namespaces) of this YAML
    /// file: the violations (denied but it went through, allowed but dropped or unanswered),
    /// then a summary per policy. Exit status 3 when there is a violation, 2 for a file the
    /// API server would refuse. See VERIFY POLICY below.
    #[arg(
        long = "verify-policy",
        value_name = "POLICIES.yaml",
        conflicts_with_all = ["flows", "stats", "report", "write", "count_only"],
        help_heading = "Output"
    )]
    pub verify_policy: Option<String>,
    /// The namespace --verify-policy puts plain containers (no pod) in: policies of this
    /// namespace select them by their container labels.
    #[arg(
        long = "policy-namespace",
        value_name = "NAMESPACE",
        default_value = "default",
        help_heading = "Output"
    )]
    pub policy_namespace: String,
    /// JSON: packets and flows as one object per line, statistics as one object, then a
    /// summary object (docs/json.md).
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// Print only the number of matching packets (tcpdump 4.99's --count).
    #[arg(long = "count", help_heading = "Output")]
    pub count_only: bool,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Bytes per parallel chunk (tuning and tests).
    #[arg(long, hide = true, default_value_t = 32 << 20)]
    pub chunk_size: u64,

    /// More detail (repeat for more).
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count, help_heading = "Listing")]
    pub verbose: u8,
    /// Print each packet, context included, on one line.
    #[arg(long, help_heading = "Listing")]
    pub oneline: bool,
    /// Stop after N matching packets.
    #[arg(
        short = 'c',
        long = "receive-count",
        value_name = "N",
        help_heading = "Listing"
    )]
    pub count: Option<u64>,
    /// Absolute TCP sequence numbers.
    #[arg(
        short = 'S',
        long = "absolute-tcp-sequence-numbers",
        help_heading = "Listing"
    )]
    pub absolute_seq: bool,
    /// Less protocol detail.
    #[arg(short = 'q', long = "quiet", help_heading = "Listing")]
    pub quiet: bool,
    /// Timestamp format: -t none, -tt epoch, -ttt delta, -tttt date, -ttttt since first.
    #[arg(short = 't', long = "print-timestamp", action = ArgAction::Count, help_heading = "Listing")]
    pub timestamp: u8,
    /// Nanosecond timestamps (also -w .pcap: a nanosecond pcap).
    #[arg(long, help_heading = "Listing")]
    pub nano: bool,
    /// Microsecond timestamps (the default).
    #[arg(long, help_heading = "Listing")]
    pub micro: bool,
    /// Timestamp precision: micro (the default) or nano.
    #[arg(
        long = "time-stamp-precision",
        value_enum,
        value_name = "PRECISION",
        help_heading = "Listing"
    )]
    pub time_stamp_precision: Option<Precision>,
    /// Print the link-level header: MAC addresses and ethertype; SLL/SLL2 packet type,
    /// ifindex and address, as tcpdump -e prints them.
    #[arg(short = 'e', help_heading = "Listing")]
    pub link_header: bool,
    /// Start each line with the packet's number.
    #[arg(short = '#', long = "number", help_heading = "Listing")]
    pub number: bool,
    /// Accepted for tcpdump users (-n, -nn): addresses and ports are always printed as numbers.
    #[arg(short = 'n', long = "no-convert-addr", action = ArgAction::Count, help_heading = "Listing")]
    pub numeric: u8,
    /// Accepted for tcpdump users (-N): names are never resolved.
    #[arg(short = 'N', help_heading = "Listing")]
    pub no_domain: bool,
    /// Flush the output after each line (tcpdump -l).
    #[arg(short = 'l', help_heading = "Listing")]
    pub line_buffered: bool,
    /// Flush the output after each packet (tcpdump -U); -w files are written in blocks.
    #[arg(short = 'U', long = "packet-buffered", help_heading = "Listing")]
    pub packet_buffered: bool,
    /// Which context the text shows: any of process,thread,parentproc,user,container,pod
    /// (ptcpdump's --context; default: all).
    #[arg(
        long = "context",
        value_name = "LIST",
        value_delimiter = ',',
        help_heading = "Listing"
    )]
    pub context: Vec<String>,
    /// Hex dump (-xx: with the link-layer header).
    #[arg(short = 'x', long = "print-data-in-hex", action = ArgAction::Count, help_heading = "Listing")]
    pub hex: u8,
    /// Hex and ASCII dump (-XX: with the link-layer header).
    #[arg(short = 'X', long = "print-data-in-hex-ascii", action = ArgAction::Count, help_heading = "Listing")]
    pub hex_ascii: u8,
    /// ASCII dump.
    #[arg(short = 'A', long = "print-data-in-ascii", help_heading = "Listing")]
    pub ascii: bool,
}

/// libpcap's own version line (`pcap_lib_version`), as tcpdump --version prints it.
pub fn libpcap_version() -> String {
    extern "C" {
        fn pcap_lib_version() -> *const std::ffi::c_char;
    }
    // SAFETY: pcap_lib_version returns a static NUL-terminated string.
    let p = unsafe { pcap_lib_version() };
    if p.is_null() {
        return "libpcap version unknown".into();
    }
    // SAFETY: non-null, NUL-terminated, static.
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}

/// `NAME VERSION` and libpcap's version line.
pub fn version_text(name: &str) -> String {
    format!(
        "{name} version {}\n{}\n",
        env!("CARGO_PKG_VERSION"),
        libpcap_version()
    )
}

/// ptanalyze's clap command, named `name` (`ptcap -r` uses it as `ptcap`).
pub fn command(name: &'static str) -> clap::Command {
    Cli::command()
        .name(name)
        .bin_name(name)
        .version(env!("CARGO_PKG_VERSION"))
        .before_long_help(None::<&str>)
        .after_help(format!("{EXAMPLES}{AFTER_HELP}"))
}

/// Parses `argv` (its first item is the program) as ptanalyze's command line, named `name`.
pub fn parse_from<I, T>(name: &'static str, argv: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let m = command(name).try_get_matches_from(argv)?;
    Cli::from_arg_matches(&m)
}

/// Prints a clap error like clap does, without its tip to put `--` before a word that looks
/// like a flag (here `--` starts the expression; for ptcap, a command).
pub fn print_clap_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let text = e.render().to_string();
    let mut kept: Vec<&str> = Vec::new();
    for l in text.lines() {
        if l.trim_start().starts_with("tip: to pass '") {
            continue;
        }
        if l.trim().is_empty() && kept.last().is_some_and(|p| p.trim().is_empty()) {
            continue;
        }
        kept.push(l);
    }
    eprintln!("{}", kept.join("\n").trim_end());
    if e.kind() == ErrorKind::UnknownArgument {
        eprintln!("(docs/flags.md says what each tcpdump and ptcpdump flag does here)");
    }
    ExitCode::from(2)
}

/// The whole program on `argv`, named `name`: parse, then run.
pub fn main_from<I, T>(name: &'static str, argv: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    crate::run::set_program_name(name);
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let flags_end = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
    if let Some(i) = argv[..flags_end].iter().position(|a| a == "--generate") {
        let what = argv.get(i + 1).and_then(|w| w.to_str()).unwrap_or("");
        return match crate::gen::write(command(name), what, &mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{name}: --generate {what}: {e}");
                ExitCode::from(2)
            }
        };
    }
    let cli = match parse_from(name, argv) {
        Ok(c) => c,
        Err(e) => return print_clap_error(&e),
    };
    if cli.version {
        print!("{}", version_text(name));
        return ExitCode::SUCCESS;
    }
    crate::run::run(cli)
}

/// ptanalyze's `main`.
pub fn main(name: &'static str) -> ExitCode {
    main_from(name, std::env::args_os())
}

/// The expression text of an `-F` file: `#` to the end of a line is a comment.
pub fn read_expression_file(path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("-F {path}: {e}"))?;
    let words: Vec<&str> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .collect();
    Ok(words.join(" "))
}

impl Cli {
    /// Nanosecond timestamps: `--nano` or `--time-stamp-precision nano` (`--micro` wins).
    pub fn nano(&self) -> bool {
        !self.micro && (self.nano || self.time_stamp_precision == Some(Precision::Nano))
    }

    /// The direction kept by `-Q` (`None`: both, and packets of unknown direction).
    pub fn direction_filter(&self) -> Option<Direction> {
        match self.direction {
            Some(DirectionArg::In) => Some(Direction::In),
            Some(DirectionArg::Out) => Some(Direction::Out),
            Some(DirectionArg::Inout) | None => None,
        }
    }

    /// The input files and the expression, after -r, -V and -F: see AFTER_HELP for the rule
    /// without them.
    pub fn resolve_inputs(&self) -> Result<(Vec<String>, Option<String>), String> {
        let mut files: Vec<String> = self.read.clone();
        if let Some(list) = &self.file_list {
            let text = std::fs::read_to_string(list).map_err(|e| format!("-V {list}: {e}"))?;
            files.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from),
            );
        }
        let (files, mut expr) =
            if files.is_empty() && self.read.is_empty() && self.file_list.is_none() {
                if self.expression_file.is_some() {
                    let mut all = self.positional.clone();
                    all.extend(self.after_dashes.iter().cloned());
                    (all, None)
                } else {
                    self.inputs_and_expression()
                }
            } else {
                let mut words = self.positional.clone();
                words.extend(self.after_dashes.iter().cloned());
                (files, (!words.is_empty()).then(|| words.join(" ")))
            };
        if let Some(path) = &self.expression_file {
            if expr.as_deref().is_some_and(|e| !e.trim().is_empty()) {
                let line = format!(
                    "ptanalyze: -F {path}: the expression on the command line is ignored, as tcpdump does"
                );
                let _ = std::io::Write::write_fmt(
                    &mut std::io::stderr(),
                    format_args!("{}\n", crate::run::named(&line)),
                );
            }
            let text = read_expression_file(path)?;
            expr = (!text.trim().is_empty()).then_some(text);
        }
        if files.is_empty() {
            return Err("no capture file: give FILE, -r FILE or -V LIST".into());
        }
        Ok((files, expr))
    }

    /// Input files and the expression (see AFTER_HELP for the rule).
    pub fn inputs_and_expression(&self) -> (Vec<String>, Option<String>) {
        if !self.after_dashes.is_empty() {
            return (self.positional.clone(), Some(self.after_dashes.join(" ")));
        }
        let mut files = Vec::new();
        let mut rest = self.positional.iter();
        for arg in rest.by_ref() {
            if files.is_empty() || arg == "-" || std::path::Path::new(arg).exists() {
                files.push(arg.clone());
            } else {
                let mut expr = vec![arg.clone()];
                expr.extend(rest.cloned());
                return (files, Some(expr.join(" ")));
            }
        }
        (files, None)
    }

    pub fn owner_filter(&self) -> OwnerFilter {
        OwnerFilter {
            container_names: self.container_name.clone(),
            container_ids: self.container_id.clone(),
            pods: self
                .pod_name
                .iter()
                .map(|p| OwnerFilter::parse_pod(p))
                .collect(),
            pids: self.pid.clone(),
            pnames: self.pname.clone(),
            uids: self.uid.clone(),
            unattributed: self.unattributed,
            drops: self.drops,
        }
    }

    pub fn comment_mode(&self) -> CommentMode {
        match self.comments {
            Comments::Full => CommentMode::Full,
            Comments::Short => CommentMode::Short,
            Comments::None => CommentMode::None,
        }
    }

    pub fn render_options(&self) -> RenderOptions {
        let dump = if self.hex_ascii > 1 {
            DumpMode::HexAsciiWithLink
        } else if self.hex_ascii == 1 {
            DumpMode::HexAscii
        } else if self.hex > 1 {
            DumpMode::HexWithLink
        } else if self.hex == 1 {
            DumpMode::Hex
        } else if self.ascii {
            DumpMode::Ascii
        } else {
            DumpMode::None
        };
        RenderOptions {
            verbose: self.verbose,
            quiet: self.quiet,
            absolute_seq: self.absolute_seq,
            timestamp: TimestampMode::from_count(self.timestamp),
            nano: self.nano(),
            dump,
            oneline: self.oneline,
            link_header: self.link_header,
            number: self.number,
            // Checked by `run` before anything is read.
            context: if self.context.is_empty() {
                Context::default()
            } else {
                Context::parse(&self.context).unwrap_or_default()
            },
        }
    }
}
