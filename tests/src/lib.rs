//! Helpers for the end-to-end tests: test hosts in network namespaces (198.18.0.0/15),
//! running the real peers (tcpdump, tshark) and our binaries, and cleaning up on failure.
//!
//! Everything here needs root (network namespaces, packet capture). Traffic only ever goes
//! between the two namespaces' veth addresses or to 127.0.0.0/8 inside a namespace.

pub mod netns;
pub mod peers;

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
