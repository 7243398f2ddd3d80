//! Interfaces appearing and disappearing while `-i any` runs: a NETLINK_ROUTE socket
//! subscribed to RTMGRP_LINK. It is non-blocking and polled by the capture loop next to the
//! ring buffer (one thread owns the BPF object, the attachments and the file, so adding an
//! interface needs no locking and is ordered with the packets around it).
//!
//! The socket is opened before the interfaces are listed, so an interface created in between
//! is reported by both (the caller ignores the duplicate) instead of by neither. When the
//! kernel drops notifications (ENOBUFS), [`LinkEvent::Resync`] asks the caller to list again.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const RTMGRP_LINK: u32 = 1;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const NLMSG_HDRLEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;
const IFLA_IFNAME: u16 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// An interface exists (new, or changed: flags, name).
    New {
        index: u32,
        name: String,
        arphrd: u16,
        flags: u32,
    },
    /// An interface left this network namespace.
    Del { index: u32, name: String },
    /// Notifications were lost: list the interfaces again.
    Resync,
}

pub struct LinkWatcher {
    fd: OwnedFd,
    buf: Vec<u8>,
}

impl LinkWatcher {
    pub fn open() -> io::Result<LinkWatcher> {
        // SAFETY: plain syscalls on values we own.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_nl is plain data.
        let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        sa.nl_family = libc::AF_NETLINK as u16;
        sa.nl_groups = RTMGRP_LINK;
        // SAFETY: valid socket and address.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &sa as *const libc::sockaddr_nl as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // A larger receive buffer makes ENOBUFS rare when many containers start at once.
        let size: libc::c_int = 1 << 20;
        // SAFETY: valid socket and option.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                &size as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        Ok(LinkWatcher {
            fd,
            buf: vec![0; 1 << 16],
        })
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Every event pending now (never blocks).
    pub fn read_events(&mut self) -> Vec<LinkEvent> {
        let mut out = Vec::new();
        loop {
            // SAFETY: buffer valid for its length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr() as *mut libc::c_void,
                    self.buf.len(),
                    0,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::ENOBUFS) => {
                        out.push(LinkEvent::Resync);
                        continue;
                    }
                    _ => break, // EAGAIN: nothing more
                }
            }
            if n == 0 {
                break;
            }
            parse_messages(&self.buf[..n as usize], &mut out);
        }
        out
    }
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

/// Parses a datagram of netlink messages (RTM_NEWLINK / RTM_DELLINK with an ifinfomsg).
pub fn parse_messages(mut b: &[u8], out: &mut Vec<LinkEvent>) {
    while b.len() >= NLMSG_HDRLEN {
        let len = u32_at(b, 0) as usize;
        if len < NLMSG_HDRLEN || len > b.len() {
            return;
        }
        let ty = u16_at(b, 4);
        let msg = &b[NLMSG_HDRLEN..len];
        if (ty == RTM_NEWLINK || ty == RTM_DELLINK) && msg.len() >= IFINFOMSG_LEN {
            let arphrd = u16_at(msg, 2);
            let index = u32_at(msg, 4);
            let flags = u32_at(msg, 8);
            let mut name = String::new();
            let mut attrs = &msg[IFINFOMSG_LEN..];
            while attrs.len() >= 4 {
                let alen = u16_at(attrs, 0) as usize;
                let aty = u16_at(attrs, 2) & 0x3fff;
                if alen < 4 || alen > attrs.len() {
                    break;
                }
                if aty == IFLA_IFNAME {
                    let v = &attrs[4..alen];
                    let v = v.split(|&c| c == 0).next().unwrap_or(&[]);
                    name = String::from_utf8_lossy(v).into_owned();
                }
                attrs = &attrs[align4(alen).min(attrs.len())..];
            }
            if index != 0 {
                out.push(if ty == RTM_NEWLINK {
                    LinkEvent::New {
                        index,
                        name,
                        arphrd,
                        flags,
                    }
                } else {
                    LinkEvent::Del { index, name }
                });
            }
        }
        b = &b[align4(len).min(b.len())..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(ty: u16, index: u32, name: &str) -> Vec<u8> {
        let mut attr = Vec::new();
        let alen = 4 + name.len() + 1;
        attr.extend_from_slice(&(alen as u16).to_ne_bytes());
        attr.extend_from_slice(&IFLA_IFNAME.to_ne_bytes());
        attr.extend_from_slice(name.as_bytes());
        attr.push(0);
        while attr.len() % 4 != 0 {
            attr.push(0);
        }
        let mut m = Vec::new();
        let len = NLMSG_HDRLEN + IFINFOMSG_LEN + attr.len();
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&ty.to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(&[0, 0]);
        m.extend_from_slice(&1u16.to_ne_bytes());
        m.extend_from_slice(&index.to_ne_bytes());
        m.extend_from_slice(&1u32.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&attr);
        m
    }

    #[test]
    fn parses_new_and_del() {
        let mut b = msg(RTM_NEWLINK, 9, "veth1");
        b.extend(msg(RTM_DELLINK, 4, "eth0"));
        let mut out = Vec::new();
        parse_messages(&b, &mut out);
        assert_eq!(
            out,
            vec![
                LinkEvent::New {
                    index: 9,
                    name: "veth1".into(),
                    arphrd: 1,
                    flags: 1
                },
                LinkEvent::Del {
                    index: 4,
                    name: "eth0".into()
                }
            ]
        );
        out.clear();
        parse_messages(&b[..10], &mut out);
        assert!(out.is_empty());
    }
}
