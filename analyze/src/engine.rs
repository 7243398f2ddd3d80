//! The parallel scan: each input is cut into chunks at verified block boundaries, a first pass
//! collects what later chunks need (sections, interfaces, metadata definitions), and the main
//! pass reads, decodes, filters and observes chunks in parallel, a bounded window of chunks
//! ahead of the one the output takes. Results come
//! back in file order; several inputs are merged by timestamp.
//!
//! Chunking depends only on the input and the chunk size, never on the thread count, so `-j 1`
//! and `-j N` produce the same chunks and the same output.
//!
//! A listing that needs nothing from the whole input (no owner filter, report or `-w`) is
//! planned as it goes instead ([`plan_streaming`]): the first chunk is small and is read as
//! soon as it is framed, so the first line comes at once whatever the file's size.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use rayon::prelude::*;
use rayon::ScopeFifo;

use formats::meta::{ContainerInfo, LateResolutions, MetaReader, PacketMeta};
use formats::pcapng::read::{find_boundary, ReadErrorKind};
use formats::pcapng::{code, CaptureReader, Direction, Interface, RawOptions, ReadError};
use formats::wire::flow::PacketSummary;

use crate::filter::{Expression, OwnerCache, OwnerFilter};
use crate::input::Input;

/// The error for an input that shrank while being read: `offset` is the first block not
/// read (everything before it was).
pub fn shrank(input: &Input, offset: u64) -> ReadError {
    let now = input.limit().min(input.len());
    ReadError {
        offset,
        kind: ReadErrorKind::Truncated,
        message: format!(
            "the file shrank while being read (from {} to {now} bytes); the packets before this \
             offset were read, the rest was not: read it again once nothing rewrites it",
            input.len()
        ),
    }
}

/// `e`, or the shrink error where the file shrank below the bytes `e` is about.
fn shrank_or(input: &Input, e: ReadError) -> ReadError {
    let limit = input.check_size();
    if limit < input.len() && e.offset + 64 > limit {
        shrank(input, e.offset.min(limit))
    } else {
        e
    }
}

/// One packet as the per-chunk work sees it (metadata decoded).
pub struct PacketView<'a, 'm> {
    pub file: usize,
    pub offset: u64,
    pub ts_ns: u64,
    /// Index into the input's interfaces (for per-interface rollups).
    #[allow(dead_code)]
    pub interface: u32,
    pub link_type: u16,
    pub interface_name: Option<&'a str>,
    pub orig_len: u32,
    pub data: &'a [u8],
    pub direction: Option<Direction>,
    pub meta: &'m PacketMeta,
}

/// What a run computes per chunk besides keeping packets: flows, rollups, JSON lines.
/// `Acc` is a chunk's accumulator; chunks' accumulators are merged in file order.
pub trait Work: Sync {
    type Acc: Send;
    fn new_acc(&self) -> Self::Acc;
    /// Called for every packet that passed the filters, in file order within the chunk.
    /// `text` is the chunk's text buffer: what is appended here is the packet's line(s).
    fn observe(&self, acc: &mut Self::Acc, pkt: &PacketView<'_, '_>, text: &mut Vec<u8>);
}

/// A kept packet, borrowed from its input's bytes.
pub struct Kept<'a> {
    /// Where its block (or record) starts and ends in the input.
    pub offset: u64,
    pub end: u64,
    pub ts_ns: u64,
    pub interface: u32,
    pub link_type: u16,
    pub orig_len: u32,
    pub data: &'a [u8],
    pub direction: Option<Direction>,
    pub meta: PacketMeta,
    /// Its IP summary, made while its bytes are in the cache, when [`Selection::summaries`]
    /// asks (the packet table's columns); `None` otherwise and for packets without IP.
    pub summary: Option<PacketSummary>,
    /// This packet's bytes in its chunk's `text`.
    pub text: Range<usize>,
}

/// One chunk's results.
pub struct ChunkResult<'a, A> {
    /// The chunk's bytes in its input.
    pub range: Range<u64>,
    pub bytes: u64,
    pub kept: Vec<Kept<'a>>,
    pub text: Vec<u8>,
    pub acc: A,
    pub packets: u64,
    pub matched: u64,
    /// Packets skipped because the expression cannot apply to their link type.
    pub skipped_links: BTreeMap<u16, u64>,
    pub error: Option<ReadError>,
    /// The interfaces of the chunk's packets, at their global indices (`Kept::interface`).
    pub interfaces: Arc<Vec<Interface>>,
    /// Some container of the chunk's definitions is known by id only (see
    /// `formats::meta::LateResolutions`).
    id_only: bool,
}

/// What to keep and how to filter.
pub struct Selection<'e> {
    pub owners: OwnerFilter,
    pub expression: Option<&'e Expression>,
    /// Keep matching packets (listing, -w).
    pub keep: bool,
    /// Summarize the kept packets' IP headers (`Kept::summary`), for the packet table.
    pub summaries: bool,
    /// `-Q`: only packets of this direction.
    pub direction: Option<Direction>,
    /// `-i`: only packets of these interfaces (by name; empty: all).
    pub interfaces: Vec<String>,
}

impl Selection<'_> {
    /// `-Q` and `-i`: whether a packet of `iface` with direction `dir` (epb_flags, else the
    /// cooked header's packet type) passes.
    fn link_keeps(
        &self,
        iface: Option<&str>,
        dir: Option<Direction>,
        link: u16,
        data: &[u8],
    ) -> bool {
        if !self.interfaces.is_empty()
            && !iface.is_some_and(|n| self.interfaces.iter().any(|i| i == n))
        {
            return false;
        }
        match self.direction {
            None => true,
            Some(want) => dir.or_else(|| cooked_direction(link, data)) == Some(want),
        }
    }
}

/// The direction a cooked header (SLL, SLL2) states: outgoing, or to this host (also
/// broadcast, multicast, other host).
fn cooked_direction(link: u16, data: &[u8]) -> Option<Direction> {
    let t = match link {
        formats::pcapng::linktype::LINUX_SLL => u16::from_be_bytes([*data.first()?, *data.get(1)?]),
        formats::pcapng::linktype::LINUX_SLL2 => u16::from(*data.get(10)?),
        _ => return None,
    };
    Some(if t == 4 {
        Direction::Out
    } else {
        Direction::In
    })
}

#[derive(Clone)]
struct Chunk<'a> {
    start: u64,
    end: u64,
    reader: CaptureReader<'a>,
    meta: MetaReader,
}

/// One input, planned: chunks with the reader state at each start.
pub struct Source<'a> {
    pub data: &'a [u8],
    /// The input the bytes are of: whether they are still the file's (see `input`).
    pub input: &'a Input,
    chunks: Vec<Arc<Chunk<'a>>>,
    /// Planned as the chunks are read ([`plan_streaming`]); taken by the input's stream.
    planner: Mutex<Option<Planner<'a>>>,
    /// Every interface of the input, in the reader's (global) numbering (planned as it goes:
    /// only those before the first packet).
    pub interfaces: Vec<Interface>,
    /// Timestamp of the first packet, to merge inputs.
    pub first_ts: Option<u64>,
    /// Every container the input defines (structured metadata; none in comment-only files).
    pub containers: Vec<ContainerInfo>,
    /// Fuller definitions of containers some packets know by id only (see
    /// `formats::meta::LateResolutions`), from this whole input.
    pub late: Arc<LateResolutions>,
}

impl Source<'_> {
    /// Resolves id-only containers of every chunk with `late` (what all inputs of the capture
    /// say, so a container reported in a later rotated file names its first packets too).
    pub fn set_late_resolutions(&mut self, late: &Arc<LateResolutions>) {
        for c in &mut self.chunks {
            Arc::get_mut(c)
                .expect("late resolutions are set before the input is read")
                .meta
                .set_late_resolutions(Arc::clone(late));
        }
    }
}

/// The late resolutions of all inputs of a run, computed (by planning every input whole) the
/// first time a streamed input meets a container known by id only. Until then a streamed
/// listing reads nothing ahead; after, it gives the same answers as a planned one.
pub struct LateOnDemand<'a> {
    inputs: Vec<&'a Input>,
    chunk_size: u64,
    late: std::sync::OnceLock<Arc<LateResolutions>>,
}

impl<'a> LateOnDemand<'a> {
    pub fn new(inputs: Vec<&'a Input>, chunk_size: u64) -> Self {
        LateOnDemand {
            inputs,
            chunk_size,
            late: std::sync::OnceLock::new(),
        }
    }

    /// What all inputs say, the later input winning (inputs in the order of their first
    /// packets, as a planned run merges them).
    fn get(&self) -> Arc<LateResolutions> {
        let late = self.late.get_or_init(|| {
            let mut planned: Vec<(Option<u64>, Arc<LateResolutions>)> = self
                .inputs
                .iter()
                .filter_map(|i| plan(i, self.chunk_size).ok())
                .map(|s| (s.first_ts, s.late))
                .collect();
            planned.sort_by_key(|p| p.0);
            let mut all = LateResolutions::default();
            for (_, l) in &planned {
                all.merge(l);
            }
            Arc::new(all)
        });
        Arc::clone(late)
    }
}

/// Plans an input as its chunks are read: each chunk's starting state comes from walking the
/// one before (a framing walk, much cheaper than reading). Chunks start small and double up to
/// the chunk size, so the first packets are read at once.
struct Planner<'a> {
    /// Reader state at `next` (sections, interfaces).
    state: CaptureReader<'a>,
    meta: MetaReader,
    next: u64,
    len: u64,
    size: u64,
    max_size: u64,
    done: bool,
    pending: VecDeque<Chunk<'a>>,
}

impl<'a> Planner<'a> {
    /// Chunks planned in a batch per call of [`Planner::next_chunk`] with none left: their
    /// readers are made at the end of the batch from the state after it, so they share one
    /// interface table (one per batch instead of a copy per chunk in a file of many
    /// interfaces).
    const BATCH: usize = 6;

    fn next_chunk(&mut self) -> Option<Chunk<'a>> {
        if self.pending.is_empty() {
            self.plan_batch();
        }
        self.pending.pop_front()
    }

    fn plan_batch(&mut self) {
        let mut planned = Vec::with_capacity(Self::BATCH);
        while planned.len() < Self::BATCH && !self.done && self.next < self.len {
            let start = self.next;
            let scan = scan_chunk(&self.state, start, (start + self.size).min(self.len));
            self.size = (self.size * 2).min(self.max_size);
            let failed = scan.error.is_some();
            let end = if failed { self.len } else { scan.end };
            planned.push((start, end, self.state.checkpoint(), self.meta.clone()));
            for &at in &scan.structure {
                if self.state.apply_block(at).is_err() {
                    break;
                }
            }
            for opts in &scan.definitions {
                self.meta.learn_definitions(opts);
            }
            if failed || scan.end <= start {
                self.done = true;
            }
            self.next = scan.end;
        }
        for (start, end, at, meta) in planned {
            self.pending.push_back(Chunk {
                start,
                end,
                reader: self.state.at_checkpoint(at).resume_at(start),
                meta,
            });
        }
    }
}

/// Plans one input to be read as it is planned (see [`Planner`]): nothing of the whole input is
/// known beforehand, so no late resolutions, no container list, and only the interfaces
/// before the first packet. The error is a file that is no capture.
pub fn plan_streaming<'a>(input: &'a Input, chunk_size: u64) -> Result<Source<'a>, ReadError> {
    let data = input.bytes();
    let head = CaptureReader::new(data).map_err(|e| shrank_or(input, e))?;
    let first_ts = head.clone().next_packet().ok().flatten().map(|p| p.ts_ns);
    let max_size = chunk_size.max(64);
    let planner = Planner {
        state: head.clone(),
        meta: MetaReader::new(),
        next: head.position(),
        len: data.len() as u64,
        size: max_size.min(64 << 10),
        max_size,
        done: false,
        pending: VecDeque::new(),
    };
    Ok(Source {
        data,
        input,
        chunks: Vec::new(),
        planner: Mutex::new(Some(planner)),
        interfaces: head.interfaces().to_vec(),
        first_ts,
        containers: Vec::new(),
        late: Arc::default(),
    })
}

/// First-pass result of one chunk.
struct Scan<'a> {
    start: u64,
    start_big_endian: bool,
    end: u64,
    end_big_endian: bool,
    structure: Vec<u64>,
    definitions: Vec<RawOptions<'a>>,
    error: Option<ReadError>,
}

fn scan_chunk<'a>(base: &CaptureReader<'a>, start: u64, end: u64) -> Scan<'a> {
    let mut r = base.resume_at(start);
    let start_big_endian = r.is_big_endian();
    let mut scan = Scan {
        start,
        start_big_endian,
        end: start,
        end_big_endian: start_big_endian,
        structure: Vec::new(),
        definitions: Vec::new(),
        error: None,
    };
    while r.position() < end {
        match r.next_block() {
            Ok(Some(b)) => {
                if CaptureReader::is_structure_block(&b) {
                    scan.structure.push(b.offset);
                } else if b.block_type == code::BLOCK_EPB || b.block_type == code::BLOCK_PB {
                    let opts = b.packet_options();
                    if opts.iter().any(|(c, _)| c == code::OPT_CUSTOM_UTF8) {
                        scan.definitions.push(opts);
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                scan.error = Some(e);
                break;
            }
        }
    }
    scan.end = r.position();
    scan.end_big_endian = r.is_big_endian();
    scan
}

/// Plans one input: finds chunk boundaries from split points (in parallel), verifies them in
/// order, and computes each chunk's starting state. The error is a file that is no capture.
/// `release(start, end)` is called for byte ranges the first pass is done with.
pub fn plan<'a>(input: &'a Input, chunk_size: u64) -> Result<Source<'a>, ReadError> {
    let data = input.bytes();
    let release = |a, b| input.release(a, b);
    let head = CaptureReader::new(data).map_err(|e| shrank_or(input, e))?;
    let first_ts = head.clone().next_packet().ok().flatten().map(|p| p.ts_ns);
    // Learn the first section's byte order before looking for boundaries.
    let mut probe = head.clone();
    let _ = probe.next_block();
    let probe = probe.resume_at(head.position());
    let len = data.len() as u64;
    let chunk_size = chunk_size.max(64);
    let splits: Vec<u64> = (1..len.div_ceil(chunk_size))
        .map(|k| k * chunk_size)
        .collect();
    let found: Vec<Option<u64>> = splits
        .par_iter()
        .map(|&s| find_boundary(data, s, s + chunk_size, &probe))
        .collect();
    let mut starts = vec![head.position()];
    for b in found.into_iter().flatten() {
        if b > *starts.last().unwrap() {
            starts.push(b);
        }
    }
    let ends: Vec<u64> = starts.iter().skip(1).copied().chain([len]).collect();
    let scans: Vec<Scan<'a>> = starts
        .par_iter()
        .zip(ends.par_iter())
        .map(|(&s, &e)| {
            let scan = scan_chunk(&probe, s, e);
            release(s, scan.end);
            scan
        })
        .collect();

    // Verify in order: chunk k's walk from its (verified) start must end exactly where chunk
    // k+1 starts. Where it does not (a false boundary, or a section in another byte order),
    // the next chunk is walked again from the real boundary.
    let mut state = head.clone();
    let mut meta = MetaReader::new();
    // (start, end, reader state at start, definitions at start); the readers are made at the
    // end from the final state, so they share its interface table instead of each copying it.
    let mut planned = Vec::with_capacity(scans.len());
    let mut expected = head.position();
    let mut scans = scans.into_iter().peekable();
    while expected < len {
        while scans.peek().is_some_and(|s| s.start < expected) {
            scans.next();
        }
        let end = ends.iter().copied().find(|&e| e > expected).unwrap_or(len);
        let scan = match scans.peek() {
            Some(s) if s.start == expected && s.start_big_endian == state.is_big_endian() => {
                scans.next().unwrap()
            }
            _ => scan_chunk(&state, expected, end),
        };
        let failed = scan.error.is_some();
        planned.push((
            expected,
            if failed { len } else { scan.end },
            state.checkpoint(),
            meta.clone(),
        ));
        for &at in &scan.structure {
            if state.apply_block(at).is_err() {
                break;
            }
        }
        for opts in &scan.definitions {
            meta.learn_definitions(opts);
        }
        // Reading the section headers, interfaces and definitions again brought their pages
        // back (with the kernel's fault-around, a third of a file of small sections).
        if !scan.structure.is_empty() || !scan.definitions.is_empty() {
            release(expected, scan.end);
        }
        if failed || scan.end <= expected {
            break;
        }
        expected = scan.end;
    }
    let mut chunks: Vec<Chunk<'a>> = planned
        .into_iter()
        .map(|(start, end, at, meta)| Chunk {
            start,
            end,
            // The state's own position stays where it started (apply_block does not move it).
            reader: state.at_checkpoint(at).resume_at(start),
            meta,
        })
        .collect();
    let mut interfaces = state.interfaces().to_vec();
    if interfaces.is_empty() {
        interfaces = head.interfaces().to_vec();
    }
    let mut containers: Vec<ContainerInfo> = meta.containers().cloned().collect();
    containers.sort_by(|a, b| a.id.cmp(&b.id));
    containers.dedup_by(|a, b| a.id == b.id);
    let late = meta.late_resolutions();
    for c in &mut chunks {
        c.meta.set_late_resolutions(Arc::clone(&late));
    }
    Ok(Source {
        data,
        input,
        chunks: chunks.into_iter().map(Arc::new).collect(),
        planner: Mutex::new(None),
        interfaces,
        first_ts,
        containers,
        late,
    })
}

/// Reads one chunk. When the file shrank below the chunk's end meanwhile (checked with
/// `fstat` once the chunk is read, so any byte read before the check was the file's), the
/// chunk is read again seeing only the bytes below the new end, and ends with the shrink
/// error.
fn run_chunk<'a, W: Work>(
    file: usize,
    chunk: &Chunk<'a>,
    sel: &Selection<'_>,
    work: &W,
    input: &Input,
) -> ChunkResult<'a, W::Acc> {
    let res = read_chunk(file, chunk, sel, work, None);
    let mut limit = input.check_size();
    if limit >= chunk.end {
        return res;
    }
    loop {
        let mut res = read_chunk(file, chunk, sel, work, Some(limit));
        let now = input.check_size();
        if now >= limit {
            let at = res
                .error
                .take()
                .map_or(limit, |e| e.offset)
                .max(chunk.start);
            res.error = Some(shrank(input, at));
            return res;
        }
        limit = now;
    }
}

fn read_chunk<'a, W: Work>(
    file: usize,
    chunk: &Chunk<'a>,
    sel: &Selection<'_>,
    work: &W,
    limit: Option<u64>,
) -> ChunkResult<'a, W::Acc> {
    let mut r = match limit {
        Some(l) => chunk.reader.limited_to(l.max(chunk.start)),
        None => chunk.reader.clone(),
    };
    let mut meta = chunk.meta.fork();
    let mut owners = OwnerCache::default();
    let mut res = ChunkResult {
        range: chunk.start..chunk.end,
        bytes: chunk.end - chunk.start,
        kept: Vec::new(),
        text: Vec::new(),
        acc: work.new_acc(),
        packets: 0,
        matched: 0,
        skipped_links: BTreeMap::new(),
        error: None,
        interfaces: Arc::default(),
        id_only: false,
    };
    let filter_owners = !sel.owners.is_empty();
    loop {
        let pkt = match r.next_packet() {
            Ok(Some(p)) if p.offset < chunk.end => p,
            Ok(_) => break,
            Err(e) => {
                if e.offset < chunk.end || e.kind == ReadErrorKind::NotACapture {
                    res.error = Some(e);
                }
                break;
            }
        };
        res.packets += 1;
        let iface = r.interfaces().get(pkt.interface as usize);
        let link_type = iface.map(|i| i.link_type).unwrap_or(1);
        if (sel.direction.is_some() || !sel.interfaces.is_empty())
            && !sel.link_keeps(
                iface.and_then(|i| i.name.as_deref()),
                pkt.direction,
                link_type,
                pkt.data,
            )
        {
            meta.learn_definitions(&pkt.options);
            continue;
        }
        if let Some(expr) = sel.expression {
            match expr.program(link_type) {
                Ok(prog) => {
                    if !prog.accepts(pkt.data, pkt.orig_len) {
                        meta.learn_definitions(&pkt.options);
                        continue;
                    }
                }
                Err(_) => {
                    *res.skipped_links.entry(link_type).or_insert(0) += 1;
                    meta.learn_definitions(&pkt.options);
                    continue;
                }
            }
        }
        let m = meta.decode(&pkt.options);
        if filter_owners && !owners.matches(&sel.owners, &m) {
            continue;
        }
        res.matched += 1;
        let text_start = res.text.len();
        let view = PacketView {
            file,
            offset: pkt.offset,
            ts_ns: pkt.ts_ns,
            interface: pkt.interface,
            link_type,
            interface_name: iface
                .and_then(|i| i.name.as_deref())
                .filter(|n| !n.is_empty()),
            orig_len: pkt.orig_len,
            data: pkt.data,
            direction: pkt.direction,
            meta: &m,
        };
        work.observe(&mut res.acc, &view, &mut res.text);
        if sel.keep {
            res.kept.push(Kept {
                offset: pkt.offset,
                end: r.position(),
                ts_ns: pkt.ts_ns,
                interface: pkt.interface,
                link_type,
                orig_len: pkt.orig_len,
                data: pkt.data,
                direction: pkt.direction,
                meta: m,
                summary: if sel.summaries {
                    formats::wire::flow::summarize(link_type, pkt.data)
                } else {
                    None
                },
                text: text_start..res.text.len(),
            });
        }
    }
    res.interfaces = r.interface_table();
    res.id_only = meta.has_id_only_containers();
    res
}

/// Runs pending pool work until `ready` finds its value under `lock`; sleeps on `cv` (2 ms at
/// most) only when there is no pending work, i.e. when what it waits for runs elsewhere. With
/// one thread the awaited task is among the pending work, so nothing deadlocks.
fn help_until<S, T>(
    lock: &Mutex<S>,
    cv: &Condvar,
    mut ready: impl FnMut(&mut S) -> Option<T>,
) -> T {
    let guard = || lock.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(v) = ready(&mut guard()) {
            return v;
        }
        if rayon::yield_now() == Some(rayon::Yield::Executed) {
            continue;
        }
        let mut g = guard();
        if let Some(v) = ready(&mut g) {
            return v;
        }
        let _ = cv.wait_timeout(g, Duration::from_millis(2));
    }
}

/// One value a pool task will produce. A panic in the task is re-raised in the thread that
/// takes the value (left alone, it would surface only when the scope ends, and the taker
/// would wait for the value forever).
pub struct Promise<T> {
    value: Mutex<Option<std::thread::Result<T>>>,
    set: Condvar,
}

impl<T> Default for Promise<T> {
    fn default() -> Self {
        Promise {
            value: Mutex::new(None),
            set: Condvar::new(),
        }
    }
}

impl<T> Promise<T> {
    /// Runs `f` (in the task) and keeps its value, or its panic.
    pub fn fulfil(&self, f: impl FnOnce() -> T) {
        let v = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        *self.value.lock().unwrap_or_else(|e| e.into_inner()) = Some(v);
        self.set.notify_all();
    }

    /// The value if it is there.
    pub fn try_take(&self) -> Option<T> {
        let v = self.value.lock().unwrap_or_else(|e| e.into_inner()).take();
        v.map(unwind)
    }

    /// The value; meanwhile this thread runs other pending pool work.
    pub fn take(&self) -> T {
        unwind(help_until(&self.value, &self.set, Option::take))
    }
}

fn unwind<T>(v: std::thread::Result<T>) -> T {
    v.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Reads one source's chunks in order, keeping up to `window` chunks in flight on the pool
/// (a sliding window, not waves: no thread waits for the slowest chunk of a wave).
pub struct Stream<'s, 'a, W: Work> {
    file: usize,
    source: &'s Source<'a>,
    /// Where the chunks come from when the input is planned as it is read.
    planner: Option<Planner<'a>>,
    next_spawn: usize,
    window: usize,
    /// Chunks in flight, in order.
    in_flight: VecDeque<InFlight<'a, W::Acc>>,
    /// A streamed input's late resolutions, once it needs them.
    late: Option<&'s LateOnDemand<'a>>,
    upgraded: bool,
    /// Set when the output needs no more chunks: tasks not started yet do nothing.
    cancelled: Arc<AtomicBool>,
    done: bool,
}

struct InFlight<'a, A> {
    chunk: Arc<Chunk<'a>>,
    result: Arc<Promise<ChunkResult<'a, A>>>,
}

impl<'s, 'a, W: Work> Stream<'s, 'a, W> {
    /// `late`: where a streamed input takes the whole run's late resolutions from.
    pub fn new(
        file: usize,
        source: &'s Source<'a>,
        window: usize,
        late: Option<&'s LateOnDemand<'a>>,
    ) -> Self {
        let planner = source
            .planner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        Stream {
            file,
            source,
            planner,
            next_spawn: 0,
            window: window.max(1),
            in_flight: VecDeque::new(),
            late,
            upgraded: false,
            cancelled: Arc::new(AtomicBool::new(false)),
            done: false,
        }
    }

    /// No more chunks are needed: tasks already spawned and not started do nothing.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    fn spawn<'scope>(
        &mut self,
        scope: &ScopeFifo<'scope>,
        sel: &'scope Selection<'scope>,
        work: &'scope W,
        chunk: Arc<Chunk<'a>>,
    ) where
        's: 'scope,
        'a: 'scope,
    {
        let (file, input) = (self.file, self.source.input);
        let result = Arc::new(Promise::default());
        let task = Arc::clone(&result);
        let cancelled = Arc::clone(&self.cancelled);
        let c = Arc::clone(&chunk);
        scope.spawn_fifo(move |_| {
            if !cancelled.load(Ordering::Relaxed) {
                task.fulfil(|| run_chunk(file, &c, sel, work, input));
            }
        });
        self.in_flight.push_back(InFlight { chunk, result });
    }

    /// The next chunk's results, or `None` after the last chunk (or after a damaged one).
    /// Chunks are read by tasks of `scope`, up to `window` ahead of the one taken.
    pub fn next_chunk<'scope>(
        &mut self,
        scope: &ScopeFifo<'scope>,
        sel: &'scope Selection<'scope>,
        work: &'scope W,
    ) -> Option<ChunkResult<'a, W::Acc>>
    where
        's: 'scope,
        'a: 'scope,
    {
        if self.done {
            return None;
        }
        while self.in_flight.len() < self.window {
            let chunk = match &mut self.planner {
                Some(p) => match p.next_chunk() {
                    Some(c) => Arc::new(c),
                    None => break,
                },
                None => match self.source.chunks.get(self.next_spawn) {
                    Some(c) => Arc::clone(c),
                    None => break,
                },
            };
            self.next_spawn += 1;
            self.spawn(scope, sel, work, chunk);
        }
        let front = self.in_flight.pop_front()?;
        let r = front.result.take();
        if r.id_only && !self.upgraded && self.planner.is_some() {
            if let Some(late) = self.late {
                // A container known by id only: the whole run's definitions name it. The
                // chunks read so far without them are read again with them.
                self.upgraded = true;
                let late = late.get();
                if let Some(p) = &mut self.planner {
                    p.meta.set_late_resolutions(Arc::clone(&late));
                    for c in &mut p.pending {
                        c.meta.set_late_resolutions(Arc::clone(&late));
                    }
                }
                self.cancel();
                self.cancelled = Arc::new(AtomicBool::new(false));
                let again: Vec<Arc<Chunk<'a>>> = std::iter::once(front.chunk)
                    .chain(self.in_flight.drain(..).map(|f| f.chunk))
                    .collect();
                for c in again {
                    let mut c = (*c).clone();
                    c.meta.set_late_resolutions(Arc::clone(&late));
                    self.spawn(scope, sel, work, Arc::new(c));
                }
                return self.next_chunk(scope, sel, work);
            }
        }
        if r.error.is_some() {
            // What follows the damage is not read.
            self.done = true;
            self.cancel();
        }
        Some(r)
    }
}
