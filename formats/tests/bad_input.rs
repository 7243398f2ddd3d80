//! Bad input: arbitrary bytes, every truncation point, bit flips and absurd block and option
//! lengths. The reader and MetaReader must never panic, never loop without progress, never
//! allocate from an untrusted length (a counting allocator checks the largest single
//! allocation), and a truncated file must give exactly its complete packets, then an error
//! at the offset of the cut block.
//!
//! Seeds: `testdata/corpus/*` (tiny files; regenerate with `PTCAP_REGEN_CORPUS=1`).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use formats::meta::{MetaReader, PacketMeta};
use formats::pcapng::read::ReadErrorKind;
use formats::pcapng::{code, CaptureReader};
use proptest::prelude::*;

/// Tracks the largest single allocation request.
struct Counting;
static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LARGEST.fetch_max(l.size(), Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LARGEST.fetch_max(new, Ordering::Relaxed);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// What reading a whole input gave.
#[derive(Debug)]
struct Outcome {
    packets: Vec<(u64, PacketMeta)>,
    error: Option<formats::pcapng::ReadError>,
}

/// Reads everything; panics (failing the test) on a hang-like loop.
fn read_everything(bytes: &[u8]) -> Outcome {
    let mut packets = Vec::new();
    let mut r = match CaptureReader::new(bytes) {
        Ok(r) => r,
        Err(e) => {
            return Outcome {
                packets,
                error: Some(e),
            }
        }
    };
    let mut m = MetaReader::new();
    // Every block or record is at least 12 bytes: more iterations than that means no progress.
    let mut budget = bytes.len() / 12 + 2;
    let error = loop {
        assert!(budget > 0, "reader makes no progress");
        budget -= 1;
        let before = r.position();
        match r.next_packet() {
            Ok(Some(p)) => {
                assert!(r.position() > before);
                let meta = m.decode(&p.options);
                m.learn_definitions(&p.options);
                packets.push((p.offset, meta));
            }
            Ok(None) => break None,
            Err(e) => {
                assert!(e.offset <= bytes.len() as u64, "{e}");
                // After an error the reader stays stopped.
                assert!(r.next_packet().unwrap().is_none());
                break Some(e);
            }
        }
    };
    Outcome { packets, error }
}

/// Reads with the allocation check: no single allocation beyond what the input could justify.
fn read_checked(bytes: &[u8]) -> Outcome {
    LARGEST.store(0, Ordering::Relaxed);
    let out = read_everything(bytes);
    let largest = LARGEST.load(Ordering::Relaxed);
    // Other test threads allocate too, but only small things (their files are a few KiB).
    assert!(
        largest <= 4 * bytes.len() + (1 << 20),
        "an allocation of {largest} bytes while reading {} bytes",
        bytes.len()
    );
    out
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/corpus")
}

/// Small fixture packets: only the compact metadata variants, so files stay tiny.
fn small_packets(n: usize, ifaces: u32, sll2: bool) -> Vec<TestPacket> {
    let metas = meta_variants(&cast());
    packets(n, ifaces, sll2, BASE_TS)
        .into_iter()
        .enumerate()
        .map(|(i, mut p)| {
            p.meta = metas[[0, 1, 4][i % 3]].clone();
            p.data.truncate(80);
            p.orig_len = p.orig_len.max(p.data.len() as u32);
            p
        })
        .collect()
}

fn corpus_files() -> Vec<(&'static str, Vec<u8>)> {
    let mut be = config(7);
    be.big_endian = true;
    let mut comments_only = config(8);
    comments_only.structured = false;
    let mut short = config(9);
    short.comments = formats::meta::CommentMode::Short;
    vec![
        (
            "eth-meta.pcapng",
            write_file(config(6), 1, false, &small_packets(4, 1, false)),
        ),
        (
            "sll2-be.pcapng",
            write_file(be, 2, true, &small_packets(3, 2, true)),
        ),
        (
            "comments-only.pcapng",
            write_file(comments_only, 1, false, &small_packets(3, 1, false)),
        ),
        (
            "short.pcapng",
            write_file(short, 1, false, &small_packets(3, 1, false)),
        ),
        ("classic.pcap", classic_pcap()),
    ]
}

/// A nanosecond classic pcap with two records.
fn classic_pcap() -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&262144u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    for i in 0..2u32 {
        let data = eth_tcp(1000 + i as u16, 80, 4, i);
        f.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        f.extend_from_slice(&(123_456_789 + i).to_le_bytes());
        f.extend_from_slice(&(data.len() as u32).to_le_bytes());
        f.extend_from_slice(&(data.len() as u32).to_le_bytes());
        f.extend_from_slice(&data);
    }
    f
}

fn seeds() -> Vec<Vec<u8>> {
    static REGEN: std::sync::Once = std::sync::Once::new();
    let dir = corpus_dir();
    // Once per test binary: tests run in parallel and must not read half-written seeds.
    REGEN.call_once(|| {
        if std::env::var_os("PTCAP_REGEN_CORPUS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            for (name, bytes) in corpus_files() {
                std::fs::write(dir.join(name), bytes).unwrap();
            }
        }
    });
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (the seed corpus is committed)", dir.display()))
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        out.len() >= 5,
        "seed corpus incomplete in {}",
        dir.display()
    );
    out.sort();
    out
}

#[test]
fn seed_corpus_reads_cleanly() {
    for s in seeds() {
        let o = read_checked(&s);
        assert!(o.error.is_none(), "{:?}", o.error);
        assert!(!o.packets.is_empty());
    }
}

/// Offsets where blocks (or pcap records) start, and the end.
fn block_starts(file: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = 0;
    while at + 8 <= file.len() {
        starts.push(at);
        at += u32::from_le_bytes(file[at + 4..at + 8].try_into().unwrap()) as usize;
    }
    starts.push(file.len());
    starts
}

#[test]
fn every_truncation_gives_the_complete_packets_then_the_cut_offset() {
    let pkts = small_packets(6, 2, true);
    let file = write_file(config(5), 2, true, &pkts);
    let full = read_checked(&file);
    assert!(full.error.is_none());
    let offsets: Vec<u64> = full.packets.iter().map(|(o, _)| *o).collect();
    let starts = block_starts(&file);
    for cut in 0..file.len() {
        let part = &file[..cut];
        let o = read_checked(part);
        // The block the cut falls in starts at the greatest start <= cut.
        let block = *starts.iter().rev().find(|&&s| s <= cut).unwrap();
        let complete = offsets.iter().filter(|&&off| {
            let next = starts
                .iter()
                .find(|&&s| s > off as usize)
                .copied()
                .unwrap_or(file.len());
            next <= cut
        });
        let want: Vec<u64> = complete.copied().collect();
        let got: Vec<u64> = o.packets.iter().map(|(off, _)| *off).collect();
        assert_eq!(got, want, "cut at {cut}");
        for ((_, meta), p) in o.packets.iter().zip(&pkts) {
            assert_eq!(meta, &p.meta, "cut at {cut}");
        }
        if cut == block && cut != 0 {
            assert!(
                o.error.is_none(),
                "a cut at a block boundary ({cut}) is a valid shorter file"
            );
        } else {
            let e = o.error.unwrap_or_else(|| panic!("cut at {cut}: no error"));
            assert_eq!(e.offset, block as u64, "cut at {cut}: {e}");
            assert!(
                matches!(
                    e.kind,
                    ReadErrorKind::Truncated | ReadErrorKind::NotACapture
                ),
                "cut at {cut}: {e}"
            );
        }
    }
}

/// Absurd lengths at every block and every option of a valid file.
#[test]
fn absurd_block_and_option_lengths() {
    let file = write_file(config(5), 1, false, &small_packets(4, 1, false));
    let starts = block_starts(&file);
    for &at in &starts[..starts.len() - 1] {
        for bad in [0u32, 4, 12, 13, 0xffff_fff0, 0xffff_ffff, 0x8000_0000] {
            for field in [
                at + 4,
                at + u32::from_le_bytes(file[at + 4..at + 8].try_into().unwrap()) as usize - 4,
            ] {
                let mut f = file.clone();
                f[field..field + 4].copy_from_slice(&bad.to_le_bytes());
                let o = read_checked(&f);
                assert!(
                    o.error.is_some() || o.packets.len() == 4,
                    "block at {at}, length {bad}"
                );
            }
        }
        // EPB: absurd captured length.
        if u32::from_le_bytes(file[at..at + 4].try_into().unwrap()) == code::BLOCK_EPB {
            for bad in [u32::MAX, u32::MAX - 2, 0x7fff_ffff, 70000] {
                let mut f = file.clone();
                f[at + 20..at + 24].copy_from_slice(&bad.to_le_bytes());
                let o = read_checked(&f);
                assert_eq!(o.error.map(|e| e.kind), Some(ReadErrorKind::Damaged));
            }
        }
    }
    // Every 4-aligned position taken as an option length of 0xffff (hits every real option).
    for at in (0..file.len()).step_by(2) {
        let mut f = file.clone();
        f[at..at + 2].copy_from_slice(&0xffffu16.to_le_bytes());
        read_checked(&f);
    }
}

/// Garbage in the structured options: MetaReader counts it, never panics.
#[test]
fn malformed_structured_metadata_is_counted() {
    use formats::pcapng::RawOptions;
    let pen = formats::pcapng::PTCAP_PEN.to_le_bytes();
    let opt = |c: u16, v: &[u8]| {
        let mut b = c.to_le_bytes().to_vec();
        b.extend_from_slice(&(v.len() as u16).to_le_bytes());
        b.extend_from_slice(v);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        b
    };
    let with_pen = |d: &[u8]| [&pen[..], d].concat();
    let cases: Vec<Vec<u8>> = vec![
        opt(code::OPT_CUSTOM_BINARY, &with_pen(&[1, 1, 0xff, 0xff, 0xff, 0xff, 0xff])),
        opt(code::OPT_CUSTOM_BINARY, &with_pen(&[9, 1, 0, 0, 0, 0, 0, 0])),
        opt(code::OPT_CUSTOM_BINARY, &with_pen(&[1, 200, 0, 0, 0, 0, 0, 0])),
        opt(code::OPT_CUSTOM_BINARY, &pen[..2]),
        opt(code::OPT_CUSTOM_UTF8, &with_pen(b"{\"ptcap\":1,\"scope\":1,\"id\":1,\"kind\":\"process\",\"v\":{\"pid\":\"x\"}}")),
        opt(code::OPT_CUSTOM_UTF8, &with_pen(b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[")),
        opt(code::OPT_CUSTOM_UTF8, &with_pen(&[0xff, 0xfe])),
        opt(code::OPT_COMMENT, b"PID: 99999999999999\nContainerLabels: {\"a\":"),
    ];
    let mut m = MetaReader::new();
    for c in &cases {
        let meta = m.decode(&RawOptions::new(c, false));
        assert!(meta.process.is_none(), "{c:?}");
    }
    assert_eq!(m.stats().malformed, 7, "{:?}", m.stats());
    // A valid record naming undefined ids: empty entities, counted.
    let rec = opt(
        code::OPT_CUSTOM_BINARY,
        &with_pen(&[1, 1, 5, 1, 2, 3, 4, 0]),
    );
    let meta = m.decode(&RawOptions::new(&rec, false));
    assert!(meta.is_empty());
    assert_eq!(meta.provenance, formats::meta::Provenance::SocketCookie);
    assert_eq!(m.stats().unresolved, 4);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        read_checked(&bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_header_never_panic(
        which in 0usize..5,
        tail in proptest::collection::vec(any::<u8>(), 0..1024),
    ) {
        let seeds = seeds();
        let s = &seeds[which % seeds.len()];
        // Keep the first block (the SHB or pcap header) and put garbage after it.
        let head = block_starts(s).get(1).copied().unwrap_or(24).min(s.len());
        let mut f = s[..head].to_vec();
        f.extend_from_slice(&tail);
        read_checked(&f);
    }

    #[test]
    fn bit_flips_never_panic(which in 0usize..5, flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..8)) {
        let seeds = seeds();
        let mut f = seeds[which % seeds.len()].clone();
        for (pos, bit) in flips {
            let n = f.len();
            f[pos % n] ^= 1 << bit;
        }
        read_checked(&f);
    }

    #[test]
    fn random_options_never_panic_meta_reader(opts in proptest::collection::vec(
        (prop_oneof![Just(1u16), Just(2988u16), Just(2989u16), any::<u16>()],
         proptest::collection::vec(any::<u8>(), 0..64)), 0..8),
        big_endian in any::<bool>(),
    ) {
        let pen = formats::pcapng::PTCAP_PEN.to_le_bytes();
        let mut bytes = Vec::new();
        for (c, mut v) in opts {
            if c >= 2988 && v.len() >= 4 && v[0] % 2 == 0 {
                v[..4].copy_from_slice(&pen);
            }
            let put16 = |b: &mut Vec<u8>, x: u16| b.extend_from_slice(&if big_endian { x.to_be_bytes() } else { x.to_le_bytes() });
            put16(&mut bytes, c);
            put16(&mut bytes, v.len() as u16);
            bytes.extend_from_slice(&v);
            while bytes.len() % 4 != 0 { bytes.push(0); }
        }
        let mut m = MetaReader::new();
        m.learn_definitions(&formats::pcapng::RawOptions::new(&bytes, big_endian));
        m.decode(&formats::pcapng::RawOptions::new(&bytes, big_endian));
    }
}
