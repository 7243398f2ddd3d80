//! The containerd watcher: the `containerd-client` crate (tonic over containerd's unix socket)
//! on a current-thread tokio runtime of its own thread.
//!
//! Each connection subscribes to the event stream first, then lists every namespace's
//! containers and tasks (so nothing falls between the snapshot and the events), sends the
//! snapshot, and follows the events until the stream ends. Then it reconnects with a backoff
//! (0.25 s doubling to 1 s: a stat of a missing socket is cheap). Absence at start is said once on stderr and costs the capture
//! nothing: no call here is awaited by the packet path.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use containerd_client::events::{ContainerCreate, ContainerDelete, ContainerUpdate, TaskStart};
use containerd_client::services::v1::containers_client::ContainersClient;
use containerd_client::services::v1::events_client::EventsClient;
use containerd_client::services::v1::namespaces_client::NamespacesClient;
use containerd_client::services::v1::tasks_client::TasksClient;
use containerd_client::services::v1::{
    Container, GetContainerRequest, ListContainersRequest, ListNamespacesRequest, ListTasksRequest,
    SubscribeRequest,
};
use containerd_client::tonic::transport::Channel;
use containerd_client::tonic::Request;
use prost::Message;

use super::{cgroup_id_of, normalize_cgroups_path, pidns_of, Feed, Record, Source, Update};

type Error = Box<dyn std::error::Error + Send + Sync>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

pub fn spawn(address: PathBuf, tx: Feed, verbose: u8) {
    let spawned = std::thread::Builder::new()
        .name("ptcap-containerd".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("ptcap: containerd watcher: {e}");
                    return;
                }
            };
            rt.block_on(watch(address, tx, verbose));
        });
    if let Err(e) = spawned {
        eprintln!("ptcap: containerd watcher: {e}");
    }
}

fn with_ns<T>(msg: T, ns: &str) -> Request<T> {
    let mut req = Request::new(msg);
    if let Ok(v) = ns.parse() {
        req.metadata_mut().insert("containerd-namespace", v);
    }
    req
}

async fn watch(address: PathBuf, tx: Feed, verbose: u8) {
    let mut backoff = Duration::from_millis(250);
    let mut first = true;
    loop {
        let mut connected = false;
        let result = session(&address, &tx, &mut connected).await;
        if connected {
            backoff = Duration::from_millis(250);
        }
        if tx.send(Update::Down(Source::Containerd)).is_err() {
            return; // the capture is over
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
                "ptcap: containerd is not reachable at {} ({why}): no containerd metadata until it is",
                address.display()
            );
            }
        } else if connected {
            eprintln!(
                "ptcap: lost containerd at {} ({why}); reconnecting",
                address.display()
            );
        } else if verbose > 1 {
            eprintln!("ptcap: containerd: {why}");
        }
        first = false;
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(1));
    }
}

async fn session(address: &Path, tx: &Feed, connected: &mut bool) -> Result<(), Error> {
    if !address.exists() {
        return Err(format!("no socket at {}", address.display()).into());
    }
    let ch: Channel = tokio::time::timeout(CONNECT_TIMEOUT, containerd_client::connect(address))
        .await
        .map_err(|_| "connection timed out")??;
    // containerd answers a subscription only with its first event: the call runs as a task
    // (sent before the listing, so nothing falls between) while the snapshot is taken.
    let mut events_client = EventsClient::new(ch.clone());
    let subscription =
        tokio::spawn(async move { events_client.subscribe(SubscribeRequest::default()).await });
    tokio::task::yield_now().await;
    let snapshot = tokio::time::timeout(CALL_TIMEOUT, snapshot(&ch))
        .await
        .map_err(|_| "listing timed out")??;
    *connected = true;
    tx.send(Update::Snapshot(Source::Containerd, snapshot))?;
    let mut events = subscription.await??.into_inner();
    while let Some(env) = events.message().await? {
        let Some(any) = env.event else { continue };
        let ns = env.namespace.as_str();
        let bytes = any.value.as_slice();
        let update = match env.topic.as_str() {
            "/containers/create" => {
                let id = ContainerCreate::decode(bytes)?.id;
                fetch(&ch, ns, &id, 0)
                    .await
                    .map(|r| Update::Upsert(Source::Containerd, r))
            }
            "/containers/update" => {
                let id = ContainerUpdate::decode(bytes)?.id;
                fetch(&ch, ns, &id, 0)
                    .await
                    .map(|r| Update::Upsert(Source::Containerd, r))
            }
            "/tasks/start" => {
                let ev = TaskStart::decode(bytes)?;
                fetch(&ch, ns, &ev.container_id, ev.pid)
                    .await
                    .map(|r| Update::Upsert(Source::Containerd, r))
            }
            "/containers/delete" => Some(Update::Remove(
                Source::Containerd,
                ContainerDelete::decode(bytes)?.id,
            )),
            _ => None,
        };
        if let Some(u) = update {
            tx.send(u)?;
        }
    }
    Ok(())
}

fn record(ns: &str, c: Container, pid: u32) -> Record {
    let cgroup_path = c.spec.as_ref().and_then(|s| {
        let v: serde_json::Value = serde_json::from_slice(&s.value).ok()?;
        normalize_cgroups_path(v.get("linux")?.get("cgroupsPath")?.as_str()?)
    });
    let labels: BTreeMap<String, String> = c.labels.into_iter().collect();
    let cgroup_id = cgroup_path.as_deref().map_or(0, cgroup_id_of);
    Record {
        cgroup_id,
        name: String::new(),
        image: c.image,
        labels,
        namespace: ns.to_string(),
        cgroup_path,
        pid,
        pidns: if pid != 0 { pidns_of(pid) } else { 0 },
        id: c.id,
    }
}

async fn fetch(ch: &Channel, ns: &str, id: &str, pid: u32) -> Option<Record> {
    let req = with_ns(GetContainerRequest { id: id.to_string() }, ns);
    let c = ContainersClient::new(ch.clone())
        .get(req)
        .await
        .ok()?
        .into_inner()
        .container?;
    Some(record(ns, c, pid))
}

async fn snapshot(ch: &Channel) -> Result<Vec<Record>, Error> {
    let namespaces = NamespacesClient::new(ch.clone())
        .list(ListNamespacesRequest::default())
        .await?
        .into_inner()
        .namespaces;
    let mut out = Vec::new();
    for ns in namespaces {
        let ns = ns.name;
        let tasks = TasksClient::new(ch.clone())
            .list(with_ns(ListTasksRequest::default(), &ns))
            .await?
            .into_inner()
            .tasks;
        let pids: HashMap<String, u32> = tasks
            .into_iter()
            .filter(|t| t.pid != 0)
            .map(|t| (t.container_id.clone(), t.pid))
            .collect();
        let containers = ContainersClient::new(ch.clone())
            .list(with_ns(ListContainersRequest::default(), &ns))
            .await?
            .into_inner()
            .containers;
        for c in containers {
            let pid = pids.get(&c.id).copied().unwrap_or(0);
            out.push(record(&ns, c, pid));
        }
    }
    Ok(out)
}
