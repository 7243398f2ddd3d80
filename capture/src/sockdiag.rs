//! Sockets the hooks never saw (opened before ptcap started): netlink sock_diag
//! (NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY with `inet_diag_req_v2`) dumps every TCP and UDP
//! socket of a network namespace with its cookie (`idiag_cookie`, the same value as
//! `bpf_get_socket_cookie`), tuple and inode; /proc/PID/fd maps inodes to processes.
//!
//! Namespaces are entered with setns(2) on a short-lived thread (the rest of ptcap stays in
//! its own namespace); they are found from the processes' /proc/PID/ns/net and the names under
//! /var/run/netns. Each namespace is identified by its cookie (SO_NETNS_COOKIE on the netlink
//! socket), the value the kernel hooks report.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// One socket from a dump.
#[derive(Debug, Clone)]
pub struct DiagSocket {
    pub netns_cookie: u64,
    pub protocol: u8,
    pub cookie: u64,
    pub inode: u32,
    /// TCP_LISTEN (10) for a listening TCP socket; UDP sockets report TCP_CLOSE (7) or
    /// TCP_ESTABLISHED (1) when connected.
    pub state: u8,
    pub local: IpAddr,
    pub local_port: u16,
    pub remote: IpAddr,
    pub remote_port: u16,
    /// The owning process (through /proc/PID/fd), when found.
    pub pid: Option<u32>,
}

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const TCPDIAG_GETSOCK: u16 = 18;
const NLMSG_DONE: u16 = 3;
const NLMSG_ERROR: u16 = 2;
const SO_NETNS_COOKIE: libc::c_int = 71;

fn netlink_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a new descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn netns_cookie_of(fd: &OwnedFd) -> io::Result<u64> {
    let mut v: u64 = 0;
    let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
    // SAFETY: v and len are valid for the kernel to write.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_NETNS_COOKIE,
            &mut v as *mut u64 as *mut _,
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(v)
}

fn addr(family: u8, raw: &[u8]) -> IpAddr {
    if family == libc::AF_INET as u8 {
        IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
    } else {
        let v6 = Ipv6Addr::from(<[u8; 16]>::try_from(&raw[..16]).unwrap());
        match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        }
    }
}

/// Dumps one (family, protocol) of the current thread's network namespace.
/// What one dump asks for.
#[derive(Clone, Copy)]
enum Request {
    /// SOCK_DIAG_BY_FAMILY with `inet_diag_req_v2`: one family, one protocol.
    ByFamily { family: u8, protocol: u8 },
    /// TCPDIAG_GETSOCK with the older `inet_diag_req`: TCP of both families in one walk of the
    /// kernel's established-socket table (the v2 request walks it once per family: 2.5 ms
    /// each for its 262,144 buckets on the test machine, per namespace; issue 12's start-up).
    TcpBothFamilies,
}

fn dump(fd: &OwnedFd, netns: u64, what: Request, out: &mut Vec<DiagSocket>) -> io::Result<()> {
    // nlmsghdr (16) + inet_diag_req_v2 (56), or + inet_diag_req (60).
    let mut req = [0u8; 76];
    let (len, kind, protocol) = match what {
        Request::ByFamily { family, protocol } => {
            req[16] = family;
            req[17] = protocol;
            req[20..24].copy_from_slice(&u32::MAX.to_ne_bytes()); // every state
            (72usize, SOCK_DIAG_BY_FAMILY, protocol)
        }
        Request::TcpBothFamilies => {
            // The family is ignored (AF_UNSPEC) by a dump of the compatibility request.
            req[16] = libc::AF_INET as u8;
            req[68..72].copy_from_slice(&u32::MAX.to_ne_bytes()); // every state
            (76usize, TCPDIAG_GETSOCK, libc::IPPROTO_TCP as u8)
        }
    };
    req[0..4].copy_from_slice(&(len as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&kind.to_ne_bytes());
    let flags = (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16;
    req[6..8].copy_from_slice(&flags.to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    // SAFETY: req is a valid buffer of at least len bytes.
    let n = unsafe { libc::send(fd.as_raw_fd(), req.as_ptr() as *const _, len, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut buf = vec![0u8; 32768];
    loop {
        // SAFETY: buf is valid for writes of its length.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr() as *mut _, buf.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let mut msg = &buf[..n as usize];
        while msg.len() >= 16 {
            let len = u32::from_ne_bytes(msg[0..4].try_into().unwrap()) as usize;
            let kind = u16::from_ne_bytes(msg[4..6].try_into().unwrap());
            if len < 16 || len > msg.len() {
                return Ok(());
            }
            match kind {
                NLMSG_DONE => return Ok(()),
                NLMSG_ERROR => {
                    let errno = i32::from_ne_bytes(msg[16..20].try_into().unwrap_or([0; 4]));
                    // A protocol the kernel has no diag module for: nothing to report.
                    return if errno == 0 || errno == -libc::ENOENT {
                        Ok(())
                    } else {
                        Err(io::Error::from_raw_os_error(-errno))
                    };
                }
                SOCK_DIAG_BY_FAMILY | TCPDIAG_GETSOCK if len >= 16 + 72 => {
                    let m = &msg[16..len];
                    let fam = m[0];
                    let c0 = u32::from_ne_bytes(m[44..48].try_into().unwrap()) as u64;
                    let c1 = u32::from_ne_bytes(m[48..52].try_into().unwrap()) as u64;
                    out.push(DiagSocket {
                        netns_cookie: netns,
                        protocol,
                        state: m[1],
                        local_port: u16::from_be_bytes([m[4], m[5]]),
                        remote_port: u16::from_be_bytes([m[6], m[7]]),
                        local: addr(fam, &m[8..24]),
                        remote: addr(fam, &m[24..40]),
                        cookie: c0 | (c1 << 32),
                        inode: u32::from_ne_bytes(m[68..72].try_into().unwrap()),
                        pid: None,
                    });
                }
                _ => {}
            }
            let step = (len + 3) & !3;
            if step >= msg.len() {
                break;
            }
            msg = &msg[step..];
        }
    }
}

/// Dumps TCP and UDP, IPv4 and IPv6, of the current thread's namespace.
fn dump_here(out: &mut Vec<DiagSocket>) -> io::Result<u64> {
    let fd = netlink_socket()?;
    let netns = netns_cookie_of(&fd)?;
    let families = [libc::AF_INET as u8, libc::AF_INET6 as u8];
    let before = out.len();
    if dump(&fd, netns, Request::TcpBothFamilies, out).is_err() {
        // A kernel without the compatibility request: a dump per family.
        out.truncate(before);
        for family in families {
            let protocol = libc::IPPROTO_TCP as u8;
            dump(&fd, netns, Request::ByFamily { family, protocol }, out)?;
        }
    }
    for family in families {
        let protocol = libc::IPPROTO_UDP as u8;
        dump(&fd, netns, Request::ByFamily { family, protocol }, out)?;
    }
    Ok(netns)
}

/// Dumps the namespace behind `ns_path` (a /proc/PID/ns/net or a /var/run/netns name) on a
/// thread that enters it.
fn dump_namespace(ns_path: PathBuf) -> io::Result<(u64, Vec<DiagSocket>)> {
    std::thread::spawn(move || -> io::Result<(u64, Vec<DiagSocket>)> {
        let f = std::fs::File::open(&ns_path)?;
        // SAFETY: plain syscall on a valid fd; only this thread changes namespace.
        if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut out = Vec::new();
        let netns = dump_here(&mut out)?;
        Ok((netns, out))
    })
    .join()
    .unwrap_or_else(|_| Err(io::Error::other("sock_diag thread panicked")))
}

/// One path per distinct network namespace: (device, inode) of the nsfs file.
fn namespaces() -> Vec<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut consider = |p: PathBuf| {
        if let Ok(m) = std::fs::metadata(&p) {
            if seen.insert((m.dev(), m.ino())) {
                out.push(p);
            }
        }
    };
    consider(PathBuf::from("/proc/self/ns/net"));
    if let Ok(dir) = std::fs::read_dir("/var/run/netns") {
        for e in dir.flatten() {
            consider(e.path());
        }
    }
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            if e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
            {
                consider(e.path().join("ns/net"));
            }
        }
    }
    out
}

/// inode -> pid for the socket inodes in `wanted`, from /proc/*/fd (the first process found
/// holding it: the lowest pid, usually the one that opened it before forking).
pub fn inode_owners(wanted: &HashSet<u32>) -> HashMap<u32, u32> {
    let mut out = HashMap::new();
    if wanted.is_empty() {
        return out;
    }
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    let mut pids: Vec<u32> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    for pid in pids {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(link) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(s) = link
                .to_str()
                .and_then(|l| l.strip_prefix("socket:[")?.strip_suffix(']'))
            else {
                continue;
            };
            if let Ok(ino) = s.parse::<u32>() {
                if wanted.contains(&ino) {
                    out.entry(ino).or_insert(pid);
                }
            }
        }
        if out.len() == wanted.len() {
            break;
        }
    }
    out
}

/// Every TCP and UDP socket of every network namespace on the host, with its owner.
pub fn snapshot() -> Vec<DiagSocket> {
    let mut all = Vec::new();
    let mut done = HashSet::new();
    for ns in namespaces() {
        match dump_namespace(ns) {
            Ok((netns, socks)) => {
                if done.insert(netns) {
                    all.extend(socks);
                }
            }
            Err(_) => continue, // the process left, or the namespace is gone
        }
    }
    let wanted: HashSet<u32> = all.iter().map(|s| s.inode).filter(|&i| i != 0).collect();
    let owners = inode_owners(&wanted);
    for s in &mut all {
        s.pid = owners.get(&s.inode).copied();
    }
    all
}

#[allow(dead_code)]
pub fn is_netns_path(p: &Path) -> bool {
    p.starts_with("/var/run/netns") || p.ends_with("ns/net")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_our_own_listening_socket() {
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let socks = snapshot();
        let me = socks
            .iter()
            .find(|s| s.protocol == 6 && s.local_port == port && s.state == 10)
            .expect("our listener in the dump");
        assert_eq!(me.pid, Some(std::process::id()));
        assert_ne!(me.cookie, 0);
    }

    /// The one TCP dump for both families finds what the per-family dumps find.
    #[test]
    fn one_tcp_dump_is_both_families_dumps() {
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        let l4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let l6 = std::net::TcpListener::bind("[::1]:0").ok();
        let fd = netlink_socket().unwrap();
        let mut both = Vec::new();
        dump(&fd, 0, Request::TcpBothFamilies, &mut both).unwrap();
        let mut each = Vec::new();
        for family in [libc::AF_INET as u8, libc::AF_INET6 as u8] {
            let protocol = libc::IPPROTO_TCP as u8;
            dump(&fd, 0, Request::ByFamily { family, protocol }, &mut each).unwrap();
        }
        let listeners = |v: &[DiagSocket]| -> HashSet<(u64, u16)> {
            v.iter()
                .filter(|s| s.state == 10)
                .map(|s| (s.cookie, s.local_port))
                .collect()
        };
        // Only ours: other tests open and close sockets in this namespace meanwhile.
        let mut ours = vec![l4.local_addr().unwrap().port()];
        ours.extend(l6.map(|l| l.local_addr().unwrap().port()));
        let pick = |v: HashSet<(u64, u16)>| -> HashSet<(u64, u16)> {
            v.into_iter().filter(|(_, p)| ours.contains(p)).collect()
        };
        let (b, e) = (pick(listeners(&both)), pick(listeners(&each)));
        assert_eq!(b.len(), ours.len(), "{b:?}");
        assert_eq!(b, e);
    }
}
