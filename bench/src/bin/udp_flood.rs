//! Sends a known number of UDP datagrams at a target rate (packets per second; 0 = as fast as
//! possible) to one address, for ptcap's capture benchmark (bench/capture_pair.sh).
//!
//! `udp_flood ADDR:PORT COUNT RATE [SIZE]` prints `sent N in S seconds (R pps)`.
//! Pacing: the sender checks the clock every 32 datagrams and sleeps when it is more than
//! a millisecond ahead of schedule, so it does not spin on a shared core.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: udp_flood ADDR:PORT COUNT RATE [SIZE]");
        std::process::exit(2);
    }
    let dest = &args[1];
    let count: u64 = args[2].parse().expect("COUNT");
    let rate: f64 = args[3].parse().expect("RATE");
    let size: usize = args.get(4).map(|s| s.parse().expect("SIZE")).unwrap_or(64);
    let sock = UdpSocket::bind("0.0.0.0:0").expect("bind");
    sock.connect(dest).expect("connect");
    let payload = vec![0x55u8; size];
    let start = Instant::now();
    let mut sent = 0u64;
    let mut failed = 0u64;
    while sent < count {
        for _ in 0..32 {
            if sent >= count {
                break;
            }
            // ENOBUFS/ECONNREFUSED (ICMP unreachable from the peer) are retried, not counted.
            match sock.send(&payload) {
                Ok(_) => sent += 1,
                Err(_) => {
                    failed += 1;
                    if failed % 1024 == 0 {
                        std::thread::sleep(Duration::from_micros(100));
                    }
                }
            }
        }
        if rate > 0.0 {
            let due = Duration::from_secs_f64(sent as f64 / rate);
            let now = start.elapsed();
            if due > now + Duration::from_millis(1) {
                std::thread::sleep(due - now);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "sent {sent} in {secs:.3} seconds ({:.0} pps)",
        sent as f64 / secs
    );
}
