#!/usr/bin/env bash
# Builds ptcap and ptanalyze (release) and runs ptcap with the given arguments.
#   bash scripts/run.sh -D
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked --bins >&2
exec target/release/ptcap "$@"
