//! A zero-copy reader of classic pcap and pcapng over a byte slice (a memory-mapped file, or a
//! buffer read from a pipe).
//!
//! Why our own and not pcap-file's parser: this one allocates nothing per packet (packets and
//! their options borrow the input), reports the byte offset of any damage, and stops cleanly at
//! the first damaged block after returning every complete packet before it. The tests use
//! pcap-file's reader as an independent oracle.
//!
//! ```
//! use formats::pcapng::CaptureReader;
//! // A classic pcap header (microseconds, little endian, Ethernet) and no packets.
//! let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
//! file.extend_from_slice(&[0; 8]);
//! file.extend_from_slice(&65535u32.to_le_bytes());
//! file.extend_from_slice(&1u32.to_le_bytes());
//! let mut reader = CaptureReader::new(&file).unwrap();
//! assert!(reader.next_packet().unwrap().is_none());
//! assert_eq!(reader.interfaces()[0].link_type, 1);
//! ```

use std::fmt;
use std::sync::Arc;

use super::{code, Direction, Interface, InterfaceStats, Packet, RawOptions};

/// What went wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// Byte offset in the input of the block or record that could not be read.
    pub offset: u64,
    pub kind: ReadErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadErrorKind {
    /// The input ends inside a block or record: more bytes could complete it (a file still
    /// being written, a pipe, a truncated copy).
    Truncated,
    /// The bytes cannot be a valid block or record.
    Damaged,
    /// Not a pcap or pcapng file at all.
    NotACapture,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte offset {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for ReadError {}

/// The container format of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pcap { big_endian: bool, nanos: bool },
    PcapNg,
}

/// Timestamp unit and offset of one interface.
#[derive(Debug, Clone, Copy)]
struct TsUnit {
    /// if_tsresol byte: MSB clear = 10^-v s, set = 2^-(v & 0x7f) s.
    resol: u8,
    offset_s: i64,
}

impl TsUnit {
    const MICROS: TsUnit = TsUnit {
        resol: 6,
        offset_s: 0,
    };

    fn to_ns(self, units: u64) -> u64 {
        let ns: u128 = if self.resol & 0x80 == 0 {
            let v = u32::from(self.resol);
            if v <= 9 {
                u128::from(units) * 10u128.pow(9 - v)
            } else if v <= 38 {
                u128::from(units) / 10u128.pow(v - 9)
            } else {
                0
            }
        } else {
            let exp = u32::from(self.resol & 0x7f);
            if exp >= 127 {
                0
            } else {
                (u128::from(units) * 1_000_000_000u128) >> exp
            }
        };
        let with_offset = ns as i128 + i128::from(self.offset_s) * 1_000_000_000;
        with_offset.clamp(0, i128::from(u64::MAX)) as u64
    }
}

/// Reads packets one at a time from a pcap or pcapng image.
///
/// Cloning copies the section state and shares the interface table (O(1), however many
/// interfaces the file defines): with [`CaptureReader::resume_at`] and
/// [`CaptureReader::at_checkpoint`] a parallel reader starts one reader per chunk at a block
/// boundary.
#[derive(Clone)]
pub struct CaptureReader<'a> {
    data: &'a [u8],
    pos: usize,
    format: Format,
    /// pcapng: byte order of the current section.
    big_endian: bool,
    section: u32,
    /// Global index of the current section's interface 0.
    section_base: usize,
    /// The current section's node ([`super::SectionInfo`]), given to its interfaces.
    section_node: Option<Arc<str>>,
    /// Interfaces in file order (global numbering), shared between clones. This reader has
    /// read the first `known`; a table longer than that was built by a reader further along
    /// the same input (see [`CaptureReader::at_checkpoint`]), and reading an interface block
    /// then only counts it instead of copying the table.
    interfaces: Arc<Vec<Interface>>,
    ts_units: Arc<Vec<TsUnit>>,
    known: usize,
    stats: Vec<(u32, InterfaceStats)>,
    skipped_blocks: u64,
    /// Set once an error was returned: the reader does not guess where to resume.
    failed: bool,
}

const PCAP_MAGIC_US: u32 = 0xa1b2_c3d4;
const PCAP_MAGIC_NS: u32 = 0xa1b2_3c4d;
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

impl<'a> CaptureReader<'a> {
    /// Recognises the format from the first bytes. For pcap, reads the file header too.
    pub fn new(data: &'a [u8]) -> Result<Self, ReadError> {
        let mut reader = CaptureReader {
            data,
            pos: 0,
            format: Format::PcapNg,
            big_endian: false,
            section: 0,
            section_base: 0,
            section_node: None,
            interfaces: Arc::default(),
            ts_units: Arc::default(),
            known: 0,
            stats: Vec::new(),
            skipped_blocks: 0,
            failed: false,
        };
        if data.len() < 4 {
            return Err(reader.error(
                0,
                if data.is_empty() {
                    ReadErrorKind::NotACapture
                } else {
                    ReadErrorKind::Truncated
                },
                format!(
                    "{} bytes: too short for a pcap or pcapng header",
                    data.len()
                ),
            ));
        }
        let magic_le = u32::from_le_bytes(data[0..4].try_into().unwrap());
        let magic_be = u32::from_be_bytes(data[0..4].try_into().unwrap());
        let pcap = match (magic_le, magic_be) {
            (PCAP_MAGIC_US, _) => Some((false, false)),
            (PCAP_MAGIC_NS, _) => Some((false, true)),
            (_, PCAP_MAGIC_US) => Some((true, false)),
            (_, PCAP_MAGIC_NS) => Some((true, true)),
            _ => None,
        };
        if let Some((big_endian, nanos)) = pcap {
            if data.len() < 24 {
                return Err(reader.error(
                    0,
                    ReadErrorKind::Truncated,
                    "the pcap file header is cut short (24 bytes needed)".into(),
                ));
            }
            reader.format = Format::Pcap { big_endian, nanos };
            reader.big_endian = big_endian;
            let snaplen = reader.u32_at(16);
            let link = reader.u32_at(20);
            reader.push_interface(
                Interface {
                    link_type: (link & 0xffff) as u16,
                    snaplen,
                    ..Interface::default()
                },
                TsUnit {
                    resol: if nanos { 9 } else { 6 },
                    offset_s: 0,
                },
            );
            reader.pos = 24;
            return Ok(reader);
        }
        if magic_le != code::BLOCK_SHB {
            return Err(reader.error(
                0,
                ReadErrorKind::NotACapture,
                format!(
                    "not a pcap or pcapng file (first bytes {:02x?})",
                    &data[..4]
                ),
            ));
        }
        Ok(reader)
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Interfaces seen so far, over all sections; [`Packet::interface`] indexes this.
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces[..self.known]
    }

    /// The shared interface table (O(1)): every interface this reader has seen, at its global
    /// index, and possibly more of the same input's (read by a reader further along). For
    /// looking interfaces of packets up after the reader is gone.
    pub fn interface_table(&self) -> Arc<Vec<Interface>> {
        Arc::clone(&self.interfaces)
    }

    /// Appends an interface this reader has just read: O(1) amortised. When a reader further
    /// along the same input already holds it in the shared table, it is only counted.
    fn push_interface(&mut self, iface: Interface, unit: TsUnit) {
        if self.known < self.interfaces.len() && self.known < self.ts_units.len() {
            self.known += 1;
            return;
        }
        let ifaces = Arc::make_mut(&mut self.interfaces);
        ifaces.truncate(self.known);
        ifaces.push(iface);
        let units = Arc::make_mut(&mut self.ts_units);
        units.truncate(self.known);
        units.push(unit);
        self.known += 1;
    }

    /// Interface Statistics Blocks seen so far: (global interface index, counters).
    pub fn interface_stats(&self) -> &[(u32, InterfaceStats)] {
        &self.stats
    }

    /// Blocks skipped because they carry nothing we use (NRB, DSB, custom, unknown types).
    pub fn skipped_blocks(&self) -> u64 {
        self.skipped_blocks
    }

    /// Offset of the next unread byte.
    pub fn position(&self) -> u64 {
        self.pos as u64
    }

    /// The next packet, `Ok(None)` at a clean end, or the error that stops the reading.
    /// After an error every further call returns `Ok(None)`.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'a>>, ReadError> {
        if self.failed {
            return Ok(None);
        }
        let result = match self.format {
            Format::Pcap { .. } => self.next_pcap_record(),
            Format::PcapNg => self.next_pcapng_packet(),
        };
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn error(&self, offset: usize, kind: ReadErrorKind, message: String) -> ReadError {
        ReadError {
            offset: offset as u64,
            kind,
            message,
        }
    }

    fn u16_at(&self, at: usize) -> u16 {
        let b = [self.data[at], self.data[at + 1]];
        if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }

    fn u32_at(&self, at: usize) -> u32 {
        let b = self.data[at..at + 4].try_into().unwrap();
        if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    fn next_pcap_record(&mut self) -> Result<Option<Packet<'a>>, ReadError> {
        let at = self.pos;
        let left = self.data.len() - at;
        if left == 0 {
            return Ok(None);
        }
        if left < 16 {
            return Err(self.error(
                at,
                ReadErrorKind::Truncated,
                format!("packet record header cut short ({left} of 16 bytes)"),
            ));
        }
        let secs = self.u32_at(at);
        let frac = self.u32_at(at + 4);
        let caplen = self.u32_at(at + 8) as usize;
        let orig_len = self.u32_at(at + 12);
        let nanos = matches!(self.format, Format::Pcap { nanos: true, .. });
        if frac >= if nanos { 1_000_000_000 } else { 1_000_000 } {
            return Err(self.error(
                at,
                ReadErrorKind::Damaged,
                format!("packet record has a fractional timestamp of {frac}, out of range"),
            ));
        }
        // libpcap refuses records larger than its maximum snapshot length; so do we.
        const MAX_RECORD: usize = 256 * 1024 * 1024;
        if caplen > MAX_RECORD {
            return Err(self.error(
                at,
                ReadErrorKind::Damaged,
                format!("packet record claims {caplen} captured bytes"),
            ));
        }
        if left - 16 < caplen {
            return Err(self.error(
                at,
                ReadErrorKind::Truncated,
                format!(
                    "packet record of {caplen} bytes cut short ({} bytes left)",
                    left - 16
                ),
            ));
        }
        let ts_ns =
            u64::from(secs) * 1_000_000_000 + u64::from(frac) * if nanos { 1 } else { 1000 };
        self.pos = at + 16 + caplen;
        Ok(Some(Packet {
            offset: at as u64,
            interface: 0,
            ts_ns,
            orig_len: orig_len.max(caplen as u32),
            data: &self.data[at + 16..at + 16 + caplen],
            direction: None,
            options: RawOptions::default(),
        }))
    }

    fn next_pcapng_packet(&mut self) -> Result<Option<Packet<'a>>, ReadError> {
        loop {
            let Some((at, block_type, body)) = self.frame_pcapng_block()? else {
                return Ok(None);
            };
            match block_type {
                code::BLOCK_SHB => self.read_shb(at, body)?,
                code::BLOCK_IDB => self.read_idb(at, body)?,
                code::BLOCK_EPB => return self.read_packet_block(at, body, true).map(Some),
                code::BLOCK_SPB => return self.read_spb(at, body).map(Some),
                code::BLOCK_PB => return self.read_packet_block(at, body, false).map(Some),
                code::BLOCK_ISB => self.read_isb(at, body)?,
                _ => self.skipped_blocks += 1,
            }
        }
    }

    /// Frames the pcapng block at the read position (lengths, trailer, a section header's
    /// byte order) and moves past it: its offset, type and body. Shared by packet reading and
    /// the framing-only walk of the parallel reader.
    fn frame_pcapng_block(
        &mut self,
    ) -> Result<Option<(usize, u32, std::ops::Range<usize>)>, ReadError> {
        let at = self.pos;
        let left = self.data.len() - at;
        if left == 0 {
            return Ok(None);
        }
        if left < 12 {
            return Err(self.error(
                at,
                ReadErrorKind::Truncated,
                format!("block header cut short ({left} of 12 bytes)"),
            ));
        }
        let raw_type = u32::from_le_bytes(self.data[at..at + 4].try_into().unwrap());
        if raw_type == code::BLOCK_SHB {
            let bom = &self.data[at + 8..at + 12];
            self.big_endian = match u32::from_le_bytes(bom.try_into().unwrap()) {
                BYTE_ORDER_MAGIC => false,
                m if m.swap_bytes() == BYTE_ORDER_MAGIC => true,
                _ => {
                    return Err(self.error(
                        at + 8,
                        ReadErrorKind::Damaged,
                        format!("section header has a bad byte-order magic {bom:02x?}"),
                    ))
                }
            };
        }
        let block_type = self.u32_at(at);
        let total = self.u32_at(at + 4) as usize;
        if total < 12 || total % 4 != 0 {
            return Err(self.error(
                at,
                ReadErrorKind::Damaged,
                format!("block of type {block_type:#x} has an invalid length {total}"),
            ));
        }
        if total > left {
            return Err(self.error(
                at,
                ReadErrorKind::Truncated,
                format!(
                    "block of type {block_type:#x} and {total} bytes cut short ({left} bytes left)"
                ),
            ));
        }
        let trailer = self.u32_at(at + total - 4) as usize;
        if trailer != total {
            return Err(self.error(
                at,
                ReadErrorKind::Damaged,
                format!("block of type {block_type:#x}: leading length {total} differs from trailing length {trailer}"),
            ));
        }
        self.pos = at + total;
        Ok(Some((at, block_type, at + 8..at + total - 4)))
    }

    /// Checks the framing of an option list and returns it, with epb_flags' direction.
    fn options(
        &self,
        block_at: usize,
        range: std::ops::Range<usize>,
    ) -> Result<(RawOptions<'a>, Option<Direction>, Option<u32>), ReadError> {
        let bytes = &self.data[range.clone()];
        let mut i = 0;
        let mut direction = None;
        let mut flags_word = None;
        while i + 4 <= bytes.len() {
            let code = self.u16_at(range.start + i);
            let len = self.u16_at(range.start + i + 2) as usize;
            if code == code::OPT_ENDOFOPT {
                break;
            }
            let padded = (len + 3) & !3;
            if i + 4 + len > bytes.len() {
                return Err(self.error(
                    block_at,
                    ReadErrorKind::Damaged,
                    format!("option {code} of {len} bytes at byte offset {} runs past the end of its block", range.start + i),
                ));
            }
            if code == code::EPB_FLAGS && len == 4 {
                let w = self.u32_at(range.start + i + 4);
                flags_word = Some(w);
                direction = match w & 3 {
                    1 => Some(Direction::In),
                    2 => Some(Direction::Out),
                    _ => None,
                };
            }
            i += 4 + padded;
        }
        Ok((
            RawOptions {
                bytes,
                big_endian: self.big_endian,
            },
            direction,
            flags_word,
        ))
    }

    fn read_shb(&mut self, at: usize, body: std::ops::Range<usize>) -> Result<(), ReadError> {
        if body.len() < 16 {
            return Err(self.error(
                at,
                ReadErrorKind::Damaged,
                "section header block too short".into(),
            ));
        }
        let major = self.u16_at(body.start + 4);
        if major != 1 {
            return Err(self.error(
                at,
                ReadErrorKind::Damaged,
                format!("section header of unsupported pcapng version {major}"),
            ));
        }
        let (opts, _, _) = self.options(at, body.start + 16..body.end)?;
        self.section_node = opts
            .iter()
            .filter(|(c, _)| *c == code::OPT_CUSTOM_UTF8)
            .filter_map(|(_, v)| match crate::meta::record::split_pen(v) {
                Some((true, data)) => serde_json::from_slice::<super::SectionInfo>(data).ok(),
                _ => None,
            })
            .find(|i| i.ptcap == 1 && !i.node.is_empty())
            .map(|i| Arc::from(i.node));
        if self.known != 0 || at != 0 {
            self.section += 1;
        }
        self.section_base = self.known;
        Ok(())
    }

    fn read_idb(&mut self, at: usize, body: std::ops::Range<usize>) -> Result<(), ReadError> {
        if body.len() < 8 {
            return Err(self.error(
                at,
                ReadErrorKind::Damaged,
                "interface description block too short".into(),
            ));
        }
        let link_type = self.u16_at(body.start);
        let snaplen = self.u32_at(body.start + 4);
        let (opts, _, _) = self.options(at, body.start + 8..body.end)?;
        let mut iface = Interface {
            link_type,
            snaplen,
            section: self.section,
            node: self.section_node.clone(),
            ..Interface::default()
        };
        let mut unit = TsUnit::MICROS;
        let text = |v: &[u8]| {
            String::from_utf8_lossy(v.split(|&b| b == 0).next().unwrap_or(&[])).into_owned()
        };
        for (c, v) in opts.iter() {
            match c {
                code::IF_NAME => iface.name = Some(text(v)),
                code::IF_DESCRIPTION => iface.description = Some(text(v)),
                code::IF_FILTER if !v.is_empty() && v[0] == 0 => iface.filter = Some(text(&v[1..])),
                code::IF_TSRESOL if v.len() == 1 => unit.resol = v[0],
                code::IF_TSOFFSET if v.len() == 8 => {
                    let b: [u8; 8] = v.try_into().unwrap();
                    unit.offset_s = if self.big_endian {
                        i64::from_be_bytes(b)
                    } else {
                        i64::from_le_bytes(b)
                    };
                }
                _ => {}
            }
        }
        self.push_interface(iface, unit);
        Ok(())
    }

    fn global_interface(&self, at: usize, local: u32, what: &str) -> Result<usize, ReadError> {
        let global = self.section_base + local as usize;
        if global >= self.known {
            return Err(self.error(
                at,
                ReadErrorKind::Damaged,
                format!("{what} names interface {local}, which no interface description block before it defines"),
            ));
        }
        Ok(global)
    }

    /// An Enhanced Packet Block, or an obsolete Packet Block (`epb` false): the same layout but
    /// for the interface id (a u32 in an EPB; a u16 and a drop count in a PB).
    fn read_packet_block(
        &mut self,
        at: usize,
        body: std::ops::Range<usize>,
        epb: bool,
    ) -> Result<Packet<'a>, ReadError> {
        let what = if epb {
            "enhanced packet block"
        } else {
            "packet block"
        };
        if body.len() < 20 {
            return Err(self.error(at, ReadErrorKind::Damaged, format!("{what} too short")));
        }
        let b = body.start;
        let id = if epb {
            self.u32_at(b)
        } else {
            u32::from(self.u16_at(b))
        };
        let iface = self.global_interface(at, id, "packet")?;
        let units = (u64::from(self.u32_at(b + 4)) << 32) | u64::from(self.u32_at(b + 8));
        let caplen = self.u32_at(b + 12) as usize;
        let orig_len = self.u32_at(b + 16);
        let padded = caplen.checked_add(3).map(|n| n & !3).unwrap_or(usize::MAX);
        if padded > body.len() - 20 {
            return Err(self.error(
                at,
                ReadErrorKind::Damaged,
                format!(
                    "packet claims {caplen} captured bytes but its block holds {}",
                    body.len() - 20
                ),
            ));
        }
        let (options, direction, _) = self.options(at, b + 20 + padded..body.end)?;
        Ok(Packet {
            offset: at as u64,
            interface: iface as u32,
            ts_ns: self.ts_units[iface].to_ns(units),
            orig_len: orig_len.max(caplen as u32),
            data: &self.data[b + 20..b + 20 + caplen],
            direction,
            options,
        })
    }

    fn read_spb(
        &mut self,
        at: usize,
        body: std::ops::Range<usize>,
    ) -> Result<Packet<'a>, ReadError> {
        if body.len() < 4 {
            return Err(self.error(
                at,
                ReadErrorKind::Damaged,
                "simple packet block too short".into(),
            ));
        }
        let iface = self.global_interface(at, 0, "simple packet block")?;
        let orig_len = self.u32_at(body.start);
        let snap = self.interfaces[iface].snaplen as usize;
        let mut caplen = (orig_len as usize).min(body.len() - 4);
        if snap != 0 {
            caplen = caplen.min(snap);
        }
        Ok(Packet {
            offset: at as u64,
            interface: iface as u32,
            ts_ns: 0,
            orig_len,
            data: &self.data[body.start + 4..body.start + 4 + caplen],
            direction: None,
            options: RawOptions::default(),
        })
    }

    fn read_isb(&mut self, at: usize, body: std::ops::Range<usize>) -> Result<(), ReadError> {
        if body.len() < 12 {
            return Err(self.error(
                at,
                ReadErrorKind::Damaged,
                "interface statistics block too short".into(),
            ));
        }
        let iface =
            self.global_interface(at, self.u32_at(body.start), "interface statistics block")?;
        let (opts, _, _) = self.options(at, body.start + 12..body.end)?;
        let mut stats = InterfaceStats::default();
        for (c, v) in opts.iter() {
            if v.len() != 8 {
                continue;
            }
            let b: [u8; 8] = v.try_into().unwrap();
            let n = if self.big_endian {
                u64::from_be_bytes(b)
            } else {
                u64::from_le_bytes(b)
            };
            match c {
                code::ISB_IFRECV => stats.received = Some(n),
                code::ISB_IFDROP => stats.dropped = Some(n),
                code::ISB_FILTERACCEPT => stats.filter_accepted = Some(n),
                code::ISB_OSDROP => stats.os_dropped = Some(n),
                code::ISB_USRDELIV => stats.delivered = Some(n),
                _ => {}
            }
        }
        self.stats.push((iface as u32, stats));
        Ok(())
    }
}

/// A reader's position and section state (see [`CaptureReader::checkpoint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pos: usize,
    big_endian: bool,
    section: u32,
    section_base: usize,
    known: usize,
}

impl Checkpoint {
    /// Offset of the next unread byte.
    pub fn position(&self) -> u64 {
        self.pos as u64
    }
}

/// `BlockRef::block_type` of a classic pcap record (no pcapng block has this type).
pub const PCAP_RECORD: u32 = u32::MAX;

/// One block (or classic pcap record) found by [`CaptureReader::next_block`]: framing checked,
/// nothing decoded. A parallel reader's first pass walks these to find interfaces, sections and
/// metadata definitions without needing the state that earlier parts of the file set.
#[derive(Debug, Clone, Copy)]
pub struct BlockRef<'a> {
    /// Byte offset of the block in the input.
    pub offset: u64,
    /// pcapng block type in the section's byte order, or [`PCAP_RECORD`].
    pub block_type: u32,
    /// The block body (between the length fields), or the pcap record's header and data.
    pub body: &'a [u8],
    pub big_endian: bool,
}

impl<'a> BlockRef<'a> {
    /// The options of an Enhanced Packet Block or Packet Block (empty for anything else or when
    /// the captured length does not fit the block).
    pub fn packet_options(&self) -> RawOptions<'a> {
        if !matches!(self.block_type, code::BLOCK_EPB | code::BLOCK_PB) || self.body.len() < 20 {
            return RawOptions::default();
        }
        let b: [u8; 4] = self.body[12..16].try_into().unwrap();
        let caplen = if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        } as usize;
        let padded = caplen.checked_add(3).map(|n| n & !3).unwrap_or(usize::MAX);
        match padded
            .checked_add(20)
            .and_then(|start| self.body.get(start..))
        {
            Some(bytes) => RawOptions::new(bytes, self.big_endian),
            None => RawOptions::default(),
        }
    }
}

/// How many consecutive well-framed blocks (or records) make a candidate boundary believable in
/// [`find_boundary`]. The caller still verifies it (see there).
const BOUNDARY_CHAIN: usize = 8;

/// Finds a plausible block (pcapng) or record (pcap) boundary at or after `from`: the first
/// position where [`BOUNDARY_CHAIN`] consecutive blocks are well framed (or the chain reaches
/// the end of the input exactly), starting before `to`. `None` when there is none.
///
/// Packet bytes can imitate framing (a capture of a capture), so a parallel reader must verify
/// each boundary: reading the previous chunk from its own (verified) start must end exactly
/// there. Chunk 0 starts at 0, so by induction every accepted boundary is real.
pub fn find_boundary(data: &[u8], from: u64, to: u64, reader: &CaptureReader<'_>) -> Option<u64> {
    let mut p = from as usize;
    let to = (to as usize).min(data.len());
    match reader.format {
        Format::PcapNg => {
            p = (p + 3) & !3;
            while p + 12 <= data.len() && p < to {
                if pcapng_chain(data, p, reader.big_endian) {
                    return Some(p as u64);
                }
                p += 4;
            }
            None
        }
        Format::Pcap { big_endian, nanos } => {
            let snap = reader.interfaces().first().map(|i| i.snaplen).unwrap_or(0);
            while p + 16 <= data.len() && p < to {
                if pcap_chain(data, p, big_endian, nanos, snap) {
                    return Some(p as u64);
                }
                p += 1;
            }
            None
        }
    }
}

fn rd32(data: &[u8], at: usize, big_endian: bool) -> u32 {
    let b: [u8; 4] = data[at..at + 4].try_into().unwrap();
    if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    }
}

fn pcapng_chain(data: &[u8], mut p: usize, big_endian: bool) -> bool {
    for _ in 0..BOUNDARY_CHAIN {
        if p == data.len() {
            return true;
        }
        if p + 12 > data.len() {
            return false;
        }
        let raw_type = u32::from_le_bytes(data[p..p + 4].try_into().unwrap());
        let ty = rd32(data, p, big_endian);
        let known = raw_type == code::BLOCK_SHB
            || matches!(
                ty,
                code::BLOCK_IDB
                    | code::BLOCK_PB
                    | code::BLOCK_SPB
                    | code::BLOCK_NRB
                    | code::BLOCK_ISB
                    | code::BLOCK_EPB
                    | code::BLOCK_DSB
                    | code::BLOCK_CUSTOM
                    | code::BLOCK_CUSTOM_NOCOPY
            );
        if !known || raw_type == code::BLOCK_SHB {
            // A new section may switch the byte order: stop the chain here, believing it.
            return known;
        }
        let total = rd32(data, p + 4, big_endian) as usize;
        if total < 12 || total % 4 != 0 || total > data.len() - p {
            return false;
        }
        if rd32(data, p + total - 4, big_endian) as usize != total {
            return false;
        }
        p += total;
    }
    true
}

fn pcap_chain(data: &[u8], mut p: usize, big_endian: bool, nanos: bool, snap: u32) -> bool {
    let max_frac = if nanos { 1_000_000_000 } else { 1_000_000 };
    let max_cap = snap.max(262_144) as usize;
    let mut first_secs = None;
    for _ in 0..BOUNDARY_CHAIN {
        if p == data.len() {
            return true;
        }
        if p + 16 > data.len() {
            return false;
        }
        let secs = rd32(data, p, big_endian);
        let frac = rd32(data, p + 4, big_endian);
        let caplen = rd32(data, p + 8, big_endian) as usize;
        let orig = rd32(data, p + 12, big_endian) as usize;
        if frac >= max_frac || caplen > max_cap || caplen > orig || orig > 1 << 24 {
            return false;
        }
        // Neighbouring records lie within a day of each other.
        let first = *first_secs.get_or_insert(secs);
        if secs.abs_diff(first) > 86_400 {
            return false;
        }
        if caplen > data.len() - p - 16 {
            return false;
        }
        p += 16 + caplen;
    }
    true
}

impl<'a> CaptureReader<'a> {
    /// A copy of this reader's section and interface state that reads on from `pos`, which must
    /// be a block (or record) boundary of the same section. Statistics blocks and skipped-block
    /// counts are not carried over.
    pub fn resume_at(&self, pos: u64) -> CaptureReader<'a> {
        let mut r = self.clone();
        r.pos = (pos as usize).min(self.data.len());
        r.failed = false;
        r.stats.clear();
        r.skipped_blocks = 0;
        r
    }

    /// The next block or record with its framing checked (lengths, trailer, byte order of a new
    /// section), without decoding it or needing the interfaces before it: a parallel reader's
    /// first pass. Shares [`CaptureReader::next_packet`]'s position; errors stop it the same way.
    pub fn next_block(&mut self) -> Result<Option<BlockRef<'a>>, ReadError> {
        if self.failed {
            return Ok(None);
        }
        let result = self.frame_next_block();
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn frame_next_block(&mut self) -> Result<Option<BlockRef<'a>>, ReadError> {
        let at = self.pos;
        let left = self.data.len() - at;
        if left == 0 {
            return Ok(None);
        }
        if let Format::Pcap { .. } = self.format {
            if left < 16 {
                return Err(self.error(
                    at,
                    ReadErrorKind::Truncated,
                    format!("packet record header cut short ({left} of 16 bytes)"),
                ));
            }
            let caplen = self.u32_at(at + 8) as usize;
            if caplen > left - 16 {
                return Err(self.error(
                    at,
                    ReadErrorKind::Truncated,
                    format!(
                        "packet record of {caplen} bytes cut short ({} bytes left)",
                        left - 16
                    ),
                ));
            }
            self.pos = at + 16 + caplen;
            return Ok(Some(BlockRef {
                offset: at as u64,
                block_type: PCAP_RECORD,
                body: &self.data[at..self.pos],
                big_endian: self.big_endian,
            }));
        }
        let Some((at, block_type, body)) = self.frame_pcapng_block()? else {
            return Ok(None);
        };
        Ok(Some(BlockRef {
            offset: at as u64,
            block_type,
            body: &self.data[body],
            big_endian: self.big_endian,
        }))
    }

    /// Applies the section header or interface description block at `offset` (found by a first
    /// pass with [`CaptureReader::next_block`]) to this reader's state, as if it had read it.
    /// Other block types are ignored. The read position does not move.
    pub fn apply_block(&mut self, offset: u64) -> Result<(), ReadError> {
        if self.format != Format::PcapNg {
            return Ok(());
        }
        // Framed in place (no copy of the reader: a file of many sections or interfaces
        // applies one block per section and interface), then the position is put back.
        let (pos, failed) = (self.pos, self.failed);
        self.pos = (offset as usize).min(self.data.len());
        let framed = self.frame_pcapng_block();
        self.pos = pos;
        self.failed = failed;
        let Some((at, block_type, body)) = framed? else {
            return Ok(());
        };
        let raw_type = u32::from_le_bytes(self.data[at..at + 4].try_into().unwrap());
        if raw_type == code::BLOCK_SHB {
            self.read_shb(at, body)
        } else if block_type == code::BLOCK_IDB {
            self.read_idb(at, body)
        } else {
            Ok(())
        }
    }

    /// Where this reader stands, to make a reader that reads on from here later with
    /// [`CaptureReader::at_checkpoint`] (a few numbers; the interface table is not copied).
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            pos: self.pos,
            big_endian: self.big_endian,
            section: self.section,
            section_base: self.section_base,
            known: self.known,
        }
    }

    /// A reader in the state of `cp`, a checkpoint of this reader taken earlier (or of a
    /// reader behind it in the same input), sharing this reader's interface table: O(1).
    /// A parallel reader plans its chunks first and makes one reader per chunk at the end.
    pub fn at_checkpoint(&self, cp: Checkpoint) -> CaptureReader<'a> {
        let mut r = self.resume_at(cp.pos as u64);
        r.big_endian = cp.big_endian;
        r.section = cp.section;
        r.section_base = cp.section_base;
        r.known = cp.known.min(self.known);
        // The section header may lie before the checkpoint: its node is its interfaces'.
        r.section_node = r
            .interfaces
            .get(cp.section_base)
            .filter(|i| i.section == cp.section)
            .and_then(|i| i.node.clone());
        r
    }

    /// A copy of this reader that sees only the first `len` bytes of the input: a block
    /// that crosses `len` is reported as truncated there, and no byte from `len` on is read.
    pub fn limited_to(&self, len: u64) -> CaptureReader<'a> {
        let mut r = self.clone();
        r.data = &self.data[..(len as usize).min(self.data.len())];
        r.pos = r.pos.min(r.data.len());
        r
    }

    /// The byte order of the current section (pcapng) or file (pcap).
    pub fn is_big_endian(&self) -> bool {
        self.big_endian
    }

    /// Whether the block at a [`BlockRef`] changes the state a later chunk needs (a section
    /// header or an interface description).
    pub fn is_structure_block(block: &BlockRef<'_>) -> bool {
        block.block_type == code::BLOCK_IDB
            || (block.block_type != PCAP_RECORD
                && (block.block_type == code::BLOCK_SHB
                    || block.block_type.swap_bytes() == code::BLOCK_SHB))
    }
}

#[cfg(test)]
mod parallel_tests {
    use super::*;

    #[test]
    fn resumed_readers_at_found_boundaries_read_what_one_reader_reads() {
        // pcapng: SHB, IDB, 40 EPBs whose data imitates block framing.
        let mut f = Vec::new();
        let blk = |ty: u32, body: &[u8]| {
            let total = (12 + body.len() + 3) & !3;
            let mut out = Vec::new();
            out.extend_from_slice(&ty.to_le_bytes());
            out.extend_from_slice(&(total as u32).to_le_bytes());
            out.extend_from_slice(body);
            out.resize(total - 4, 0);
            out.extend_from_slice(&(total as u32).to_le_bytes());
            out
        };
        let mut shb = Vec::new();
        shb.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        f.extend(blk(code::BLOCK_SHB, &shb));
        let mut idb = Vec::new();
        idb.extend_from_slice(&[1, 0, 0, 0]);
        idb.extend_from_slice(&0u32.to_le_bytes());
        f.extend(blk(code::BLOCK_IDB, &idb));
        for i in 0..40u32 {
            let mut body = Vec::new();
            body.extend_from_slice(&0u32.to_le_bytes());
            body.extend_from_slice(&0u32.to_le_bytes());
            body.extend_from_slice(&i.to_le_bytes());
            let data = blk(code::BLOCK_EPB, &[0u8; 8]);
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(&data);
            f.extend(blk(code::BLOCK_EPB, &body));
        }
        let mut all = CaptureReader::new(&f).unwrap();
        let mut expected = Vec::new();
        while let Some(p) = all.next_packet().unwrap() {
            expected.push(p.offset);
        }
        let mut head = CaptureReader::new(&f).unwrap();
        let mut structure = Vec::new();
        while let Some(b) = head.next_block().unwrap() {
            if CaptureReader::is_structure_block(&b) {
                structure.push(b.offset);
            }
        }
        assert_eq!(structure.len(), 2);
        let mut state = CaptureReader::new(&f).unwrap();
        for s in &structure {
            state.apply_block(*s).unwrap();
        }
        let start = find_boundary(&f, f.len() as u64 / 2, f.len() as u64, &state).unwrap();
        let mut r = state.resume_at(start);
        let mut got = Vec::new();
        while let Some(p) = r.next_packet().unwrap() {
            got.push(p.offset);
        }
        assert!(!got.is_empty());
        assert_eq!(got[..], expected[expected.len() - got.len()..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_made_from_checkpoints_share_the_interface_table_and_read_alike() {
        // Three sections of two interfaces and one packet each.
        let mut f = Vec::new();
        let mut packet_at = Vec::new();
        for s in 0..3u64 {
            f.extend(shb());
            f.extend(idb(1, None));
            f.extend(idb(276, None));
            packet_at.push(f.len() as u64);
            f.extend(epb(1, s, b"p", None));
        }
        let mut all = CaptureReader::new(&f).unwrap();
        let mut want = Vec::new();
        while let Some(p) = all.next_packet().unwrap() {
            want.push((p.offset, p.interface));
        }
        assert_eq!(want.iter().map(|w| w.1).collect::<Vec<_>>(), [1, 3, 5]);
        // A planner's walk: checkpoints at each packet, structure applied in place.
        let mut state = CaptureReader::new(&f).unwrap();
        let mut head = CaptureReader::new(&f).unwrap();
        let mut cps = Vec::new();
        while let Some(b) = head.next_block().unwrap() {
            if packet_at.contains(&b.offset) {
                cps.push((b.offset, state.checkpoint()));
            }
            if CaptureReader::is_structure_block(&b) {
                state.apply_block(b.offset).unwrap();
            }
        }
        assert_eq!(state.interfaces().len(), 6);
        for (k, (at, cp)) in cps.into_iter().enumerate() {
            let mut r = state.at_checkpoint(cp).resume_at(at);
            assert_eq!(r.interfaces().len(), 2 * (k + 1));
            let p = r.next_packet().unwrap().unwrap();
            assert_eq!((p.offset, p.interface), want[k]);
            // Shared, not copied.
            assert!(Arc::ptr_eq(&r.interfaces, &state.interfaces));
            // Bounded: the rest of the file is not read.
            let mut cut = state.at_checkpoint(cp).resume_at(at).limited_to(at + 8);
            let e = cut.next_packet().unwrap_err();
            assert_eq!((e.offset, e.kind), (at, ReadErrorKind::Truncated));
        }
    }

    fn block(ty: u32, body: &[u8]) -> Vec<u8> {
        let total = (12 + body.len() + 3) & !3;
        let mut out = Vec::new();
        out.extend_from_slice(&ty.to_le_bytes());
        out.extend_from_slice(&(total as u32).to_le_bytes());
        out.extend_from_slice(body);
        out.resize(total - 4, 0);
        out.extend_from_slice(&(total as u32).to_le_bytes());
        out
    }

    fn shb() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&(-1i64).to_le_bytes());
        block(code::BLOCK_SHB, &b)
    }

    fn idb(link: u16, tsresol: Option<u8>) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&link.to_le_bytes());
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&262144u32.to_le_bytes());
        if let Some(r) = tsresol {
            b.extend_from_slice(&9u16.to_le_bytes());
            b.extend_from_slice(&1u16.to_le_bytes());
            b.extend_from_slice(&[r, 0, 0, 0]);
            b.extend_from_slice(&[0, 0, 0, 0]);
        }
        block(code::BLOCK_IDB, &b)
    }

    fn epb(iface: u32, units: u64, data: &[u8], flags: Option<u32>) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&iface.to_le_bytes());
        b.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
        b.extend_from_slice(&(units as u32).to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(data);
        b.resize((b.len() + 3) & !3, 0);
        if let Some(f) = flags {
            b.extend_from_slice(&2u16.to_le_bytes());
            b.extend_from_slice(&4u16.to_le_bytes());
            b.extend_from_slice(&f.to_le_bytes());
            b.extend_from_slice(&[0, 0, 0, 0]);
        }
        block(code::BLOCK_EPB, &b)
    }

    #[test]
    fn reads_packets_interfaces_and_direction() {
        let mut f = shb();
        f.extend(idb(1, Some(9)));
        f.extend(epb(0, 1_700_000_000_123_456_789, b"abcde", Some(2)));
        f.extend(block(code::BLOCK_NRB, &[0, 0, 0, 0]));
        f.extend(epb(0, 1_700_000_001_000_000_000, b"xyz", None));
        let mut r = CaptureReader::new(&f).unwrap();
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.data, b"abcde");
        assert_eq!(p.ts_ns, 1_700_000_000_123_456_789);
        assert_eq!(p.direction, Some(Direction::Out));
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.data, b"xyz");
        assert!(r.next_packet().unwrap().is_none());
        assert_eq!(r.skipped_blocks(), 1);
    }

    #[test]
    fn default_resolution_is_microseconds_and_sections_rebase_interfaces() {
        let mut f = shb();
        f.extend(idb(1, None));
        f.extend(epb(0, 5, b"a", None));
        f.extend(shb());
        f.extend(idb(276, None));
        f.extend(epb(0, 7, b"b", None));
        let mut r = CaptureReader::new(&f).unwrap();
        let a = r.next_packet().unwrap().unwrap();
        assert_eq!((a.interface, a.ts_ns), (0, 5000));
        let b = r.next_packet().unwrap().unwrap();
        assert_eq!((b.interface, b.ts_ns), (1, 7000));
        assert_eq!(r.interfaces()[1].section, 1);
        assert_eq!(r.interfaces()[1].link_type, 276);
    }

    #[test]
    fn every_truncation_yields_the_complete_packets_then_an_error() {
        let mut f = shb();
        let mut boundaries = vec![f.len()];
        f.extend(idb(1, Some(9)));
        boundaries.push(f.len());
        f.extend(epb(0, 1, b"first", None));
        let first_end = f.len();
        boundaries.push(f.len());
        f.extend(epb(0, 2, b"second", None));
        for cut in 0..f.len() {
            let part = &f[..cut];
            let Ok(mut r) = CaptureReader::new(part) else {
                continue;
            };
            let mut n = 0;
            let err = loop {
                match r.next_packet() {
                    Ok(Some(_)) => n += 1,
                    Ok(None) => break None,
                    Err(e) => break Some(e),
                }
            };
            assert_eq!(n, usize::from(cut >= first_end), "cut at {cut}");
            if boundaries.contains(&cut) {
                assert!(
                    err.is_none(),
                    "a cut at a block boundary is a shorter valid file"
                );
                continue;
            }
            let e = err.expect("a cut file must end in an error");
            assert_eq!(e.kind, ReadErrorKind::Truncated, "cut at {cut}: {e}");
        }
    }

    #[test]
    fn packet_before_its_interface_is_damage() {
        let mut f = shb();
        f.extend(epb(0, 1, b"x", None));
        let mut r = CaptureReader::new(&f).unwrap();
        let e = r.next_packet().unwrap_err();
        assert_eq!(e.kind, ReadErrorKind::Damaged);
        assert!(e.to_string().contains("names interface 0"), "{e}");
    }

    #[test]
    fn binary_timestamp_resolution() {
        let unit = TsUnit {
            resol: 0x80 | 10,
            offset_s: 0,
        };
        assert_eq!(unit.to_ns(1024), 1_000_000_000);
    }
}
