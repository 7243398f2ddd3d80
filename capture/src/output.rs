//! Where captured packets go: a pcapng file (`-w`, formats' one writer) and/or text lines
//! (`--print`, the default; formats' tcpdump renderer). Packets carry no process metadata yet
//! (attribution is the next step), so every packet gets an empty [`PacketMeta`].

use std::io::{self, Write};

use formats::meta::PacketMeta;
use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};
use formats::pcapng::{Direction, InterfaceStats};
use formats::render::{PacketRef, RenderOptions, Renderer};

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

impl OutPacket<'_> {
    fn direction(&self) -> Direction {
        if self.inbound {
            Direction::In
        } else {
            Direction::Out
        }
    }
}

/// An interface as it goes into an IDB.
pub struct OutInterface {
    pub name: String,
    pub linktype: u16,
    pub snaplen: u32,
    pub filter: Option<String>,
    /// Free text for the IDB (the network namespace).
    pub description: Option<String>,
}

/// Per-interface counters for the ISB at the end.
pub struct OutStats {
    pub received: u64,
    pub dropped: u64,
    pub delivered: u64,
}

pub struct PcapngOut<W: Write> {
    w: PcapngWriter<W>,
    start_ns: u64,
    empty: PacketMeta,
}

impl<W: Write> PcapngOut<W> {
    pub fn new(w: W, interfaces: &[OutInterface], start_ns: u64) -> io::Result<Self> {
        let mut cfg = WriterConfig::new("ptcap", env!("CARGO_PKG_VERSION"));
        let os = |p: &str| std::fs::read_to_string(p).unwrap_or_default().trim().to_string();
        cfg.os = Some(formats::pcapng::write::os_description(
            &os(formats::pcapng::write::OSTYPE_PATH),
            &os(formats::pcapng::write::OSRELEASE_PATH),
        ));
        // `-i any` over Ethernet and IP-only devices mixes link types in one section.
        cfg.allow_mixed_interfaces = interfaces.windows(2).any(|p| p[0].linktype != p[1].linktype);
        let mut w = PcapngWriter::new(w, cfg)?;
        for i in interfaces {
            let mut spec = InterfaceSpec::new(&i.name, i.linktype, i.snaplen);
            spec.filter = i.filter.clone();
            spec.description = i.description.clone();
            w.add_interface(&spec)?;
        }
        Ok(PcapngOut { w, start_ns, empty: PacketMeta::default() })
    }

    pub fn write_packet(&mut self, p: &OutPacket<'_>) -> io::Result<()> {
        self.w.write_packet(p.interface, p.ts_unix_ns, p.wire_len, p.data, Some(p.direction()), &self.empty)
    }

    pub fn finish(mut self, end_ns: u64, stats: &[OutStats]) -> io::Result<()> {
        for (i, s) in stats.iter().enumerate() {
            let st = InterfaceStats {
                received: Some(s.received),
                filter_accepted: Some(s.received),
                os_dropped: Some(s.dropped),
                delivered: Some(s.delivered),
                ..Default::default()
            };
            self.w.write_stats(i as u32, &st, Some(self.start_ns), Some(end_ns))?;
        }
        self.w.finish()?.flush()
    }
}

/// tcpdump-style text, one packet at a time.
pub struct TextOut {
    renderer: Renderer,
    buf: Vec<u8>,
    out: Box<dyn Write>,
}

impl TextOut {
    pub fn new(out: Box<dyn Write>) -> Self {
        TextOut { renderer: Renderer::new(RenderOptions::default()), buf: Vec::new(), out }
    }

    pub fn write_packet(&mut self, p: &OutPacket<'_>) -> io::Result<()> {
        self.buf.clear();
        let pkt = PacketRef {
            ts_ns: p.ts_unix_ns,
            link_type: p.linktype,
            data: p.data,
            orig_len: p.wire_len,
            interface: Some(p.interface_name),
            direction: Some(p.direction()),
        };
        self.renderer.render(&mut self.buf, &pkt, None);
        self.out.write_all(&self.buf)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
