//! Reads every packet of a capture on one thread and reports packets/s.
//! Usage: read_speed FILE

use std::time::Instant;

use formats::meta::MetaReader;
use formats::pcapng::CaptureReader;

/// CPU time (user + system) this thread has used.
fn thread_cpu_secs() -> f64 {
    // SAFETY: getrusage writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: read_speed FILE");
        std::process::exit(2);
    };
    let file = std::fs::File::open(&path).unwrap_or_else(|e| {
        eprintln!("read_speed: {path}: {e}");
        std::process::exit(2)
    });
    // SAFETY: the file is not modified while mapped (the benchmark owns it).
    let map = unsafe { memmap2::MmapOptions::new().populate().map(&file) }.expect("mmap");
    // Blocks and packets only, then again with every packet's metadata resolved.
    for with_meta in [false, true] {
        let start = Instant::now();
        let cpu_start = thread_cpu_secs();
        let mut reader = CaptureReader::new(&map).expect("capture header");
        let mut meta_reader = MetaReader::new();
        let (mut packets, mut bytes, mut attributed) = (0u64, 0u64, 0u64);
        while let Some(p) = reader.next_packet().expect("read") {
            packets += 1;
            bytes += p.data.len() as u64;
            if with_meta && meta_reader.decode(&p.options).process.is_some() {
                attributed += 1;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let cpu = thread_cpu_secs() - cpu_start;
        let what = if with_meta {
            "with metadata"
        } else {
            "packets only"
        };
        // Per CPU second of this thread: robust when other work shares the core.
        println!(
            "{:.0} packets/s {what} per CPU second ({:.0} per wall second)",
            packets as f64 / cpu,
            packets as f64 / secs
        );
        println!("{packets} packets, {bytes} bytes, {attributed} attributed in {secs:.3} s wall, {cpu:.3} s CPU");
    }
}
