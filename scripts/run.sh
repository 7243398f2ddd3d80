#!/usr/bin/env bash
# Builds ptcap and ptanalyze (release), installs their man pages and shell completions
# (scripts/install-extras.sh), and runs ptcap with the given arguments.
#   bash scripts/run.sh -D
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --locked --bins >&2
# man ptcap, man ptanalyze and shell completions, from the clap definitions.
bash scripts/install-extras.sh target/release >&2
exec target/release/ptcap "$@"
