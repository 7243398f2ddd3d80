//! ptanalyze's command line.

use clap::{ArgAction, Parser, ValueEnum};

use analyze::flows::Timeouts;
use formats::meta::CommentMode;
use formats::render::{DumpMode, RenderOptions, TimestampMode};

use crate::filter::OwnerFilter;

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

EXIT STATUS
  0 success (also when nothing matched), 1 an input is damaged or truncated (everything before
  the damage is analysed; reports say they are incomplete), 2 a usage error, a bad expression or
  an input that cannot be opened.";

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Comments {
    Full,
    Short,
    None,
}

#[derive(Parser, Debug)]
#[command(
    name = "ptanalyze",
    version,
    about = "Analyse pcap/pcapng captures with process and container context: list packets like \
             tcpdump -nn, filter by owner and expression, write pcapng, report flows and statistics",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Capture files (`-` reads standard input), then an optional filter expression.
    #[arg(required = true, value_name = "FILE... [EXPRESSION]")]
    pub positional: Vec<String>,
    /// The filter expression, after `--`.
    #[arg(last = true, value_name = "EXPRESSION")]
    pub after_dashes: Vec<String>,

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

    /// Write matching packets with their metadata to a pcapng file (`-`: standard output).
    #[arg(short = 'w', value_name = "OUT.pcapng", help_heading = "Output")]
    pub write: Option<String>,
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
    /// Totals and rollups per container, pod, process and interface.
    #[arg(long, help_heading = "Output")]
    pub stats: bool,
    /// JSON: packets and flows as one object per line, statistics as one object.
    #[arg(long, help_heading = "Output")]
    pub json: bool,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Bytes per parallel chunk (tuning and tests).
    #[arg(long, hide = true, default_value_t = 32 << 20)]
    pub chunk_size: u64,

    /// More detail (repeat for more).
    #[arg(short = 'v', action = ArgAction::Count, help_heading = "Listing")]
    pub verbose: u8,
    /// Print each packet, context included, on one line.
    #[arg(long, help_heading = "Listing")]
    pub oneline: bool,
    /// Stop after N matching packets.
    #[arg(short = 'c', value_name = "N", help_heading = "Listing")]
    pub count: Option<u64>,
    /// Absolute TCP sequence numbers.
    #[arg(short = 'S', help_heading = "Listing")]
    pub absolute_seq: bool,
    /// Less protocol detail.
    #[arg(short = 'q', help_heading = "Listing")]
    pub quiet: bool,
    /// Timestamp format: -t none, -tt epoch, -ttt delta, -tttt date, -ttttt since first.
    #[arg(short = 't', action = ArgAction::Count, help_heading = "Listing")]
    pub timestamp: u8,
    /// Nanosecond timestamps.
    #[arg(long, help_heading = "Listing")]
    pub nano: bool,
    /// Hex dump (-xx: with the link-layer header).
    #[arg(short = 'x', action = ArgAction::Count, help_heading = "Listing")]
    pub hex: u8,
    /// Hex and ASCII dump (-XX: with the link-layer header).
    #[arg(short = 'X', action = ArgAction::Count, help_heading = "Listing")]
    pub hex_ascii: u8,
    /// ASCII dump.
    #[arg(short = 'A', help_heading = "Listing")]
    pub ascii: bool,
}

impl Cli {
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
            nano: self.nano,
            dump,
            oneline: self.oneline,
        }
    }
}
