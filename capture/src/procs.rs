//! The process table: pid -> what a packet's metadata says about its process (comm, exe,
//! argv, uid, gid), its parent, and its cgroup (for the container lookup of the next step).
//!
//! Filled once from /proc at start, then kept fresh by the kernel's exec/fork/exit events
//! (`bpf::ProcEvent`), so no packet ever waits for /proc: the only /proc reads are the start
//! scan, one per exec (the resolved /proc/PID/exe, and /proc/PID/cmdline when the kernel's copy
//! of argv was cut at 1 KiB) and one per process first named by a socket event without having
//! been seen (a process older than ptcap that the scan missed).
//! Exited processes stay resolvable (packets still in flight, closing TCP sockets) until the
//! table is over its bound; then the longest-exited go first.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use formats::meta::{escape_bytes, ProcessInfo};

/// One process.
#[derive(Debug, Clone)]
pub struct Proc {
    pub info: Arc<ProcessInfo>,
    /// The parent's pid (0 unknown).
    pub ppid: u32,
    /// cgroup v2 id (from the kernel's events; 0 unknown).
    #[allow(dead_code)] // for the container lookup (next step)
    pub cgroup_id: u64,
    /// The cgroup v2 path (`/proc/PID/cgroup`, line `0::`), when read from /proc.
    pub cgroup_path: Option<String>,
    pub exited: bool,
}

/// The bounded process table.
pub struct ProcessCache {
    procs: HashMap<u32, Proc>,
    /// Exited pids, oldest first (evicted first when over `max`).
    exited: VecDeque<u32>,
    max: usize,
}

fn read(path: String) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

fn argv_from(raw: &[u8]) -> Vec<String> {
    let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|&b| b == 0).map(escape_bytes).collect()
}

fn status_field(status: &str, key: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn comm_str(raw: &[u8]) -> String {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    escape_bytes(raw)
}

/// Reads one process from /proc (None when it is gone).
pub fn read_proc(pid: u32) -> Option<Proc> {
    let status = String::from_utf8_lossy(&read(format!("/proc/{pid}/status"))?).into_owned();
    // A thread id also has a /proc entry: only processes (Tgid == pid) are taken.
    if status_field(&status, "Tgid:") != Some(pid) {
        return None;
    }
    let comm = read(format!("/proc/{pid}/comm"))
        .map(|c| comm_str(&c))
        .unwrap_or_default();
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| escape_bytes(p.as_os_str().as_encoded_bytes()))
        .unwrap_or_default();
    let argv = read(format!("/proc/{pid}/cmdline"))
        .map(|c| argv_from(&c))
        .unwrap_or_default();
    let cgroup_path = read(format!("/proc/{pid}/cgroup")).and_then(|c| {
        String::from_utf8_lossy(&c)
            .lines()
            .find_map(|l| l.strip_prefix("0::").map(str::to_string))
    });
    Some(Proc {
        info: Arc::new(ProcessInfo {
            pid,
            comm,
            exe,
            argv,
            uid: status_field(&status, "Uid:"),
            gid: status_field(&status, "Gid:"),
        }),
        ppid: status_field(&status, "PPid:").unwrap_or(0),
        cgroup_id: 0,
        cgroup_path,
        exited: false,
    })
}

impl ProcessCache {
    /// Scans /proc. `max` bounds the table (live processes are never evicted).
    pub fn scan(max: usize) -> ProcessCache {
        let mut procs = HashMap::new();
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for e in dir.flatten() {
                if let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) {
                    if let Some(p) = read_proc(pid) {
                        procs.insert(pid, p);
                    }
                }
            }
        }
        ProcessCache {
            procs,
            exited: VecDeque::new(),
            max: max.max(16),
        }
    }

    /// An empty table (tests).
    #[allow(dead_code)]
    pub fn empty(max: usize) -> ProcessCache {
        ProcessCache {
            procs: HashMap::new(),
            exited: VecDeque::new(),
            max: max.max(16),
        }
    }

    pub fn get(&self, pid: u32) -> Option<&Proc> {
        self.procs.get(&pid)
    }

    pub fn len(&self) -> usize {
        self.procs.len()
    }

    /// Every known process (selection at start).
    pub fn iter(&self) -> impl Iterator<Item = (&u32, &Proc)> {
        self.procs.iter()
    }

    fn insert(&mut self, pid: u32, p: Proc) {
        self.procs.insert(pid, p);
        self.trim();
    }

    fn trim(&mut self) {
        while self.procs.len() > self.max {
            let Some(old) = self.exited.pop_front() else {
                break;
            };
            if self.procs.get(&old).is_some_and(|p| p.exited) {
                self.procs.remove(&old);
            }
        }
    }

    /// Makes sure `pid` is known: reads /proc once when it is not, else builds an entry from
    /// what a hook saw (comm, uid, gid).
    pub fn ensure(&mut self, pid: u32, comm: &[u8], uid: u32, gid: u32, cgroup_id: u64) {
        if pid == 0 || self.procs.contains_key(&pid) {
            return;
        }
        let p = read_proc(pid).unwrap_or_else(|| Proc {
            info: Arc::new(ProcessInfo {
                pid,
                comm: escape_bytes(comm),
                uid: Some(uid),
                gid: Some(gid),
                ..Default::default()
            }),
            ppid: 0,
            cgroup_id,
            cgroup_path: None,
            exited: false,
        });
        self.insert(pid, p);
    }

    /// A process replaced its image.
    pub fn on_exec(&mut self, ev: &bpf::ProcEvent<'_>) {
        let mut argv = argv_from(ev.args);
        // The kernel copies at most 1 KiB of argv: read the rest from /proc while it lives.
        if ev.args.len() >= 1024 || argv.is_empty() {
            if let Some(full) = read(format!("/proc/{}/cmdline", ev.pid)) {
                if !full.is_empty() {
                    argv = argv_from(&full);
                }
            }
        }
        let exe = std::fs::read_link(format!("/proc/{}/exe", ev.pid))
            .map(|p| escape_bytes(p.as_os_str().as_encoded_bytes()))
            .unwrap_or_else(|_| escape_bytes(ev.filename));
        let old = self.procs.get(&ev.pid);
        let cgroup_path = old.and_then(|o| o.cgroup_path.clone());
        let p = Proc {
            info: Arc::new(ProcessInfo {
                pid: ev.pid,
                comm: escape_bytes(ev.comm),
                exe,
                argv,
                uid: Some(ev.uid),
                gid: Some(ev.gid),
            }),
            ppid: if ev.ppid != 0 {
                ev.ppid
            } else {
                old.map_or(0, |o| o.ppid)
            },
            cgroup_id: ev.cgroup_id,
            cgroup_path,
            exited: false,
        };
        self.insert(ev.pid, p);
    }

    /// A new process: a copy of its parent until it execs.
    pub fn on_fork(&mut self, ev: &bpf::ProcEvent<'_>) {
        let p = match self.procs.get(&ev.ppid) {
            Some(parent) => {
                let mut info = (*parent.info).clone();
                info.pid = ev.pid;
                info.comm = escape_bytes(ev.comm);
                Proc {
                    info: Arc::new(info),
                    ppid: ev.ppid,
                    cgroup_id: ev.cgroup_id,
                    cgroup_path: parent.cgroup_path.clone(),
                    exited: false,
                }
            }
            None => Proc {
                info: Arc::new(ProcessInfo {
                    pid: ev.pid,
                    comm: escape_bytes(ev.comm),
                    uid: Some(ev.uid),
                    gid: Some(ev.gid),
                    ..Default::default()
                }),
                ppid: ev.ppid,
                cgroup_id: ev.cgroup_id,
                cgroup_path: None,
                exited: false,
            },
        };
        self.insert(ev.pid, p);
    }

    /// The process ended: kept (packets in flight) until evicted.
    pub fn on_exit(&mut self, pid: u32) {
        if let Some(p) = self.procs.get_mut(&pid) {
            if !p.exited {
                p.exited = true;
                self.exited.push_back(pid);
            }
        }
        self.trim();
    }

    /// Pids of every known descendant of `roots` (including them).
    pub fn descendants(&self, roots: &HashSet<u32>) -> HashSet<u32> {
        let mut out = roots.clone();
        loop {
            let before = out.len();
            for (pid, p) in &self.procs {
                if out.contains(&p.ppid) {
                    out.insert(*pid);
                }
            }
            if out.len() == before {
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_keeps_boundaries_and_escapes() {
        assert_eq!(argv_from(b"nc\0-l\0\xff\0"), vec!["nc", "-l", "\\xff"]);
        assert!(argv_from(b"").is_empty());
    }

    #[test]
    fn scan_finds_ourselves() {
        let c = ProcessCache::scan(100_000);
        let me = c.get(std::process::id()).expect("own process");
        assert!(!me.info.comm.is_empty());
        assert!(me.ppid > 0);
    }

    #[test]
    fn exited_processes_are_evicted_first_when_over_the_bound() {
        let mut c = ProcessCache::empty(16);
        for pid in 1..=16 {
            c.ensure(pid + 4_000_000, b"x", 0, 0, 0);
        }
        c.on_exit(4_000_001);
        c.ensure(4_000_100, b"y", 0, 0, 0);
        assert!(c.get(4_000_001).is_none());
        assert!(c.get(4_000_002).is_some());
        assert_eq!(c.len(), 16);
    }
}
