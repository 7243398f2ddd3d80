//! Running the reference tools and our binary on the same file, and comparing their text.

use std::path::Path;
use std::process::Command;

/// Panics (never skips) when tcpdump is not installed: the differential tests need it.
pub fn require_tcpdump() {
    match Command::new("tcpdump").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        other => panic!(
            "tcpdump is required for the differential tests (apt-get install tcpdump): {other:?}"
        ),
    }
}

/// stdout of `PROGRAM PRE ARGS POST FILE`, with TZ=UTC so both sides print the same local
/// time.
pub fn text_of(program: &Path, pre: &[&str], args: &[&str], post: &[&str], file: &Path) -> String {
    let out = Command::new(program)
        .env("TZ", "UTC")
        .args(pre)
        .args(args)
        .args(post)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {args:?} {} failed: {}",
        program.display(),
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// How two outputs compare, line by line.
#[derive(Debug, Default, Clone)]
pub struct Comparison {
    pub equal: usize,
    pub total: usize,
    /// The first differences: (line number, expected, got).
    pub diffs: Vec<(usize, String, String)>,
}

impl Comparison {
    pub fn is_exact(&self) -> bool {
        self.equal == self.total
    }
}

pub fn compare_lines(expected: &str, got: &str) -> Comparison {
    let e: Vec<&str> = expected.lines().collect();
    let g: Vec<&str> = got.lines().collect();
    let mut c = Comparison {
        total: e.len().max(g.len()),
        ..Default::default()
    };
    for i in 0..c.total {
        let (a, b) = (
            e.get(i).copied().unwrap_or("<missing>"),
            g.get(i).copied().unwrap_or("<missing>"),
        );
        if a == b {
            c.equal += 1;
        } else if c.diffs.len() < 5 {
            c.diffs.push((i + 1, a.to_string(), b.to_string()));
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_lines() {
        let c = compare_lines("a\nb\nc\n", "a\nx\n");
        assert_eq!((c.equal, c.total), (1, 3));
        assert_eq!(c.diffs[0], (2, "b".into(), "x".into()));
    }
}
