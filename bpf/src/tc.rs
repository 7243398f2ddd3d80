//! Our tc filters, recognisable: the tc fallback (`--attach tc`, kernels without tcx) attaches
//! at priority [`TC_PRIORITY`] with the owning process's pid as the handle, and libbpf names
//! the filter after the program (`capture:[ID]`, or `capture_egress:[ID]` on kernels that need a
//! program per direction; `capture_ingress:[ID]` before). Unlike a tcx
//! link, a tc filter outlives a SIGKILLed ptcap; the next run finds such filters with a
//! netlink dump of the interface's clsact hooks and removes those of ours whose owner is gone
//! (no process with the handle's pid holds the program). Anyone else's filters (another
//! priority, another name, or a live ptcap's) are never touched.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The priority of our tc filters ("pt"). Lower runs first: before filters added with the
/// kernel's default priority (49152), after deliberately early ones.
pub const TC_PRIORITY: u16 = 0x7074;

const RTM_NEWTFILTER: u16 = 44;
const RTM_GETTFILTER: u16 = 46;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_HDRLEN: usize = 16;
const TCMSG_LEN: usize = 20;
const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
const TCA_BPF_NAME: u16 = 7;
const TCA_BPF_ID: u16 = 11;
/// TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS / TC_H_MIN_EGRESS).
pub const PARENT_INGRESS: u32 = 0xFFFF_FFF2;
pub const PARENT_EGRESS: u32 = 0xFFFF_FFF3;

/// One filter on a clsact hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcFilter {
    pub handle: u32,
    pub priority: u16,
    pub kind: String,
    /// TCA_BPF_NAME (bpf filters).
    pub name: String,
    /// TCA_BPF_ID: the program's id (bpf filters).
    pub prog_id: u32,
}

impl TcFilter {
    /// Attached by a ptcap (ours: our priority, our programs' names).
    pub fn is_ptcap(&self) -> bool {
        self.kind == "bpf" && self.priority == TC_PRIORITY && self.name.starts_with("capture")
    }

    /// A ptcap's filter whose process is gone: no process with the handle's pid holds the
    /// program (a reused pid does not hold this program id).
    pub fn is_stale_ptcap(&self) -> bool {
        self.is_ptcap() && !process_holds_prog(self.handle, self.prog_id)
    }
}

fn process_holds_prog(pid: u32, prog_id: u32) -> bool {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return false;
    };
    let want = format!("prog_id:\t{prog_id}\n");
    dir.flatten().any(|e| {
        std::fs::read_to_string(e.path())
            .map(|s| s.contains(&want))
            .unwrap_or(false)
    })
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_ne_bytes([b[o], b[o + 1]])
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// (type, payload) of each netlink attribute in `b`.
fn attrs(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let len = u16_at(b, 0) as usize;
        if len < 4 || len > b.len() {
            break;
        }
        out.push((u16_at(b, 2) & 0x3fff, &b[4..len]));
        b = &b[align4(len).min(b.len())..];
    }
    out
}

fn cstr(b: &[u8]) -> String {
    let b = b.split(|&c| c == 0).next().unwrap_or(&[]);
    String::from_utf8_lossy(b).into_owned()
}

/// Parses RTM_NEWTFILTER messages of a dump reply; `Ok(true)` at its end.
fn parse(mut b: &[u8], out: &mut Vec<TcFilter>) -> io::Result<bool> {
    while b.len() >= NLMSG_HDRLEN {
        let len = u32_at(b, 0) as usize;
        if len < NLMSG_HDRLEN || len > b.len() {
            break;
        }
        let ty = u16_at(b, 4);
        let msg = &b[NLMSG_HDRLEN..len];
        match ty {
            NLMSG_DONE => return Ok(true),
            NLMSG_ERROR => {
                let code = if msg.len() >= 4 {
                    i32::from_ne_bytes([msg[0], msg[1], msg[2], msg[3]])
                } else {
                    -libc::EIO
                };
                if code == 0 {
                    return Ok(true);
                }
                return Err(io::Error::from_raw_os_error(-code));
            }
            RTM_NEWTFILTER if msg.len() >= TCMSG_LEN => {
                let handle = u32_at(msg, 8);
                let info = u32_at(msg, 16);
                // Handle 0: the priority's own entry, not a filter.
                if handle != 0 {
                    let mut f = TcFilter {
                        handle,
                        priority: (info >> 16) as u16,
                        kind: String::new(),
                        name: String::new(),
                        prog_id: 0,
                    };
                    for (t, v) in attrs(&msg[TCMSG_LEN..]) {
                        match t {
                            TCA_KIND => f.kind = cstr(v),
                            TCA_OPTIONS => {
                                for (t, v) in attrs(v) {
                                    match t {
                                        TCA_BPF_NAME => f.name = cstr(v),
                                        TCA_BPF_ID if v.len() >= 4 => f.prog_id = u32_at(v, 0),
                                        _ => {}
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                    out.push(f);
                }
            }
            _ => {}
        }
        b = &b[align4(len).min(b.len())..];
    }
    Ok(false)
}

/// The filters on clsact hook `parent` ([`PARENT_INGRESS`], [`PARENT_EGRESS`]) of an
/// interface of the current network namespace (none when it has no clsact qdisc).
pub fn list_filters(ifindex: u32, parent: u32) -> io::Result<Vec<TcFilter>> {
    // SAFETY: plain syscall.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut req = Vec::with_capacity(NLMSG_HDRLEN + TCMSG_LEN);
    req.extend_from_slice(&((NLMSG_HDRLEN + TCMSG_LEN) as u32).to_ne_bytes());
    req.extend_from_slice(&RTM_GETTFILTER.to_ne_bytes());
    req.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    req.extend_from_slice(&1u32.to_ne_bytes()); // seq
    req.extend_from_slice(&0u32.to_ne_bytes()); // pid
    req.extend_from_slice(&[libc::AF_UNSPEC as u8, 0, 0, 0]);
    req.extend_from_slice(&(ifindex as i32).to_ne_bytes());
    req.extend_from_slice(&0u32.to_ne_bytes()); // handle
    req.extend_from_slice(&parent.to_ne_bytes());
    req.extend_from_slice(&0u32.to_ne_bytes()); // info
                                                // SAFETY: valid socket and buffer.
    let n = unsafe {
        libc::send(
            fd.as_raw_fd(),
            req.as_ptr() as *const libc::c_void,
            req.len(),
            0,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        // SAFETY: buffer valid for its length.
        let n = unsafe {
            libc::recv(
                fd.as_raw_fd(),
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                0,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Ok(out);
        }
        match parse(&buf[..n as usize], &mut out) {
            Ok(true) => return Ok(out),
            Ok(false) => {}
            // No clsact qdisc (EINVAL/ENOENT): no filters.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOENT)) => {
                return Ok(Vec::new())
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(t: u16, v: &[u8]) -> Vec<u8> {
        let mut a = Vec::new();
        a.extend_from_slice(&((4 + v.len()) as u16).to_ne_bytes());
        a.extend_from_slice(&t.to_ne_bytes());
        a.extend_from_slice(v);
        while a.len() % 4 != 0 {
            a.push(0);
        }
        a
    }

    fn filter_msg(handle: u32, prio: u16, kind: &str, name: &str, id: u32) -> Vec<u8> {
        let mut body = vec![0u8, 0, 0, 0];
        body.extend_from_slice(&5i32.to_ne_bytes());
        body.extend_from_slice(&handle.to_ne_bytes());
        body.extend_from_slice(&PARENT_INGRESS.to_ne_bytes());
        body.extend_from_slice(&((prio as u32) << 16 | 0x0300).to_ne_bytes());
        body.extend(attr(TCA_KIND, format!("{kind}\0").as_bytes()));
        let mut opts = attr(TCA_BPF_NAME, format!("{name}\0").as_bytes());
        opts.extend(attr(TCA_BPF_ID, &id.to_ne_bytes()));
        body.extend(attr(TCA_OPTIONS, &opts));
        let mut m = Vec::new();
        m.extend_from_slice(&((NLMSG_HDRLEN + body.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&RTM_NEWTFILTER.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend(body);
        m
    }

    #[test]
    fn parses_a_dump_and_recognises_ours() {
        let mut b = filter_msg(0, TC_PRIORITY, "bpf", "", 0);
        b.extend(filter_msg(
            4242,
            TC_PRIORITY,
            "bpf",
            "capture_ingress:[17]",
            17,
        ));
        b.extend(filter_msg(1, 1, "bpf", "cil_from_container", 9));
        let mut out = Vec::new();
        assert!(!parse(&b, &mut out).unwrap());
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].handle, 4242);
        assert_eq!(out[0].prog_id, 17);
        assert!(out[0].is_ptcap());
        assert!(!out[1].is_ptcap());
        // pid 0 never holds a program: a filter "of" it is stale.
        let mut stale = out[0].clone();
        stale.handle = 0x7fff_fff0;
        assert!(stale.is_stale_ptcap());
    }
}
