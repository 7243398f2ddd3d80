//! Where captured packets go: a pcapng file (`-w`) or text lines (`--print`, the default).
//!
//! TEMPORARY: formats::pcapng::write::PcapngWriter and formats::render are being written on
//! main; until they land, [`PcapngOut`] is a minimal pcapng writer (SHB, IDB, EPB with
//! direction flags, ISB) and [`packet_line`] a minimal one-line summary. Both are the only
//! places that produce output, so swapping them is local.

use std::io::{self, Write};

/// One packet, ready for output.
pub struct OutPacket<'a> {
    /// Position of the interface in the order given to [`PcapngOut::new`].
    pub interface: u32,
    pub interface_name: &'a str,
    pub linktype: u16,
    pub ts_unix_ns: u64,
    pub wire_len: u32,
    pub inbound: bool,
    pub data: &'a [u8],
}

/// An interface as it goes into an IDB.
pub struct OutInterface {
    pub name: String,
    pub linktype: u16,
    pub snaplen: u32,
    pub filter: Option<String>,
}

/// Per-interface counters for the ISB at the end.
pub struct OutStats {
    pub received: u64,
    pub dropped: u64,
    pub delivered: u64,
}

pub struct PcapngOut<W: Write> {
    w: W,
    interfaces: usize,
}

fn pad4(n: usize) -> usize {
    (n + 3) & !3
}

fn option(buf: &mut Vec<u8>, code: u16, value: &[u8]) {
    buf.extend_from_slice(&code.to_le_bytes());
    buf.extend_from_slice(&(value.len() as u16).to_le_bytes());
    buf.extend_from_slice(value);
    buf.resize(pad4(buf.len()), 0);
}

fn block(w: &mut impl Write, kind: u32, body: &[u8]) -> io::Result<()> {
    let total = (12 + pad4(body.len())) as u32;
    w.write_all(&kind.to_le_bytes())?;
    w.write_all(&total.to_le_bytes())?;
    w.write_all(body)?;
    w.write_all(&[0u8; 3][..pad4(body.len()) - body.len()])?;
    w.write_all(&total.to_le_bytes())
}

impl<W: Write> PcapngOut<W> {
    pub fn new(mut w: W, interfaces: &[OutInterface]) -> io::Result<Self> {
        let mut shb = Vec::new();
        shb.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&u64::MAX.to_le_bytes());
        option(&mut shb, 4, format!("ptcap {}", env!("CARGO_PKG_VERSION")).as_bytes());
        option(&mut shb, 0, &[]);
        block(&mut w, 0x0A0D_0D0A, &shb)?;
        for i in interfaces {
            let mut idb = Vec::new();
            idb.extend_from_slice(&i.linktype.to_le_bytes());
            idb.extend_from_slice(&0u16.to_le_bytes());
            idb.extend_from_slice(&i.snaplen.to_le_bytes());
            option(&mut idb, 2, i.name.as_bytes());
            option(&mut idb, 9, &[9]); // if_tsresol: nanoseconds
            if let Some(f) = &i.filter {
                let mut v = vec![0u8]; // libpcap filter string
                v.extend_from_slice(f.as_bytes());
                option(&mut idb, 11, &v);
            }
            option(&mut idb, 0, &[]);
            block(&mut w, 1, &idb)?;
        }
        Ok(PcapngOut { w, interfaces: interfaces.len() })
    }

    pub fn write_packet(&mut self, p: &OutPacket<'_>) -> io::Result<()> {
        let mut epb = Vec::with_capacity(32 + p.data.len());
        epb.extend_from_slice(&p.interface.to_le_bytes());
        epb.extend_from_slice(&((p.ts_unix_ns >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(p.ts_unix_ns as u32).to_le_bytes());
        epb.extend_from_slice(&(p.data.len() as u32).to_le_bytes());
        epb.extend_from_slice(&p.wire_len.to_le_bytes());
        epb.extend_from_slice(p.data);
        epb.resize(pad4(epb.len()), 0);
        let flags: u32 = if p.inbound { 1 } else { 2 };
        option(&mut epb, 2, &flags.to_le_bytes());
        option(&mut epb, 0, &[]);
        block(&mut self.w, 6, &epb)
    }

    pub fn finish(mut self, ts_unix_ns: u64, stats: &[OutStats]) -> io::Result<()> {
        for (i, s) in stats.iter().enumerate().take(self.interfaces) {
            let mut isb = Vec::new();
            isb.extend_from_slice(&(i as u32).to_le_bytes());
            isb.extend_from_slice(&((ts_unix_ns >> 32) as u32).to_le_bytes());
            isb.extend_from_slice(&(ts_unix_ns as u32).to_le_bytes());
            option(&mut isb, 4, &s.received.to_le_bytes()); // isb_ifrecv
            option(&mut isb, 7, &s.dropped.to_le_bytes()); // isb_osdrop
            option(&mut isb, 8, &s.delivered.to_le_bytes()); // isb_usrdeliv
            option(&mut isb, 0, &[]);
            block(&mut self.w, 5, &isb)?;
        }
        self.w.flush()
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

fn clock(ts_unix_ns: u64) -> String {
    let secs = ts_unix_ns / 1_000_000_000;
    let day = secs % 86400;
    format!(
        "{:02}:{:02}:{:02}.{:06}",
        day / 3600,
        day / 60 % 60,
        day % 60,
        ts_unix_ns % 1_000_000_000 / 1000
    )
}

fn ip_summary(ip: &[u8]) -> String {
    match ip.first().map(|b| b >> 4) {
        Some(4) if ip.len() >= 20 => {
            let src = std::net::Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
            let dst = std::net::Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
            let hl = ((ip[0] & 0xf) as usize) * 4;
            l4_summary(ip[9], &src.to_string(), &dst.to_string(), ip.get(hl..).unwrap_or(&[]))
        }
        Some(6) if ip.len() >= 40 => {
            let a = |o: usize| std::net::Ipv6Addr::from(<[u8; 16]>::try_from(&ip[o..o + 16]).unwrap());
            l4_summary(ip[6], &a(8).to_string(), &a(24).to_string(), &ip[40..])
        }
        _ => "IP (truncated)".to_string(),
    }
}

fn l4_summary(proto: u8, src: &str, dst: &str, l4: &[u8]) -> String {
    let ports = (l4.len() >= 4).then(|| (u16::from_be_bytes([l4[0], l4[1]]), u16::from_be_bytes([l4[2], l4[3]])));
    match (proto, ports) {
        (6, Some((s, d))) => format!("IP {src}.{s} > {dst}.{d}: tcp"),
        (17, Some((s, d))) => format!("IP {src}.{s} > {dst}.{d}: udp"),
        (1, _) => format!("IP {src} > {dst}: ICMP"),
        (58, _) => format!("IP6 {src} > {dst}: ICMP6"),
        (p, _) => format!("IP {src} > {dst}: proto {p}"),
    }
}

/// One text line per packet (the stand-in for formats::render).
pub fn packet_line(p: &OutPacket<'_>) -> String {
    let dir = if p.inbound { "In" } else { "Out" };
    let what = if p.linktype == 1 {
        let d = p.data;
        let mut off = 12;
        let mut ethertype = d.get(12..14).map(|b| u16::from_be_bytes([b[0], b[1]]));
        while matches!(ethertype, Some(0x8100 | 0x88a8)) {
            off += 4;
            ethertype = d.get(off..off + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
        }
        match ethertype {
            Some(0x0800 | 0x86dd) => ip_summary(&d[off + 2..]),
            Some(0x0806) => "ARP".to_string(),
            Some(t) => format!("ethertype 0x{t:04x}"),
            None => "(truncated)".to_string(),
        }
    } else {
        ip_summary(p.data)
    };
    format!("{} {} {} {}, length {}", clock(p.ts_unix_ns), p.interface_name, dir, what, p.wire_len)
}
