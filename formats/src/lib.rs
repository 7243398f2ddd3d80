//! The formats both ptcap binaries share: nothing here does I/O policy or threading.
//!
//! - [`pcapng`]: a zero-copy reader of pcap and pcapng (both byte orders, several sections)
//!   over a byte slice, and the pcapng writer ptcap and ptanalyze use.
//! - [`meta`]: the metadata model (process, parent, container, pod, provenance) and its two
//!   carriers in pcapng: ptcpdump-layout comments and structured custom options.
//! - [`wire`]: typed views over packet bytes (Ethernet, VLAN, SLL, SLL2, IPv4/6, TCP, UDP, ...).
//! - [`render`]: tcpdump-style text (`-nn`, `-v`, dumps, timestamps) plus the process context.
//! - [`names`]: names of addresses learnt from packets (DNS answers through CNAME chains, TLS
//!   server names, HTTP hosts) and the bounded table of a live capture's `-v` text.
//! - [`table`]: growth of the bounded, churned hash tables of a live capture.
//!
//! ```
//! use formats::meta::{PacketMeta, Provenance};
//! let meta = PacketMeta::default();
//! assert_eq!(meta.provenance, Provenance::None);
//! ```

pub mod meta;
pub mod names;
pub mod pcapng;
pub mod render;
pub mod table;
pub mod wire;
