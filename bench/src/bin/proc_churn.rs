//! Process churn for the RSS soak (bench/churn_rss.sh, issue 10): runs N short-lived clients,
//! each a fresh exec of this program that sends one UDP datagram and exits, and samples the
//! resident set of a watched process (ptcap) every K clients.
//!
//! `proc_churn --client ADDR:PORT` (one client), or
//! `proc_churn CLIENTS ADDR:PORT WATCH_PID [EVERY] [PARALLEL]`: prints `clients rss_kib` lines.

use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--client") {
        let s = UdpSocket::bind("0.0.0.0:0").expect("bind");
        let _ = s.send_to(b"churn", &args[2]);
        return;
    }
    if args.len() < 4 {
        eprintln!("usage: proc_churn CLIENTS ADDR:PORT WATCH_PID [EVERY] [PARALLEL]");
        std::process::exit(2);
    }
    let clients: u64 = args[1].parse().expect("CLIENTS");
    let to = &args[2];
    let watch: u32 = args[3].parse().expect("WATCH_PID");
    let every: u64 = args.get(4).map_or(10_000, |v| v.parse().expect("EVERY"));
    let parallel: usize = args.get(5).map_or(8, |v| v.parse().expect("PARALLEL"));
    let me = std::env::current_exe().expect("current_exe");
    let mut running: Vec<Child> = Vec::new();
    let started = std::time::Instant::now();
    println!("0 {}", rss_kib(watch));
    for n in 1..=clients {
        while running.len() >= parallel {
            let before = running.len();
            running.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_))));
            if running.len() == before {
                // Wait for the oldest.
                let _ = running.remove(0).wait();
            }
        }
        let c = Command::new(&me)
            .args(["--client", to])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn a client");
        running.push(c);
        if n % every == 0 {
            for mut c in running.drain(..) {
                let _ = c.wait();
            }
            // Let the capture catch up with the ring before sampling.
            std::thread::sleep(std::time::Duration::from_millis(500));
            println!("{n} {}", rss_kib(watch));
        }
    }
    for mut c in running {
        let _ = c.wait();
    }
    eprintln!(
        "{clients} clients in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
