//! Packets whole and cut at every byte, and tcpdump's text split per packet: the machinery of
//! the printer differentials (`printers_diff.rs` on crafted packets, `printers_real.rs` on real
//! daemons' traffic).

use std::path::Path;

/// A packet's bytes (as on the wire) and how many of them a record keeps.
pub type Record = (Vec<u8>, usize);

/// A classic pcap (microseconds, little-endian, snaplen 65535) of link type `link_type` with
/// `(bytes, caplen)` records, the wire length kept; record i at i+1 seconds.
pub fn pcap_bytes_of(link_type: u32, packets: &[Record]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    for v in [0u32, 0, 65535, link_type] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    for (i, (p, caplen)) in packets.iter().enumerate() {
        for v in [i as u32 + 1, 0, *caplen as u32, p.len() as u32] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        f.extend_from_slice(&p[..*caplen]);
    }
    f
}

/// [`pcap_bytes_of`] for Ethernet.
pub fn pcap_bytes(packets: &[Record]) -> Vec<u8> {
    pcap_bytes_of(1, packets)
}

/// The link type and the packets of a classic pcap file (either byte order, µs or ns), as
/// tcpdump and ptcap write them. Panics on anything else: the tests write these files.
pub fn read_pcap(file: &Path) -> (u32, Vec<Vec<u8>>) {
    let b = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert!(b.len() >= 24, "{}: no pcap header", file.display());
    let magic = u32::from_le_bytes(b[0..4].try_into().unwrap());
    let le = match magic {
        0xa1b2_c3d4 | 0xa1b2_3c4d => true,
        0xd4c3_b2a1 | 0x4d3c_b2a1 => false,
        m => panic!("{}: not a classic pcap (magic {m:#x})", file.display()),
    };
    let u32_at = |o: usize| {
        let a: [u8; 4] = b[o..o + 4].try_into().unwrap();
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let link_type = u32_at(20) & 0x0fff_ffff;
    let mut packets = Vec::new();
    let mut o = 24;
    while o + 16 <= b.len() {
        let caplen = u32_at(o + 8) as usize;
        let wire = u32_at(o + 12) as usize;
        assert!(
            o + 16 + caplen <= b.len(),
            "{}: a cut record",
            file.display()
        );
        assert_eq!(caplen, wire, "{}: a short capture", file.display());
        packets.push(b[o + 16..o + 16 + caplen].to_vec());
        o += 16 + caplen;
    }
    (link_type, packets)
}

/// Every packet whole, then every cut (caplen 1..len) of each distinct packet (a packet seen
/// again, byte for byte, is cut once). libpcap refuses a record of caplen 0.
pub fn whole_and_cuts(packets: &[Vec<u8>]) -> Vec<Record> {
    whole_and_cuts_upto(packets, usize::MAX)
}

/// [`whole_and_cuts`], cutting only within the first `limit` bytes: a capture on a veth holds
/// the kernel's offloaded TCP segments (up to 64 KiB), whose every cut would make gigabytes.
pub fn whole_and_cuts_upto(packets: &[Vec<u8>], limit: usize) -> Vec<Record> {
    let mut all: Vec<Record> = packets.iter().map(|p| (p.clone(), p.len())).collect();
    let mut seen = std::collections::HashSet::new();
    for p in packets {
        if seen.insert(p.clone()) {
            for cut in 1..p.len().min(limit.saturating_add(1)) {
                all.push((p.clone(), cut));
            }
        }
    }
    all
}

/// tcpdump's text split into packets: a packet starts at a line with its `-tt` time.
pub fn split_packets(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let starts = line
            .split_once(' ')
            .map(|(t, _)| {
                t.len() > 7
                    && t.as_bytes()[t.len() - 7] == b'.'
                    && t.bytes().filter(|&c| c != b'.').all(|c| c.is_ascii_digit())
            })
            .unwrap_or(false);
        if starts || out.is_empty() {
            out.push(String::new());
        }
        let last = out.last_mut().unwrap();
        last.push_str(line);
        last.push('\n');
    }
    out
}

/// How one flag set's texts compare, packet by packet.
#[derive(Debug, Default)]
pub struct PacketDiff {
    pub whole_equal: usize,
    pub whole: usize,
    pub cuts_equal: usize,
    pub cuts: usize,
    /// The first differences, each naming the packet, its caplen and the first differing line.
    pub shown: Vec<String>,
}

impl PacketDiff {
    pub fn equal(&self) -> usize {
        self.whole_equal + self.cuts_equal
    }
    pub fn total(&self) -> usize {
        self.whole + self.cuts
    }
}

/// Compares tcpdump's packets (`expected`) with ours (`got`) for `records`, whose first
/// `whole` are the whole packets; up to `show` differences are described (`name` and `flags`
/// name them).
pub fn diff_packets(
    name: &str,
    flags: &[&str],
    records: &[Record],
    whole: usize,
    expected: &[String],
    got: &[String],
    show: usize,
) -> PacketDiff {
    assert_eq!(
        expected.len(),
        records.len(),
        "{name} {flags:?}: tcpdump printed {} packets of {}",
        expected.len(),
        records.len()
    );
    let mut d = PacketDiff {
        whole,
        cuts: records.len() - whole,
        ..PacketDiff::default()
    };
    for (i, e) in expected.iter().enumerate() {
        let g = got.get(i).map(String::as_str).unwrap_or("");
        if e == g {
            if i < whole {
                d.whole_equal += 1;
            } else {
                d.cuts_equal += 1;
            }
        } else if d.shown.len() < show {
            // The first line that differs, then the whole texts.
            let (el, gl) = e
                .lines()
                .zip(g.lines().chain(std::iter::repeat("")))
                .find(|(a, b)| a != b)
                .unwrap_or(("", ""));
            d.shown.push(format!(
                "{name} {flags:?} packet {} (caplen {} of {}): first difference\n  tcpdump: {el:?}\n  ours:    {gl:?}\n  tcpdump: {e:?}\n  ours:    {g:?}",
                i + 1,
                records[i].1,
                records[i].0.len()
            ));
        }
    }
    d
}

/// How many differences to describe per protocol and flag set (`PTCAP_DIFF_SHOW=N`, else 4).
pub fn show_limit() -> usize {
    std::env::var("PTCAP_DIFF_SHOW")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_each_distinct_packet_once() {
        let p = vec![vec![1, 2, 3], vec![1, 2, 3], vec![4, 5]];
        let all = whole_and_cuts(&p);
        let caplens: Vec<usize> = all.iter().map(|r| r.1).collect();
        assert_eq!(caplens, [3, 3, 2, 1, 2, 1]);
    }

    #[test]
    fn splits_at_epoch_times() {
        let t = "1.000000 IP a > b: x\n    more\n2.000000 ARP y\n";
        assert_eq!(
            split_packets(t),
            ["1.000000 IP a > b: x\n    more\n", "2.000000 ARP y\n"]
        );
    }

    #[test]
    fn reads_back_what_it_writes() {
        let dir = crate::TempDir::new("cuts-unit");
        let f = dir.path().join("x.pcap");
        std::fs::write(&f, pcap_bytes(&[(vec![9; 20], 20), (vec![7; 3], 3)])).unwrap();
        assert_eq!(read_pcap(&f), (1, vec![vec![9; 20], vec![7; 3]]));
    }
}
