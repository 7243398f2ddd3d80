//! The Docker watcher: the Docker Engine API over its unix socket, with a tiny HTTP/1.1
//! client (a blocking thread of its own; the API needs no more than GET, chunked bodies and
//! one long-lived event stream).
//!
//! Each connection opens the event stream (`/events`, container events) first, then lists the
//! containers (`/containers/json?all=1`) and inspects each (`/containers/{id}/json`: name,
//! image, labels, pid), sends the snapshot, and follows the events: create, start, rename and
//! update re-inspect the container, destroy removes it. When the daemon goes away it reconnects
//! with a backoff (0.25 s doubling to 1 s: a stat of a missing socket is cheap).

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::{cgroup_id_of, pidns_of, Feed, Record, Source, Update};

type Error = Box<dyn std::error::Error + Send + Sync>;

pub fn spawn(address: PathBuf, tx: Feed, verbose: u8) {
    let spawned = std::thread::Builder::new()
        .name("ptcap-docker".into())
        .spawn(move || watch(address, tx, verbose));
    if let Err(e) = spawned {
        eprintln!("ptcap: docker watcher: {e}");
    }
}

fn watch(address: PathBuf, tx: Feed, verbose: u8) {
    let mut backoff = Duration::from_millis(250);
    let mut first = true;
    loop {
        let mut connected = false;
        let result = session(&address, &tx, &mut connected);
        if connected {
            backoff = Duration::from_millis(250);
        }
        if tx.send(Update::Down(Source::Docker)).is_err() {
            return;
        }
        let why = match &result {
            Ok(()) => "the event stream ended".to_string(),
            Err(e) => e.to_string(),
        };
        if first && !connected {
            // Only with -v: most hosts run one runtime or none; a container filter with no
            // runtime at all is reported once by the tracker.
            if verbose > 0 {
                eprintln!(
                    "ptcap: Docker is not reachable at {} ({why}): no Docker metadata until it is",
                    address.display()
                );
            }
        } else if connected {
            eprintln!(
                "ptcap: lost Docker at {} ({why}); reconnecting",
                address.display()
            );
        } else if verbose > 1 {
            eprintln!("ptcap: docker: {why}");
        }
        first = false;
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(Duration::from_secs(1));
    }
}

/// Sends a GET and returns the reader positioned at the body, with its framing.
fn request(
    address: &Path,
    path: &str,
    timeout: Option<Duration>,
) -> Result<(BufReader<UnixStream>, bool, Option<usize>), Error> {
    let mut s = UnixStream::connect(address)?;
    s.set_read_timeout(timeout)?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: ptcap\r\nConnection: close\r\n\r\n"
    )?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("not an HTTP response")?;
    let (mut chunked, mut length) = (false, None);
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err("connection closed in the headers".into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                chunked = true;
            } else if k == "content-length" {
                length = v.parse().ok();
            }
        }
    }
    if status != 200 {
        return Err(format!("GET {path}: HTTP {status}").into());
    }
    Ok((r, chunked, length))
}

/// Reads one chunk of a chunked body (None at the last chunk).
fn read_chunk(r: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let size_text = line.trim().split(';').next().unwrap_or("");
    let size = usize::from_str_radix(size_text, 16)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
    if size == 0 {
        return Ok(None);
    }
    let mut buf = vec![0u8; size];
    r.read_exact(&mut buf)?;
    let mut crlf = [0u8; 2];
    r.read_exact(&mut crlf)?;
    Ok(Some(buf))
}

fn get_json(address: &Path, path: &str) -> Result<Value, Error> {
    let (mut r, chunked, length) = request(address, path, Some(Duration::from_secs(5)))?;
    let mut body = Vec::new();
    if chunked {
        while let Some(c) = read_chunk(&mut r)? {
            body.extend_from_slice(&c);
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    } else {
        r.read_to_end(&mut body)?;
    }
    Ok(serde_json::from_slice(&body)?)
}

fn inspect(address: &Path, id: &str) -> Option<Record> {
    let v = get_json(address, &format!("/containers/{id}/json")).ok()?;
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let labels: BTreeMap<String, String> = v["Config"]["Labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default();
    let pid = v["State"]["Pid"].as_u64().unwrap_or(0) as u32;
    Some(Record {
        id: s(&v["Id"]),
        name: s(&v["Name"]).trim_start_matches('/').to_string(),
        image: s(&v["Config"]["Image"]),
        labels,
        namespace: "moby".into(),
        cgroup_path: None,
        pid,
        pidns: if pid != 0 { pidns_of(pid) } else { 0 },
        // cgroupfs and systemd drivers' default places.
        cgroup_id: [
            format!("/docker/{id}"),
            format!("/system.slice/docker-{id}.scope"),
        ]
        .iter()
        .map(|p| cgroup_id_of(p))
        .find(|&i| i != 0)
        .unwrap_or(0),
    })
}

fn session(address: &Path, tx: &Feed, connected: &mut bool) -> Result<(), Error> {
    if !address.exists() {
        return Err(format!("no socket at {}", address.display()).into());
    }
    // Events first (filters={"type":["container"]}), so nothing falls between list and stream.
    let (mut events, chunked, _) = request(
        address,
        "/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D",
        None,
    )?;
    let list = get_json(address, "/containers/json?all=1")?;
    let mut records = Vec::new();
    for c in list.as_array().map(Vec::as_slice).unwrap_or(&[]) {
        if let Some(r) = c["Id"].as_str().and_then(|id| inspect(address, id)) {
            records.push(r);
        }
    }
    *connected = true;
    tx.send(Update::Snapshot(Source::Docker, records))?;
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let data = if chunked {
            match read_chunk(&mut events)? {
                Some(c) => c,
                None => return Ok(()),
            }
        } else {
            let mut buf = vec![0u8; 8192];
            let n = events.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            buf.truncate(n);
            buf
        };
        pending.extend_from_slice(&data);
        while let Some(nl) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=nl).collect();
            let Ok(ev) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            let id = ev["Actor"]["ID"]
                .as_str()
                .or_else(|| ev["id"].as_str())
                .unwrap_or("")
                .to_string();
            let action = ev["Action"]
                .as_str()
                .or_else(|| ev["status"].as_str())
                .unwrap_or("");
            if id.is_empty() {
                continue;
            }
            let update = match action.split(':').next().unwrap_or("") {
                "create" | "start" | "restart" | "rename" | "update" | "unpause" => {
                    inspect(address, &id).map(|r| Update::Upsert(Source::Docker, r))
                }
                "destroy" => Some(Update::Remove(Source::Docker, id)),
                _ => None,
            };
            if let Some(u) = update {
                tx.send(u)?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_decode() {
        let mut r = io::Cursor::new(b"5\r\nhello\r\n3;x=y\r\n ab\r\n0\r\n\r\n".to_vec());
        assert_eq!(read_chunk(&mut r).unwrap().unwrap(), b"hello");
        assert_eq!(read_chunk(&mut r).unwrap().unwrap(), b" ab");
        assert!(read_chunk(&mut r).unwrap().is_none());
    }
}
