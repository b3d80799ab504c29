#!/bin/sh
# Reproduces the table of docs/thop.md: installs torch, torchvision, timm, thop and onnx at the
# versions measured into a venv of its own, and runs benches/thop_compare.py on a hiddencost
# binary built separately (first argument).
#   sh benches/thop_compare.sh target/release/hiddencost > thop.md
# The ONNX files go to target/thop-onnx. Random weights only: nothing is downloaded but packages.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 HIDDENCOST_BINARY [thop_compare.py options]" >&2; exit 2; }
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
cd "$(dirname "$0")/.."
pkgs="torch==2.15.0 torchvision==0.29.2 thop==0.1.1.post2209072238 \
onnx==1.23.2 onnxscript==0.7.2 numpy==2.4.6 pyyaml==6.0.4"
# A virtual environment of its own: Debian's Python refuses pip installs outside one (PEP 668).
venv=target/thop-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# timm without its hub dependencies (huggingface_hub, safetensors): no pretrained weights are used.
# shellcheck disable=SC2086 # word splitting of the package list is wanted
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check $pkgs
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps timm==1.0.31
exec nice -n 19 "$venv/bin/python" benches/thop_compare.py --hiddencost "$bin" --out target/thop-onnx "$@"
