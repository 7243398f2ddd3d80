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

/// Types whose layout is fixed: the IP headers (the wire's) and the UAPI's socket tuple (stack
/// memory handed to the conntrack kfuncs). vmlinux.h marks every struct for CO-RE, and at load
/// libbpf searches the kernel's BTF (some 100k types, about a millisecond each) for every
/// struct a program relocates (issue 12's start-up); these need no search. The context structs
/// (__sk_buff, bpf_sock_ops, ...) are fixed too but stay marked: without the relocations clang
/// merges neighbouring loads (two u32 of local_ip6 into one u64), which the verifier refuses
/// on a context. Kernel-internal structs (sk_buff, sock, nf_conn, bpf_ct_opts, which has
/// grown, ...) must stay relocatable.
const FIXED_LAYOUT: &[&str] = &["bpf_sock_tuple", "iphdr", "ipv6hdr"];

/// vmlinux.h with the [`FIXED_LAYOUT`] definitions outside its preserve_access_index region:
/// their fields are plain loads, not CO-RE relocations.
fn fixed_layouts(header: &str) -> String {
    const POP: &str = "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n";
    const PUSH: &str = "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n";
    let mut out = header.to_string();
    for name in FIXED_LAYOUT {
        let start_pat = format!("\nstruct {name} {{\n");
        let start = out
            .find(&start_pat)
            .unwrap_or_else(|| panic!("vmlinux.h has no struct {name}"))
            + 1;
        // bpftool ends a top-level definition with "};" at the start of a line.
        let end = start
            + out[start..]
                .find("\n};\n")
                .unwrap_or_else(|| panic!("vmlinux.h: struct {name} does not end"))
            + 4;
        out.insert_str(end, PUSH);
        out.insert_str(start, POP);
    }
    out
}

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
    let header = String::from_utf8_lossy(&dump.stdout);
    std::fs::write(&vmlinux, fixed_layouts(&header)).expect("writing vmlinux.h to OUT_DIR");

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
