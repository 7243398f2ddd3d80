#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, runs every test (unit, property,
# end-to-end against real tcpdump/tshark, network namespaces; as root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"

if [ "$(id -u)" != 0 ]; then
  echo "test: the end-to-end tests need root (network namespaces, tcpdump); run as root" >&2
  exit 1
fi

export CARGO_TERM_COLOR=never
export PTCAP_PYTHON=${PTCAP_PYTHON:-${PTCAP_PYENV:-/opt/ptcap/py}/bin/python}
# The end-to-end tests run the binaries: build them first.
cargo build --workspace --locked --bins
cargo test --workspace --locked --no-fail-fast
