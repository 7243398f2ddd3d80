//! Helpers for the end-to-end tests: test hosts in network namespaces (198.18.0.0/15),
//! running the real peers (tcpdump, tshark) and our binaries, and cleaning up on failure.
//!
//! Everything here needs root (network namespaces, packet capture). Traffic only ever goes
//! between the two namespaces' veth addresses or to 127.0.0.0/8 inside a namespace.

pub mod containerd;
pub mod cuts;
pub mod docker;
pub mod names;
pub mod netns;
pub mod node;
pub mod pair;
pub mod peers;
pub mod ptcpdump;
pub mod rootns;

use std::path::PathBuf;

/// A binary of this workspace in the current build profile (`ptcap`, `ptanalyze`).
///
/// Cargo only builds binaries of the package under test, so CI builds the workspace's binaries
/// (`cargo build --bins`) before `cargo test`. `PTCAP` / `PTANALYZE` override the paths.
pub fn target_bin(name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(name.to_uppercase()) {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test binary> -> target/<profile>/<name>
    let mut dir = exe.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} not found: run `cargo build --bins` (same profile) before `cargo test`, or set {}",
        bin.display(),
        name.to_uppercase()
    );
    bin
}

pub fn ptanalyze_bin() -> PathBuf {
    target_bin("ptanalyze")
}

pub fn ptcap_bin() -> PathBuf {
    target_bin("ptcap")
}

/// Runs a command that must succeed; its standard output.
pub fn run_checked(cmd: &[&str]) -> String {
    let out = std::process::Command::new(cmd[0])
        .args(&cmd[1..])
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("ptcap-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A UDP/IPv4 Ethernet frame 198.18.0.1:`sport` -> 198.18.0.2:`dport` carrying `payload`
/// (valid IP checksum, UDP checksum 0), for files the tests write themselves.
pub fn udp_frame(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = (20 + 8 + payload.len()) as u16;
    let [hi, lo] = total.to_be_bytes();
    let mut ip = vec![
        0x45, 0, hi, lo, 0, 1, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2,
    ];
    let mut sum: u32 = ip
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    f.extend(ip);
    f.extend(sport.to_be_bytes());
    f.extend(dport.to_be_bytes());
    f.extend(((8 + payload.len()) as u16).to_be_bytes());
    f.extend([0, 0]);
    f.extend(payload);
    f
}

/// Runs ptanalyze with `args`; it must succeed (else the test fails with its stderr). Its
/// standard output.
pub fn ptanalyze_ok<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> String {
    let out = std::process::Command::new(ptanalyze_bin())
        .args(args)
        .output()
        .expect("run ptanalyze");
    assert!(
        out.status.success(),
        "ptanalyze failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The packet objects of `ptanalyze --json ARGS`.
pub fn ptanalyze_packets<S: AsRef<std::ffi::OsStr>>(
    args: impl IntoIterator<Item = S>,
) -> Vec<serde_json::Value> {
    let mut all: Vec<std::ffi::OsString> =
        args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    all.push("--json".into());
    ptanalyze_ok(all)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "packet")
        .collect()
}
