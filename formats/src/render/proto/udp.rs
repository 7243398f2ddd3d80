//! UDP (tcpdump's `print-udp.c`) and the payload printers it dispatches to by port.

use super::{trunc, IpCtx, Printer};
use crate::render::text::Out;
use crate::wire::checksum;
use crate::wire::udp::{self, UdpPacket};
use crate::wire::{get_be16, ipproto};

impl Printer<'_> {
    pub(super) fn udp(&mut self, b: &[u8], length: usize, ip: IpCtx<'_>) {
        let Ok(u) = UdpPacket::new_checked(b) else {
            match (get_be16(b, 0), get_be16(b, 2)) {
                (Some(s), Some(d)) => self.ports(&ip, s, d),
                _ if ip.ports_only => {}
                _ => self.addrs(ip.src, ip.dst),
            }
            trunc(self.out, "udp");
            return;
        };
        let (sport, dport) = (u.src_port(), u.dst_port());
        let ulen = usize::from(u.len());
        if length < 8 {
            self.ports(&ip, sport, dport);
            self.out.s("truncated-udp ");
            self.out.n(length);
            return;
        }
        if ulen < 8 {
            self.ports(&ip, sport, dport);
            self.out.s("truncated-udplength ");
            self.out.n(ulen);
            return;
        }
        let dlen = (ulen - 8).min(length - 8);
        self.ports(&ip, sport, dport);
        if self.opts.verbose > 0 && !ip.fragmented && b.len() >= dlen + 8 {
            let seg = &b[..dlen + 8];
            let pseudo = ip.pseudo(ipproto::UDP, dlen + 8);
            if ip.v6 || self.opts.verbose > 1 {
                if !ip.v6 && u.checksum() == 0 {
                    self.out.s("[no cksum] ");
                } else if checksum::verify(pseudo, seg) {
                    self.out.s("[udp sum ok] ");
                } else {
                    self.out.s("[bad udp cksum 0x");
                    self.out.hex(u32::from(u.checksum()), 4);
                    self.out.s(" -> 0x");
                    self.out.hex(
                        u32::from(checksum::expected(pseudo, seg, udp::CHECKSUM_OFFSET)),
                        4,
                    );
                    self.out.s("!] ");
                }
            }
        }
        // The payload printers, by port as tcpdump's udp_print picks them.
        let port = |p: u16| sport == p || dport == p;
        if !self.opts.quiet {
            let payload = u.payload();
            let payload = &payload[..payload.len().min(dlen)];
            if port(53) {
                self.dns(payload, dlen, false);
                return;
            }
            if port(5353) {
                self.dns(payload, dlen, true);
                return;
            }
            if port(super::bootp::SERVER_PORT) || port(super::bootp::CLIENT_PORT) {
                self.bootp(payload, dlen);
                return;
            }
            if port(super::dhcp6::SERVER_PORT) || port(super::dhcp6::CLIENT_PORT) {
                self.dhcp6(payload, dlen);
                return;
            }
            if port(super::ntp::PORT) {
                self.ntp(payload, dlen);
                return;
            }
            if port(super::snmp::PORT) || port(super::snmp::TRAP_PORT) {
                self.snmp(payload, dlen);
                return;
            }
            // tcpdump 4.99 by the source port only, after the printers above.
            if sport == super::bcm_li::PORT {
                self.bcm_li(payload, dlen);
                return;
            }
            if port(super::syslog::PORT) {
                self.syslog(payload, dlen);
                return;
            }
            // BFD by the destination port alone, as tcpdump 4.99 picks it.
            if matches!(
                dport,
                super::bfd::CONTROL_PORT
                    | super::bfd::MULTIHOP_PORT
                    | super::bfd::LAG_PORT
                    | super::bfd::ECHO_PORT
            ) {
                self.bfd(payload, dlen, dport);
                return;
            }
            if port(super::vxlan::PORT) {
                self.vxlan(payload, dlen);
                return;
            }
            if port(super::vxlan::GPE_PORT) {
                self.vxlan_gpe(payload, dlen);
                return;
            }
            if port(super::geneve::PORT) {
                self.geneve(payload, dlen);
                return;
            }
        }
        self.out.s("UDP, length ");
        self.out.n(dlen);
    }
}

#[cfg(test)]
mod tests {
    use crate::render::tests_support::{ipv4, line_v, udp};

    #[test]
    fn datagram_and_cut_header() {
        let p = ipv4(17, &udp(5000, 9999, b"hello"));
        assert_eq!(
            line_v(&p, 0),
            "IP 198.18.0.1.5000 > 198.18.0.2.9999: UDP, length 5"
        );
        assert_eq!(
            line_v(&p[..24], 0),
            "IP 198.18.0.1.5000 > 198.18.0.2.9999:  [|udp]"
        );
        assert_eq!(line_v(&p[..22], 0), "IP 198.18.0.1 > 198.18.0.2:  [|udp]");
    }
}
