//! pcap and pcapng: the types reader and writer share, [`read`] (zero-copy, over a byte slice)
//! and [`write`] (pcapng, with our metadata).

pub mod read;
pub mod write;

pub use read::{CaptureReader, ReadError};

/// IANA Private Enterprise Number carried by our custom options (2988/2989).
/// 32473 is IANA's number for documentation and examples; one constant, so a registered
/// number can replace it.
pub const PTCAP_PEN: u32 = 32473;

/// Link types we know by name (LINKTYPE_* values of the pcap/pcapng specs).
pub mod linktype {
    pub const NULL: u16 = 0;
    pub const ETHERNET: u16 = 1;
    pub const RAW: u16 = 101;
    pub const LOOP: u16 = 108;
    pub const LINUX_SLL: u16 = 113;
    pub const IPV4: u16 = 228;
    pub const IPV6: u16 = 229;
    pub const LINUX_SLL2: u16 = 276;
}

/// Option and block codes used by both directions.
pub mod code {
    pub const OPT_ENDOFOPT: u16 = 0;
    pub const OPT_COMMENT: u16 = 1;
    pub const OPT_CUSTOM_UTF8: u16 = 2988;
    pub const OPT_CUSTOM_BINARY: u16 = 2989;
    pub const OPT_CUSTOM_UTF8_NOCOPY: u16 = 19372;
    pub const OPT_CUSTOM_BINARY_NOCOPY: u16 = 19373;
    pub const SHB_HARDWARE: u16 = 2;
    pub const SHB_OS: u16 = 3;
    pub const SHB_USERAPPL: u16 = 4;
    pub const IF_NAME: u16 = 2;
    pub const IF_DESCRIPTION: u16 = 3;
    pub const IF_TSRESOL: u16 = 9;
    pub const IF_FILTER: u16 = 11;
    pub const IF_TSOFFSET: u16 = 14;
    pub const EPB_FLAGS: u16 = 2;
    pub const ISB_STARTTIME: u16 = 2;
    pub const ISB_ENDTIME: u16 = 3;
    pub const ISB_IFRECV: u16 = 4;
    pub const ISB_IFDROP: u16 = 5;
    pub const ISB_FILTERACCEPT: u16 = 6;
    pub const ISB_OSDROP: u16 = 7;
    pub const ISB_USRDELIV: u16 = 8;

    pub const BLOCK_SHB: u32 = 0x0A0D_0D0A;
    pub const BLOCK_IDB: u32 = 1;
    pub const BLOCK_PB: u32 = 2;
    pub const BLOCK_SPB: u32 = 3;
    pub const BLOCK_NRB: u32 = 4;
    pub const BLOCK_ISB: u32 = 5;
    pub const BLOCK_EPB: u32 = 6;
    pub const BLOCK_DSB: u32 = 0x0000_000A;
    pub const BLOCK_CUSTOM: u32 = 0x0000_0BAD;
    pub const BLOCK_CUSTOM_NOCOPY: u32 = 0x4000_0BAD;
}

/// Which way a packet went, relative to the capturing host (`epb_flags` bits 0-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    /// tcpdump's word for it (`In`/`Out`, as `-i any` prints).
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "In",
            Direction::Out => "Out",
        }
    }
}

/// One capture interface, as an IDB (or a classic pcap header) describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interface {
    pub link_type: u16,
    pub snaplen: u32,
    pub name: Option<String>,
    pub description: Option<String>,
    pub filter: Option<String>,
    /// Index of the pcapng section this interface belongs to (0 for classic pcap).
    pub section: u32,
    /// The machine that captured on it, from its section header's [`SectionInfo`] (ptcap
    /// writes the host name); `None` in files of other tools.
    pub node: Option<std::sync::Arc<str>>,
}

/// What ptcap says of a whole section: a custom UTF-8 option (2988, our PEN) in the Section
/// Header Block holding `{"ptcap":1,"node":"HOST"}`. pcapng has no option for the host name
/// (`shb_hardware` is the machine's architecture or CPU), and a fleet's exports are told
/// apart by it (`ptanalyze --partition-by node`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SectionInfo {
    pub ptcap: u8,
    pub node: String,
}

/// Counters written in an Interface Statistics Block at the end of a capture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InterfaceStats {
    /// Packets the interface saw (`isb_ifrecv`).
    pub received: Option<u64>,
    /// Packets dropped by the interface or driver (`isb_ifdrop`).
    pub dropped: Option<u64>,
    /// Packets accepted by the filter (`isb_filteraccept`).
    pub filter_accepted: Option<u64>,
    /// Packets dropped by the OS/capture path (`isb_osdrop`).
    pub os_dropped: Option<u64>,
    /// Packets delivered to the user (`isb_usrdeliv`).
    pub delivered: Option<u64>,
}

/// One packet record, borrowed from the file's bytes.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// Byte offset of the packet's block (or record) in the file.
    pub offset: u64,
    /// Index into [`CaptureReader::interfaces`] (global over all sections).
    pub interface: u32,
    /// Nanoseconds since the Unix epoch.
    pub ts_ns: u64,
    /// Length on the wire; `data.len()` is the captured length.
    pub orig_len: u32,
    pub data: &'a [u8],
    pub direction: Option<Direction>,
    /// The packet block's options, validated (every length within the block) but not decoded.
    pub options: RawOptions<'a>,
}

/// Options of a block: `(code, value)` pairs in file order, stopping at `opt_endofopt`.
/// The reader validated the framing, so iterating never fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawOptions<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) big_endian: bool,
}

impl<'a> RawOptions<'a> {
    pub fn is_big_endian(&self) -> bool {
        self.big_endian
    }

    pub fn iter(&self) -> RawOptionIter<'a> {
        RawOptionIter {
            bytes: self.bytes,
            big_endian: self.big_endian,
        }
    }

    /// Creates options from raw bytes; framing errors end the iteration early.
    pub fn new(bytes: &'a [u8], big_endian: bool) -> Self {
        RawOptions { bytes, big_endian }
    }
}

pub struct RawOptionIter<'a> {
    bytes: &'a [u8],
    big_endian: bool,
}

impl<'a> Iterator for RawOptionIter<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.bytes.len() < 4 {
            return None;
        }
        let rd = |b: [u8; 2]| {
            if self.big_endian {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            }
        };
        let code = rd([self.bytes[0], self.bytes[1]]);
        let len = rd([self.bytes[2], self.bytes[3]]) as usize;
        if code == code::OPT_ENDOFOPT {
            return None;
        }
        let padded = (len + 3) & !3;
        if self.bytes.len() < 4 + len {
            self.bytes = &[];
            return None;
        }
        let value = &self.bytes[4..4 + len];
        self.bytes = self.bytes.get(4 + padded..).unwrap_or(&[]);
        Some((code, value))
    }
}
