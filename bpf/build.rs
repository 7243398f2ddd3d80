//! Compiles src/bpf/*.bpf.c and generates their Rust skeletons.
//!
//! vmlinux.h (the kernel's types, from its BTF) is about 2.8 MiB, too large to commit, so it is
//! generated here with bpftool from /sys/kernel/btf/vmlinux. Only the build machine's BTF is
//! needed; the programs use CO-RE and load on other kernels.

use std::env;
use std::path::PathBuf;
use std::process::Command;

use libbpf_cargo::SkeletonBuilder;

const PROGRAMS: &[&str] = &["capture"];

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let vmlinux = out.join("vmlinux.h");
    let btf = "/sys/kernel/btf/vmlinux";
    let dump = Command::new("bpftool")
        .args(["btf", "dump", "file", btf, "format", "c"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "running bpftool to generate vmlinux.h: {e}; install it (apt-get install bpftool)"
            )
        });
    if !dump.status.success() {
        panic!(
            "bpftool btf dump file {btf} failed: {}; this build needs a kernel with BTF",
            String::from_utf8_lossy(&dump.stderr).trim()
        );
    }
    std::fs::write(&vmlinux, &dump.stdout).expect("writing vmlinux.h to OUT_DIR");

    let arch = match env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("x86_64") => "x86",
        Ok("aarch64") => "arm64",
        Ok("riscv64") => "riscv",
        Ok("s390x") => "s390",
        Ok("powerpc64") => "powerpc",
        Ok(other) => panic!("no BPF target arch for {other}"),
        Err(_) => "x86",
    };
    for name in PROGRAMS {
        let src = format!("src/bpf/{name}.bpf.c");
        SkeletonBuilder::new()
            .source(&src)
            .clang_args([
                format!("-I{}", out.display()),
                "-Isrc/bpf".to_string(),
                format!("-D__TARGET_ARCH_{arch}"),
                "-Wall".to_string(),
            ])
            .build_and_generate(out.join(format!("{name}.skel.rs")))
            .unwrap_or_else(|e| panic!("building {src}: {e:#}"));
        println!("cargo:rerun-if-changed={src}");
    }
    println!("cargo:rerun-if-changed=src/bpf/events.h");
    println!("cargo:rerun-if-changed=src/bpf/attribution.bpf.h");
    println!("cargo:rerun-if-changed=src/bpf/drops.bpf.h");
    println!("cargo:rerun-if-changed=build.rs");
}
