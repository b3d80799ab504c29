#!/usr/bin/env bash
# Builds the static aarch64 musl binary without Docker: rustup's musl target, Debian's
# gcc-aarch64-linux-gnu as C compiler (tract-linalg assembles its ARM kernels) and linker.
# Prints the binary's path on stdout. Installs what it needs (Debian 12: as root, or with sudo).
#
#   bash image/aarch64-binary.sh                   # profile card (fat LTO): what goes on a card
#   PROFILE=release bash image/aarch64-binary.sh   # release (no LTO): CI, much faster to build
set -eu
cd "$(dirname "$0")/.."
profile=${PROFILE:-card}
bash tools/need-packages.sh gcc-aarch64-linux-gnu file
rustup target add aarch64-unknown-linux-musl >/dev/null 2>&1
export CC_aarch64_unknown_linux_musl=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_musl=aarch64-linux-gnu-ar
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc
# The card runs no analysis: the package alone, without its default `analyze` feature.
cargo build --locked --quiet --profile "$profile" --target aarch64-unknown-linux-musl \
    --package hiddencost --no-default-features >&2
bin=target/aarch64-unknown-linux-musl/$profile/hiddencost
file "$bin" | grep -q "ARM aarch64, .*statically linked" || { file "$bin" >&2; exit 1; }
echo "$bin"
