//! Writes the benchmark capture with our pcapng writer and reports its throughput.
//! Usage: gen_capture OUT.pcapng PACKETS [full|short|none|ptcpdump]
//! (`ptcpdump`: ptcpdump's layout, the full comments without our structured options.)

use std::io::BufWriter;
use std::time::Instant;

use formats::meta::CommentMode;
use formats::pcapng::linktype;
use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gen_capture OUT.pcapng PACKETS [full|short|none|ptcpdump]");
        std::process::exit(2);
    }
    let packets: u64 = args[2].parse().unwrap_or_else(|_| {
        eprintln!("gen_capture: PACKETS must be a number, not {:?}", args[2]);
        std::process::exit(2)
    });
    let (comments, structured) = match args.get(3).map(String::as_str) {
        None | Some("full") => (CommentMode::Full, true),
        Some("short") => (CommentMode::Short, true),
        Some("none") => (CommentMode::None, true),
        Some("ptcpdump") => (CommentMode::Full, false),
        Some(other) => {
            eprintln!(
                "gen_capture: comment mode must be full, short, none or ptcpdump, not {other:?}"
            );
            std::process::exit(2)
        }
    };
    let file = std::fs::File::create(&args[1]).unwrap_or_else(|e| {
        eprintln!("gen_capture: {}: {e}", args[1]);
        std::process::exit(2)
    });
    let mut cfg = WriterConfig::new("ptcap-bench", env!("CARGO_PKG_VERSION"));
    cfg.comments = comments;
    cfg.structured = structured;
    cfg.scope = Some(1);
    let start = Instant::now();
    let mut w =
        PcapngWriter::new(BufWriter::with_capacity(1 << 20, file), cfg).expect("write header");
    let iface = w
        .add_interface(&InterfaceSpec::new("eth0", linktype::ETHERNET, 262144))
        .expect("write interface");
    let mut err = None;
    ptcap_bench::synth::generate(packets, 0x5eed, |p| {
        if err.is_none() {
            if let Err(e) = w.write_packet(
                iface,
                p.ts_ns,
                p.data.len() as u32,
                &p.data,
                Some(p.direction),
                &p.meta,
            ) {
                err = Some(e);
            }
        }
    });
    if let Some(e) = err {
        eprintln!("gen_capture: {}: {e}", args[1]);
        std::process::exit(1);
    }
    let bytes = w.bytes_written();
    w.finish()
        .and_then(|mut b| std::io::Write::flush(&mut b))
        .expect("flush");
    let secs = start.elapsed().as_secs_f64();
    println!("{:.1} MB/s", bytes as f64 / secs / 1e6);
    println!("{packets} packets, {bytes} bytes in {secs:.3} s");
}
