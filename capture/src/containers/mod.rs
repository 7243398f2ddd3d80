//! Containers: which container a process runs in, and what its runtime says about it.
//!
//! Two watchers run on their own threads, off the packet path, and feed a channel:
//! - [`containerd`]: containerd's gRPC API (every namespace: `default`, `moby`, `k8s.io`, ...):
//!   containers with labels, image and the spec's `linux.cgroupsPath`, tasks with their pid, and
//!   the event stream (`/containers/create|update|delete`, `/tasks/start`);
//! - [`docker`]: the Docker Engine API over its unix socket (real container names).
//!
//! Each watcher reconnects with a backoff when its runtime goes away and sends a full snapshot
//! on every (re)connection, so metadata resumes without restarting the capture. A runtime that
//! is absent at start costs nothing: the capture starts at once and one line says so.
//!
//! The packet side ([`Tracker`], owned by the attributor) only reads memory and drains the
//! channel without waiting. A process is tied to a container by, in order:
//! 1. its cgroup paths (`/proc/PID/cgroup`, v1 and v2 lines) equal to a known container's
//!    cgroups path (cgroupfs `/default/<id>`, systemd `slice:prefix:name` expanded);
//! 2. a 64-hex container id in one of its cgroup paths (`/system.slice/docker-<id>.scope`,
//!    `/kubepods/.../<id>`, `/moby/<id>`, `cri-containerd-<id>.scope`), known to a runtime or
//!    not yet (then the packet carries the id alone and is counted as pending);
//! 3. its pid namespace equal to that of a known container's task.
//!
//! A process's cgroup is read once (at exec, or the first time one of its packets is seen) and
//! inherited by forks; an unresolved process is retried only when the runtimes told something
//! new. Removed containers stay resolvable for a grace period (packets in flight), then go;
//! every table is bounded.
//!
//! Container selection (`--container-id`, `--container-name`, `--pod-name`) is evaluated per
//! packet on the owner's container, so containers that start (or restart) after the capture
//! began are selected as soon as they are seen.

pub mod containerd;
pub mod docker;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use formats::meta::{ContainerInfo, PacketMeta, Peer, PodInfo};
use formats::table::{EarlyGrowth, IdMap};

/// What the command line says about containers.
#[derive(Debug, Clone)]
pub struct Config {
    /// An empty path turns the runtime off (`--containerd-address none` or `''`).
    pub containerd_address: PathBuf,
    /// An empty path turns the runtime off (`--docker-address none` or `''`).
    pub docker_address: PathBuf,
    pub selectors: Vec<Selector>,
    pub verbose: u8,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            containerd_address: PathBuf::from("/run/containerd/containerd.sock"),
            docker_address: PathBuf::from("/var/run/docker.sock"),
            selectors: Vec::new(),
            verbose: 0,
        }
    }
}

/// One `--container-id`, `--container-name` or `--pod-name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A full id or a prefix of one.
    Id(String),
    Name(String),
    Pod {
        name: String,
        namespace: String,
    },
}

impl Selector {
    /// `--pod-name NAME.NAMESPACE` (the namespace defaults to `default`).
    pub fn pod(arg: &str) -> Selector {
        match arg.rsplit_once('.') {
            Some((n, ns)) if !n.is_empty() && !ns.is_empty() => Selector::Pod {
                name: n.to_string(),
                namespace: ns.to_string(),
            },
            _ => Selector::Pod {
                name: arg.to_string(),
                namespace: "default".to_string(),
            },
        }
    }

    fn matches(&self, c: &ContainerInfo, pod: Option<&PodInfo>) -> bool {
        match self {
            Selector::Id(p) => !p.is_empty() && c.id.starts_with(p.as_str()),
            Selector::Name(n) => !c.name.is_empty() && c.name == n.trim_start_matches('/'),
            Selector::Pod { name, namespace } => {
                pod.is_some_and(|p| p.name == *name && p.namespace == *namespace)
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            Selector::Id(p) => format!("--container-id {p}"),
            Selector::Name(n) => format!("--container-name {n}"),
            Selector::Pod { name, namespace } => format!("--pod-name {name}.{namespace}"),
        }
    }
}

/// Which watcher a record comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Containerd,
    Docker,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Containerd => "containerd",
            Source::Docker => "Docker",
        }
    }
}

/// What one runtime says about one container.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    pub id: String,
    pub name: String,
    pub image: String,
    pub labels: BTreeMap<String, String>,
    /// containerd's namespace (`moby` for Docker's containers).
    pub namespace: String,
    /// The spec's cgroups path, normalized to a cgroupfs path (`/default/<id>`).
    pub cgroup_path: Option<String>,
    /// The pid of its running task (0: none).
    pub pid: u32,
    /// The inode of the task's pid namespace (0: unknown).
    pub pidns: u64,
    /// Its cgroup v2 id (the inode of its directory in the cgroup2 hierarchy; 0: unknown).
    pub cgroup_id: u64,
}

/// From the watchers to the packet side.
#[derive(Debug)]
pub enum Update {
    /// Everything the runtime knows (after each connection): replaces that source's records.
    Snapshot(Source, Vec<Record>),
    Upsert(Source, Record),
    Remove(Source, String),
    /// The runtime is not reachable (its records stay: the containers may still run).
    Down(Source),
}

/// Counts for the exit summary.
#[derive(Debug, Default, Clone)]
pub struct ContainerStats {
    /// Packets whose owner runs in a container.
    pub packets: u64,
    /// Of those, packets whose container id was known but not (yet) its runtime metadata.
    pub pending: u64,
}

const MAX_CONTAINERS: usize = 16_384;
const MAX_PIDS: usize = 65_536;
const REMOVED_GRACE: Duration = Duration::from_secs(60);

struct Entry {
    containerd: Option<Record>,
    docker: Option<Record>,
    info: Arc<ContainerInfo>,
    pod: Option<Arc<PodInfo>>,
    /// Known to a runtime (else only an id seen in a cgroup path).
    known: bool,
    removed_at: Option<Instant>,
    /// Cached selection verdict.
    selected: bool,
}

#[derive(Debug, Clone, Default)]
struct PidState {
    cgroups: Vec<String>,
    pidns: u64,
    /// cgroup v2 id from the kernel's exec event (0: unknown).
    cgroup_id: u64,
    id: Option<Arc<str>>,
    /// The directory generation of the last resolution attempt.
    generation: u64,
    /// The serial number of the process's exit (0 while it runs).
    exit_serial: u64,
}

/// The watchers' end of the update channel: each update also raises `pending`, so that the
/// packet path, which asks for updates before every packet's container, reads one atomic
/// flag instead of the channel (`try_recv` was 5% of the capture's CPU at 400k packets/s).
#[derive(Clone)]
pub struct Feed {
    tx: Sender<Update>,
    pending: Arc<AtomicBool>,
}

impl Feed {
    pub fn send(&self, u: Update) -> Result<(), Closed> {
        self.tx.send(u).map_err(|_| Closed)?;
        self.pending.store(true, Ordering::Release);
        Ok(())
    }
}

/// The capture no longer reads container updates (it is ending): the watcher stops.
#[derive(Debug)]
pub struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the capture stopped reading container updates")
    }
}

impl std::error::Error for Closed {}

/// The packet side: container tables fed by the watchers, and the per-process cache.
pub struct Tracker {
    rx: Option<Receiver<Update>>,
    /// Raised by [`Feed::send`]: the channel may hold updates.
    pending: Arc<AtomicBool>,
    entries: HashMap<Arc<str>, Entry>,
    by_cgroup: HashMap<String, Arc<str>>,
    by_pidns: HashMap<u64, Arc<str>>,
    /// cgroup v2 id -> container: from the runtimes' paths, and learnt from resolved processes
    /// (a process gone before its /proc could be read still has its exec event's cgroup id).
    by_cgroup_id: HashMap<u64, Arc<str>>,
    learned_cgroup_ids: HashMap<u64, Arc<str>>,
    /// Pod uid -> the pod's labels, from its sandbox container.
    pod_labels: HashMap<String, BTreeMap<String, String>>,
    generation: u64,
    pids: IdMap<u32, PidState>,
    pids_growth: EarlyGrowth,
    /// Exited pids with their exit's serial number, oldest first: the most recent
    /// `procs::EXITED_MAX` stay resolvable, as in the process table (a pid reused since is
    /// skipped when its old entry is popped).
    exited: VecDeque<(u32, u64)>,
    /// Serial number of the last exit.
    exits: u64,
    selectors: Vec<Selector>,
    /// Selectors that matched something at least once.
    matched: Vec<bool>,
    reported: Vec<Source>,
    /// Sources whose last report was "not reachable".
    down: Vec<Source>,
    /// The runtimes watched (the others were turned off) and their addresses.
    enabled: Vec<(Source, PathBuf)>,
    warned: bool,
    own_pidns: u64,
    pub stats: ContainerStats,
}

fn pidns_of(pid: u32) -> u64 {
    std::fs::read_link(format!("/proc/{pid}/ns/pid"))
        .ok()
        .and_then(|l| {
            let s = l.to_string_lossy().into_owned();
            s.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
        })
        .unwrap_or(0)
}

/// The cgroup v2 id of a cgroupfs path: the inode of its directory in the cgroup2 hierarchy
/// (0 when there is none).
pub fn cgroup_id_of(path: &str) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Some(root) = cgroup2_root() else {
        return 0;
    };
    std::fs::metadata(root.join(path.trim_start_matches('/'))).map_or(0, |m| m.ino())
}

fn cgroup2_root() -> Option<&'static PathBuf> {
    static ROOT: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    ROOT.get_or_init(bpf::cgroup2_root).as_ref()
}

/// The cgroup v2 path (as /proc/PID/cgroup writes it) of a cgroup id, while the cgroup
/// exists: the kernel gives the id at exec in the event, and the path names the container even
/// when the process is gone before /proc could be read (a container's first short-lived
/// process). cgroupfs is kernfs, whose file handles are the node id (`FILEID_KERNFS`, 8
/// bytes): `open_by_handle_at` opens the directory and its /proc/self/fd link says where it
/// is. Needs CAP_DAC_READ_SEARCH, which ptcap has as root.
pub fn cgroup_path_of_id(id: u64) -> Option<String> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    #[repr(C)]
    struct KernfsHandle {
        handle_bytes: u32,
        handle_type: i32,
        f_handle: [u8; 8],
    }
    const FILEID_KERNFS: i32 = 0xfe;
    if id == 0 {
        return None;
    }
    let root = cgroup2_root()?;
    let dir = std::fs::File::open(root).ok()?;
    let mut h = KernfsHandle {
        handle_bytes: 8,
        handle_type: FILEID_KERNFS,
        f_handle: id.to_ne_bytes(),
    };
    // SAFETY: the handle is a valid `struct file_handle` with 8 bytes of f_handle; the kernel
    // reads no more than handle_bytes of it. The returned descriptor, if any, is ours.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_by_handle_at,
            dir.as_raw_fd(),
            &mut h as *mut KernfsHandle,
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return None;
    }
    // SAFETY: fd is a new descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let target = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).ok()?;
    let rel = target.strip_prefix(root).ok()?;
    Some(format!("/{}", rel.display()))
}

/// Every cgroup path of a process (v2 `0::` line and each v1 hierarchy), deduplicated.
fn cgroups_of(pid: u32) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, _, path) = (parts.next(), parts.next(), parts.next());
        if let Some(p) = path {
            if p != "/" && !p.is_empty() && !out.iter().any(|o| o == p) {
                out.push(p.to_string());
            }
        }
    }
    out
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A 64-hex container id in a cgroup path: the last component that holds one, as
/// `<id>`, `docker-<id>.scope`, `cri-containerd-<id>.scope`, `crio-<id>`, `libpod-<id>`.
pub fn id_from_cgroup(path: &str) -> Option<&str> {
    path.rsplit('/').find_map(|comp| {
        let comp = comp.strip_suffix(".scope").unwrap_or(comp);
        let tail = comp.rsplit(['-', ':']).next().unwrap_or(comp);
        is_hex64(tail).then_some(tail)
    })
}

/// A spec's `linux.cgroupsPath` as a cgroupfs path. The systemd form `slice:prefix:name`
/// becomes `/<slice hierarchy>/<prefix>-<name>.scope`, the slice expanded as systemd does
/// (`a-b-c.slice` lives in `/a.slice/a-b.slice/a-b-c.slice`).
pub fn normalize_cgroups_path(p: &str) -> Option<String> {
    if p.is_empty() {
        return None;
    }
    if !p.starts_with('/') {
        let parts: Vec<&str> = p.split(':').collect();
        if parts.len() == 3 {
            let (slice, prefix, name) = (parts[0], parts[1], parts[2]);
            let slice = if slice.is_empty() {
                "system.slice"
            } else {
                slice
            };
            let mut path = String::new();
            if slice != "-.slice" {
                let base = slice.strip_suffix(".slice").unwrap_or(slice);
                let mut acc = String::new();
                for (i, piece) in base.split('-').enumerate() {
                    if i > 0 {
                        acc.push('-');
                    }
                    acc.push_str(piece);
                    path.push('/');
                    path.push_str(&acc);
                    path.push_str(".slice");
                }
            }
            let unit = if name.ends_with(".slice") {
                name.to_string()
            } else if prefix.is_empty() {
                format!("{name}.scope")
            } else {
                format!("{prefix}-{name}.scope")
            };
            return Some(format!("{path}/{unit}"));
        }
        return Some(format!("/{p}"));
    }
    Some(p.to_string())
}

/// A pod's sandbox ("pause") container: CRI containerd and cri-dockerd mark it so; it carries
/// the pod's own labels, which the pod's other containers do not.
fn is_sandbox(c: &ContainerInfo) -> bool {
    c.labels.get("io.cri-containerd.kind").map(String::as_str) == Some("sandbox")
        || c.labels
            .get("io.kubernetes.docker.type")
            .map(String::as_str)
            == Some("podsandbox")
}

/// A sandbox's labels without the kubelet's and the runtimes' own keys: the pod's labels.
fn pod_labels(sandbox: &ContainerInfo) -> BTreeMap<String, String> {
    sandbox
        .labels
        .iter()
        .filter(|(k, _)| {
            !k.starts_with("io.kubernetes.")
                && !k.starts_with("io.cri-containerd.")
                && !k.starts_with("io.containerd.")
                && !k.starts_with("annotation.")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The metadata of a container from its records: Docker's name and image win, labels merge,
/// the namespace is containerd's (`moby` for Docker).
fn compose(id: &str, cd: Option<&Record>, dk: Option<&Record>) -> (ContainerInfo, Option<PodInfo>) {
    let mut c = ContainerInfo {
        id: id.to_string(),
        ..Default::default()
    };
    if let Some(r) = cd {
        c.labels.extend(r.labels.clone());
        c.image = r.image.clone();
        c.namespace = r.namespace.clone();
        c.runtime = if r.namespace == "moby" {
            "docker".into()
        } else {
            "containerd".into()
        };
        c.name = r.name.clone();
    }
    if let Some(r) = dk {
        c.labels.extend(r.labels.clone());
        if !r.image.is_empty() {
            c.image = r.image.clone();
        }
        if !r.name.is_empty() {
            c.name = r.name.clone();
        }
        c.runtime = "docker".into();
        if c.namespace.is_empty() {
            c.namespace = "moby".into();
        }
    }
    if c.name.is_empty() {
        for key in ["nerdctl/name", "io.kubernetes.container.name"] {
            if let Some(n) = c.labels.get(key) {
                c.name = n.clone();
                break;
            }
        }
    }
    let pod = c.labels.get("io.kubernetes.pod.name").map(|name| PodInfo {
        name: name.clone(),
        namespace: c
            .labels
            .get("io.kubernetes.pod.namespace")
            .cloned()
            .unwrap_or_default(),
        uid: c
            .labels
            .get("io.kubernetes.pod.uid")
            .cloned()
            .unwrap_or_default(),
        ..Default::default()
    });
    (c, pod)
}

impl Tracker {
    /// No runtimes, no selection (tests, or before [`Tracker::start`]).
    pub fn inactive() -> Tracker {
        Tracker {
            rx: None,
            pending: Arc::new(AtomicBool::new(false)),
            entries: HashMap::new(),
            by_cgroup: HashMap::new(),
            by_pidns: HashMap::new(),
            by_cgroup_id: HashMap::new(),
            learned_cgroup_ids: HashMap::new(),
            pod_labels: HashMap::new(),
            generation: 1,
            pids: IdMap::default(),
            pids_growth: EarlyGrowth::default(),
            exited: VecDeque::new(),
            exits: 0,
            selectors: Vec::new(),
            matched: Vec::new(),
            reported: Vec::new(),
            down: Vec::new(),
            enabled: Vec::new(),
            warned: true,
            own_pidns: pidns_of(std::process::id()),
            stats: ContainerStats::default(),
        }
    }

    /// Starts both watchers (they never delay the caller).
    pub fn start(cfg: &Config) -> Tracker {
        let (tx, rx) = std::sync::mpsc::channel();
        let pending = Arc::new(AtomicBool::new(false));
        let tx = Feed {
            tx,
            pending: Arc::clone(&pending),
        };
        let mut enabled = Vec::new();
        if !cfg.containerd_address.as_os_str().is_empty() {
            containerd::spawn(cfg.containerd_address.clone(), tx.clone(), cfg.verbose);
            enabled.push((Source::Containerd, cfg.containerd_address.clone()));
        }
        if !cfg.docker_address.as_os_str().is_empty() {
            docker::spawn(cfg.docker_address.clone(), tx, cfg.verbose);
            enabled.push((Source::Docker, cfg.docker_address.clone()));
        }
        if enabled.is_empty() && !cfg.selectors.is_empty() {
            eprintln!(
                "ptcap: --containerd-address and --docker-address are both off: the container \
                 and pod filters match nothing"
            );
        }
        let mut t = Tracker::inactive();
        t.enabled = enabled;
        t.rx = Some(rx);
        t.pending = pending;
        t.matched = vec![false; cfg.selectors.len()];
        t.selectors = cfg.selectors.clone();
        t.warned = cfg.selectors.is_empty();
        t
    }

    /// A tracker and the feed its updates come from (unit tests).
    #[cfg(test)]
    fn with_feed(selectors: Vec<Selector>) -> (Tracker, Feed) {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut t = Tracker::inactive();
        t.rx = Some(rx);
        t.matched = vec![false; selectors.len()];
        t.selectors = selectors;
        let feed = Feed {
            tx,
            pending: Arc::clone(&t.pending),
        };
        (t, feed)
    }

    /// Bumped whenever the watchers' updates change the tables (a packet's container or pod
    /// may be another one since).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// True when a container selector is in force.
    pub fn selecting(&self) -> bool {
        !self.selectors.is_empty()
    }

    /// Applies whatever the watchers sent, without waiting. Called per packet: the flag's
    /// test is inlined there, the rest is a call only when something came.
    #[inline]
    pub fn poll(&mut self) {
        if self.pending.load(Ordering::Relaxed) {
            self.apply_pending();
        }
    }

    #[inline(never)]
    fn apply_pending(&mut self) {
        self.pending.store(false, Ordering::Relaxed);
        // Pairs with the Release in `Feed::send`: what was sent before the flag is seen.
        std::sync::atomic::fence(Ordering::Acquire);
        let Some(rx) = self.rx.as_ref() else { return };
        let mut updates = Vec::new();
        loop {
            match rx.try_recv() {
                Ok(u) => updates.push(u),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.rx = None;
                    break;
                }
            }
        }
        if updates.is_empty() {
            return;
        }
        for u in updates {
            self.apply(u);
        }
        self.generation += 1;
        self.rebuild_indexes();
        self.check_selectors();
    }

    fn record_slot(e: &mut Entry, src: Source) -> &mut Option<Record> {
        match src {
            Source::Containerd => &mut e.containerd,
            Source::Docker => &mut e.docker,
        }
    }

    fn apply(&mut self, u: Update) {
        match u {
            Update::Snapshot(src, recs) => {
                if !self.reported.contains(&src) {
                    self.reported.push(src);
                }
                self.down.retain(|d| *d != src);
                let now = Instant::now();
                let ids: std::collections::HashSet<&str> =
                    recs.iter().map(|r| r.id.as_str()).collect();
                for e in self.entries.values_mut() {
                    let slot = Self::record_slot(e, src);
                    if slot.as_ref().is_some_and(|r| !ids.contains(r.id.as_str())) {
                        *slot = None;
                        if e.containerd.is_none() && e.docker.is_none() && e.removed_at.is_none() {
                            e.removed_at = Some(now);
                        }
                    }
                }
                for r in recs {
                    self.upsert(src, r);
                }
            }
            Update::Upsert(src, r) => self.upsert(src, r),
            Update::Remove(src, id) => {
                if let Some(e) = self.entries.get_mut(id.as_str()) {
                    *Self::record_slot(e, src) = None;
                    if e.containerd.is_none() && e.docker.is_none() {
                        e.removed_at = Some(Instant::now());
                    }
                }
            }
            Update::Down(src) => {
                if !self.reported.contains(&src) {
                    self.reported.push(src);
                }
                if !self.down.contains(&src) {
                    self.down.push(src);
                }
            }
        }
    }

    fn upsert(&mut self, src: Source, mut r: Record) {
        let id: Arc<str> = Arc::from(r.id.as_str());
        let e = self
            .entries
            .entry(Arc::clone(&id))
            .or_insert_with(|| Entry {
                containerd: None,
                docker: None,
                info: Arc::new(ContainerInfo::default()),
                pod: None,
                known: false,
                removed_at: None,
                selected: false,
            });
        // An event without a task keeps the pid learnt before.
        if let Some(old) = Self::record_slot(e, src).as_ref() {
            if r.pid == 0 {
                r.pid = old.pid;
                r.pidns = old.pidns;
            }
            if r.cgroup_path.is_none() {
                r.cgroup_path = old.cgroup_path.clone();
            }
        }
        *Self::record_slot(e, src) = Some(r);
        e.removed_at = None;
        Self::refresh(e, &id, &self.selectors, &self.pod_labels);
        // A pod's labels are on its sandbox, not on its other containers: when the sandbox
        // tells new ones, every container of the pod gets them.
        let sandbox = (is_sandbox(&e.info), e.pod.as_ref().map(|p| p.uid.clone()));
        if let (true, Some(uid)) = sandbox {
            let labels = pod_labels(&e.info);
            if !uid.is_empty() && self.pod_labels.get(&uid) != Some(&labels) {
                self.pod_labels.insert(uid.clone(), labels);
                for (id, e) in self.entries.iter_mut() {
                    if e.pod.as_ref().is_some_and(|p| p.uid == uid) {
                        Self::refresh(e, id, &self.selectors, &self.pod_labels);
                    }
                }
            }
        }
    }

    fn refresh(
        e: &mut Entry,
        id: &str,
        selectors: &[Selector],
        pod_labels: &HashMap<String, BTreeMap<String, String>>,
    ) {
        let (info, mut pod) = compose(id, e.containerd.as_ref(), e.docker.as_ref());
        if let Some(p) = pod.as_mut() {
            if let Some(labels) = pod_labels.get(&p.uid) {
                p.labels = labels.clone();
            }
        }
        e.known = e.containerd.is_some() || e.docker.is_some();
        e.selected = selectors.iter().any(|s| s.matches(&info, pod.as_ref()));
        if *e.info != info {
            e.info = Arc::new(info);
        }
        if e.pod.as_deref() != pod.as_ref() {
            e.pod = pod.map(Arc::new);
        }
    }

    fn rebuild_indexes(&mut self) {
        let now = Instant::now();
        self.entries.retain(|_, e| {
            e.removed_at
                .is_none_or(|t| now.duration_since(t) < REMOVED_GRACE)
        });
        if self.entries.len() > MAX_CONTAINERS {
            // Over the bound: forget removed and unknown ones first.
            self.entries
                .retain(|_, e| e.known && e.removed_at.is_none());
        }
        let uids: std::collections::HashSet<&str> = self
            .entries
            .values()
            .filter_map(|e| e.pod.as_ref().map(|p| p.uid.as_str()))
            .collect();
        self.pod_labels.retain(|uid, _| uids.contains(uid.as_str()));
        self.by_cgroup.clear();
        self.by_pidns.clear();
        self.by_cgroup_id.clear();
        for (id, e) in &self.entries {
            for r in [e.containerd.as_ref(), e.docker.as_ref()]
                .into_iter()
                .flatten()
            {
                if let Some(p) = &r.cgroup_path {
                    self.by_cgroup.insert(p.clone(), Arc::clone(id));
                }
                if r.cgroup_id != 0 {
                    self.by_cgroup_id.insert(r.cgroup_id, Arc::clone(id));
                }
                if r.pidns != 0 && r.pidns != self.own_pidns {
                    self.by_pidns.insert(r.pidns, Arc::clone(id));
                }
            }
        }
    }

    /// Once every runtime has answered (or is known absent): a selector that matches nothing
    /// is said once (not an error: the container may start later).
    fn check_selectors(&mut self) {
        for (i, s) in self.selectors.iter().enumerate() {
            if !self.matched[i]
                && self
                    .entries
                    .values()
                    .any(|e| s.matches(&e.info, e.pod.as_deref()))
            {
                self.matched[i] = true;
            }
        }
        if self.warned || self.reported.len() < self.enabled.len() {
            return;
        }
        self.warned = true;
        if !self.enabled.is_empty() && self.down.len() >= self.enabled.len() {
            // Said once, and only because a container filter needs a runtime (-v says more).
            let names: Vec<String> = self
                .enabled
                .iter()
                .map(|(src, path)| format!("{} at {}", src.name(), path.display()))
                .collect();
            eprintln!(
                "ptcap: no container runtime answers ({}): the container and pod filters match \
                 nothing until one does",
                names.join(", ")
            );
            return;
        }
        for (i, s) in self.selectors.iter().enumerate() {
            if !self.matched[i] {
                eprintln!(
                    "ptcap: {} matches no container yet; its packets are kept once it starts",
                    s.describe()
                );
            }
        }
    }

    fn lookup(&self, st: &PidState) -> Option<Arc<str>> {
        for p in &st.cgroups {
            if let Some(id) = self.by_cgroup.get(p) {
                return Some(Arc::clone(id));
            }
        }
        for p in &st.cgroups {
            if let Some(id) = id_from_cgroup(p) {
                return Some(match self.entries.get_key_value(id) {
                    Some((k, _)) => Arc::clone(k),
                    None => Arc::from(id),
                });
            }
        }
        if st.cgroup_id != 0 {
            if let Some(id) = self
                .by_cgroup_id
                .get(&st.cgroup_id)
                .or_else(|| self.learned_cgroup_ids.get(&st.cgroup_id))
            {
                return Some(Arc::clone(id));
            }
        }
        if st.pidns != 0 && st.pidns != self.own_pidns {
            return self.by_pidns.get(&st.pidns).cloned();
        }
        None
    }

    fn read_state(&mut self, pid: u32, cgroup_id: u64) -> PidState {
        let mut st = PidState {
            cgroups: cgroups_of(pid),
            pidns: pidns_of(pid),
            cgroup_id,
            id: None,
            generation: self.generation,
            exit_serial: 0,
        };
        if st.cgroups.is_empty() {
            // Gone before /proc could be read: the kernel's cgroup id still names the cgroup.
            st.cgroups.extend(cgroup_path_of_id(cgroup_id));
        }
        st.id = self.lookup(&st);
        if let (Some(id), true) = (&st.id, cgroup_id != 0 && !st.cgroups.is_empty()) {
            if self.learned_cgroup_ids.len() >= MAX_CONTAINERS {
                self.learned_cgroup_ids.clear();
            }
            self.learned_cgroup_ids.insert(cgroup_id, Arc::clone(id));
        }
        st
    }

    fn insert_pid(&mut self, pid: u32, st: PidState) {
        if self.pids.len() >= MAX_PIDS {
            while self.pids.len() >= MAX_PIDS / 2 && self.forget_oldest_exited() {}
            if self.pids.len() >= MAX_PIDS {
                self.pids.clear();
                self.exited.clear();
            }
        }
        self.pids.insert(pid, st);
        self.pids_growth.check(&mut self.pids);
    }

    /// Forgets the longest-exited process (false when none is queued).
    fn forget_oldest_exited(&mut self) -> bool {
        let Some((old, serial)) = self.exited.pop_front() else {
            return false;
        };
        if self.pids.get(&old).is_some_and(|p| p.exit_serial == serial) {
            self.pids.remove(&old);
        }
        true
    }

    /// Process events: an exec re-reads the cgroup (runc moves its child before the exec), a
    /// fork inherits the parent's.
    pub fn on_exec(&mut self, pid: u32, cgroup_id: u64) {
        let st = self.read_state(pid, cgroup_id);
        self.insert_pid(pid, st);
    }

    pub fn on_fork(&mut self, pid: u32, ppid: u32) {
        if let Some(parent) = self.pids.get(&ppid).cloned() {
            self.insert_pid(
                pid,
                PidState {
                    exit_serial: 0,
                    ..parent
                },
            );
        }
    }

    /// An exited process stays resolvable until `procs::EXITED_MAX` processes exited after
    /// it (the process table keeps it as long), so process churn cannot grow the table or the
    /// queue (pids are reused long before `MAX_PIDS` on a node whose pid_max is 32768).
    pub fn on_exit(&mut self, pid: u32) {
        if let Some(st) = self.pids.get_mut(&pid) {
            if st.exit_serial == 0 {
                self.exits += 1;
                st.exit_serial = self.exits;
                self.exited.push_back((pid, self.exits));
            }
        }
        while self.exited.len() > crate::procs::EXITED_MAX {
            self.forget_oldest_exited();
        }
    }

    /// The container id of a process (reads /proc once per process, never waits on a runtime).
    fn container_of(&mut self, pid: u32) -> Option<Arc<str>> {
        if pid == 0 {
            return None;
        }
        let generation = self.generation;
        match self.pids.get(&pid) {
            Some(st) if st.id.is_some() || st.generation == generation => st.id.clone(),
            Some(st) => {
                let mut st = st.clone();
                st.id = self.lookup(&st);
                st.generation = generation;
                let id = st.id.clone();
                self.pids.insert(pid, st);
                id
            }
            None => {
                let st = self.read_state(pid, 0);
                let id = st.id.clone();
                self.insert_pid(pid, st);
                id
            }
        }
    }

    /// Sets `meta.container` and `meta.pod` from the process's container.
    pub fn annotate(&mut self, meta: &mut PacketMeta, pid: u32) -> Option<bool> {
        let (container, pod, known) = self.entry_of(pid)?;
        self.count(known);
        meta.container = Some(container);
        meta.pod = pod;
        Some(known)
    }

    /// Counts a packet of a container (`known`: with the runtime's metadata), as
    /// [`Tracker::annotate`] does, for a packet given the same metadata as the one before.
    pub fn count(&mut self, known: bool) {
        self.stats.packets += 1;
        if !known {
            self.stats.pending += 1;
        }
    }

    /// The container and pod of a packet's other local end (not counted: the packet is
    /// counted once, for its owner).
    pub fn annotate_peer(&mut self, peer: &mut Peer, pid: u32) {
        if let Some((container, pod, _)) = self.entry_of(pid) {
            peer.container = Some(container);
            peer.pod = pod;
        }
    }

    /// The container of process `pid` (an entry made for it if the runtime has not reported
    /// it yet), its pod, and whether the runtime's metadata is known.
    fn entry_of(&mut self, pid: u32) -> Option<(Arc<ContainerInfo>, Option<Arc<PodInfo>>, bool)> {
        self.poll();
        let id = self.container_of(pid)?;
        let e = self
            .entries
            .entry(Arc::clone(&id))
            .or_insert_with(|| Entry {
                containerd: None,
                docker: None,
                info: Arc::new(ContainerInfo {
                    id: id.to_string(),
                    ..Default::default()
                }),
                pod: None,
                known: false,
                removed_at: None,
                selected: false,
            });
        if !e.known {
            e.selected = self.selectors.iter().any(|s| s.matches(&e.info, None));
        }
        Some((Arc::clone(&e.info), e.pod.clone(), e.known))
    }

    /// Whether a container selector keeps the packets of process `pid`.
    pub fn keeps(&mut self, pid: u32) -> bool {
        if self.selectors.is_empty() {
            return false;
        }
        let Some(id) = self.container_of(pid) else {
            return false;
        };
        match self.entries.get(&id) {
            Some(e) => e.selected,
            None => self
                .selectors
                .iter()
                .any(|s| matches!(s, Selector::Id(p) if id.starts_with(p.as_str()))),
        }
    }

    /// One line for the exit summary.
    pub fn summary(&self) -> String {
        let known = self.entries.values().filter(|e| e.known).count();
        format!(
            "containers: {} packets of container processes ({} before their runtime metadata), {} containers known",
            self.stats.packets, self.stats.pending, known
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_id_resolves_to_its_path() {
        if unsafe { libc::geteuid() } != 0 {
            panic!("needs root (cgroupfs and open_by_handle_at); the suite runs as root");
        }
        let Some(root) = cgroup2_root() else {
            panic!("no cgroup2 mount on this machine");
        };
        let id = "c0ffee".repeat(10) + "abcd";
        let rel = format!("ptcap-test-{}/{id}", std::process::id());
        let dir = root.join(&rel);
        std::fs::create_dir_all(&dir).unwrap();
        let cid = cgroup_id_of(&rel);
        let got = cgroup_path_of_id(cid);
        let _ = std::fs::remove_dir(&dir);
        let _ = std::fs::remove_dir(dir.parent().unwrap());
        assert_eq!(got.as_deref(), Some(format!("/{rel}").as_str()));
        assert_eq!(id_from_cgroup(got.as_deref().unwrap()), Some(id.as_str()));
        // A removed cgroup resolves to nothing.
        assert_eq!(cgroup_path_of_id(cid), None);
        assert_eq!(cgroup_path_of_id(0), None);
    }

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn ids_from_cgroup_paths() {
        assert_eq!(id_from_cgroup(&format!("/default/{ID}")), Some(ID));
        assert_eq!(
            id_from_cgroup(&format!("/system.slice/docker-{ID}.scope")),
            Some(ID)
        );
        assert_eq!(
            id_from_cgroup(&format!("/kubepods/burstable/pod1234/{ID}")),
            Some(ID)
        );
        assert_eq!(
            id_from_cgroup(&format!(
                "/kubepods.slice/kubepods-pod1.slice/cri-containerd-{ID}.scope"
            )),
            Some(ID)
        );
        assert_eq!(
            id_from_cgroup("/user.slice/user-0.slice/session-1.scope"),
            None
        );
        assert_eq!(id_from_cgroup("/default/web"), None);
    }

    #[test]
    fn systemd_cgroups_paths_expand() {
        assert_eq!(
            normalize_cgroups_path("kubepods-burstable-pod12.slice:cri-containerd:abc").unwrap(),
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12.slice/cri-containerd-abc.scope"
        );
        assert_eq!(
            normalize_cgroups_path("system.slice:docker:abc").unwrap(),
            "/system.slice/docker-abc.scope"
        );
        assert_eq!(
            normalize_cgroups_path("/default/web").unwrap(),
            "/default/web"
        );
    }

    #[test]
    fn records_merge_and_select() {
        let (mut t, tx) =
            Tracker::with_feed(vec![Selector::pod("web.shop"), Selector::Name("db".into())]);
        let mut labels = BTreeMap::new();
        labels.insert("io.kubernetes.pod.name".to_string(), "web".to_string());
        labels.insert(
            "io.kubernetes.pod.namespace".to_string(),
            "shop".to_string(),
        );
        labels.insert("nerdctl/name".to_string(), "front".to_string());
        tx.send(Update::Snapshot(
            Source::Containerd,
            vec![Record {
                id: "web1".into(),
                labels,
                namespace: "default".into(),
                cgroup_path: Some("/default/web1".into()),
                ..Default::default()
            }],
        ))
        .unwrap();
        tx.send(Update::Upsert(
            Source::Docker,
            Record {
                id: ID.into(),
                name: "db".into(),
                image: "busybox:test".into(),
                ..Default::default()
            },
        ))
        .unwrap();
        t.poll();
        let web = t.entries.get("web1").unwrap();
        assert_eq!(web.info.name, "front");
        assert_eq!(web.info.runtime, "containerd");
        assert_eq!(web.pod.as_ref().unwrap().namespace, "shop");
        assert!(web.selected);
        let db = t.entries.get(ID).unwrap();
        assert_eq!(
            (db.info.runtime.as_str(), db.info.namespace.as_str()),
            ("docker", "moby")
        );
        assert!(db.selected);
        // A process in /default/web1 belongs to web1; one with the id in its path to the other.
        let st = PidState {
            cgroups: vec!["/default/web1".into()],
            ..Default::default()
        };
        assert_eq!(t.lookup(&st).as_deref(), Some("web1"));
        let st = PidState {
            cgroups: vec![format!("/system.slice/docker-{ID}.scope")],
            ..Default::default()
        };
        assert_eq!(t.lookup(&st).as_deref(), Some(ID));
        tx.send(Update::Remove(Source::Containerd, "web1".into()))
            .unwrap();
        t.poll();
        assert!(t.entries.get("web1").unwrap().removed_at.is_some());
    }

    #[test]
    fn pod_labels_come_from_the_sandbox_whichever_arrives_first() {
        let labels = |kv: &[(&str, &str)]| -> BTreeMap<String, String> {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let pod = [
            ("io.kubernetes.pod.name", "web"),
            ("io.kubernetes.pod.namespace", "shop"),
            ("io.kubernetes.pod.uid", "u-1"),
        ];
        let app = |id: &str| Record {
            id: id.into(),
            labels: labels(&[
                pod[0],
                pod[1],
                pod[2],
                ("io.cri-containerd.kind", "container"),
            ]),
            ..Default::default()
        };
        let sandbox = Record {
            id: "pause".into(),
            labels: labels(&[
                pod[0],
                pod[1],
                pod[2],
                ("io.cri-containerd.kind", "sandbox"),
                ("app", "web"),
                ("tier", "front"),
                ("annotation.kubernetes.io/config.source", "api"),
                ("io.containerd.image.config.stop-signal", "SIGTERM"),
            ]),
            ..Default::default()
        };
        let (mut t, tx) = Tracker::with_feed(Vec::new());
        // An app container before its sandbox, one after.
        tx.send(Update::Upsert(Source::Containerd, app("nginx")))
            .unwrap();
        tx.send(Update::Upsert(Source::Containerd, sandbox.clone()))
            .unwrap();
        tx.send(Update::Upsert(Source::Containerd, app("sidecar")))
            .unwrap();
        t.poll();
        let want = labels(&[("app", "web"), ("tier", "front")]);
        for id in ["nginx", "sidecar", "pause"] {
            let p = t.entries.get(id).unwrap().pod.clone().unwrap();
            assert_eq!((p.uid.as_str(), &p.labels), ("u-1", &want), "{id}");
        }
        // New labels on the sandbox reach the pod's containers.
        let mut relabelled = sandbox;
        relabelled.labels.insert("tier".into(), "back".into());
        tx.send(Update::Upsert(Source::Containerd, relabelled))
            .unwrap();
        t.poll();
        let p = t.entries.get("nginx").unwrap().pod.clone().unwrap();
        assert_eq!(p.labels.get("tier").map(String::as_str), Some("back"));
    }

    /// Issue 10: every exec'd process got a pid entry and every exit a place in the queue,
    /// which was trimmed only at 65,536 pids (never reached with pid_max 32768): the queue grew
    /// by one per process for ever. Now the most recent `EXITED_MAX` exited stay, and a reused
    /// pid (a live process) is never dropped for its predecessor's exit.
    #[test]
    fn exited_processes_are_bounded_under_pid_reuse() {
        use crate::procs::EXITED_MAX;
        let mut t = Tracker::inactive();
        // Above any pid_max (2^22): nothing in /proc.
        let live = 5_000_000 + 7;
        for n in 0..100_000u32 {
            let pid = 5_000_000 + n % 32_000;
            t.on_exec(pid, 0);
            if pid != live || n < 32_000 {
                t.on_exit(pid);
            }
            assert!(t.exited.len() <= EXITED_MAX);
            assert!(t.pids.len() <= EXITED_MAX + 1, "{}", t.pids.len());
        }
        // Exited as 7, 32,007 and 64,007; exec'd again at 96,007 and still running.
        assert!(t.pids.get(&live).is_some_and(|p| p.exit_serial == 0));
        // The most recent ones are still there.
        assert!(t.pids.contains_key(&(5_000_000 + 99_999 % 32_000)));
    }
}
