//! pcapng output files with tcpdump's rotation: `-C SIZE` (millions of bytes), `-W N` (a ring
//! of N files with -C; at most N files with -G), `-G SECONDS` (strftime names).
//!
//! Names are tcpdump's: with -C alone `FILE`, `FILE1`, `FILE2`...; with -C -W N the number is
//! always there, zero-padded to the digits of N-1 (`FILE0`..`FILE9` for -W 10); with -G the
//! name is first passed through strftime(3) at the file's start time, and -G -W without -C
//! appends no number (tcpdump: "We do not need numbering for dumpfiles if Cflag isn't set").
//!
//! `-G` rotates on whole-second boundaries of the wall clock, as tcpdump does (it compares
//! time(2) seconds): file k starts at exactly start + k*G seconds (the start second taken
//! whole) and is named for that second, so names never drift and never skip while ptcap runs,
//! also when no packet comes (the loop's 100 ms tick rotates then). Periods during which the
//! process did not run at all (stopped) get no file.
//!
//! With rotation each file is written under a temporary name in the same directory
//! (`.NAME.part`) and renamed to NAME when it is complete (closed with its ISBs, or cut back to
//! its last complete block after a write error), so a reader or a `-W` ring never sees a
//! half-written file under a final name, and a ring file being replaced stays whole until its
//! successor is complete. A SIGKILLed ptcap leaves its last file as `.NAME.part`, readable up
//! to its last flushed batch. Without rotation `-w FILE` is written under its own name from the
//! start: that file is the live one readers follow while it grows (`tail -c +0 -f FILE |
//! tcpdump -r -`), as with tcpdump, and `-w -` is a stream.
//!
//! Every file stands alone: a new [`PcapngWriter`] per file writes its own SHB and the IDBs of
//! the interfaces active then, and re-emits metadata definitions. A rotation happens between
//! two packets, in the one thread that writes them, so no packet is lost or written twice.
//!
//! After a write error (disk full) the file is cut back to the end of its last complete block
//! (the bytes the OS accepted are counted below the buffer), so readers see every packet up to
//! there and no torn block.
//!
//! This module owns the file sink ([`FileSink`]); [`crate::output`] uses it. The sink knows
//! the capture's interfaces only through [`InterfaceTable`] (their IDBs and ISB counters),
//! which the output's interface table implements, and reports failures as [`FileError`].

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Write};
use std::rc::Rc;

use formats::meta::PacketMeta;
use formats::pcapng::write::{InterfaceSpec, PcapngWriter, WriterConfig};
use formats::pcapng::{Direction, InterfaceStats};
use formats::table::IdMap;

/// What a file needs to know of the interfaces it describes: each new file's IDBs (of the
/// interfaces attached then), and each ISB's counters when a file closes or an interface goes.
pub(crate) trait InterfaceTable {
    /// The attached interfaces' ifindexes, in the order of a new file's IDBs.
    fn ifindexes(&self) -> Vec<u32>;
    /// The IDB of an attached interface.
    fn spec(&self, ifindex: u32) -> Option<InterfaceSpec>;
    /// The counters for an attached interface's ISB.
    fn stats(&self, ifindex: u32) -> Option<InterfaceStats>;
}

/// A file (or the `-w -` stream) failed.
#[derive(Debug)]
pub struct FileError {
    /// The file's name, or "standard output".
    pub what: String,
    pub error: io::Error,
    /// The reader went away (closed pipe): stop quietly.
    pub quiet: bool,
}

/// Writes the ISBs of the interfaces a file describes (ids in `ids`: ifindex → IDB number).
fn write_isbs<W: Write>(
    w: &mut PcapngWriter<W>,
    ifs: &impl InterfaceTable,
    ids: &IdMap<u32, u32>,
    start_ns: u64,
    end_ns: u64,
) -> io::Result<()> {
    let mut ordered: Vec<(u32, u32)> = ids.iter().map(|(ix, id)| (*id, *ix)).collect();
    ordered.sort();
    for (id, ix) in ordered {
        let Some(st) = ifs.stats(ix) else {
            continue;
        };
        w.write_stats(id, &st, Some(start_ns), Some(end_ns))?;
    }
    Ok(())
}

/// Rotation settings (all off by default).
#[derive(Debug, Clone, Default)]
pub struct Rotation {
    /// `-C`: start a new file once the current one is larger than this many bytes.
    pub size_bytes: Option<u64>,
    /// `-W`.
    pub count: Option<u32>,
    /// `-G`.
    pub seconds: Option<u64>,
}

impl Rotation {
    pub fn is_on(&self) -> bool {
        self.size_bytes.is_some() || self.seconds.is_some()
    }
}

/// Digits tcpdump pads the file number to for `-W n` (those of n-1).
pub fn count_chars(w: Option<u32>) -> usize {
    let Some(w) = w else { return 0 };
    let mut x = w.saturating_sub(1);
    let mut c = 0;
    while x > 0 {
        c += 1;
        x /= 10;
    }
    c
}

/// The name of file number `cnt`: strftime(base) when -G, then the number unless it is the
/// first file without -W.
pub fn file_name(base: &str, time_based: bool, t_secs: i64, cnt: u32, chars: usize) -> String {
    let name = if time_based {
        strftime(base, t_secs)
    } else {
        base.to_string()
    };
    if cnt == 0 && chars == 0 {
        name
    } else {
        format!("{name}{cnt:0chars$}")
    }
}

/// strftime(3) in local time, as tcpdump names -G files.
pub fn strftime(fmt: &str, t_secs: i64) -> String {
    if !fmt.contains('%') {
        return fmt.to_string();
    }
    let Ok(cfmt) = std::ffi::CString::new(fmt) else {
        return fmt.to_string();
    };
    // SAFETY: tm is plain data; localtime_r fills it from a valid time_t.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let t = t_secs as libc::time_t;
    unsafe { libc::localtime_r(&t, &mut tm) };
    let mut buf = vec![0u8; 4096];
    // SAFETY: buffer and format are valid; strftime writes at most buf.len() bytes.
    let n = unsafe {
        libc::strftime(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            cfmt.as_ptr(),
            &tm,
        )
    };
    buf.truncate(n);
    String::from_utf8_lossy(&buf).into_owned()
}

/// A file that counts the bytes the OS accepted.
struct CountingFile {
    f: File,
    accepted: Rc<Cell<u64>>,
}

impl Write for CountingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.f.write(buf)?;
        self.accepted.set(self.accepted.get() + n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.f.flush()
    }
}

struct Current {
    path: String,
    /// The temporary name it is written under until complete (rotation only).
    part: Option<String>,
    w: Option<PcapngWriter<Box<dyn Write>>>,
    /// ifindex → IDB number in this file.
    ids: IdMap<u32, u32>,
    start_ns: u64,
    /// Bytes the OS accepted, and a handle to cut the file (None for stdout).
    accepted: Option<Rc<Cell<u64>>>,
    trunc: Option<File>,
    /// Packets written to this file (into the buffer).
    packets: u64,
    /// Block ends written since the last successful flush, each with the packets written up
    /// to it (those the OS accepted in the meantime are pruned: [`Current::prune`]).
    bounds: Vec<(u64, u64)>,
    /// `bounds`' length at which [`Current::prune`] runs.
    prune_at: usize,
    /// The last flush's end and packets, or a later block end the OS accepted.
    flushed: (u64, u64),
    failed: bool,
}

/// See [`Current::prune`].
const PRUNE_AT: usize = 16 << 10;

impl Current {
    /// Gives the complete file its final name.
    fn publish(&mut self) -> Result<(), FileError> {
        let Some(part) = self.part.take() else {
            return Ok(());
        };
        std::fs::rename(&part, &self.path).map_err(|e| FileError {
            what: self.path.clone(),
            quiet: false,
            error: e,
        })
    }

    fn err(&mut self, e: io::Error) -> FileError {
        self.failed = true;
        FileError {
            what: if self.path == "-" {
                "standard output".into()
            } else {
                self.path.clone()
            },
            quiet: e.kind() == io::ErrorKind::BrokenPipe,
            error: e,
        }
    }

    fn writer(&mut self) -> &mut PcapngWriter<Box<dyn Write>> {
        self.w.as_mut().expect("open writer")
    }

    /// A block (packet, IDB, ISB...) is complete in the buffer.
    fn block_written(&mut self) {
        let end = self.writer().bytes_written();
        self.bounds.push((end, self.packets));
        if self.bounds.len() >= self.prune_at {
            self.prune();
        }
    }

    /// Forgets the block ends the OS has accepted all of, but the last (a flush clears the
    /// list; between flushes it grew by 16 bytes a packet, 16 MB in a flood).
    fn prune(&mut self) {
        match &self.accepted {
            // stdout: only the flushed count is used.
            None => self.bounds.clear(),
            Some(acc) => {
                let accepted = acc.get();
                if let Some(last) = self
                    .bounds
                    .iter()
                    .copied()
                    .filter(|&(b, _)| b <= accepted)
                    .max()
                {
                    self.flushed = self.flushed.max(last);
                }
                self.bounds.retain(|&(b, _)| b > accepted);
            }
        }
        // The buffer's blocks stay (up to its 1 MiB); prune again only when they doubled.
        self.prune_at = (2 * self.bounds.len()).max(PRUNE_AT);
    }

    /// Drops the writer and cuts the file at the last complete block the OS accepted; the
    /// packets written after that block (lost).
    fn cut(&mut self) -> u64 {
        drop(self.w.take()); // the buffer's last flush attempt happens here
        let (Some(acc), Some(f)) = (&self.accepted, &self.trunc) else {
            // stdout: what the reader got is unknown; count the unflushed packets as lost.
            return self.packets - self.flushed.1;
        };
        let accepted = acc.get();
        let (end, kept) = self
            .bounds
            .iter()
            .copied()
            .chain([self.flushed])
            .filter(|&(b, _)| b <= accepted)
            .max()
            .unwrap_or((0, 0));
        if end < accepted {
            let _ = f.set_len(end);
        }
        self.packets - kept
    }
}

/// The open output file and its successors.
pub struct FileSink {
    base: String,
    rot: Rotation,
    cfg: WriterConfig,
    chars: usize,
    /// -C number of the current file.
    cnt: u32,
    /// Files opened so far.
    opened: u32,
    cur: Current,
    /// -G: when the next file starts.
    next_rotation_ns: Option<u64>,
    /// -G -W: the last file is full; the capture must stop.
    done: bool,
    /// Packets written that a write error cut off their file (counted at the cut).
    pub lost: u64,
}

/// `DIR/.NAME.part` for `DIR/NAME`.
fn part_name(path: &str) -> String {
    let p = std::path::Path::new(path);
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    p.with_file_name(format!(".{name}.part"))
        .to_string_lossy()
        .into_owned()
}

fn open_file(
    path: &str,
    cfg: &WriterConfig,
    ifs: &impl InterfaceTable,
    start_ns: u64,
    temporary: bool,
) -> Result<Current, FileError> {
    let part = (temporary && path != "-").then(|| part_name(path));
    let mk_err = |e: io::Error| FileError {
        what: path.to_string(),
        quiet: false,
        error: e,
    };
    // The writer gathers the blocks itself (WriterConfig::buffer) and hands them over in
    // writes of 1 MiB (64 KiB to a pipe): a BufWriter in between copied every block once more,
    // 13% of ptcap's CPU at 100k packets/s.
    let mut cfg = cfg.clone();
    let (out, accepted, trunc): (Box<dyn Write>, _, _) = if path == "-" {
        cfg.buffer = 1 << 16;
        (Box::new(io::stdout()), None, None)
    } else {
        cfg.buffer = 1 << 20;
        let f = File::create(part.as_deref().unwrap_or(path)).map_err(mk_err)?;
        let trunc = f.try_clone().map_err(mk_err)?;
        let acc = Rc::new(Cell::new(0));
        (
            Box::new(CountingFile {
                f,
                accepted: acc.clone(),
            }),
            Some(acc),
            Some(trunc),
        )
    };
    let w = PcapngWriter::new(out, cfg).map_err(mk_err)?;
    let mut cur = Current {
        path: path.to_string(),
        part,
        w: Some(w),
        ids: IdMap::default(),
        start_ns,
        accepted,
        trunc,
        packets: 0,
        bounds: Vec::new(),
        prune_at: PRUNE_AT,
        flushed: (0, 0),
        failed: false,
    };
    for ifindex in ifs.ifindexes() {
        let Some(spec) = ifs.spec(ifindex) else {
            continue;
        };
        let id = cur.writer().add_interface(&spec).map_err(|e| cur.err(e))?;
        cur.ids.insert(ifindex, id);
    }
    cur.block_written();
    Ok(cur)
}

impl FileSink {
    pub(crate) fn open(
        base: &str,
        rot: Rotation,
        cfg: WriterConfig,
        ifs: &impl InterfaceTable,
        start_ns: u64,
    ) -> Result<FileSink, FileError> {
        // -W numbers files only with -C (tcpdump's MakeFilename).
        let chars = if rot.size_bytes.is_some() {
            count_chars(rot.count)
        } else {
            0
        };
        let t = (start_ns / 1_000_000_000) as i64;
        let path = if base == "-" {
            base.to_string()
        } else {
            file_name(base, rot.seconds.is_some(), t, 0, chars)
        };
        let cur = open_file(&path, &cfg, ifs, start_ns, rot.is_on())?;
        // Whole seconds: the first boundary is G seconds after the start second.
        let next_rotation_ns = rot.seconds.map(|g| (t as u64 + g) * 1_000_000_000);
        Ok(FileSink {
            base: base.to_string(),
            rot,
            cfg,
            chars,
            cnt: 0,
            opened: 1,
            cur,
            next_rotation_ns,
            done: false,
            lost: 0,
        })
    }

    pub fn done(&self) -> bool {
        self.done
    }

    pub(crate) fn add_interface(
        &mut self,
        ifs: &impl InterfaceTable,
        ifindex: u32,
    ) -> Result<(), FileError> {
        if self.cur.failed || self.cur.ids.contains_key(&ifindex) {
            return Ok(());
        }
        let Some(spec) = ifs.spec(ifindex) else {
            return Ok(());
        };
        let id = self
            .cur
            .writer()
            .add_interface(&spec)
            .map_err(|e| self.cur.err(e))?;
        self.cur.ids.insert(ifindex, id);
        self.cur.block_written();
        Ok(())
    }

    /// The interface is gone: with `now_ns`, its ISB (final counters) is written now; its IDB
    /// is not used again (an interface reusing the ifindex gets a new one).
    pub(crate) fn remove_interface(
        &mut self,
        ifs: &impl InterfaceTable,
        ifindex: u32,
        now_ns: Option<u64>,
    ) -> Result<(), FileError> {
        let Some(id) = self.cur.ids.remove(&ifindex) else {
            return Ok(());
        };
        let (Some(now), false) = (now_ns, self.cur.failed) else {
            return Ok(());
        };
        let one: IdMap<u32, u32> = [(ifindex, id)].into_iter().collect();
        let start = self.cur.start_ns;
        let w = self.cur.writer();
        write_isbs(w, ifs, &one, start, now).map_err(|e| self.cur.err(e))?;
        self.cur.block_written();
        Ok(())
    }

    /// Closes the current file (ISBs, flush) and opens the next one, named for `now_ns`.
    fn rotate(
        &mut self,
        ifs: &impl InterfaceTable,
        now_ns: u64,
        by_time: bool,
    ) -> Result<(), FileError> {
        if by_time {
            if let Some(w) = self.rot.count {
                if self.opened >= w {
                    self.done = true;
                    return Ok(());
                }
            }
            self.cnt = 0;
        } else {
            self.cnt += 1;
            if let Some(w) = self.rot.count {
                if self.cnt >= w {
                    self.cnt = 0;
                }
            }
        }
        let start = self.cur.start_ns;
        let ids = self.cur.ids.clone();
        let w = self.cur.writer();
        let closing = write_isbs(w, ifs, &ids, start, now_ns).and_then(|_| w.flush());
        if let Err(e) = closing {
            return Err(self.cur.err(e));
        }
        let t = (now_ns / 1_000_000_000) as i64;
        let path = file_name(
            &self.base,
            self.rot.seconds.is_some(),
            t,
            self.cnt,
            self.chars,
        );
        self.cur.flushed = (self.cur.writer().bytes_written(), self.cur.packets);
        self.cur.bounds.clear();
        let next = open_file(&path, &self.cfg, ifs, now_ns, true)?;
        let mut old = std::mem::replace(&mut self.cur, next);
        drop(old.w.take());
        old.publish()?;
        self.opened += 1;
        Ok(())
    }

    /// Time-based rotation without packets. `Ok(false)` when the capture must stop (-G -W).
    pub(crate) fn tick(
        &mut self,
        ifs: &impl InterfaceTable,
        now_ns: u64,
    ) -> Result<bool, FileError> {
        if let Some(next) = self.next_rotation_ns {
            if now_ns >= next && !self.done {
                let g = self.rot.seconds.unwrap_or(1) * 1_000_000_000;
                // The boundary `now` is in (periods without a tick, a stopped process, are
                // skipped): the new file starts there and is named for it.
                let boundary = next + (now_ns - next) / g * g;
                self.next_rotation_ns = Some(boundary + g);
                self.rotate(ifs, boundary, true)?;
            }
        }
        Ok(!self.done)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_packet(
        &mut self,
        ifs: &impl InterfaceTable,
        ifindex: u32,
        ts_ns: u64,
        wire_len: u32,
        data: &[u8],
        direction: Direction,
        meta: &PacketMeta,
    ) -> Result<bool, FileError> {
        if self.done {
            return Ok(false);
        }
        if let Some(next) = self.next_rotation_ns {
            if ts_ns >= next {
                self.tick(ifs, ts_ns)?;
                if self.done {
                    return Ok(false);
                }
            }
        }
        if let Some(limit) = self.rot.size_bytes {
            if self.cur.writer().bytes_written() > limit {
                let now = ts_ns;
                self.rotate(ifs, now, false)?;
            }
        }
        let id = match self.cur.ids.get(&ifindex) {
            Some(&id) => id,
            None => {
                self.add_interface(ifs, ifindex)?;
                let Some(&id) = self.cur.ids.get(&ifindex) else {
                    return Ok(false);
                };
                id
            }
        };
        let w = self.cur.writer();
        match w.write_packet(id, ts_ns, wire_len, data, Some(direction), meta) {
            Ok(()) => {
                self.cur.packets += 1;
                self.cur.block_written();
                Ok(true)
            }
            Err(e) => Err(self.cur.err(e)),
        }
    }

    pub fn flush(&mut self) -> Result<(), FileError> {
        if self.cur.failed {
            return Ok(());
        }
        let w = self.cur.writer();
        match w.flush() {
            Ok(()) => {
                self.cur.flushed = (w.bytes_written(), self.cur.packets);
                self.cur.bounds.clear();
                Ok(())
            }
            Err(e) => Err(self.cur.err(e)),
        }
    }

    pub(crate) fn finish(
        &mut self,
        ifs: &impl InterfaceTable,
        end_ns: u64,
    ) -> Result<(), FileError> {
        if self.cur.w.is_none() {
            return Ok(());
        }
        if self.cur.failed {
            self.lost += self.cur.cut();
            return self.cur.publish();
        }
        let start = self.cur.start_ns;
        let ids = self.cur.ids.clone();
        let w = self.cur.writer();
        let r = write_isbs(w, ifs, &ids, start, end_ns).and_then(|_| w.flush());
        match r {
            Ok(()) => {
                self.cur.flushed = (self.cur.writer().bytes_written(), self.cur.packets);
                self.cur.bounds.clear();
                drop(self.cur.w.take());
                self.cur.publish()
            }
            Err(e) => {
                let err = self.cur.err(e);
                self.lost += self.cur.cut();
                let _ = self.cur.publish();
                Err(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct OneInterface;

    impl InterfaceTable for OneInterface {
        fn ifindexes(&self) -> Vec<u32> {
            vec![1]
        }
        fn spec(&self, _: u32) -> Option<InterfaceSpec> {
            Some(InterfaceSpec::new("lo", 1, 262_144))
        }
        fn stats(&self, _: u32) -> Option<InterfaceStats> {
            None
        }
    }

    /// Many packets between two flushes (a flood read in one pass): the list of block ends
    /// kept for a write error stays bounded, and the file's end and packet count are right.
    #[test]
    fn block_ends_are_pruned_between_flushes() {
        let dir = std::env::temp_dir().join(format!("ptcap-rotate-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("prune.pcapng");
        let cfg = WriterConfig::new("ptcap-test", "0");
        let ifs = OneInterface;
        let mut sink =
            FileSink::open(path.to_str().unwrap(), Rotation::default(), cfg, &ifs, 0).unwrap();
        let frame = [0u8; 60];
        let n = 200_000u64;
        let mut most = 0;
        for i in 0..n {
            let ok = sink
                .write_packet(
                    &ifs,
                    1,
                    i,
                    60,
                    &frame,
                    Direction::In,
                    &PacketMeta::default(),
                )
                .unwrap();
            assert!(ok);
            most = most.max(sink.cur.bounds.len());
        }
        // 200k blocks of 92 bytes, 18 MB: unpruned, the list would hold them all.
        assert!(most < 4 * PRUNE_AT, "{most} block ends kept");
        let (end, kept) = sink.cur.flushed;
        assert!(end > 0 && kept > 0 && kept < n, "{end} {kept}");
        // Everything written is accepted at the end: nothing is cut.
        assert_eq!(sink.cur.cut(), 0);
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(len > n * 92, "{len}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tcpdump_names() {
        assert_eq!(count_chars(None), 0);
        assert_eq!(count_chars(Some(1)), 0);
        assert_eq!(count_chars(Some(3)), 1);
        assert_eq!(count_chars(Some(10)), 1);
        assert_eq!(count_chars(Some(11)), 2);
        assert_eq!(file_name("cap", false, 0, 0, 0), "cap");
        assert_eq!(file_name("cap", false, 0, 2, 0), "cap2");
        assert_eq!(file_name("cap", false, 0, 0, 2), "cap00");
        assert_eq!(file_name("cap", false, 0, 7, 2), "cap07");
        std::env::set_var("TZ", "UTC");
        assert_eq!(
            file_name("c-%H%M%S.pcapng", true, 3661, 0, 0),
            "c-010101.pcapng"
        );
        assert_eq!(strftime("plain", 0), "plain");
    }
}
