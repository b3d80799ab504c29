#!/bin/sh
# Reproduces the tables of BENCHMARKS.md: installs the Python peers at the versions measured,
# builds hiddencost in release, and runs benches/peers.py. The tract CLI is built separately
# (see BENCHMARKS.md) and given as TRACT_CLI; without it, its columns stay empty.
#   TRACT_CLI=$HOME/peers/tract/bin/tract sh benches/peers.sh --out peers.json
# PEERS_TORCH=0 skips installing torch (a large download) and the PyTorch model.
set -eu
cd "$(dirname "$0")/.."
pkgs="onnx==1.23.2 numpy==2.4.6 onnxruntime==1.31.1"
torch_flag=""
if [ "${PEERS_TORCH:-1}" = 1 ]; then
    pkgs="$pkgs torch==2.15.0"
else
    torch_flag="--no-torch"
fi
# A virtual environment of its own: Debian's Python refuses pip installs outside one (PEP 668).
venv=target/peers-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# shellcheck disable=SC2086 # word splitting of the package list is wanted
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check $pkgs
cargo build --release --locked
exec "$venv/bin/python" benches/peers.py --hiddencost target/release/hiddencost $torch_flag "$@"
