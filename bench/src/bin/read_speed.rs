//! Reads every packet of a capture on one thread and reports packets/s.
//! Usage: read_speed FILE

use std::time::Instant;

use formats::pcapng::CaptureReader;

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
    let map = unsafe { memmap2::Mmap::map(&file) }.expect("mmap");
    let start = Instant::now();
    let mut reader = CaptureReader::new(&map).expect("capture header");
    let (mut packets, mut bytes) = (0u64, 0u64);
    while let Some(p) = reader.next_packet().expect("read") {
        packets += 1;
        bytes += p.data.len() as u64;
        // Touch the options as a real consumer does.
        bytes += p.options.iter().count() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{:.0} packets/s", packets as f64 / secs);
    println!("{packets} packets, {bytes} bytes in {secs:.3} s");
}
