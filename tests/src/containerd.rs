//! A private containerd for tests: `containerd --root R --state S --address SOCK` in a temp
//! dir (CRI off), a busybox image imported as an OCI layout tar, containers joined to network
//! namespaces the test made (`ctr run --with-ns network:...`), and pods as CRI containerd runs
//! them (a sandbox carrying the pod's labels and an app container, the kubelet's labels on
//! both). The guard kills every container and the daemon (by pid), unmounts what a runtime
//! left and removes the dir on drop, panics included. Nothing touches the host's runtimes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::run_checked;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The busybox binary of busybox-static, when installed.
pub fn busybox() -> Option<&'static str> {
    ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

fn quiet(cmd: &[&str]) {
    let _ = Command::new(cmd[0])
        .args(&cmd[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn sha256_hex(data: &[u8]) -> String {
    let mut c = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum");
    c.stdin.take().unwrap().write_all(data).unwrap();
    let out = c.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)[..64].to_string()
}

/// A fresh 64-hex container id.
pub fn new_id() -> String {
    let seed = format!(
        "{:?}{}{}",
        SystemTime::now(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    sha256_hex(seed.as_bytes())
}

/// The image every container runs.
pub const IMAGE: &str = "docker.io/library/busybox:test";

/// A pod's identity for [`Containerd::pod`].
pub struct PodSpec<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    /// The pod's labels (on the sandbox, as CRI containerd puts them).
    pub labels: &'a [(&'a str, &'a str)],
    /// The app container's name.
    pub app: &'a str,
    /// The app container's ports as the kubelet's `io.kubernetes.container.ports` annotation
    /// gives them (JSON), if any.
    pub ports: Option<&'a str>,
}

/// The daemon and what it runs. Owns all of it.
pub struct Containerd {
    pub dir: PathBuf,
    pub sock: PathBuf,
    child: Option<Child>,
    containers: Vec<String>,
}

impl Containerd {
    /// Starts containerd in `dir` (created, removed on drop) and imports the busybox image.
    pub fn start(dir: PathBuf) -> Containerd {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut cd = Containerd {
            sock: dir.join("c.sock"),
            dir,
            child: None,
            containers: Vec::new(),
        };
        let cfg = cd.dir.join("containerd.toml");
        std::fs::write(
            &cfg,
            "version = 2\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n",
        )
        .unwrap();
        let log = std::fs::File::create(cd.dir.join("containerd.log")).unwrap();
        let child = Command::new("containerd")
            .args(["--config", cfg.to_str().unwrap()])
            .args(["--root", cd.dir.join("cd-root").to_str().unwrap()])
            .args(["--state", cd.dir.join("cd-state").to_str().unwrap()])
            .args(["--address", cd.sock.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("containerd");
        cd.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !(cd.sock.exists()
            && Command::new("ctr")
                .args(["-a", cd.sock.to_str().unwrap(), "version"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()))
        {
            assert!(Instant::now() < deadline, "containerd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let tar = cd.oci_tar();
        cd.ctr(&["image", "import", tar.to_str().unwrap()]);
        cd
    }

    /// `ctr -a SOCK -n default ARGS`; it must succeed.
    pub fn ctr(&self, args: &[&str]) -> String {
        let mut full = vec!["ctr", "-a", self.sock.to_str().unwrap(), "-n", "default"];
        full.extend_from_slice(args);
        run_checked(&full)
    }

    /// A busybox rootfs (sh, nc, httpd, ...) as an OCI image layout tar named [`IMAGE`].
    fn oci_tar(&self) -> PathBuf {
        let root = self.dir.join("rootfs");
        for d in ["bin", "etc", "tmp", "proc", "sys", "dev", "www"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("www/index.html"), "hello\n").unwrap();
        std::fs::copy(busybox().expect("busybox-static"), root.join("bin/busybox")).unwrap();
        for a in ["sh", "nc", "sleep", "printf", "cat", "echo", "httpd"] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(a)).unwrap();
        }
        let oci = self.dir.join("oci");
        let blobs = oci.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        let blob = |data: &[u8]| -> (String, usize) {
            let h = sha256_hex(data);
            std::fs::write(blobs.join(&h), data).unwrap();
            (format!("sha256:{h}"), data.len())
        };
        let layer = Command::new("tar")
            .args(["-C", root.to_str().unwrap(), "-c", "."])
            .output()
            .unwrap();
        assert!(layer.status.success());
        let (ld, ll) = blob(&layer.stdout);
        let config = serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [ld]}
        });
        let (cdg, cl) = blob(config.to_string().as_bytes());
        let manifest = serde_json::json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cdg, "size": cl},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ll}]
        });
        let (md, ml) = blob(manifest.to_string().as_bytes());
        let index = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ml,
                "annotations": {"io.containerd.image.name": IMAGE,
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

    /// A busybox container `id` with `labels` in the network namespace at `netns` (a path),
    /// running `script` under sh (`ctr run -d`).
    pub fn run(&mut self, id: &str, netns: &str, labels: &[String], script: &str) {
        let with = format!("network:{netns}");
        let mut args = vec!["run", "-d", "--with-ns", &with];
        for l in labels {
            args.push("--label");
            args.push(l);
        }
        args.extend_from_slice(&[IMAGE, id, "sh", "-c", script]);
        self.containers.push(id.to_string());
        self.ctr(&args);
    }

    /// A pod as CRI containerd runs it, in the network namespace at `netns`: a sandbox
    /// (`sleep`, the pod's labels) and an app container running `script`. The app's id.
    pub fn pod(&mut self, netns: &str, pod: &PodSpec<'_>, script: &str) -> String {
        let (sandbox, app) = (new_id(), new_id());
        let common = vec![
            format!("io.kubernetes.pod.name={}", pod.name),
            format!("io.kubernetes.pod.namespace={}", pod.namespace),
            format!("io.kubernetes.pod.uid=u-{}-{}", pod.namespace, pod.name),
        ];
        let mut sl = common.clone();
        sl.push("io.cri-containerd.kind=sandbox".into());
        sl.extend(pod.labels.iter().map(|(k, v)| format!("{k}={v}")));
        self.run(&sandbox, netns, &sl, "exec sleep 3600");
        let mut al = common;
        al.push(format!("io.kubernetes.container.name={}", pod.app));
        al.push("io.cri-containerd.kind=container".into());
        if let Some(p) = pod.ports {
            al.push(format!("io.kubernetes.container.ports={p}"));
        }
        self.run(&app, netns, &al, script);
        app
    }

    /// The status column of `ctr task ls` for `id` (`RUNNING`, `STOPPED`).
    pub fn task_status(&self, id: &str) -> Option<String> {
        let out = self.ctr(&["task", "ls"]);
        out.lines().find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next()? == id).then(|| w.nth(1).map(String::from))?
        })
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let sock = self.sock.to_str().unwrap().to_string();
        if self.child.is_some() {
            for id in &self.containers {
                quiet(&[
                    "ctr", "-a", &sock, "-n", "default", "task", "kill", "-s", "SIGKILL", id,
                ]);
            }
            std::thread::sleep(Duration::from_millis(300));
            for id in &self.containers {
                quiet(&[
                    "ctr", "-a", &sock, "-n", "default", "task", "delete", "-f", id,
                ]);
                quiet(&[
                    "ctr",
                    "-a",
                    &sock,
                    "-n",
                    "default",
                    "container",
                    "delete",
                    id,
                ]);
            }
        }
        if let Some(mut c) = self.child.take() {
            quiet(&["kill", "-TERM", &c.id().to_string()]);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && matches!(c.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
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
