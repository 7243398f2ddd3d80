//! ptcap's container metadata and container selection, end to end, as root, with real
//! runtimes: a PRIVATE containerd (`containerd --root R --state S --address SOCK`, CRI off) and
//! a private dockerd (`--bridge none --iptables=false`, its own managed containerd), both in a
//! temp dir and killed by pid at the end. Nothing touches the host's runtimes, firewall or
//! routes.
//!
//! Image: a rootfs with /bin/busybox (busybox-static) and symlinks, packed as an OCI layout tar
//! (index.json, manifest, config, one uncompressed layer) for `ctr image import`; for Docker
//! the same rootfs through `docker import`.
//!
//! Network (198.19.K.0/24, unique per test, only inside namespaces this test creates): a
//! bridge in the root namespace with one veth per namespace; the server namespace runs
//! python3's http.server on port 80 at 198.19.K.1; each client namespace (198.19.K.1x) is given
//! to a container (`ctr run --with-ns network:/var/run/netns/N`; Docker: `--network none`, then
//! a veth moved into the container's namespace by pid). The containers loop
//! `printf 'GET / ...' | nc 198.19.K.1 80`. ptcap runs in the root namespace on `-i any`.
//!
//! The pod-to-pod test (issue 9) runs two pods as CRI containerd would (a sandbox and an app
//! container sharing each pod's namespace), busybox `nc` in one requesting busybox `httpd` in
//! the other, and checks flow owners, roles and names in the file read back with ptanalyze.
//!
//! Each test skips (with a message) when not root or when a runtime binary is missing; a guard
//! removes containers, daemons, namespaces, the bridge and the temp dir, also on panic.
//! Figures (share of correct ids, start-to-first-packet latency, start-up times) are printed
//! (`--nocapture`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use formats::meta::MetaReader;
use formats::pcapng::CaptureReader;
use ptcap_tests::{ptanalyze_packets, run_checked, target_bin};

static SERIAL: Mutex<()> = Mutex::new(());
static NEXT: AtomicU32 = AtomicU32::new(0);
static ENVS: AtomicU32 = AtomicU32::new(0);

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

fn is_root() -> bool {
    // SAFETY: plain syscall.
    unsafe { libc_geteuid() == 0 }
}

fn have(bin: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn busybox() -> Option<&'static str> {
    ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

fn skip(what: &[&str]) -> bool {
    if !is_root() {
        panic!("cannot run this test: needs root; CI runs it as root after scripts/setup.sh");
    }
    for b in what {
        if !have(b) {
            panic!("cannot run this test: {b} is not installed (scripts/setup.sh installs it); CI runs it as root after scripts/setup.sh");
        }
    }
    if busybox().is_none() {
        panic!("cannot run this test: busybox-static is not installed; CI runs it as root after scripts/setup.sh");
    }
    false
}

fn quiet(cmd: &[&str]) {
    let _ = Command::new(cmd[0])
        .args(&cmd[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sha256_hex(data: &[u8]) -> String {
    let mut c = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(data).unwrap();
    let out = c.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)[..64].to_string()
}

/// A fresh 64-hex container id.
fn new_id() -> String {
    let seed = format!(
        "{:?}{}{}",
        SystemTime::now(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    sha256_hex(seed.as_bytes())
}

/// Everything one test created; dropped (also on panic) in reverse order.
struct Env {
    dir: PathBuf,
    k: u32,
    bridge: String,
    namespaces: Vec<String>,
    host_links: Vec<String>,
    children: Vec<Child>,
    containerd: Option<Child>,
    containerd_sock: PathBuf,
    ctr_containers: Vec<String>,
    dockerd: Option<Child>,
    docker_sock: PathBuf,
    docker_containers: Vec<String>,
}

impl Env {
    /// The test server, containerd, and the busybox image imported.
    fn with_containerd() -> Env {
        let mut env = Env::new();
        env.start_server();
        env.start_containerd();
        env.import_image();
        env
    }

    fn new() -> Env {
        // 198.19.K.0/24: K unique per test of this process (and likely across processes).
        let k = 20 + (std::process::id() % 46) * 5 + ENVS.fetch_add(1, Ordering::SeqCst) % 5;
        let dir = PathBuf::from(format!("/tmp/ptk{}-{k}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let tag = format!("k{k}");
        let env = Env {
            containerd_sock: dir.join("c.sock"),
            docker_sock: dir.join("d.sock"),
            dir,
            k,
            bridge: format!("ptkbr{tag}"),
            namespaces: Vec::new(),
            host_links: Vec::new(),
            children: Vec::new(),
            containerd: None,
            ctr_containers: Vec::new(),
            dockerd: None,
            docker_containers: Vec::new(),
        };
        quiet(&["ip", "link", "del", &env.bridge]);
        run_checked(&["ip", "link", "add", &env.bridge, "type", "bridge"]);
        run_checked(&["ip", "link", "set", &env.bridge, "up"]);
        env.rootfs();
        env
    }

    fn server(&self) -> String {
        format!("198.19.{}.1", self.k)
    }

    fn client_ip(&self, i: u32) -> String {
        format!("198.19.{}.{}", self.k, 10 + i)
    }

    /// A namespace on the bridge with address `ip`; returns its name.
    fn add_ns(&mut self, i: u32, ip: &str) -> String {
        let ns = format!("ptk{}n{i}", self.k);
        let host = format!("ptk{}h{i}", self.k);
        quiet(&["ip", "netns", "del", &ns]);
        quiet(&["ip", "link", "del", &host]);
        run_checked(&["ip", "netns", "add", &ns]);
        self.namespaces.push(ns.clone());
        run_checked(&[
            "ip", "link", "add", &host, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ]);
        self.host_links.push(host.clone());
        run_checked(&["ip", "link", "set", &host, "master", &self.bridge, "up"]);
        run_checked(&[
            "ip",
            "-n",
            &ns,
            "addr",
            "add",
            &format!("{ip}/24"),
            "dev",
            "eth0",
        ]);
        run_checked(&["ip", "-n", &ns, "link", "set", "eth0", "up"]);
        run_checked(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
        ns
    }

    /// The HTTP responder (python3 http.server on port 80) in its own namespace.
    fn start_server(&mut self) {
        let ip = self.server();
        let ns = self.add_ns(0, &ip);
        let www = self.dir.join("www");
        std::fs::create_dir_all(&www).unwrap();
        std::fs::write(www.join("index.html"), "hello\n").unwrap();
        let child = Command::new("nsenter")
            .args([
                &format!("--net=/var/run/netns/{ns}"),
                "python3",
                "-m",
                "http.server",
                "80",
                "--bind",
                &ip,
            ])
            .current_dir(&www)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.children.push(child);
        let probe = format!("import socket; socket.create_connection(('{ip}', 80), 1)");
        wait_for("the HTTP server", Duration::from_secs(10), || {
            Command::new("nsenter")
                .args([
                    &format!("--net=/var/run/netns/{ns}"),
                    "python3",
                    "-c",
                    &probe,
                ])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
    }

    fn rootfs(&self) {
        let root = self.dir.join("rootfs");
        for d in ["bin", "etc", "tmp", "proc", "sys", "dev", "www"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("www/index.html"), "hello\n").unwrap();
        std::fs::copy(busybox().unwrap(), root.join("bin/busybox")).unwrap();
        for a in ["sh", "nc", "sleep", "printf", "cat", "echo", "httpd"] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(a)).unwrap();
        }
    }

    /// The rootfs as an OCI image layout tar, named docker.io/library/busybox:test.
    fn oci_tar(&self) -> PathBuf {
        let oci = self.dir.join("oci");
        let blobs = oci.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        let blob = |data: &[u8]| -> (String, usize) {
            let h = sha256_hex(data);
            std::fs::write(blobs.join(&h), data).unwrap();
            (format!("sha256:{h}"), data.len())
        };
        let layer = Command::new("tar")
            .args(["-C", self.dir.join("rootfs").to_str().unwrap(), "-c", "."])
            .output()
            .unwrap();
        assert!(layer.status.success());
        let (ld, ll) = blob(&layer.stdout);
        let config = serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [ld]}
        });
        let (cd, cl) = blob(config.to_string().as_bytes());
        let manifest = serde_json::json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cl},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ll}]
        });
        let (md, ml) = blob(manifest.to_string().as_bytes());
        let index = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ml,
                "annotations": {"io.containerd.image.name": "docker.io/library/busybox:test",
                                "org.opencontainers.image.ref.name": "test"}}]
        });
        std::fs::write(oci.join("index.json"), index.to_string()).unwrap();
        std::fs::write(oci.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        let tar = self.dir.join("image.tar");
        run_checked(&[
            "tar",
            "-C",
            oci.to_str().unwrap(),
            "-cf",
            tar.to_str().unwrap(),
            "oci-layout",
            "index.json",
            "blobs",
        ]);
        tar
    }

    fn start_containerd(&mut self) {
        let cfg = self.dir.join("containerd.toml");
        std::fs::write(
            &cfg,
            "version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n",
        )
        .unwrap();
        let log = std::fs::File::create(self.dir.join("containerd.log")).unwrap();
        let child = Command::new("containerd")
            .args(["--config", cfg.to_str().unwrap()])
            .args(["--root", self.dir.join("cd-root").to_str().unwrap()])
            .args(["--state", self.dir.join("cd-state").to_str().unwrap()])
            .args(["--address", self.containerd_sock.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.containerd = Some(child);
        let sock = self.containerd_sock.clone();
        wait_for("containerd", Duration::from_secs(20), || {
            sock.exists()
                && Command::new("ctr")
                    .args(["-a", sock.to_str().unwrap(), "version"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
        });
    }

    fn stop_containerd(&mut self) {
        if let Some(mut c) = self.containerd.take() {
            quiet(&["kill", "-TERM", &c.id().to_string()]);
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.containerd_sock);
    }

    fn ctr(&self, args: &[&str]) -> String {
        let mut full = vec![
            "ctr",
            "-a",
            self.containerd_sock.to_str().unwrap(),
            "-n",
            "default",
        ];
        full.extend_from_slice(args);
        run_checked(&full)
    }

    fn import_image(&self) {
        let tar = self.oci_tar();
        self.ctr(&["image", "import", tar.to_str().unwrap()]);
    }

    /// `ctr run -d` in namespace `ns`, looping requests to the server; returns when started.
    fn ctr_run(&mut self, id: &str, ns: &str, labels: &[&str]) -> SystemTime {
        let script = format!(
            "while true; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc {} 80 >/dev/null; sleep 0.3; done",
            self.server()
        );
        self.ctr_run_script(id, ns, labels, &script)
    }

    /// A busybox container in network namespace `ns` running `script` under sh.
    fn ctr_run_script(&mut self, id: &str, ns: &str, labels: &[&str], script: &str) -> SystemTime {
        let netns = format!("network:/var/run/netns/{ns}");
        let mut args = vec!["run", "-d", "--with-ns", &netns];
        let label_args: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        for l in &label_args {
            args.push("--label");
            args.push(l);
        }
        args.extend_from_slice(&["docker.io/library/busybox:test", id, "sh", "-c", script]);
        self.ctr_containers.push(id.to_string());
        let t = SystemTime::now();
        self.ctr(&args);
        t
    }

    /// The pid of a container's init process (`ctr task ls`).
    fn task_pid(&self, id: &str) -> u32 {
        let out = self.ctr(&["task", "ls"]);
        out.lines()
            .find_map(|l| {
                let mut w = l.split_whitespace();
                (w.next()? == id).then(|| w.next()?.parse().ok())?
            })
            .unwrap_or_else(|| panic!("no task {id}: {out}"))
    }

    /// A pod as CRI containerd runs it: a sandbox container (`sleep`, the pod's labels) and an
    /// app container running `script`, both in network namespace `ns`. Returns the app's id.
    fn ctr_pod(&mut self, ns: &str, pod: &str, app: &str, script: &str) -> String {
        let (sandbox, id) = (new_id(), new_id());
        let name = format!("io.kubernetes.pod.name={pod}");
        let cname = format!("io.kubernetes.container.name={app}");
        let uid = format!("io.kubernetes.pod.uid=u-{pod}");
        let common = [
            name.as_str(),
            "io.kubernetes.pod.namespace=p2p",
            uid.as_str(),
        ];
        let mut sl = common.to_vec();
        sl.push("io.cri-containerd.kind=sandbox");
        self.ctr_run_script(&sandbox, ns, &sl, "exec sleep 3600");
        let mut al = common.to_vec();
        al.extend_from_slice(&[cname.as_str(), "io.cri-containerd.kind=container"]);
        self.ctr_run_script(&id, ns, &al, script);
        id
    }

    fn start_dockerd(&mut self) {
        let log = std::fs::File::create(self.dir.join("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .args(["--data-root", self.dir.join("dk-root").to_str().unwrap()])
            .args(["--exec-root", self.dir.join("dk-exec").to_str().unwrap()])
            .args(["-H", &format!("unix://{}", self.docker_sock.display())])
            .args(["--pidfile", self.dir.join("dockerd.pid").to_str().unwrap()])
            .args([
                "--bridge",
                "none",
                "--iptables=false",
                "--ip-forward=false",
                "--ip-masq=false",
            ])
            .args(["--userland-proxy=false", "--storage-driver", "vfs"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.dockerd = Some(child);
        let sock = self.docker_sock.clone();
        wait_for("dockerd", Duration::from_secs(40), || {
            sock.exists()
                && Command::new("docker")
                    .args(["-H", &format!("unix://{}", sock.display()), "version"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
        });
    }

    fn docker(&self, args: &[&str]) -> String {
        let h = format!("unix://{}", self.docker_sock.display());
        let mut full = vec!["docker", "-H", &h];
        full.extend_from_slice(args);
        run_checked(&full)
    }

    /// `docker run --network none`, then a veth on our bridge moved into its namespace.
    fn docker_run(&mut self, name: &str, i: u32) -> String {
        let h = format!("unix://{}", self.docker_sock.display());
        let mut imp = Command::new("sh")
            .args([
                "-c",
                &format!(
                    "tar -C {} -c . | docker -H {h} import -c 'ENV PATH=/bin' - busybox:test",
                    self.dir.join("rootfs").display()
                ),
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        assert!(imp.wait().unwrap().success(), "docker import");
        let script = format!(
            "while true; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc {} 80 >/dev/null; sleep 0.3; done",
            self.server()
        );
        self.docker_containers.push(name.to_string());
        let id = self
            .docker(&[
                "run",
                "-d",
                "--network",
                "none",
                "--name",
                name,
                "busybox:test",
                "sh",
                "-c",
                &script,
            ])
            .trim()
            .to_string();
        let pid = self
            .docker(&["inspect", "-f", "{{.State.Pid}}", name])
            .trim()
            .to_string();
        let host = format!("ptk{}h{i}", self.k);
        quiet(&["ip", "link", "del", &host]);
        run_checked(&[
            "ip", "link", "add", &host, "type", "veth", "peer", "name", "eth0", "netns", &pid,
        ]);
        self.host_links.push(host.clone());
        run_checked(&["ip", "link", "set", &host, "master", &self.bridge, "up"]);
        let ip = format!("{}/24", self.client_ip(i));
        run_checked(&[
            "nsenter", "-t", &pid, "-n", "ip", "addr", "add", &ip, "dev", "eth0",
        ]);
        run_checked(&[
            "nsenter", "-t", &pid, "-n", "ip", "link", "set", "eth0", "up",
        ]);
        id
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let cd = self.containerd_sock.to_str().unwrap().to_string();
        if self.containerd.is_some() {
            for id in &self.ctr_containers {
                quiet(&[
                    "ctr", "-a", &cd, "-n", "default", "task", "kill", "-s", "SIGKILL", id,
                ]);
            }
            std::thread::sleep(Duration::from_millis(300));
            for id in &self.ctr_containers {
                quiet(&[
                    "ctr", "-a", &cd, "-n", "default", "task", "delete", "-f", id,
                ]);
                quiet(&["ctr", "-a", &cd, "-n", "default", "container", "delete", id]);
            }
        }
        if self.dockerd.is_some() {
            let h = format!("unix://{}", self.docker_sock.display());
            for n in &self.docker_containers {
                quiet(&["docker", "-H", &h, "rm", "-f", n]);
            }
        }
        for c in self
            .children
            .iter_mut()
            .chain(self.containerd.iter_mut())
            .chain(self.dockerd.iter_mut())
        {
            quiet(&["kill", "-TERM", &c.id().to_string()]);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && matches!(c.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        for l in &self.host_links {
            quiet(&["ip", "link", "del", l]);
        }
        quiet(&["ip", "link", "del", &self.bridge]);
        for ns in &self.namespaces {
            quiet(&["ip", "netns", "del", ns]);
        }
        // Mounts left by a runtime that died uncleanly, then the state.
        if let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") {
            let prefix = self.dir.to_str().unwrap().to_string();
            let mut points: Vec<&str> = mounts
                .lines()
                .filter_map(|l| l.split(' ').nth(1))
                .filter(|m| m.starts_with(&prefix))
                .collect();
            points.sort_by_key(|p| std::cmp::Reverse(p.len()));
            for p in points {
                quiet(&["umount", "-l", p]);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running ptcap; its stdout goes to a file, its stderr lines to a channel.
struct Ptcap {
    child: Child,
    out: PathBuf,
    stderr: mpsc::Receiver<String>,
    err_lines: Vec<String>,
    ready_after: Duration,
}

impl Ptcap {
    fn start(env: &Env, name: &str, args: &[&str]) -> Ptcap {
        Ptcap::start_in(env, None, name, args)
    }

    /// ptcap on `-i any` of network namespace `netns` (None: the root namespace).
    fn start_in(env: &Env, netns: Option<&str>, name: &str, args: &[&str]) -> Ptcap {
        let out = env.dir.join(format!("{name}.txt"));
        let started = Instant::now();
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("nsenter");
                c.arg(format!("--net=/var/run/netns/{ns}"))
                    .arg(target_bin("ptcap"));
                c
            }
            None => Command::new(target_bin("ptcap")),
        };
        let mut child = cmd
            .args(["-i", "any"])
            .args([
                "--containerd-address",
                env.containerd_sock.to_str().unwrap(),
            ])
            .args(["--docker-address", env.docker_sock.to_str().unwrap()])
            .args(args)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        let mut p = Ptcap {
            child,
            out,
            stderr: rx,
            err_lines: Vec::new(),
            ready_after: Duration::ZERO,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let l = p
                .stderr
                .recv_timeout(Duration::from_secs(30))
                .expect("ptcap did not start");
            let ready = l.starts_with("capturing on");
            p.err_lines.push(l);
            if ready {
                p.ready_after = started.elapsed();
                break;
            }
            assert!(
                Instant::now() < deadline,
                "ptcap did not start: {:?}",
                p.err_lines
            );
        }
        p
    }

    /// Waits for exit (-c) up to `timeout`, else interrupts; returns stdout and stderr.
    fn finish(mut self, timeout: Duration) -> (String, String) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(50));
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            quiet(&["kill", "-INT", &self.child.id().to_string()]);
        }
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        while let Ok(l) = self.stderr.try_recv() {
            self.err_lines.push(l);
        }
        (
            std::fs::read_to_string(&self.out).unwrap_or_default(),
            self.err_lines.join("\n"),
        )
    }
}

impl Drop for Ptcap {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            quiet(&["kill", "-INT", &self.child.id().to_string()]);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `> SERVER.80: Flags .*, args <cmd>.* <id>` (ptcpdump's CI pattern) without a regex crate.
fn matches_pattern(line: &str, server: &str, cmd: &str, id: &str) -> bool {
    let Some(a) = line.find(&format!("> {server}.80: Flags ")) else {
        return false;
    };
    let rest = &line[a..];
    let Some(b) = rest.find(&format!(", args {cmd}")) else {
        return false;
    };
    rest[b..].contains(&format!(" {id}"))
}

/// The share of the lines of `cmd` sent from `src` that carry `id`: (correct, total).
fn share(text: &str, src: &str, server: &str, cmd: &str, id: &str) -> (usize, usize) {
    let mine: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.contains(&format!(" {src}."))
                && l.contains(&format!("> {server}.80: Flags "))
                && l.contains(&format!(", args {cmd}"))
        })
        .collect();
    (
        mine.iter()
            .filter(|l| matches_pattern(l, server, cmd, id))
            .count(),
        mine.len(),
    )
}

/// First packet time (pcapng) whose metadata carries container `id`.
fn first_packet_with(file: &Path, id: &str) -> Option<SystemTime> {
    let bytes = std::fs::read(file).ok()?;
    let mut r = CaptureReader::new(&bytes).ok()?;
    let mut m = MetaReader::new();
    while let Ok(Some(p)) = r.next_packet() {
        m.learn_definitions(&p.options);
        let meta = m.decode(&p.options);
        if meta.container.as_ref().is_some_and(|c| c.id == id) {
            return Some(SystemTime::UNIX_EPOCH + Duration::from_nanos(p.ts_ns));
        }
    }
    None
}

fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}

#[test]
fn containerd_two_containers_text_pcapng_and_ptanalyze() {
    if skip(&["containerd", "ctr", "runc", "nsenter", "python3"]) {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut env = Env::with_containerd();
    let ns1 = env.add_ns(1, &env.client_ip(1));
    let ns2 = env.add_ns(2, &env.client_ip(2));
    let server = env.server();
    let file = env.dir.join("two.pcapng");
    let filter = format!("host {server} and port 80");
    let cap = Ptcap::start(
        &env,
        "two",
        &[
            "--print",
            "-w",
            file.to_str().unwrap(),
            "--oneline",
            "-v",
            &filter,
        ],
    );
    println!(
        "figure: ptcap start-up with containerd present: {:.0} ms",
        cap.ready_after.as_secs_f64() * 1e3
    );
    let (id1, id2) = (new_id(), new_id());
    let t1 = env.ctr_run(&id1, &ns1, &["nerdctl/name=web1"]);
    env.ctr_run(&id2, &ns2, &[]);
    std::thread::sleep(Duration::from_secs(4));
    let (text, err) = cap.finish(Duration::ZERO);
    let cmd = format!("nc {server} 80");
    for (i, id) in [(1, &id1), (2, &id2)] {
        let (ok, total) = share(&text, &env.client_ip(i), &server, &cmd, id);
        println!("figure: container {i}: {ok}/{total} of its packets carry its id");
        assert!(total > 0, "no packet of container {i}:\n{text}\n{err}");
        assert_eq!(ok, total, "container {i}: wrong or missing ids:\n{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.contains(&id1) && l.contains("Container (name web1,")),
        "name from nerdctl/name:\n{text}"
    );
    assert!(
        text.contains("image docker.io/library/busybox:test"),
        "{text}"
    );
    if let Some(first) = first_packet_with(&file, &id1) {
        let d = first.duration_since(t1).unwrap_or_default();
        println!(
            "figure: container start (ctr run) to first attributed packet: {:.0} ms",
            d.as_secs_f64() * 1e3
        );
    }
    // ptanalyze shows the same lines.
    let out = Command::new(target_bin("ptanalyze"))
        .args(["--oneline", "-v", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let offline = String::from_utf8_lossy(&out.stdout);
    for id in [&id1, &id2] {
        let live: Vec<&str> = text
            .lines()
            .filter(|l| matches_pattern(l, &server, &cmd, id))
            .collect();
        let off: Vec<&str> = offline
            .lines()
            .filter(|l| matches_pattern(l, &server, &cmd, id))
            .collect();
        assert_eq!(live, off, "ptanalyze differs from the live lines");
    }
    assert!(
        err.contains("Docker is not reachable"),
        "one line about the absent Docker: {err}"
    );
}

#[test]
fn containerd_selection_by_id_and_name_before_and_after_start() {
    if skip(&["containerd", "ctr", "runc", "nsenter", "python3"]) {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut env = Env::with_containerd();
    let ns1 = env.add_ns(1, &env.client_ip(1));
    let ns2 = env.add_ns(2, &env.client_ip(2));
    let ns3 = env.add_ns(3, &env.client_ip(3));
    let server = env.server();
    let filter = format!("host {server} and port 80");
    let (early, noise, late) = (new_id(), new_id(), new_id());
    env.ctr_run(&early, &ns1, &[]);
    env.ctr_run(&noise, &ns2, &[]);
    std::thread::sleep(Duration::from_millis(800));

    // --container-id (a prefix) of a container started before ptcap.
    let cap = Ptcap::start(
        &env,
        "early",
        &[
            "--oneline",
            "-v",
            "-c",
            "10",
            "--container-id",
            &early[..12],
            &filter,
        ],
    );
    let (text, err) = cap.finish(Duration::from_secs(20));
    assert_eq!(text.lines().count(), 10, "{text}\n{err}");
    let mine = env.client_ip(1);
    for l in text.lines() {
        assert!(
            l.contains(&format!(" {mine}.")) || l.contains(&format!("> {mine}.")),
            "not the selected container's: {l}"
        );
    }
    assert!(
        lines_with(&text, "Container (")
            .iter()
            .all(|l| l.contains(&early)),
        "{text}"
    );

    // --container-name of a container that starts after ptcap (and one that matches nothing).
    let cap = Ptcap::start(
        &env,
        "late",
        &[
            "--oneline",
            "-v",
            "-c",
            "10",
            "--container-name",
            "late1",
            "--container-name",
            "nosuch",
            &filter,
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    env.ctr_run(&late, &ns3, &["nerdctl/name=late1"]);
    let (text, err) = cap.finish(Duration::from_secs(20));
    assert_eq!(text.lines().count(), 10, "{text}\n{err}");
    let mine = env.client_ip(3);
    for l in text.lines() {
        assert!(
            l.contains(&format!(" {mine}.")),
            "not the selected container's: {l}"
        );
    }
    assert!(
        lines_with(&text, "Container (")
            .iter()
            .all(|l| l.contains(&late) && l.contains("name late1")),
        "{text}"
    );
    assert!(
        err.contains("--container-name nosuch matches no container"),
        "{err}"
    );
}

#[test]
fn docker_container_name_and_selection() {
    if skip(&[
        "dockerd",
        "docker",
        "containerd",
        "runc",
        "nsenter",
        "python3",
    ]) {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut env = Env::new();
    env.start_server();
    env.start_dockerd();
    let server = env.server();
    let filter = format!("host {server} and port 80");
    let name = format!("ptweb{}", env.k);
    let id = env.docker_run(&name, 1);
    let cap = Ptcap::start(
        &env,
        "docker",
        &[
            "--oneline",
            "-v",
            "-c",
            "10",
            "--container-name",
            &name,
            &filter,
        ],
    );
    let (text, err) = cap.finish(Duration::from_secs(20));
    assert_eq!(text.lines().count(), 10, "{text}\n{err}");
    let cmd = format!("nc {server} 80");
    let (ok, total) = share(&text, &env.client_ip(1), &server, &cmd, &id);
    println!("figure: docker container: {ok}/{total} of its packets carry its id");
    assert!(total > 0 && ok == total, "{text}");
    assert!(
        lines_with(&text, "Container (")
            .iter()
            .all(|l| l.contains(&format!("Container (name {name}, id {id}"))),
        "{text}"
    );
}

#[test]
fn containerd_pod_labels_and_pod_selection() {
    if skip(&["containerd", "ctr", "runc", "nsenter", "python3"]) {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut env = Env::with_containerd();
    let ns1 = env.add_ns(1, &env.client_ip(1));
    let ns2 = env.add_ns(2, &env.client_ip(2));
    let server = env.server();
    let filter = format!("host {server} and port 80");
    let (pod, other, pause) = (new_id(), new_id(), new_id());
    env.ctr_run(
        &pod,
        &ns1,
        &[
            "io.kubernetes.pod.name=web",
            "io.kubernetes.pod.namespace=shop",
            "io.kubernetes.pod.uid=u-1",
            "io.kubernetes.container.name=nginx",
            "io.cri-containerd.kind=container",
        ],
    );
    // The pod's sandbox, as CRI containerd labels it: the pod's own labels are only here.
    env.ctr_run_script(
        &pause,
        &ns1,
        &[
            "io.kubernetes.pod.name=web",
            "io.kubernetes.pod.namespace=shop",
            "io.kubernetes.pod.uid=u-1",
            "io.cri-containerd.kind=sandbox",
            "app=web",
            "tier=front",
        ],
        "sleep 3600",
    );
    env.ctr_run(&other, &ns2, &[]);
    let cap = Ptcap::start(
        &env,
        "pod",
        &[
            "--oneline",
            "-v",
            "-c",
            "10",
            "--pod-name",
            "web.shop",
            &filter,
        ],
    );
    let (text, err) = cap.finish(Duration::from_secs(20));
    assert_eq!(text.lines().count(), 10, "{text}\n{err}");
    let mine = env.client_ip(1);
    for l in text.lines() {
        assert!(l.contains(&format!(" {mine}.")), "not the pod's: {l}");
    }
    let owned = lines_with(&text, "Container (");
    assert!(!owned.is_empty(), "{text}");
    for l in owned {
        assert!(
            l.contains("Container (name nginx,")
                && l.contains(
                    r#"Pod (name web, namespace shop, UID u-1, labels {"app":"web","tier":"front"}"#
                ),
            "{l}"
        );
    }
}

#[test]
fn containerd_restart_mid_capture_and_absent_runtime_startup() {
    if skip(&["containerd", "ctr", "runc", "nsenter", "python3"]) {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut env = Env::new();
    env.start_server();
    // No runtime at all: the capture starts at once; with -v, one line each (without -v and
    // without a container filter, none: tests/flags_tcpdump.rs).
    let cap = Ptcap::start(&env, "absent", &["-v", "-c", "1", "host 198.19.255.255"]);
    let absent = cap.ready_after;
    let (_, err) = cap.finish(Duration::ZERO);
    println!(
        "figure: ptcap start-up with no runtime present: {:.0} ms",
        absent.as_secs_f64() * 1e3
    );
    assert_eq!(
        err.matches("containerd is not reachable").count(),
        1,
        "{err}"
    );
    assert!(
        absent < Duration::from_secs(2),
        "start-up waited for a runtime: {absent:?}"
    );

    env.start_containerd();
    env.import_image();
    let ns1 = env.add_ns(1, &env.client_ip(1));
    let server = env.server();
    let filter = format!("host {server} and port 80");
    let cap = Ptcap::start(&env, "restart", &["--oneline", "-v", &filter]);
    println!(
        "figure: ptcap start-up with containerd present: {:.0} ms",
        cap.ready_after.as_secs_f64() * 1e3
    );
    std::thread::sleep(Duration::from_millis(500));
    env.stop_containerd();
    std::thread::sleep(Duration::from_secs(1));
    env.start_containerd();
    // A name, not a 64-hex id: only containerd's metadata (its cgroups path) can tie it.
    let late = format!("late{}", env.k);
    env.ctr_run(&late, &ns1, &["nerdctl/name=after-restart"]);
    std::thread::sleep(Duration::from_secs(3));
    let (text, err) = cap.finish(Duration::ZERO);
    assert!(err.contains("lost containerd"), "{err}");
    let cmd = format!("nc {server} 80");
    let (ok, total) = share(&text, &env.client_ip(1), &server, &cmd, &late);
    println!("figure: container started after a containerd restart: {ok}/{total} of its packets carry its id");
    // Packets before the reconnection carry no container (its id is not in its cgroup path);
    // from then on every one does.
    let last = text.lines().rev().find(|l| {
        l.contains(&format!(" {}.", env.client_ip(1))) && l.contains(&format!(", args {cmd}"))
    });
    assert!(
        last.is_some_and(|l| matches_pattern(l, &server, &cmd, &late)),
        "{text}\n{err}"
    );
    assert!(text.contains("Container (name after-restart,"), "{text}");
}

/// Issue 9: two pods (sandbox + app container each, one network namespace per pod, on the
/// bridge), busybox `nc` in one requesting busybox `httpd` in the other, ptcap on `-i any`
/// started before the pods (so every container process forks and execs after ptcap learnt of
/// it). Read back with ptanalyze: every flow's initiator is the nc container's process named
/// `nc`, its responder the httpd container's init process (its pid from `ctr task ls`) named
/// `httpd`; every packet's owner is on the side its role says (sender = source address), on
/// every hop ptcap sees: both host veths in and out (`-i any` in the root namespace; the
/// bridge device itself sees no bridged packet) and the server pod's eth0 (a second ptcap
/// inside its namespace); no name is `exe` (busybox's shell runs applets through
/// `/proc/self/exe`, as runc re-execs itself) and every cmd is the busybox binary.
#[test]
fn containerd_pod_to_pod_roles_and_names() {
    if skip(&["containerd", "ctr", "runc", "nsenter"]) {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut env = Env::new();
    env.start_containerd();
    env.import_image();
    let (srv_ip, cli_ip) = (env.client_ip(1), env.client_ip(2));
    let ns_srv = env.add_ns(1, &srv_ip);
    let ns_cli = env.add_ns(2, &cli_ip);
    let file = env.dir.join("p2p.pcapng");
    let filter = format!("host {srv_ip} and port 80");
    let cap = Ptcap::start(&env, "p2p", &["-w", file.to_str().unwrap(), &filter]);
    // The server pod's own eth0, from inside its namespace, at the same time.
    let inner = env.dir.join("p2p-inner.pcapng");
    let cap_in = Ptcap::start_in(
        &env,
        Some(&ns_srv),
        "p2p-in",
        &["-w", inner.to_str().unwrap(), &filter],
    );
    let httpd = env.ctr_pod(&ns_srv, "srv", "httpd", "exec httpd -f -p 80 -h /www");
    let script = format!(
        "while true; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc {srv_ip} 80 >/dev/null; sleep 0.3; done"
    );
    let nc = env.ctr_pod(&ns_cli, "cli", "nc", &script);
    let httpd_pid = env.task_pid(&httpd);
    // PTCAP_SOAK_SECS: a longer run (a soak) of the same scenario.
    let secs = std::env::var("PTCAP_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    std::thread::sleep(Duration::from_secs(secs));
    let (_, err) = cap.finish(Duration::ZERO);
    let (_, err_in) = cap_in.finish(Duration::ZERO);
    for (f, e) in [(&file, &err), (&inner, &err_in)] {
        check_pod_capture(f, e, &cli_ip, &nc, &httpd, httpd_pid);
    }
}

fn check_pod_capture(file: &Path, err: &str, cli_ip: &str, nc: &str, httpd: &str, httpd_pid: u32) {
    println!("{}:", file.display());
    // Flows: initiator = nc (client pod), responder = httpd (its pid), both by name.
    let out = Command::new(target_bin("ptanalyze"))
        .args(["--flows", "--json", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v.get("initiator").is_some())
        // A connection under way when a capture attached shows one side only (its first
        // packets came before the hook): it names no owner for the other side to check.
        .filter(|v| {
            v["orig"]["packets"].as_u64() > Some(0) && v["resp"]["packets"].as_u64() > Some(0)
        })
        .collect();
    let mut bad_flows = Vec::new();
    for f in &flows {
        let side = |s: &str, key: &str| f[s]["owner"]["process"][key].clone();
        let cont = |s: &str| f[s]["owner"]["container"]["id"].clone();
        let ok = f["initiator"]["addr"] == cli_ip
            && side("orig", "comm") == "nc"
            && cont("orig") == nc
            && side("resp", "comm") == "httpd"
            && side("resp", "pid") == httpd_pid
            && cont("resp") == httpd
            && side("orig", "pid") != side("resp", "pid");
        if !ok {
            bad_flows.push(f);
        }
    }
    println!(
        "figure: {}/{} pod-to-pod flows with initiator nc and responder httpd.{httpd_pid}",
        flows.len() - bad_flows.len(),
        flows.len()
    );

    // Packets: the owner is on the side its role says, whatever the hop; names are current.
    let bytes = std::fs::read(file).unwrap();
    let mut r = CaptureReader::new(&bytes).unwrap();
    let mut m = MetaReader::new();
    let (mut total, mut right, mut named) = (0, 0, 0);
    let mut ifaces = std::collections::BTreeSet::new();
    let (mut wrong, mut bad_names) = (Vec::new(), Vec::new());
    while let Ok(Some(p)) = r.next_packet() {
        m.learn_definitions(&p.options);
        let meta = m.decode(&p.options);
        let Some(proc_) = meta.process.as_deref() else {
            continue;
        };
        total += 1;
        ifaces.insert(r.interfaces()[p.interface as usize].name.clone());
        if proc_.comm == "nc" || proc_.comm == "httpd" {
            named += 1;
        } else {
            bad_names.push(format!("{} {} {}", proc_.pid, proc_.comm, proc_.exe));
        }
        // The IPv4 source address of the packet (SLL2: 20 bytes of link header).
        let src = p
            .data
            .get(20 + 12..20 + 16)
            .map(|a| format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]));
        let from_client = src.as_deref() == Some(cli_ip);
        let owner_is_client = match meta.role {
            formats::meta::Role::Sender => from_client,
            formats::meta::Role::Receiver => !from_client,
            _ => {
                wrong.push(format!("no role: {meta:?}"));
                continue;
            }
        };
        // The owner's container: the client pod's app (nc) or the server pod's (httpd).
        let want = if owner_is_client { nc } else { httpd };
        if meta.container.as_ref().is_some_and(|c| c.id == want) {
            right += 1;
        } else {
            wrong.push(format!(
                "src {src:?} role {:?} owner {}.{}",
                meta.role, proc_.comm, proc_.pid
            ));
        }
    }
    println!(
        "figure: {right}/{total} attributed packets with the owner on the side their role says, {named}/{total} named nc or httpd, interfaces {ifaces:?}",
    );
    assert!(flows.len() >= 5, "too few flows: {flows:?}\n{err}");
    assert!(
        bad_flows.is_empty(),
        "{} wrong flows, e.g. {}",
        bad_flows.len(),
        bad_flows[0]
    );
    assert!(total > 20, "too few attributed packets\n{err}");
    assert!(
        wrong.is_empty(),
        "{} wrong of {total}: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(10)]
    );
    assert!(
        bad_names.is_empty(),
        "{} misnamed of {total}: {:?}",
        bad_names.len(),
        &bad_names[..bad_names.len().min(10)]
    );

    // The listings: names (short form) and executables (-v), never runc's or busybox's
    // re-exec path.
    let listing = |args: &[&str]| {
        let out = Command::new(target_bin("ptanalyze"))
            .args(args)
            .arg(file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let short = listing(&[]);
    let bad: Vec<&str> = short
        .lines()
        .filter(|l| l.contains(" exe."))
        .take(3)
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    let head: String = short.lines().take(6).collect::<Vec<_>>().join("\n");
    assert!(short.contains(&format!("httpd.{httpd_pid}")), "{head}");
    assert!(short.contains(" nc."), "{head}");
    let verbose = listing(&["-v"]);
    let cmds: std::collections::BTreeSet<&str> = verbose
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("Process (pid "))
        .filter_map(|l| l.split(", cmd ").nth(1)?.split(", args ").next())
        .collect();
    println!("figure: executables named: {cmds:?}");
    assert!(!cmds.is_empty());
    for c in &cmds {
        assert!(c.ends_with("/busybox"), "cmd {c}: {cmds:?}");
    }
}

/// A container started during a capture without container filters: its first connections
/// (each a new short-lived process, busybox `nc`) carry the container in the file, and
/// offline `--container-name` finds every one of them (late runtime metadata is resolved by
/// container id).
#[test]
fn containerd_first_connections_of_a_new_container_carry_it() {
    if skip(&["containerd", "ctr", "runc", "nsenter", "python3"]) {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut env = Env::with_containerd();
    let ns = env.add_ns(1, &env.client_ip(1));
    let server = env.server();
    let client = env.client_ip(1);
    let file = env.dir.join("first.pcapng");
    let cap = Ptcap::start(
        &env,
        "first",
        &[
            "-w",
            file.to_str().unwrap(),
            "--print",
            "-v",
            "--oneline",
            "tcp port 80",
        ],
    );
    let id = new_id();
    let script = format!(
        "i=0; while [ $i -lt 10 ]; do printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc {server} 80 >/dev/null; i=$((i+1)); done; exec sleep 3600"
    );
    env.ctr_run_script(&id, &ns, &["nerdctl/name=web1"], &script);
    std::thread::sleep(Duration::from_secs(4));
    let (live, err) = cap.finish(Duration::ZERO);
    let live_syn = |l: &&str| l.contains(&format!("{client}.")) && l.contains("Flags [S],");
    let early = live
        .lines()
        .filter(live_syn)
        .filter(|l| l.contains("Container (name , id"))
        .count();
    let without = live
        .lines()
        .filter(live_syn)
        .filter(|l| !l.contains("Container ("))
        .count();
    println!("figure: live, {early} SYNs written before the runtime reported the container (id only), {without} without any container");
    assert_eq!(without, 0, "live packets without their container:\n{live}");
    let expr = format!(
        "src host {client} and tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0"
    );
    let syns = |extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = extra.iter().map(std::ffi::OsStr::new).collect();
        args.extend([file.as_os_str(), std::ffi::OsStr::new(&expr)]);
        let packets = ptanalyze_packets(args);
        let text: Vec<String> = packets.iter().map(|v| v.to_string()).collect();
        (packets.len(), text.join("\n"))
    };
    let (all, text) = syns(&[]);
    assert!(
        all >= 10,
        "only {all} SYNs of the container's 10 connections captured: {err}"
    );
    let (named, _) = syns(&["--container-name", "web1"]);
    let (by_id, _) = syns(&["--container-id", &id[..12]]);
    println!("figure: {named}/{all} SYNs of a new container's first connections carry its name, {by_id}/{all} its id");
    assert_eq!(by_id, all, "SYNs without the container id:\n{text}\n{err}");
    assert_eq!(named, all, "SYNs without the container name:\n{text}");
}
