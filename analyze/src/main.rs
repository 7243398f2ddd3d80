//! ptanalyze: prints pcap/pcapng captures as `tcpdump -nn -r` does, with the process,
//! container and pod context our captures carry.
//!
//! Exit codes: 0 success, 1 a file is damaged (everything before the damage is printed),
//! 2 a file cannot be opened or read.

use std::fs::File;
use std::io::{self, Read, Write};
use std::process::ExitCode;

use clap::{ArgAction, Parser};
use formats::meta::MetaReader;
use formats::pcapng::CaptureReader;
use formats::render::{DumpMode, PacketRef, RenderOptions, Renderer, TimestampMode};

#[derive(Parser, Debug)]
#[command(
    name = "ptanalyze",
    version,
    about = "Print pcap/pcapng captures like tcpdump -nn, with process context"
)]
struct Cli {
    /// Capture files (`-` reads standard input).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// More detail (repeat for more).
    #[arg(short = 'v', action = ArgAction::Count)]
    verbose: u8,
    /// Print each packet, context included, on one line.
    #[arg(long)]
    oneline: bool,
    /// Stop after N packets.
    #[arg(short = 'c', value_name = "N")]
    count: Option<u64>,
    /// Absolute TCP sequence numbers.
    #[arg(short = 'S')]
    absolute_seq: bool,
    /// Less protocol detail.
    #[arg(short = 'q')]
    quiet: bool,
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
}

enum Failure {
    /// The output went away (closed pipe): stop quietly.
    Quiet,
    Damaged,
    Open,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let dump = if cli.hex_ascii > 1 {
        DumpMode::HexAsciiWithLink
    } else if cli.hex_ascii == 1 {
        DumpMode::HexAscii
    } else if cli.hex > 1 {
        DumpMode::HexWithLink
    } else if cli.hex == 1 {
        DumpMode::Hex
    } else if cli.ascii {
        DumpMode::Ascii
    } else {
        DumpMode::None
    };
    let opts = RenderOptions {
        verbose: cli.verbose,
        quiet: cli.quiet,
        absolute_seq: cli.absolute_seq,
        timestamp: TimestampMode::from_count(cli.timestamp),
        nano: cli.nano,
        dump,
        oneline: cli.oneline,
    };
    let mut renderer = Renderer::new(opts);
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut remaining = cli.count.unwrap_or(u64::MAX);
    let mut code = ExitCode::SUCCESS;
    for file in &cli.files {
        if remaining == 0 {
            break;
        }
        match print_file(file, &mut renderer, &mut out, &mut remaining) {
            Ok(()) => {}
            Err(Failure::Quiet) => return ExitCode::SUCCESS,
            Err(Failure::Damaged) => {
                code = ExitCode::from(1);
                break;
            }
            Err(Failure::Open) => {
                code = ExitCode::from(2);
                break;
            }
        }
    }
    if out.flush().is_err() {
        return ExitCode::SUCCESS;
    }
    code
}

/// The bytes of one input: a memory map, or standard input read fully.
enum Input {
    Map(memmap2::Mmap),
    Bytes(Vec<u8>),
}

impl Input {
    fn bytes(&self) -> &[u8] {
        match self {
            Input::Map(m) => m,
            Input::Bytes(b) => b,
        }
    }
}

fn open(name: &str) -> io::Result<Input> {
    if name == "-" {
        let mut buf = Vec::new();
        io::stdin().lock().read_to_end(&mut buf)?;
        return Ok(Input::Bytes(buf));
    }
    let file = File::open(name)?;
    if file.metadata()?.len() == 0 {
        return Ok(Input::Bytes(Vec::new()));
    }
    // SAFETY: the map is read-only; a file truncated by another process while we read it
    // can raise SIGBUS, the accepted risk of mapping a capture (tcpdump reads with stdio).
    match unsafe { memmap2::Mmap::map(&file) } {
        Ok(m) => Ok(Input::Map(m)),
        Err(_) => {
            // Not mappable (a FIFO, /dev/stdin): read it instead.
            let mut buf = Vec::new();
            let mut file = file;
            file.read_to_end(&mut buf)?;
            Ok(Input::Bytes(buf))
        }
    }
}

fn print_file(
    name: &str,
    renderer: &mut Renderer,
    out: &mut impl Write,
    remaining: &mut u64,
) -> Result<(), Failure> {
    let input = match open(name) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("ptanalyze: {name}: {e}");
            return Err(Failure::Open);
        }
    };
    let mut reader = match CaptureReader::new(input.bytes()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ptanalyze: {name}: {e}");
            return Err(Failure::Damaged);
        }
    };
    // Entity definitions are per file (each file of ours is self-contained).
    let mut meta_reader = MetaReader::new();
    let mut buf = Vec::with_capacity(1 << 12);
    while *remaining > 0 {
        let pkt = match reader.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                if out.flush().is_err() {
                    return Err(Failure::Quiet);
                }
                eprintln!("ptanalyze: {name}: {e}");
                return Err(Failure::Damaged);
            }
        };
        *remaining -= 1;
        let iface = reader.interfaces().get(pkt.interface as usize);
        let link_type = iface.map(|i| i.link_type).unwrap_or(1);
        let meta = meta_reader.decode(&pkt.options);
        let pref = PacketRef {
            ts_ns: pkt.ts_ns,
            link_type,
            data: pkt.data,
            orig_len: pkt.orig_len,
            interface: iface.and_then(|i| i.name.as_deref()),
            direction: pkt.direction,
        };
        buf.clear();
        renderer.render(&mut buf, &pref, (!meta.is_empty()).then_some(&meta));
        if out.write_all(&buf).is_err() {
            return Err(Failure::Quiet);
        }
    }
    Ok(())
}
