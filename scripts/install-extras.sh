#!/usr/bin/env bash
# Installs the man pages and the bash, zsh and fish completions of ptcap and ptanalyze,
# generated from their clap definitions by the binaries themselves (`--generate`).
#   bash scripts/install-extras.sh [BIN_DIR]     (default: target/release; PREFIX=/usr/local)
set -euo pipefail
cd "$(dirname "$0")/.."
bin_dir=${1:-target/release}
prefix=${PREFIX:-/usr/local}
man_dir="$prefix/share/man/man1"
bash_dir="$prefix/share/bash-completion/completions"
zsh_dir="$prefix/share/zsh/site-functions"
fish_dir="$prefix/share/fish/vendor_completions.d"
mkdir -p "$man_dir" "$bash_dir" "$zsh_dir" "$fish_dir"
for b in ptcap ptanalyze; do
  "$bin_dir/$b" --generate man >"$man_dir/$b.1"
  "$bin_dir/$b" --generate bash >"$bash_dir/$b"
  "$bin_dir/$b" --generate zsh >"$zsh_dir/_$b"
  "$bin_dir/$b" --generate fish >"$fish_dir/$b.fish"
done
command -v mandb >/dev/null && mandb -q "$prefix/share/man" >/dev/null 2>&1 || true
echo "install-extras: man pages in $man_dir; completions for bash, zsh, fish" >&2
