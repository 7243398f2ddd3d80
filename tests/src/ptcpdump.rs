//! Files in ptcpdump's layout, written block by block the way its pcapng writer does
//! (independently of our own writer): one Ethernet IDB, EPBs with `epb_flags` and per packet
//! the `opt_comment`s ptcpdump adds, in its order and with its conditions:
//!
//! ```text
//! PID: <pid>\nCmd: <exe>\nArgs: <argv joined by space>      when pid > 0
//! ThreadId: <tid>\nThreadName: <thread name>                 when tid > 0
//! UserId: <uid>\nGroupId: <gid>                              when uid > 0
//! ParentPID: <pid>\nParentCmd: <exe>\nParentArgs: <args>     when the parent's pid > 0
//! ContainerName: ..\nContainerId: ..\nContainerImage: ..\nContainerLabels: <JSON>   when id != ""
//! PodName: ..\nPodNamespace: ..\nPodUID: ..\nPodLabels: <JSON>\nPodAnnotations: <JSON> when name != ""
//! ```
//! Values are written as they are (ptcpdump escapes nothing); JSON maps as Go's
//! `json.Marshal` writes a `map[string]string` (sorted keys, compact).

use std::collections::BTreeMap;

/// One owner as ptcpdump knows it.
#[derive(Debug, Clone, Default)]
pub struct Owner {
    pub pid: u32,
    pub exe: String,
    pub args: Vec<String>,
    pub tid: u32,
    pub thread_name: String,
    pub uid: u32,
    pub gid: u32,
    pub parent_pid: u32,
    pub parent_exe: String,
    pub parent_args: Vec<String>,
    pub container_name: String,
    pub container_id: String,
    pub container_image: String,
    pub container_labels: BTreeMap<String, String>,
    pub pod_name: String,
    pub pod_namespace: String,
    pub pod_uid: String,
    pub pod_labels: BTreeMap<String, String>,
}

/// The comments ptcpdump's writer gives a packet of `o`, in its order.
pub fn comments(o: &Owner) -> Vec<String> {
    let json = |m: &BTreeMap<String, String>| serde_json::to_string(m).unwrap();
    let mut out = Vec::new();
    if o.pid > 0 {
        out.push(format!(
            "PID: {}\nCmd: {}\nArgs: {}",
            o.pid,
            o.exe,
            o.args.join(" ")
        ));
        if o.tid > 0 {
            out.push(format!(
                "ThreadId: {}\nThreadName: {}",
                o.tid, o.thread_name
            ));
        }
        if o.uid > 0 {
            out.push(format!("UserId: {}\nGroupId: {}", o.uid, o.gid));
        }
        if o.parent_pid > 0 {
            out.push(format!(
                "ParentPID: {}\nParentCmd: {}\nParentArgs: {}",
                o.parent_pid,
                o.parent_exe,
                o.parent_args.join(" ")
            ));
        }
    }
    if !o.container_id.is_empty() {
        out.push(format!(
            "ContainerName: {}\nContainerId: {}\nContainerImage: {}\nContainerLabels: {}",
            o.container_name,
            o.container_id,
            o.container_image,
            json(&o.container_labels)
        ));
    }
    if !o.pod_name.is_empty() {
        out.push(format!(
            "PodName: {}\nPodNamespace: {}\nPodUID: {}\nPodLabels: {}\nPodAnnotations: {{}}",
            o.pod_name,
            o.pod_namespace,
            o.pod_uid,
            json(&o.pod_labels)
        ));
    }
    out
}

fn pad(v: &mut Vec<u8>) {
    while v.len() % 4 != 0 {
        v.push(0);
    }
}

fn option(v: &mut Vec<u8>, code: u16, value: &[u8]) {
    v.extend(code.to_le_bytes());
    v.extend((value.len() as u16).to_le_bytes());
    v.extend(value);
    pad(v);
}

fn block(out: &mut Vec<u8>, block_type: u32, body: &[u8]) {
    let total = (12 + body.len()) as u32;
    out.extend(block_type.to_le_bytes());
    out.extend(total.to_le_bytes());
    out.extend(body);
    out.extend(total.to_le_bytes());
}

/// A little-endian pcapng file: SHB, one Ethernet IDB named `eth0`, then nothing.
pub fn header() -> Vec<u8> {
    let mut out = Vec::new();
    let mut shb = Vec::new();
    shb.extend(0x1a2b_3c4du32.to_le_bytes());
    shb.extend(1u16.to_le_bytes());
    shb.extend(0u16.to_le_bytes());
    shb.extend(u64::MAX.to_le_bytes());
    option(&mut shb, 4, b"ptcpdump-layout test writer");
    shb.extend([0, 0, 0, 0]);
    block(&mut out, 0x0a0d_0d0a, &shb);
    let mut idb = Vec::new();
    idb.extend(1u16.to_le_bytes()); // LINKTYPE_ETHERNET
    idb.extend(0u16.to_le_bytes());
    idb.extend(262_144u32.to_le_bytes());
    option(&mut idb, 2, b"eth0");
    option(&mut idb, 9, &[9]); // if_tsresol: nanoseconds
    idb.extend([0, 0, 0, 0]);
    block(&mut out, 1, &idb);
    out
}

/// Appends one EPB on interface 0 (`out_dir`: epb_flags outbound, else inbound), with the
/// comments of `owner` (none when `None`).
pub fn packet(out: &mut Vec<u8>, ts_ns: u64, data: &[u8], out_dir: bool, owner: Option<&Owner>) {
    let mut epb = Vec::new();
    epb.extend(0u32.to_le_bytes());
    epb.extend(((ts_ns >> 32) as u32).to_le_bytes());
    epb.extend((ts_ns as u32).to_le_bytes());
    epb.extend((data.len() as u32).to_le_bytes());
    epb.extend((data.len() as u32).to_le_bytes());
    epb.extend(data);
    pad(&mut epb);
    for c in owner.map(comments).unwrap_or_default() {
        option(&mut epb, 1, c.as_bytes());
    }
    option(
        &mut epb,
        2,
        &(if out_dir { 2u32 } else { 1u32 }).to_le_bytes(),
    );
    epb.extend([0, 0, 0, 0]);
    block(out, 6, &epb);
}
