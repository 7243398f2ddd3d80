//! The attribution side of the ring: socket, flow and process events (layouts:
//! `struct ptcap_sock_event` and `struct ptcap_proc_event` in events.h; the programs in
//! attribution.bpf.h) and where their programs attach.
//!
//! The hooks are attached once at the root of the cgroup v2 hierarchy and fire for processes in
//! every network namespace; the tracepoints are global. See attribution.bpf.h for what each
//! program reports and why tuples are learnt with cgroup_skb rather than per-namespace tcx
//! observers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use super::{u16_at, u32_at, u64_at};

pub(crate) const EVENT_SOCK: u16 = 2;
pub(crate) const EVENT_PROC: u16 = 3;
const SOCK_EVENT_LEN: usize = 112;
/// Up to `filename`; `start_boottime` follows (newer kernel sides).
const PROC_EVENT_LEN: usize = 320;

/// What a socket event says (`PTCAP_SOCK_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SockKind {
    /// A process created the socket (cgroup/sock_create).
    Create,
    /// The socket was closed (cgroup/sock_release).
    Release,
    /// The socket was bound (post_bind4/6): local address and port.
    Bind,
    /// TCP listen() (sockops).
    Listen,
    /// A process other than the recorded owner used the socket (connect, sendmsg, recvmsg).
    Owner,
    /// A client TCP connection was established (sockops): the full 4-tuple.
    ActiveEstablished,
    /// An accepted TCP connection was established (sockops): the child's own cookie and
    /// 4-tuple; its owner is the listener's.
    PassiveEstablished,
    /// A packet of the socket with a tuple not reported before (cgroup_skb).
    Flow,
    Unknown(u8),
}

impl SockKind {
    fn from_u8(v: u8) -> SockKind {
        match v {
            1 => SockKind::Create,
            2 => SockKind::Release,
            3 => SockKind::Bind,
            4 => SockKind::Listen,
            5 => SockKind::Owner,
            6 => SockKind::ActiveEstablished,
            7 => SockKind::PassiveEstablished,
            8 => SockKind::Flow,
            o => SockKind::Unknown(o),
        }
    }
}

/// The process that was current when a socket hook ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskContext {
    /// tgid.
    pub pid: u32,
    pub tid: u32,
    pub uid: u32,
    pub gid: u32,
    pub cgroup_id: u64,
    pub comm: [u8; 16],
}

/// A socket or flow event.
#[derive(Debug, Clone, Copy)]
pub struct SockEvent {
    pub kind: SockKind,
    /// AF_INET (2), AF_INET6 (10), 0 unknown.
    pub family: u8,
    /// IPPROTO_*.
    pub protocol: u8,
    /// SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_RAW 3 (0 unknown).
    pub sock_type: u8,
    pub ts_mono_ns: u64,
    pub cookie: u64,
    /// 0 when the hook does not know it (release).
    pub netns_cookie: u64,
    /// Set when the hook ran in the process's own context (create, bind, owner).
    pub task: Option<TaskContext>,
    pub local_addr: [u8; 16],
    pub remote_addr: [u8; 16],
    /// Host order; ICMP echo: the echo id.
    pub local_port: u16,
    pub remote_port: u16,
    /// Flow: learnt from a received packet (else a sent one).
    pub ingress: bool,
}

impl SockEvent {
    fn addr(&self, raw: &[u8; 16]) -> Option<IpAddr> {
        match self.family {
            2 => Some(IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))),
            10 => {
                let v6 = Ipv6Addr::from(*raw);
                // A dual-stack socket talking IPv4 reports ::ffff:a.b.c.d.
                Some(match v6.to_ipv4_mapped() {
                    Some(v4) => IpAddr::V4(v4),
                    None => IpAddr::V6(v6),
                })
            }
            _ => None,
        }
    }

    pub fn local_ip(&self) -> Option<IpAddr> {
        self.addr(&self.local_addr)
    }

    pub fn remote_ip(&self) -> Option<IpAddr> {
        self.addr(&self.remote_addr)
    }
}

/// What a process event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcKind {
    Exec,
    Fork,
    Exit,
    /// A thread-group leader changed its comm (tp_btf task_rename: prctl(PR_SET_NAME), a
    /// write to /proc/PID/comm, and the exec itself).
    Rename,
    Unknown(u8),
}

/// A process event (tp_btf sched_process_exec/fork/exit, task_rename).
#[derive(Debug, Clone, Copy)]
pub struct ProcEvent<'a> {
    pub kind: ProcKind,
    /// tgid (fork: the child's).
    pub pid: u32,
    pub tid: u32,
    /// The parent's tgid (exec, fork).
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    pub cgroup_id: u64,
    pub ts_mono_ns: u64,
    pub comm: &'a [u8],
    /// Exec: the path given to execve (not NUL-terminated here).
    pub filename: &'a [u8],
    /// Exec: argv, NUL-separated, as read from the new image (at most 1 KiB).
    pub args: &'a [u8],
    /// Exec: the task's start time (CLOCK_BOOTTIME ns; /proc/PID/stat's starttime is it in
    /// clock ticks), which tells this process from a later one with the same pid. 0 unknown.
    pub start_boottime_ns: u64,
}

fn cstr(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

pub(crate) fn parse_sock(bytes: &[u8]) -> Option<SockEvent> {
    let header_len = u16_at(bytes, 2) as usize;
    if header_len < SOCK_EVENT_LEN || bytes.len() < SOCK_EVENT_LEN {
        return None;
    }
    let flags = u32_at(bytes, 28);
    let mut comm = [0u8; 16];
    comm.copy_from_slice(&bytes[96..112]);
    let task = (flags & 1 != 0).then(|| TaskContext {
        pid: u32_at(bytes, 8),
        tid: u32_at(bytes, 12),
        uid: u32_at(bytes, 16),
        gid: u32_at(bytes, 20),
        cgroup_id: u64_at(bytes, 56),
        comm,
    });
    Some(SockEvent {
        kind: SockKind::from_u8(bytes[4]),
        family: bytes[5],
        protocol: bytes[6],
        sock_type: bytes[7],
        local_port: u16_at(bytes, 24),
        remote_port: u16_at(bytes, 26),
        ingress: flags & 2 != 0,
        ts_mono_ns: u64_at(bytes, 32),
        cookie: u64_at(bytes, 40),
        netns_cookie: u64_at(bytes, 48),
        task,
        local_addr: bytes[64..80].try_into().unwrap(),
        remote_addr: bytes[80..96].try_into().unwrap(),
    })
}

pub(crate) fn parse_proc(bytes: &[u8]) -> Option<ProcEvent<'_>> {
    let header_len = u16_at(bytes, 2) as usize;
    if header_len < PROC_EVENT_LEN || bytes.len() < header_len {
        return None;
    }
    let args_len = u32_at(bytes, 28) as usize;
    let args = bytes.get(header_len..header_len + args_len).unwrap_or(&[]);
    Some(ProcEvent {
        kind: match bytes[4] {
            1 => ProcKind::Exec,
            2 => ProcKind::Fork,
            3 => ProcKind::Exit,
            4 => ProcKind::Rename,
            o => ProcKind::Unknown(o),
        },
        pid: u32_at(bytes, 8),
        tid: u32_at(bytes, 12),
        ppid: u32_at(bytes, 16),
        uid: u32_at(bytes, 20),
        gid: u32_at(bytes, 24),
        ts_mono_ns: u64_at(bytes, 32),
        cgroup_id: u64_at(bytes, 40),
        comm: cstr(&bytes[48..64]),
        filename: cstr(&bytes[64..320]),
        args,
        start_boottime_ns: if header_len >= PROC_EVENT_LEN + 8 {
            u64_at(bytes, PROC_EVENT_LEN)
        } else {
            0
        },
    })
}

/// Where the cgroup v2 hierarchy is, however ptcap was started: `/sys/fs/cgroup` on unified
/// systems, `/sys/fs/cgroup/unified` on hybrid ones, from /proc/self/mounts. Where this mount
/// namespace has none (`ip netns exec` remounts /sys and hides it), init's through
/// /proc/1/root; and failing that, in a mount namespace of ptcap's own (not init's), a private
/// cgroup2 mount on /sys/fs/cgroup. Found once per process.
pub fn cgroup2_root() -> Option<PathBuf> {
    static ROOT: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    ROOT.get_or_init(find_cgroup2_root).clone()
}

fn cgroup2_mounts(mounts: &str) -> impl Iterator<Item = PathBuf> + '_ {
    mounts.lines().filter_map(|l| {
        let mut w = l.split_whitespace();
        let (_, dir, fstype) = (w.next()?, w.next()?, w.next()?);
        (fstype == "cgroup2").then(|| PathBuf::from(dir.replace("\\040", " ")))
    })
}

fn find_cgroup2_root() -> Option<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    if let Some(dir) = cgroup2_mounts(&own).next() {
        return Some(dir);
    }
    let init = std::fs::read_to_string("/proc/1/mounts").unwrap_or_default();
    for dir in cgroup2_mounts(&init) {
        let via = Path::new("/proc/1/root").join(dir.strip_prefix("/").unwrap_or(&dir));
        if via.join("cgroup.procs").exists() {
            return Some(via);
        }
    }
    // Our own mount namespace (not init's): a mount there is seen by ptcap and its children
    // only, and goes with the namespace.
    let ns = |p: &str| std::fs::read_link(p).ok();
    let mnt_own = ns("/proc/self/ns/mnt");
    if mnt_own.is_none() || mnt_own == ns("/proc/1/ns/mnt") {
        return None;
    }
    let dir = Path::new("/sys/fs/cgroup");
    let c = |s: &str| std::ffi::CString::new(s).ok();
    let (src, target, fstype) = (c("cgroup2")?, c("/sys/fs/cgroup")?, c("cgroup2")?);
    // SAFETY: valid C strings; no data.
    let rc = unsafe {
        libc::mount(
            src.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    (rc == 0 && dir.join("cgroup.procs").exists()).then(|| dir.to_path_buf())
}

/// Opens a cgroup directory for attaching.
pub(crate) fn open_cgroup(dir: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(dir)
}

pub(crate) fn raw_fd(f: &std::fs::File) -> i32 {
    f.as_raw_fd()
}
