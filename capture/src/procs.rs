//! The process table: pid -> what a packet's metadata says about its process (comm, exe,
//! argv, uid, gid), its parent, and its cgroup (for the container lookup of the next step).
//!
//! Filled once from /proc at start, then kept fresh by the kernel's exec/fork/exit/rename events
//! (`bpf::ProcEvent`), so no packet ever waits for /proc: the only /proc reads are the start
//! scan, one per exec (the resolved /proc/PID/exe, and /proc/PID/cmdline when the kernel's copy
//! of argv was cut at 1 KiB) and one per process first named by a socket event without having
//! been seen (a process older than ptcap that the scan missed).
//! Exited processes stay resolvable (packets still in flight, closing TCP sockets) until the
//! table is over its bound, or more than [`EXITED_MAX`] processes exited after them; then the
//! longest-exited go first. (The bound on the whole table is never reached on a node whose
//! pid_max is 32768, since entries are keyed by pid: the exited bound is what keeps process
//! churn from growing the exited queue and the table for ever.)
//!
//! # Names are the current ones, never a previous owner's
//! - comm: the exec event's (the kernel's basename of the path given to execve), then every
//!   rename of the thread-group leader (tp_btf task_rename: prctl(PR_SET_NAME), writes to
//!   /proc/PID/comm), and, as a backstop for a lost rename event, the comm a socket hook read
//!   in the leader's own context. Busybox's shell runs applets as
//!   `execve("/proc/self/exe", ["nc", ...])` and then renames itself to `nc`: at the exec the
//!   kernel calls it `exe`, and a table fed only by exec events said `exe` for ever.
//! - exe: what /proc/PID/exe shows, read when the exec event is handled, and used only when
//!   /proc/PID/stat's start time equals the exec event's (checked before and after the read: a
//!   pid reused in between fails the check). An exec of `/proc/self/exe` re-runs the process's
//!   own image, so its exe is the one it had (a fork's copy of its parent's); that is taken
//!   first, because the short-lived applet is often gone before its exec event is handled.
//!   Otherwise the path given to execve.
//! - A process first met through a socket event is read from /proc only when /proc's comm is
//!   the one the hook saw in the leader's context (else the pid may already be another
//!   process's, and only what the hook saw is kept).

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use formats::meta::{escape_bytes, ProcessInfo};
use formats::table::{EarlyGrowth, IdMap};

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
    /// The serial number of its exit (0 while it runs).
    pub exit_serial: u64,
}

/// Exited processes kept resolvable at most (the most recently exited).
pub const EXITED_MAX: usize = 4096;

/// The bounded process table.
pub struct ProcessCache {
    procs: IdMap<u32, Proc>,
    /// Its steady size under churn is the live processes and [`EXITED_MAX`] exited ones.
    growth: EarlyGrowth,
    /// Exited pids with their exit's serial number, oldest first (evicted first). An entry
    /// whose pid was reused since (another serial, or running) is skipped when it is popped.
    exited: VecDeque<(u32, u64)>,
    /// Serial number of the last exit.
    exits: u64,
    max: usize,
    max_exited: usize,
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

/// A kernel comm buffer up to its first NUL.
fn comm_of(raw: &[u8]) -> &[u8] {
    raw.iter().position(|&b| b == 0).map_or(raw, |n| &raw[..n])
}

/// /proc/PID/stat's starttime (field 22, clock ticks since boot).
fn start_ticks(pid: u32) -> Option<u64> {
    let stat = read(format!("/proc/{pid}/stat"))?;
    // The comm (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// CLOCK_BOOTTIME nanoseconds as /proc/PID/stat counts them (USER_HZ ticks).
fn ns_to_ticks(ns: u64) -> u64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as u64 } else { 100 };
    ns / (1_000_000_000 / hz)
}

/// /proc/PID/exe, when PID is still the process that started at `start_ns` (boot time).
fn exe_of_incarnation(pid: u32, start_ns: u64) -> Option<String> {
    if start_ns == 0 {
        return None;
    }
    let want = ns_to_ticks(start_ns);
    if start_ticks(pid)? != want {
        return None;
    }
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    (start_ticks(pid)? == want).then(|| escape_bytes(exe.as_os_str().as_encoded_bytes()))
}

/// The path given to execve names the caller's own image (`/proc/self/exe`, `/proc/PID/exe`).
fn is_self_exe(filename: &[u8], pid: u32) -> bool {
    filename == b"/proc/self/exe"
        || filename == b"/proc/thread-self/exe"
        || filename == format!("/proc/{pid}/exe").as_bytes()
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
        exit_serial: 0,
    })
}

impl ProcessCache {
    /// Scans /proc. `max` bounds the table (live processes are never evicted).
    pub fn scan(max: usize) -> ProcessCache {
        let mut procs = IdMap::default();
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
            growth: EarlyGrowth::default(),
            exited: VecDeque::new(),
            exits: 0,
            max: max.max(16),
            max_exited: EXITED_MAX,
        }
    }

    /// An empty table (tests; a scan that failed).
    pub fn empty(max: usize) -> ProcessCache {
        ProcessCache {
            procs: IdMap::default(),
            growth: EarlyGrowth::default(),
            exited: VecDeque::new(),
            exits: 0,
            max: max.max(16),
            max_exited: EXITED_MAX.min(max.max(16)),
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
        self.growth.check(&mut self.procs);
        self.trim();
    }

    fn trim(&mut self) {
        while self.procs.len() > self.max || self.exited.len() > self.max_exited {
            let Some((old, serial)) = self.exited.pop_front() else {
                break;
            };
            if self
                .procs
                .get(&old)
                .is_some_and(|p| p.exited && p.exit_serial == serial)
            {
                self.procs.remove(&old);
            }
        }
    }

    /// Exited processes still queued for eviction (tests, the soak benchmark).
    #[allow(dead_code)]
    pub fn exited_queued(&self) -> usize {
        self.exited.len()
    }

    /// Makes sure `pid` is known: reads /proc once when it is not, else builds an entry from
    /// what a hook saw (comm, uid, gid). `leader`: the hook ran in the thread-group leader, so
    /// `comm` is the process's; /proc is then trusted only if it shows that comm.
    pub fn ensure(
        &mut self,
        pid: u32,
        comm: &[u8],
        leader: bool,
        uid: u32,
        gid: u32,
        cgroup_id: u64,
    ) {
        if pid == 0 || self.procs.contains_key(&pid) {
            return;
        }
        let comm = comm_of(comm);
        let from_proc = read_proc(pid)
            .filter(|p| !leader || comm.is_empty() || p.info.comm == escape_bytes(comm));
        let p = from_proc.unwrap_or_else(|| Proc {
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
            exit_serial: 0,
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
        let old = self.procs.get(&ev.pid);
        let own_image = is_self_exe(ev.filename, ev.pid)
            .then(|| old.map(|o| o.info.exe.clone()))
            .flatten()
            .filter(|e| !e.is_empty());
        let exe = own_image
            .or_else(|| exe_of_incarnation(ev.pid, ev.start_boottime_ns))
            .unwrap_or_else(|| escape_bytes(ev.filename));
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
            exit_serial: 0,
        };
        self.insert(ev.pid, p);
    }

    /// The process's comm changed (task_rename of its leader).
    pub fn on_rename(&mut self, pid: u32, comm: &[u8]) {
        self.refresh_comm(pid, comm);
    }

    /// Takes `comm` (read in the leader's context) as the process's current comm.
    pub fn refresh_comm(&mut self, pid: u32, comm: &[u8]) {
        let comm = comm_of(comm);
        if comm.is_empty() {
            return;
        }
        if let Some(p) = self.procs.get_mut(&pid) {
            let comm = escape_bytes(comm);
            if p.info.comm != comm {
                let mut info = (*p.info).clone();
                info.comm = comm;
                p.info = Arc::new(info);
            }
        }
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
                    exit_serial: 0,
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
                exit_serial: 0,
            },
        };
        self.insert(ev.pid, p);
    }

    /// The process ended: kept (packets in flight) until evicted.
    pub fn on_exit(&mut self, pid: u32) {
        if let Some(p) = self.procs.get_mut(&pid) {
            if !p.exited {
                self.exits += 1;
                p.exited = true;
                p.exit_serial = self.exits;
                self.exited.push_back((pid, self.exits));
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

    fn exec_event<'a>(
        pid: u32,
        comm: &'a [u8],
        filename: &'a [u8],
        args: &'a [u8],
    ) -> bpf::ProcEvent<'a> {
        bpf::ProcEvent {
            kind: bpf::ProcKind::Exec,
            pid,
            tid: pid,
            ppid: 1,
            uid: 0,
            gid: 0,
            cgroup_id: 0,
            ts_mono_ns: 0,
            comm,
            filename,
            args,
            start_boottime_ns: 0,
        }
    }

    #[test]
    fn busybox_applet_exec_then_rename_gives_its_name_and_image() {
        // sh (pid P, /bin/busybox) forks; the child execs /proc/self/exe ["nc", ...] (the
        // kernel calls it "exe") and renames itself "nc"; it is gone before we look.
        let pid = 4_100_001;
        let mut c = ProcessCache::empty(64);
        c.on_exec(&exec_event(pid, b"sh", b"/bin/sh", b"sh\0"));
        assert_eq!(
            c.get(pid).unwrap().info.exe,
            "/bin/sh",
            "no /proc: the path given"
        );
        c.on_exec(&exec_event(
            pid,
            b"exe",
            b"/proc/self/exe",
            b"nc\x00198.18.0.1\x0080\x00",
        ));
        let p = c.get(pid).unwrap();
        assert_eq!(p.info.exe, "/bin/sh", "its own image, not /proc/self/exe");
        assert_eq!(p.info.argv, ["nc", "198.18.0.1", "80"]);
        assert_eq!(p.info.comm, "exe");
        c.on_rename(pid, b"nc\0\0\0");
        assert_eq!(c.get(pid).unwrap().info.comm, "nc");
        c.refresh_comm(pid, b"\0");
        assert_eq!(
            c.get(pid).unwrap().info.comm,
            "nc",
            "an empty comm changes nothing"
        );
    }

    #[test]
    fn proc_is_read_only_for_the_same_incarnation() {
        let me = std::process::id();
        let ticks = start_ticks(me).expect("own start time");
        assert!(ticks > 0);
        // Another start time (a previous owner of the pid): /proc is not used.
        assert_eq!(exe_of_incarnation(me, 1), None);
        assert_eq!(exe_of_incarnation(me, 0), None);
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
        let ns = ticks * (1_000_000_000 / hz);
        let exe = exe_of_incarnation(me, ns).expect("same incarnation");
        assert_eq!(exe, std::env::current_exe().unwrap().display().to_string());
    }

    #[test]
    fn a_socket_hook_whose_comm_proc_does_not_show_keeps_what_the_hook_saw() {
        let me = std::process::id();
        let mut c = ProcessCache::empty(64);
        c.ensure(me, b"someone-else\0\0\0", true, 7, 8, 0);
        let p = c.get(me).unwrap();
        assert_eq!(
            (p.info.comm.as_str(), p.info.exe.as_str()),
            ("someone-else", "")
        );
        assert_eq!(p.info.uid, Some(7));
        let mut c = ProcessCache::empty(64);
        let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
        c.ensure(me, comm.trim().as_bytes(), true, 7, 8, 0);
        assert!(
            !c.get(me).unwrap().info.exe.is_empty(),
            "/proc agrees: read"
        );
    }

    #[test]
    fn exited_processes_are_evicted_first_when_over_the_bound() {
        let mut c = ProcessCache::empty(16);
        for pid in 1..=16 {
            c.ensure(pid + 4_000_000, b"x", false, 0, 0, 0);
        }
        c.on_exit(4_000_001);
        c.ensure(4_000_100, b"y", false, 0, 0, 0);
        assert!(c.get(4_000_001).is_none());
        assert!(c.get(4_000_002).is_some());
        assert_eq!(c.len(), 16);
    }

    #[test]
    fn exited_processes_are_bounded_under_pid_reuse() {
        let mut c = ProcessCache::empty(1 << 20);
        // 100,000 short-lived processes over a 32,000-pid space.
        for n in 0..100_000u32 {
            let pid = 300 + n % 32_000;
            c.ensure(pid, b"client", false, 0, 0, 0);
            c.on_exit(pid);
            assert!(c.exited_queued() <= EXITED_MAX);
        }
        assert!(c.len() <= EXITED_MAX, "{}", c.len());
        // The most recent ones are still resolvable.
        assert!(c.get(300 + 99_999 % 32_000).is_some());
    }
}
