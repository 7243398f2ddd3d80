//! The link layer: which header a capture's link type puts before the network layer
//! (Ethernet, Linux cooked v1/v2, raw IP, BSD loopback), as tcpdump's `print-sll.c`,
//! `print-null.c` and `print-raw.c`.

use super::{trunc, Printer};
use crate::pcapng::linktype;
use crate::render::text::Out;
use crate::wire::sll::{Sll2Packet, SllPacket};

impl Printer<'_> {
    /// Prints the packet; returns the link-layer header length (for `-x` vs `-xx`).
    pub fn link(&mut self, link_type: u16, data: &[u8], orig_len: u32) -> usize {
        let wire_len = orig_len as usize;
        match link_type {
            linktype::ETHERNET => self.ether(data, orig_len),
            linktype::LINUX_SLL => {
                let Ok(sll) = SllPacket::new_checked(data) else {
                    trunc(self.out, "sll");
                    return data.len();
                };
                let l = SllPacket::<&[u8]>::HEADER_LEN;
                if self.opts.link_header {
                    let dir: &[u8] = match sll.pkttype() {
                        0 => b"In",
                        1 => b"B",
                        2 => b"M",
                        3 => b"P",
                        4 => b"Out",
                        _ => b"?",
                    };
                    for _ in dir.len()..3 {
                        self.out.c(b' ');
                    }
                    self.out.b(dir);
                    self.out.c(b' ');
                    self.link_addr(sll.addr());
                    self.cooked_type(sll.protocol(), orig_len);
                }
                self.ethertype(
                    sll.protocol(),
                    sll.payload(),
                    wire_len.saturating_sub(l),
                    orig_len,
                );
                l
            }
            linktype::LINUX_SLL2 => {
                let Ok(sll) = Sll2Packet::new_checked(data) else {
                    trunc(self.out, "sll2");
                    return data.len();
                };
                if self.sll2_prefix {
                    let mut name = [0u8; libc::IF_NAMESIZE];
                    // SAFETY: the buffer is IF_NAMESIZE bytes, as if_indextoname requires.
                    let r = unsafe {
                        libc::if_indextoname(sll.ifindex(), name.as_mut_ptr() as *mut libc::c_char)
                    };
                    let n = if r.is_null() {
                        &b"?"[..]
                    } else {
                        let len = name.iter().position(|&c| c == 0).unwrap_or(name.len());
                        &name[..len]
                    };
                    let mut tmp = Vec::new();
                    tmp.escaped(&String::from_utf8_lossy(n));
                    self.out.pad(&tmp, 5);
                    self.out.c(b' ');
                    let dir: &[u8] = match sll.pkttype() {
                        0 => b"In",
                        1 => b"B",
                        2 => b"M",
                        3 => b"P",
                        4 => b"Out",
                        _ => b"?",
                    };
                    self.out.pad(dir, 3);
                    self.out.c(b' ');
                }
                let l = Sll2Packet::<&[u8]>::HEADER_LEN;
                if self.opts.link_header {
                    self.out.s("ifindex ");
                    self.out.n(sll.ifindex());
                    self.out.c(b' ');
                    self.link_addr(sll.addr());
                    self.cooked_type(sll.protocol(), orig_len);
                }
                self.ethertype(
                    sll.protocol(),
                    sll.payload(),
                    wire_len.saturating_sub(l),
                    orig_len,
                );
                l
            }
            linktype::RAW | linktype::IPV4 | linktype::IPV6 => {
                if self.opts.link_header {
                    self.out.s("ip: ");
                }
                match data.first().map(|b| b >> 4) {
                    Some(4) if link_type != linktype::IPV6 => self.ipv4(data),
                    Some(6) if link_type != linktype::IPV4 => self.ipv6(data),
                    Some(v) => {
                        self.out.s("IP");
                        self.out.n(v);
                        self.out.s(" ");
                        trunc(self.out, "ip");
                    }
                    None => self.out.s("[|ip]"),
                }
                0
            }
            linktype::NULL | linktype::LOOP => {
                let Some(fam) = data.get(..4) else {
                    trunc(self.out, "null");
                    return data.len();
                };
                let fam = if link_type == linktype::LOOP {
                    u32::from_be_bytes([fam[0], fam[1], fam[2], fam[3]])
                } else {
                    let le = u32::from_le_bytes([fam[0], fam[1], fam[2], fam[3]]);
                    if le & 0xffff_0000 != 0 {
                        le.swap_bytes()
                    } else {
                        le
                    }
                };
                if self.opts.link_header {
                    self.out.s("AF ");
                    self.out.s(match fam {
                        2 => "IPv4",
                        10 | 24 | 28 | 30 => "IPv6",
                        _ => "Unknown",
                    });
                    self.out.s(" (");
                    self.out.n(fam);
                    self.out.s("), length ");
                    self.out.n(orig_len);
                    self.out.s(": ");
                }
                match fam {
                    2 => self.ipv4(&data[4..]),
                    10 | 24 | 28 | 30 => self.ipv6(&data[4..]),
                    _ => {
                        self.out.s("AF ");
                        self.out.n(fam);
                    }
                }
                4
            }
            other => {
                self.out.s("[|link-type ");
                self.out.n(other);
                self.out.s("]");
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_on};

    #[test]
    fn loopback_and_unknown_link_types() {
        let mut p = vec![2, 0, 0, 0];
        p.extend_from_slice(&ipv4(253, &[]));
        assert_eq!(
            line_on(0, &p, 0),
            "IP 198.18.0.1 > 198.18.0.2:  ip-proto-253 0"
        );
        assert_eq!(line_on(0, &p[..3], 0), " [|null]");
        assert_eq!(line_on(147, &p, 0), "[|link-type 147]");
    }
}
