//! libpcap's filter compiler: an expression to classic BPF for a link type, kept together
//! with libpcap's own evaluator (`pcap_offline_filter`) for checking the kernel's verdicts.

use std::fmt;

use crate::{Error, ErrorKind, LinkKind};

/// One classic BPF instruction (`struct bpf_insn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CbpfInsn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

impl fmt::Display for CbpfInsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{ 0x{:02x}, {}, {}, 0x{:08x} }}",
            self.code, self.jt, self.jf, self.k
        )
    }
}

/// A compiled expression.
pub struct CompiledFilter {
    expression: String,
    kind: LinkKind,
    insns: Vec<CbpfInsn>,
    program: pcap::BpfProgram,
}

/// The snapshot length libpcap's dead handles use (the `pcap` crate fixes it): accepting
/// `ret` instructions carry it, and [`compile`] rewrites them to the capture's snaplen.
const DEAD_SNAPLEN: u32 = 65535;
const BPF_RET_K: u16 = 0x06;

/// Compiles `expression` (tcpdump syntax, optimised like tcpdump) for data starting with
/// `kind`'s header; accepting returns carry `snaplen`, as `pcap_compile` on a live handle does.
pub fn compile(expression: &str, kind: LinkKind, snaplen: u32) -> Result<CompiledFilter, Error> {
    let dead = pcap::Capture::dead(pcap::Linktype(kind.dlt()))
        .map_err(|e| Error::new(ErrorKind::Filter, format!("libpcap: {e}")))?;
    let program = dead.compile(expression, true).map_err(|e| {
        let msg = match e {
            pcap::Error::PcapError(m) => m,
            other => other.to_string(),
        };
        Error::new(ErrorKind::Filter, msg)
    })?;
    let mut insns = Vec::with_capacity(program.get_instructions().len());
    for insn in program.get_instructions() {
        // The pcap crate keeps the fields private but prints them as "code jt jf k".
        let text = insn.to_string();
        let f: Vec<u64> = text
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if f.len() != 4 {
            return Err(Error::new(
                ErrorKind::Filter,
                format!("unexpected instruction from libpcap: {text}"),
            ));
        }
        let mut i = CbpfInsn {
            code: f[0] as u16,
            jt: f[1] as u8,
            jf: f[2] as u8,
            k: f[3] as u32,
        };
        if i.code == BPF_RET_K && i.k == DEAD_SNAPLEN {
            i.k = snaplen;
        }
        insns.push(i);
    }
    Ok(CompiledFilter {
        expression: expression.to_string(),
        kind,
        insns,
        program,
    })
}

impl CompiledFilter {
    pub fn expression(&self) -> &str {
        &self.expression
    }

    pub fn link_kind(&self) -> LinkKind {
        self.kind
    }

    pub fn instructions(&self) -> &[CbpfInsn] {
        &self.insns
    }

    /// libpcap's verdict (`pcap_offline_filter`) on a whole packet.
    pub fn matches(&self, packet: &[u8]) -> bool {
        self.program.filter(packet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_and_rewrites_the_accepting_return() {
        let f = compile("tcp port 80", LinkKind::Ethernet, 262144).unwrap();
        let rets: Vec<_> = f
            .instructions()
            .iter()
            .filter(|i| i.code == BPF_RET_K)
            .map(|i| i.k)
            .collect();
        assert!(rets.contains(&262144) && rets.contains(&0), "{rets:?}");
    }

    #[test]
    fn bad_expression_gives_libpcap_message() {
        let e = compile("tcp portt 80", LinkKind::Ethernet, 262144)
            .err()
            .unwrap();
        assert_eq!(e.kind, ErrorKind::Filter);
        assert!(e.message.contains("syntax error"), "{}", e.message);
    }

    #[test]
    fn raw_ip_filters_start_at_the_ip_header() {
        let f = compile("icmp", LinkKind::RawIp, 100).unwrap();
        let mut pkt = vec![0u8; 28];
        pkt[0] = 0x45;
        pkt[9] = 1;
        assert!(f.matches(&pkt));
        pkt[9] = 6;
        assert!(!f.matches(&pkt));
    }
}
