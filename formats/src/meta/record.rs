//! The structured carrier: copyable custom options with our PEN (see
//! [`crate::pcapng::PTCAP_PEN`]).
//!
//! - A **definition** (option 2988, custom UTF-8) holds one entity as JSON:
//!   `{"ptcap":1,"scope":S,"kind":"process"|"container"|"pod"|"thread","id":N,"v":{...the model...}}`.
//!   It appears once per file, in the first packet that refers to the entity.
//! - A **reference record** (option 2989, custom binary) rides in every packet with metadata:
//!   `version (1) | provenance (u8) | varint scope | varint process | varint parent |
//!   varint container | varint pod | varint tid | varint role | varint thread |
//!   varint peer process | varint peer parent | varint peer container | varint peer pod |
//!   varint nat | [varint reason length | reason | varint location length | location]`,
//!   ids 0 = absent. Everything from `role` on are trailing fields added later: a record may
//!   end before any of them (unknown role, no thread definition, no peer, no NAT, not
//!   dropped); a field is written when it or a field after it is present (as zeros when it is
//!   absent). `nat` is `(id << 1) | reply`: the id of a `"nat"` definition (the connection's
//!   conntrack tuples, [`super::NatInfo`]) and whether the packet travels in the reply
//!   direction. The drop (a packet the kernel dropped: `PacketMeta::drop`, UTF-8 reason and
//!   location) comes last. The peer is the
//!   packet's other local end (see `PacketMeta::peer`). `thread` refers to a `"thread"` definition
//!   (tid and thread name); `tid` stays in the record so that older readers keep the id. Varints are LEB128
//!   (7 bits per byte, low first), at most 5 bytes for a u32; the record is plain bytes, so it
//!   does not depend on the section's byte order.
//!
//! `scope` is a number chosen per written file (random by default): ids are small per-file
//! counters, and `mergecap` can interleave two files whose ids collide; definitions and
//! references are matched on (scope, id).
//!
//! After the option header, both carry the PEN as a u32 in the section's byte order. editcap
//! and mergecap 4.0 write it back byte-swapped, so [`split_pen`] accepts either order.

use serde::{Deserialize, Serialize};

use std::sync::Arc;

use super::{ContainerInfo, DropInfo, NatInfo, PodInfo, ProcessInfo, Provenance, Role, ThreadInfo};
use crate::pcapng::PTCAP_PEN;

/// Version byte of the reference record and the `ptcap` field of a definition.
pub const RECORD_VERSION: u8 = 1;
/// Longest reference record without a drop: 2 bytes + 13 varints of at most 5 bytes.
pub const MAX_RECORD_LEN: usize = 2 + 13 * 5;
/// Longest drop reason or location kept in a record (longer ones are cut).
pub const MAX_DROP_TEXT: usize = 256;

/// Appends `v` as a LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 varint of at most 5 bytes that fits a u32; `None` if cut short or too big.
pub fn get_varint(bytes: &mut &[u8]) -> Option<u32> {
    let mut v: u64 = 0;
    for i in 0..5 {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return u32::try_from(v).ok();
        }
    }
    None
}

/// One packet's references (the 2989 record, decoded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaRecord {
    pub provenance: Provenance,
    pub scope: u32,
    pub process: u32,
    pub parent: u32,
    pub container: u32,
    pub pod: u32,
    /// 0 = unknown.
    pub tid: u32,
    /// [`Role`] as a number; a trailing field, absent (unknown) in records written before it.
    pub role: Role,
    /// The thread definition's id; a trailing field, 0 = none (then `tid` alone, if any).
    pub thread: u32,
    /// The peer's process, parent, container and pod ids; trailing fields, 0 = none.
    pub peer: [u32; 4],
    /// The NAT definition's id, 0 = none (a trailing field).
    pub nat: u32,
    /// The packet travels in the NATed connection's reply direction.
    pub nat_reply: bool,
    /// The kernel dropped the packet; trailing fields after the NAT.
    pub drop: Option<Arc<DropInfo>>,
}

fn put_text(out: &mut Vec<u8>, s: &str) {
    let mut end = s.len().min(MAX_DROP_TEXT);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    put_varint(out, end as u32);
    out.extend_from_slice(&s.as_bytes()[..end]);
}

fn get_text(bytes: &mut &[u8]) -> Option<String> {
    let n = get_varint(bytes)? as usize;
    if n > bytes.len() {
        return None;
    }
    let (t, rest) = bytes.split_at(n);
    *bytes = rest;
    Some(String::from_utf8_lossy(t).into_owned())
}

impl MetaRecord {
    /// Appends the record bytes (without PEN) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(RECORD_VERSION);
        out.push(self.provenance as u8);
        for v in [
            self.scope,
            self.process,
            self.parent,
            self.container,
            self.pod,
            self.tid,
            self.role as u32,
            self.thread,
        ] {
            put_varint(out, v);
        }
        // The peer only when there is one: most packets have none, and a reader takes a
        // record that ends here for "no peer".
        if self.peer != [0; 4] || self.nat != 0 || self.drop.is_some() {
            for v in self.peer {
                put_varint(out, v);
            }
        }
        if self.nat != 0 || self.drop.is_some() {
            put_varint(out, (self.nat << 1) | self.nat_reply as u32);
        }
        if let Some(d) = &self.drop {
            put_text(out, &d.reason);
            put_text(out, &d.location);
        }
    }

    /// Decodes record bytes (without PEN). Trailing bytes are allowed (a later version may add
    /// fields); an unknown version, provenance or a cut varint is `None`.
    pub fn decode(mut bytes: &[u8]) -> Option<MetaRecord> {
        let (&version, rest) = bytes.split_first()?;
        if version != RECORD_VERSION {
            return None;
        }
        let (&prov, rest) = rest.split_first()?;
        bytes = rest;
        let provenance = Provenance::from_u8(prov)?;
        let mut next = || get_varint(&mut bytes);
        let mut r = MetaRecord {
            provenance,
            scope: next()?,
            process: next()?,
            parent: next()?,
            container: next()?,
            pod: next()?,
            tid: next()?,
            // Optional trailing fields: a record without them has an unknown role, no thread.
            role: next().map_or(Role::Unknown, Role::from_u32),
            thread: next().unwrap_or(0),
            peer: if bytes.is_empty() {
                [0; 4]
            } else {
                [
                    get_varint(&mut bytes).unwrap_or(0),
                    get_varint(&mut bytes).unwrap_or(0),
                    get_varint(&mut bytes).unwrap_or(0),
                    get_varint(&mut bytes).unwrap_or(0),
                ]
            },
            nat: 0,
            nat_reply: false,
            drop: None,
        };
        if let Some(n) = get_varint(&mut bytes) {
            r.nat = n >> 1;
            r.nat_reply = n & 1 != 0;
        }
        // A cut drop is no drop (what follows it, from a later version, is ignored).
        if !bytes.is_empty() {
            let reason = get_text(&mut bytes);
            let location = get_text(&mut bytes);
            r.drop = reason
                .zip(location)
                .map(|(reason, location)| Arc::new(DropInfo { reason, location }));
        }
        Some(r)
    }
}

/// The entity a definition carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "v", rename_all = "snake_case")]
pub enum Entity {
    Process(ProcessInfo),
    Container(ContainerInfo),
    Pod(PodInfo),
    Thread(ThreadInfo),
    Nat(NatInfo),
}

/// A 2988 definition: an entity with its (scope, id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Definition {
    /// Always [`RECORD_VERSION`] for what we write.
    pub ptcap: u8,
    pub scope: u32,
    pub id: u32,
    #[serde(flatten)]
    pub entity: Entity,
}

impl Definition {
    pub fn to_json(&self) -> String {
        // Serializing plain structs of strings and maps cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses a definition; `None` for invalid JSON, another version or id 0.
    pub fn from_json(text: &[u8]) -> Option<Definition> {
        let d: Definition = serde_json::from_slice(text).ok()?;
        (d.ptcap == RECORD_VERSION && d.id != 0).then_some(d)
    }
}

/// Splits a custom option's value into (PEN matches ours, data), accepting the PEN in either
/// byte order. `None` when the value is shorter than a PEN.
pub fn split_pen(value: &[u8]) -> Option<(bool, &[u8])> {
    let (pen, data) = value.split_first_chunk::<4>()?;
    let le = u32::from_le_bytes(*pen);
    Some((le == PTCAP_PEN || le.swap_bytes() == PTCAP_PEN, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_overlong() {
        for v in [0, 1, 127, 128, 300, 1 << 21, u32::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut s = &b[..];
            assert_eq!(get_varint(&mut s), Some(v));
            assert!(s.is_empty());
        }
        let mut s: &[u8] = &[0xff, 0xff, 0xff, 0xff, 0x7f];
        assert_eq!(get_varint(&mut s), None);
        let mut s: &[u8] = &[0x80, 0x80];
        assert_eq!(get_varint(&mut s), None);
    }

    #[test]
    fn record_and_definition_round_trip() {
        let r = MetaRecord {
            provenance: Provenance::Tuple,
            scope: 123_456,
            process: 1,
            parent: 2,
            container: 1,
            pod: 0,
            tid: 4242,
            role: Role::Sender,
            thread: 3,
            peer: [0; 4],
            drop: None,
            nat: 0,
            nat_reply: false,
        };
        let mut b = Vec::new();
        r.encode(&mut b);
        assert!(b.len() <= MAX_RECORD_LEN);
        assert_eq!(MetaRecord::decode(&b), Some(r.clone()));
        // The role and the thread are optional trailing fields (records written before them);
        // every other cut is malformed.
        let without_thread = MetaRecord {
            thread: 0,
            ..r.clone()
        };
        assert_eq!(
            MetaRecord::decode(&b[..b.len() - 1]),
            Some(without_thread.clone())
        );
        let without_role = MetaRecord {
            role: Role::Unknown,
            ..without_thread
        };
        assert_eq!(MetaRecord::decode(&b[..b.len() - 2]), Some(without_role));
        for cut in 0..b.len() - 2 {
            assert_eq!(MetaRecord::decode(&b[..cut]), None);
        }
        let with_peer = MetaRecord {
            peer: [7, 8, 2, 1],
            ..r.clone()
        };
        let mut b = Vec::new();
        with_peer.encode(&mut b);
        assert!(b.len() <= MAX_RECORD_LEN);
        assert_eq!(MetaRecord::decode(&b), Some(with_peer));
        // A drop follows the peer (written as zeros when there is none); a reader from
        // before it stops at the peer. A cut drop is none.
        let dropped = MetaRecord {
            drop: Some(Arc::new(DropInfo {
                reason: "NETFILTER_DROP".into(),
                location: "nf_hook_slow+0x9c".into(),
            })),
            ..r.clone()
        };
        let mut b = Vec::new();
        dropped.encode(&mut b);
        assert_eq!(MetaRecord::decode(&b), Some(dropped.clone()));
        let plain = MetaRecord::decode(&b[..b.len() - 5]).unwrap();
        assert_eq!(plain.drop, None);
        assert_eq!(plain.peer, [0; 4]);
        // NAT: after the peer ids (zero when there is no peer); records without it read as none.
        let with_nat = MetaRecord {
            nat: 5,
            nat_reply: true,
            ..r.clone()
        };
        let mut b = Vec::new();
        with_nat.encode(&mut b);
        assert!(b.len() <= MAX_RECORD_LEN);
        assert_eq!(MetaRecord::decode(&b), Some(with_nat));
        assert_eq!(MetaRecord::decode(&b[..b.len() - 1]), Some(r.clone()));
        // Both: the NAT, then the drop.
        let both = MetaRecord {
            nat: 5,
            drop: dropped.drop.clone(),
            ..r.clone()
        };
        let mut b = Vec::new();
        both.encode(&mut b);
        assert_eq!(MetaRecord::decode(&b), Some(both));
        let d = Definition {
            ptcap: 1,
            scope: 9,
            id: 3,
            entity: Entity::Pod(PodInfo {
                name: "api".into(),
                ..Default::default()
            }),
        };
        let j = d.to_json();
        assert!(j.contains("\"kind\":\"pod\""), "{j}");
        assert_eq!(Definition::from_json(j.as_bytes()), Some(d));
        assert_eq!(Definition::from_json(b"{\"ptcap\":1"), None);
    }
}
