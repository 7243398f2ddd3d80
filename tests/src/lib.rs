//! Helpers for the end-to-end tests: test hosts in network namespaces (198.18.0.0/15),
//! running the real peers (tcpdump, tshark) and our binaries, and cleaning up on failure.
//!
//! Everything here needs root (network namespaces, packet capture). Traffic only ever goes
//! between the two namespaces' veth addresses or to 127.0.0.0/8 inside a namespace.

pub mod netns;
pub mod peers;

use std::path::PathBuf;

/// The `ptanalyze` binary of the current build profile.
///
/// Cargo only builds binaries of the package under test, so CI runs `cargo build -p analyze`
/// (or a whole-workspace build) before `cargo test`. `PTANALYZE` overrides the path.
pub fn ptanalyze_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("PTANALYZE") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test binary> -> target/<profile>/ptanalyze
    let mut dir = exe.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let bin = dir.join("ptanalyze");
    assert!(
        bin.exists(),
        "{} not found: run `cargo build -p analyze` (same profile) before `cargo test`, or set PTANALYZE",
        bin.display()
    );
    bin
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
