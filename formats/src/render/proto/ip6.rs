//! IPv6 and its extension headers (tcpdump's `print-ip6.c`, `print-frag6.c`, `print-rt6.c`,
//! `print-ip6opts.c`).

use super::ip::proto_name;
use super::{trunc, IpCtx, Printer};
use crate::render::text::Out;
use crate::wire::ipproto;
use crate::wire::ipv6::Ipv6Packet;
use crate::wire::{get_be16, get_be32};

impl Printer<'_> {
    pub(super) fn ipv6(&mut self, b: &[u8]) {
        let Ok(ip) = Ipv6Packet::new_checked(b) else {
            trunc(self.out, "ip6");
            return;
        };
        if !self.opts.link_header {
            self.out.s("IP6 ");
        }
        let plen = usize::from(ip.payload_len());
        let mut nh = ip.next_header();
        if self.opts.verbose > 0 {
            self.out.s("(");
            if ip.traffic_class() != 0 {
                self.out.s("class 0x");
                self.out.hex(u32::from(ip.traffic_class()), 2);
                self.out.s(", ");
            }
            if ip.flow_label() != 0 {
                self.out.s("flowlabel 0x");
                self.out.hex(ip.flow_label(), 5);
                self.out.s(", ");
            }
            self.out.s("hlim ");
            self.out.n(ip.hop_limit());
            self.out.s(", next-header ");
            self.out.s(proto_name(nh));
            self.out.s(" (");
            self.out.n(nh);
            self.out.s(") payload length: ");
            self.out.n(plen);
            self.out.s(") ");
        }
        let (src, dst) = (ip.src(), ip.dst());
        // What tcpdump walks: the captured bytes after the fixed header, cut at the payload
        // length (with a payload length of 0, a jumbogram's, everything captured).
        let data = if plen == 0 { &b[40..] } else { ip.payload() };
        let ck_dst = final_destination(nh, data).unwrap_or(dst);
        let first = nh;
        if !matches!(
            nh,
            ipproto::TCP | ipproto::UDP | ipproto::DCCP | ipproto::SCTP
        ) {
            self.addrs(&src, &dst);
        }
        // tcpdump's ip6_print loop: `len` is what the payload length leaves from `pos` on
        // (for a jumbogram, what was captured: the wire length is not known here).
        let (mut pos, mut len) = (0usize, if plen == 0 { data.len() } else { plen });
        let (mut fragmented, mut found_ext, mut jumbo) = (false, false, None::<u32>);
        loop {
            let advance = match nh {
                ipproto::HOPOPTS | ipproto::DSTOPTS => {
                    let hbh = nh == ipproto::HOPOPTS;
                    let proto = if hbh { "hbhopt" } else { "dstopt" };
                    // Without its length byte tcpdump gives up on the whole packet.
                    let Some(&l) = data.get(pos + 1) else {
                        trunc(self.out, proto);
                        return;
                    };
                    let hl = (usize::from(l) + 1) * 8;
                    let walked = match data.get(pos..pos + hl) {
                        Some(h) => {
                            self.out.s(if hbh { "HBH " } else { "DSTOPT " });
                            let where_ = if hbh { Some(plen) } else { None };
                            self.ip6_options(&h[2..], where_, &mut jumbo).is_ok()
                        }
                        None => false,
                    };
                    if !walked {
                        trunc(self.out, proto);
                    }
                    // tcpdump 4.99.3 checks this even after a cut hop-by-hop header.
                    if hbh && plen == 0 && jumbo.is_none() {
                        self.out
                            .s("[No valid Jumbo Payload Hop-by-Hop option found] (invalid)");
                        return;
                    }
                    if !walked {
                        return;
                    }
                    hl
                }
                ipproto::FRAGMENT => {
                    // tcpdump reads the offset, and the identification only for -v.
                    let need = if self.opts.verbose > 0 { 8 } else { 4 };
                    let Some(h) = data.get(pos..pos + need) else {
                        trunc(self.out, "frag6");
                        return;
                    };
                    let offset = get_be16(h, 2).unwrap_or(0) & 0xfff8;
                    // tcpdump's unsigned arithmetic: 40 + payload length - offset - 8.
                    let flen = (plen as u32).wrapping_sub(pos as u32 + 8);
                    self.out.s("frag (");
                    if self.opts.verbose > 0 {
                        self.out.s("0x");
                        self.out.hex(get_be32(h, 4).unwrap_or(0), 8);
                        self.out.c(b':');
                    }
                    self.out.n(offset);
                    self.out.c(b'|');
                    self.out.n(flen);
                    self.out.s(")");
                    // A later fragment's payload is not decoded.
                    if offset != 0 {
                        return;
                    }
                    self.out.c(b' ');
                    if data.len() <= pos + 8 {
                        return;
                    }
                    fragmented = true;
                    8
                }
                ipproto::ROUTING => {
                    if data.len() <= pos {
                        trunc(self.out, "ip6");
                        return;
                    }
                    match self.rt6(&data[pos..]) {
                        Some(n) => n,
                        None => return,
                    }
                }
                62 | 135 => {
                    // The mobility header ends what tcpdump prints of the packet.
                    self.mobility(data.get(pos..).unwrap_or(&[]));
                    return;
                }
                _ => break,
            };
            found_ext = true;
            nh = data[pos];
            if len < advance {
                trunc(self.out, "ip6");
                return;
            }
            pos += advance;
            len -= advance;
        }
        let mut rest = &data[pos.min(data.len())..];
        if let Some(j) = jumbo {
            // A valid jumbo option: its length is the payload's.
            let Some(l) = (j as usize).checked_sub(pos) else {
                trunc(self.out, "ip6");
                return;
            };
            len = l;
        } else if plen == 0 {
            if found_ext {
                trunc(self.out, "ip6");
                return;
            }
            rest = &[];
            len = 0;
        }
        let ctx = IpCtx {
            src: &src,
            dst: &dst,
            ck_dst: &ck_dst,
            ports_only: found_ext && first != nh,
            v6: true,
            fragmented,
            ttl: ip.hop_limit(),
        };
        self.transport(nh, rest, len, ctx);
    }

    /// The options of a hop-by-hop or destination options header (tcpdump's
    /// `ip6_opt_process`): walked always, printed with `-v`. `plen` is the IPv6 payload length
    /// for hop-by-hop (where a jumbo option belongs), `None` for destination options; a valid
    /// jumbo option's length goes into `jumbo`. `Err` where tcpdump stops (`[|hbhopt]`).
    pub(super) fn ip6_options(
        &mut self,
        o: &[u8],
        plen: Option<usize>,
        jumbo: &mut Option<u32>,
    ) -> Result<(), ()> {
        let v = self.opts.verbose > 0;
        if o.is_empty() {
            return Ok(());
        }
        let mut seen_jumbo = false;
        let mut i = 0;
        while i < o.len() {
            let kind = o[i];
            let optlen = if kind == 0 {
                1
            } else if i + 1 < o.len() {
                usize::from(o[i + 1]) + 2
            } else {
                return Err(());
            };
            if i + optlen > o.len() {
                return Err(());
            }
            let left = o.len() - i;
            match kind {
                0 => {
                    if v {
                        self.out.s("(pad1)");
                    }
                }
                1 => {
                    if v {
                        self.out.s("(padn)");
                    }
                }
                5 => {
                    if left < 4 {
                        if v {
                            self.out.s("(rtalert: trunc)");
                        }
                        return Err(());
                    }
                    if o[i + 1] != 2 {
                        if v {
                            self.out.s("(rtalert: invalid len ");
                            self.out.n(o[i + 1]);
                            self.out.s(")");
                        }
                        return Err(());
                    }
                    if v {
                        self.out.s("(rtalert: 0x");
                        self.out.hex(u32::from(get_be16(o, i + 2).unwrap_or(0)), 4);
                        self.out.s(") ");
                    }
                }
                0xc2 => {
                    if left < 6 {
                        if v {
                            self.out.s("(jumbo: trunc)");
                        }
                        return Err(());
                    }
                    if o[i + 1] != 4 {
                        if v {
                            self.out.s("(jumbo: invalid len ");
                            self.out.n(o[i + 1]);
                            self.out.s(")");
                        }
                        return Err(());
                    }
                    let j = get_be32(o, i + 2).unwrap_or(0);
                    let why = if seen_jumbo {
                        " - already seen"
                    } else {
                        seen_jumbo = true;
                        match plen {
                            None => " - not a hop-by-hop option",
                            Some(p) if p != 0 => " - payload len != 0",
                            Some(_) if j < 65536 => " - < 65536",
                            Some(_) => {
                                *jumbo = Some(j);
                                ""
                            }
                        }
                    };
                    if v {
                        self.out.s("(jumbo: ");
                        self.out.n(j);
                        self.out.s(why);
                        self.out.s(") ");
                    }
                }
                _ => {
                    if v {
                        self.out.s("(opt_type 0x");
                        self.out.hex(u32::from(kind), 2);
                        self.out.s(": len=");
                        self.out.n(o[i + 1]);
                        self.out.s(")");
                    }
                }
            }
            i += optlen;
        }
        if v {
            self.out.c(b' ');
        }
        Ok(())
    }

    /// A routing header (tcpdump's `rt6_print`): types 0 and 2 with their addresses, 4
    /// (segment routing) with its segments. The length walked past, or `None` where tcpdump
    /// stops (cut: `[|rt6]`; an unknown type or odd length: `(invalid)`).
    fn rt6(&mut self, d: &[u8]) -> Option<usize> {
        macro_rules! get {
            ($e:expr) => {
                match $e {
                    Some(x) => x,
                    None => {
                        trunc(self.out, "rt6");
                        return None;
                    }
                }
            };
        }
        self.out.s("RT6");
        let len = *get!(d.get(1));
        self.out.s(" (len=");
        self.out.n(len);
        let ty = *get!(d.get(2));
        self.out.s(", type=");
        self.out.n(ty);
        if ty == 0 {
            self.out.s(" [Deprecated]");
        }
        let left = *get!(d.get(3));
        self.out.s(", segleft=");
        self.out.n(left);
        let mut p = 8;
        match ty {
            0 | 2 => {
                // Read (and cut) whether or not -v prints it.
                let rsv = get!(get_be32(d, 4));
                if self.opts.verbose > 0 {
                    self.out.s(", rsv=0x");
                    self.out.hexn(rsv);
                }
                if len % 2 == 1 {
                    self.out.s(" (invalid length ");
                    self.out.n(len);
                    self.out.s(") (invalid)");
                    return None;
                }
                for i in 0..usize::from(len / 2) {
                    let a = get!(d.get(p..p + 16));
                    self.out.s(", [");
                    self.out.n(i);
                    self.out.c(b']');
                    self.out.ipv6(a);
                    p += 16;
                }
            }
            4 => {
                let last = *get!(d.get(4));
                self.out.s(", last-entry=");
                self.out.n(last);
                if self.opts.verbose > 0 {
                    let flags = *get!(d.get(5));
                    self.out.s(", flags=0x");
                    self.out.hexn(u32::from(flags));
                }
                let tag = get!(get_be16(d, 6));
                self.out.s(", tag=");
                self.out.hexn(u32::from(tag));
                for i in 0..=usize::from(last) {
                    let a = get!(d.get(p..p + 16));
                    self.out.s(", [");
                    self.out.n(i);
                    self.out.c(b']');
                    self.out.ipv6(a);
                    p += 16;
                }
            }
            _ => {
                self.out.s(" (unknown type) (invalid)");
                return None;
            }
        }
        self.out.s(") ");
        Some(p)
    }
}

/// The destination an upper layer's checksum covers (tcpdump's `ip6_finddst`): past
/// hop-by-hop, destination options and fragment headers, the first routing header's last
/// address (types 0 and 2) or first segment (type 4, the final one); `None` where there is
/// no routing header (the IPv6 destination). Where tcpdump's walk runs out of captured bytes
/// it keeps what it found so far, and so does this.
fn final_destination(mut nh: u8, data: &[u8]) -> Option<[u8; 16]> {
    let mut pos = 0usize;
    loop {
        match nh {
            ipproto::HOPOPTS | ipproto::DSTOPTS | ipproto::MOBILITY_OLD | ipproto::MOBILITY => {
                let l = *data.get(pos + 1)?;
                nh = *data.get(pos)?;
                pos += (usize::from(l) + 1) * 8;
            }
            ipproto::FRAGMENT => {
                nh = *data.get(pos)?;
                pos += 8;
            }
            ipproto::ROUTING => {
                let h = data.get(pos..pos + 8)?;
                let (len, ty) = (usize::from(h[1]), h[2]);
                let addr = |k: usize| -> Option<[u8; 16]> {
                    data.get(pos + 8 + 16 * k..pos + 24 + 16 * k)?
                        .try_into()
                        .ok()
                };
                return match ty {
                    0 | 2 if len % 2 == 0 => (0..len / 2).map_while(addr).last(),
                    4 if len % 2 == 0 => addr(0),
                    _ => None,
                };
            }
            _ => return None,
        }
        if pos >= data.len() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv6 as v6, line_v, udp};

    #[test]
    fn udp_over_ipv6() {
        let u = udp(1000, 2000, b"x");
        let mut p = vec![0x60, 0, 0, 0, 0, u.len() as u8, 17, 64];
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        p.extend_from_slice(&u);
        assert_eq!(
            line_v(&p, 0),
            "IP6 fd00::1.1000 > fd00::2.2000: UDP, length 1"
        );
        assert!(line_v(&p, 1).starts_with(
            "IP6 (hlim 64, next-header UDP (17) payload length: 9) fd00::1.1000 > fd00::2.2000: [bad udp cksum"
        ));
        assert_eq!(line_v(&p[..30], 0), " [|ip6]");
    }

    #[test]
    fn extension_headers_then_ports_only() {
        let u = udp(1000, 2000, b"x");
        let p = v6(0, &[&[17, 0, 5, 2, 0, 0, 1, 0][..], &u].concat());
        assert_eq!(
            line_v(&p, 0),
            "IP6 fd00::1 > fd00::2: HBH 1000 > 2000: UDP, length 1"
        );
        assert!(line_v(&p, 1).contains("HBH (rtalert: 0x0000) (padn) 1000 > 2000: "));
        // Cut inside the header; inside the UDP ports (nothing but the mark).
        assert_eq!(line_v(&p[..44], 0), "IP6 fd00::1 > fd00::2:  [|hbhopt]");
        assert_eq!(line_v(&p[..50], 0), "IP6 fd00::1 > fd00::2: HBH  [|udp]");
    }

    #[test]
    fn routing_and_fragment_headers() {
        let mut rt = vec![59, 2, 0, 1, 0, 0, 0, 0];
        rt.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]);
        assert_eq!(
            line_v(&v6(43, &rt), 0),
            "IP6 fd00::1 > fd00::2: RT6 (len=2, type=0 [Deprecated], segleft=1, [0]fd00::3) no next header"
        );
        let srh = [59, 0, 4, 0, 0, 0, 0, 0];
        assert!(line_v(&v6(43, &srh), 0)
            .contains("RT6 (len=0, type=4, segleft=0, last-entry=0, tag=0 [|rt6]"));
        let later = [17, 0, 0, 16, 0, 0, 0, 9, 0xaa, 0xbb];
        assert_eq!(
            line_v(&v6(44, &later), 1),
            "IP6 (hlim 64, next-header Fragment (44) payload length: 10) fd00::1 > fd00::2: frag (0x00000009:16|2)"
        );
    }
}
