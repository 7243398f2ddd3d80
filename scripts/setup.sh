#!/usr/bin/env bash
# Installs what ptcap needs to build and test on Debian 12, as root. Idempotent: installs only
# what is missing, and runs `apt-get update` only when something is.
set -euo pipefail

PACKAGES=(
  # build: C toolchain for the BPF programs and -sys crates
  build-essential pkg-config clang llvm libelf-dev zlib1g-dev libpcap-dev protobuf-compiler bpftool
  # test peers and oracles
  tcpdump tshark
  # test hosts in network namespaces, traffic
  iproute2 iputils-ping netcat-openbsd python3 util-linux procps iptables nftables
  # benchmarks
  hyperfine bc time
  # the Parquet tests: Spark's Java, and a venv for PyPI's duckdb and pyspark (below)
  openjdk-17-jre-headless python3-venv
  # the --report test opens the page in headless Chromium
  chromium
  # container runtimes for the container tests (private instances; images built locally)
  containerd runc docker.io busybox-static
  # real daemons and clients of tests/tests/printers_real.rs (run only inside the test's
  # namespaces, with the test's own configuration; never as services)
  chrony dnsmasq-base isc-dhcp-client bind9-dnsutils avahi-daemon lldpd keepalived
  redis-server redis-tools
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer for it.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  # Daemon packages (chrony, avahi-daemon, lldpd, keepalived, redis-server, docker.io,
  # containerd) start their service from postinst: a policy-rc.d that refuses (exit 101) keeps
  # every one of them from running in the root namespace. Ours is removed afterwards; one the
  # machine already has is left as it is.
  own_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$own_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: no Rust toolchain found: install Rust 1.85 or newer (https://rustup.rs) and run again" >&2
  exit 1
fi
rustc_minor=$(rustc --version | sed -E 's/rustc 1\.([0-9]+).*/\1/')
if [ "${rustc_minor:-0}" -lt 85 ]; then
  echo "setup: $(rustc --version) is too old: ptcap needs Rust 1.85 or newer (rustup update)" >&2
  exit 1
fi

# The Parquet round-trip tests read ptanalyze's tables with DuckDB and Spark (local mode), from
# PyPI, pinned, in a venv of their own (tests/tests/parquet_export.rs runs PTCAP_PYTHON, by
# default this venv's python). Installed only when the pinned versions are not there.
PY_ENV=${PTCAP_PYENV:-/opt/ptcap/py}
PY_PINS=(duckdb==2.0.0 pyspark==4.3.0)
if ! "$PY_ENV/bin/python" -c 'import duckdb, pyspark, sys; sys.exit(not (duckdb.__version__ == "2.0.0" and pyspark.__version__ == "4.3.0"))' 2>/dev/null; then
  echo "setup: installing ${PY_PINS[*]} into $PY_ENV" >&2
  python3 -m venv "$PY_ENV"
  "$PY_ENV/bin/pip" install -q --disable-pip-version-check "${PY_PINS[@]}"
fi
