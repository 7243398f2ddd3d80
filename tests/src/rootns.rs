//! What a test must leave as it found it in the root network namespace (the test process's
//! own): the firewall (`nft list ruleset`, which iptables-nft rules are part of, and the legacy
//! x_tables rules where `iptables-legacy-save` exists), the network sysctls, and the loaded
//! kernel modules (where the kernel has any: a module such as br_netfilter changes how every
//! namespace's bridges forward). For tests that start something that configures networking by
//! itself (dockerd with iptables on, inside a namespace of the test's own).
//!
//! Sysctls are /proc/sys/net as the test process sees it (its network namespace), without what
//! other activity on the machine changes on its own: per-interface entries (`conf/IFACE`,
//! `neigh/IFACE` other than `all`/`default`: interfaces come and go) and conntrack's counts.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// One snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootNetState {
    pub nft_ruleset: String,
    pub legacy_iptables: String,
    pub sysctls: BTreeMap<String, String>,
    /// `/proc/modules` names (empty when the kernel has no loadable modules).
    pub modules: Vec<String>,
}

fn output(cmd: &[&str]) -> String {
    match Command::new(cmd[0]).args(&cmd[1..]).output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => format!("(failed: {})", String::from_utf8_lossy(&o.stderr)),
        Err(_) => String::new(),
    }
}

/// Whether a /proc/sys/net path (relative) changes with other activity on the machine.
fn volatile(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    let per_iface = parts.len() >= 3
        && (parts[1] == "conf" || parts[1] == "neigh")
        && !matches!(parts[2], "all" | "default");
    per_iface || rel.ends_with("_count")
}

fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
        if volatile(&rel) {
            continue;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, base, out),
            Ok(_) => {
                // Write-only entries (route/flush) do not read: skipped.
                if let Ok(v) = std::fs::read_to_string(&p) {
                    out.insert(rel, v.trim().to_string());
                }
            }
            Err(_) => {}
        }
    }
}

impl RootNetState {
    pub fn capture() -> RootNetState {
        let mut sysctls = BTreeMap::new();
        let base = Path::new("/proc/sys/net");
        walk(base, base, &mut sysctls);
        let modules = std::fs::read_to_string("/proc/modules")
            .map(|m| {
                m.lines()
                    .filter_map(|l| l.split(' ').next())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let legacy = if crate::docker::have("iptables-legacy-save") {
            output(&["iptables-legacy-save"])
                .lines()
                // Its header and footer comments carry the time.
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            String::new()
        };
        RootNetState {
            nft_ruleset: output(&["nft", "list", "ruleset"]),
            legacy_iptables: legacy,
            sysctls,
            modules,
        }
    }

    /// What differs from `before`, one line per difference (empty: nothing).
    pub fn changes_since(&self, before: &RootNetState) -> Vec<String> {
        let mut d = Vec::new();
        if self.nft_ruleset != before.nft_ruleset {
            d.push(format!(
                "nft ruleset changed:\n--- before\n{}\n--- after\n{}",
                before.nft_ruleset, self.nft_ruleset
            ));
        }
        if self.legacy_iptables != before.legacy_iptables {
            d.push(format!(
                "legacy iptables changed:\n--- before\n{}\n--- after\n{}",
                before.legacy_iptables, self.legacy_iptables
            ));
        }
        for (k, v) in &self.sysctls {
            match before.sysctls.get(k) {
                Some(b) if b == v => {}
                Some(b) => d.push(format!("net.{k}: {b:?} -> {v:?}")),
                None => d.push(format!("net.{k}: new, {v:?}")),
            }
        }
        for k in before.sysctls.keys() {
            if !self.sysctls.contains_key(k) {
                d.push(format!("net.{k}: gone"));
            }
        }
        for m in &self.modules {
            if !before.modules.contains(m) {
                d.push(format!("module {m} loaded"));
            }
        }
        d
    }
}
