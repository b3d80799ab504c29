# nooelint: oelint.var.bbclassextend
# (no native/nativesdk variant: it benchmarks the target; on a build host use cargo directly)
SUMMARY = "Per-operator hardware-counter profiling of ONNX models on embedded boards"
DESCRIPTION = "hiddencost runs ONNX models with tract-onnx and reads Linux perf counters \
               around every operator, to show why MACs fail to predict latency."
# nooelint: oelint.vars.homepageping - the project is not published yet, and the check needs network
HOMEPAGE = "https://github.com/hiddencost/hiddencost"
BUGTRACKER = "https://github.com/hiddencost/hiddencost/issues"
SECTION = "devel"
# The crate is dual licensed (Cargo.toml). The repository has no LICENSE files yet, so the
# checksum covers Cargo.toml's license line; the texts come from oe-core's common licenses.
LICENSE = "MIT | Apache-2.0"
LIC_FILES_CHKSUM = "file://Cargo.toml;beginline=7;endline=7;md5=86b31c7756a1a7962f28b62856ed4f05"
CVE_PRODUCT = "hiddencost"

# Where the sources come from: set these in local.conf (or kas) to your clone of hiddencost.
# Cargo.lock at that commit must match hiddencost-crates.inc, which the layer of the same commit
# guarantees (tests/yocto_layer.rs). To build a local checkout instead, see EXTERNALSRC in
# yocto-layer/README.md.
HIDDENCOST_GIT_URI ?= "git://github.com/hiddencost/hiddencost.git;protocol=https;branch=main"
HIDDENCOST_SRCREV ?= "${AUTOREV}"

PV .= "+git"
SRC_URI = "${HIDDENCOST_GIT_URI}"
SRCREV = "${HIDDENCOST_SRCREV}"

inherit cargo cargo-update-recipe-crates

require ${BPN}-crates.inc

# Cargo.toml's release profile strips the binary; OE strips it itself (keeping -dbg) and its
# already-stripped QA check is an error.
export CARGO_PROFILE_RELEASE_STRIP = "false"

# The card's code: OE's cargo class builds the release profile (no LTO, for a quick first run
# on a laptop); what boards run gets Cargo.toml's `card` settings, whole-program LTO and one
# codegen unit (smaller, and the code the board runs at its best).
export CARGO_PROFILE_RELEASE_LTO = "fat"
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS = "1"

# The card runs no analysis: the package alone (not the workspace's analysis crate), without
# its default `analyze` feature.
CARGO_BUILD_FLAGS:append = " --package hiddencost --no-default-features"

# cargo_do_install installs the one binary, ${bindir}/hiddencost.
