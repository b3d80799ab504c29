#!/usr/bin/env bash
# Builds the boot-to-benchmark SD card image for the Raspberry Pi 4, without root:
#
#   bash image/build.sh [--binary FILE] [--models DIR] [--size-mib N] [--out DIR]
#   bash image/build.sh --update-lock      # re-pin packages.lock to what bookworm serves now
#
# From the pinned Debian packages (packages.lock: Debian's arm64 kernel with its device trees,
# the Raspberry Pi firmware) and the static aarch64 binary (built by aarch64-binary.sh unless
# --binary is given), it writes to --out (default target/image):
#   initramfs.cpio.gz   newc cpio: hiddencost as /init, the modules of modules.txt
#   boot/               the FAT partition's files: firmware, config.txt, cmdline.txt, kernel,
#                       device trees, initramfs, hiddencost.conf, models/, results/
#   hiddencost.img      a partitioned image (partitions.sfdisk) holding that FAT partition,
#                       for dd or Raspberry Pi Imager; its size is a power of two (QEMU's SD
#                       card model needs one)
#   manifest.txt        what went in: packages, sizes, SHA-256 of every output
# Downloads are cached in target/image-cache. Installs the Debian tools it needs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=$root/target/image
cache=$root/target/image-cache
binary=
models=
size_mib=256
update_lock=0
while [ $# -gt 0 ]; do
    case $1 in
        --binary) binary=$(realpath "$2"); shift 2 ;;
        --models) models=$(realpath "$2"); shift 2 ;;
        --size-mib) size_mib=$2; shift 2 ;;
        --out) out=$(realpath -m "$2"); shift 2 ;;
        --update-lock) update_lock=1; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
case $size_mib in
    64|128|256|512|1024|2048|4096) ;;
    *) echo "build.sh: --size-mib must be a power of two from 64 to 4096, not $size_mib" >&2; exit 2 ;;
esac
say() { echo "image: $*" >&2; }

bash "$here/../tools/need-packages.sh" mtools dosfstools fdisk cpio file

# -- Debian packages: a private apt configuration for bookworm arm64 (the host's own sources
# and architectures are left alone).
apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$cache/debs"
cat > "$apt_dir/sources.list" <<'EOF'
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main non-free-firmware
EOF
: > "$apt_dir/status"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir" -o "Dir::State::status=$apt_dir/status"
    -o APT::Architecture=arm64 -o APT::Architectures=arm64 -o Debug::NoLocking=1
    -o APT::Sandbox::User=root)
apt_update() { apt-get "${apt_opts[@]}" update -qq; }
lock=$here/packages.lock
pins() { grep -v '^#' "$lock" | awk 'NF == 3'; }

if [ $update_lock = 1 ]; then
    apt_update
    kernel=$(apt-cache "${apt_opts[@]}" depends linux-image-arm64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    tmp=$(mktemp)
    grep '^#' "$lock" > "$tmp"
    for pkg in "$kernel" raspi-firmware; do
        ver=$(apt-cache "${apt_opts[@]}" policy "$pkg" | awk '/Candidate:/ {print $2}')
        sha=$(apt-cache "${apt_opts[@]}" show "$pkg=$ver" | awk '/^SHA256:/ {print $2; exit}')
        printf '%-30s %-18s %s\n' "$pkg" "$ver" "$sha" >> "$tmp"
    done
    mv "$tmp" "$lock"
    say "packages.lock now pins:"; pins >&2
    exit 0
fi

fetched=0
while read -r pkg ver sha; do
    deb=$cache/debs/${pkg}_${ver}.deb
    if [ -f "$deb" ] && echo "$sha  $deb" | sha256sum -c --quiet - 2>/dev/null; then
        continue
    fi
    [ $fetched = 1 ] || { apt_update; fetched=1; }
    if ! apt-cache "${apt_opts[@]}" show "$pkg=$ver" >/dev/null 2>&1; then
        echo "build.sh: $pkg $ver is no longer served by Debian's bookworm archive;" \
            "run 'bash image/build.sh --update-lock' to pin the current version, then review" >&2
        exit 1
    fi
    (cd "$cache/debs" && rm -f "$pkg"_*.deb && apt-get "${apt_opts[@]}" download -qq "$pkg=$ver" 2>/dev/null)
    mv "$cache/debs/${pkg}_"*.deb "$deb"
    if ! echo "$sha  $deb" | sha256sum -c --quiet - >/dev/null 2>&1; then
        echo "build.sh: $pkg $ver: SHA-256 $(sha256sum "$deb" | cut -d' ' -f1) is not the pinned $sha" >&2
        rm -f "$deb"
        exit 1
    fi
    say "fetched $pkg $ver (checksum matches the lock)"
done < <(pins)

# -- Unpack.
work=$out/work
rm -rf "$work" && mkdir -p "$work"
while read -r pkg ver _; do
    dpkg-deb -x "$cache/debs/${pkg}_${ver}.deb" "$work/pkgs"
done < <(pins)
kver=$(basename "$(ls -d "$work"/pkgs/lib/modules/*)")
modroot=$work/pkgs/lib/modules/$kver/kernel
dtbs=$work/pkgs/usr/lib/linux-image-$kver/broadcom
firmware=$work/pkgs/usr/lib/raspi-firmware

# -- The binary.
if [ -z "$binary" ]; then
    binary=$root/$(bash "$here/aarch64-binary.sh")
fi
file -b "$binary" | grep -q "ARM aarch64, .*statically linked" \
    || { echo "build.sh: $binary is not a static aarch64 executable: $(file -b "$binary")" >&2; exit 1; }

# -- Reproducible timestamps: the last commit's time (FAT cannot hold dates before 1980).
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}
stamp() { find "$@" -exec touch -h -d "@$epoch" {} +; }

# -- initramfs: /init and the modules, in the order of modules.txt (dependencies checked).
rd=$work/initramfs
mkdir -p "$rd"/{proc,sys,dev,boot,lib/modules}
install -m 0755 "$binary" "$rd/init"
: > "$rd/lib/modules/load.order"
loaded=" "
while read -r path; do
    ko=$modroot/$path
    [ -f "$ko" ] || { echo "build.sh: modules.txt: $path is not in $kver" >&2; exit 1; }
    name=$(basename "$path" .ko)
    for dep in $(grep -a -o 'depends=[^[:cntrl:]]*' "$ko" | head -1 | cut -d= -f2 | tr , ' '); do
        case $loaded in
            *" ${dep//_/-} "*|*" ${dep//-/_} "*) ;;
            *) echo "build.sh: modules.txt: $name needs $dep listed before it" >&2; exit 1 ;;
        esac
    done
    loaded="$loaded$name "
    install -m 0644 "$ko" "$rd/lib/modules/$name.ko"
    echo "$name.ko" >> "$rd/lib/modules/load.order"
done < <(grep -v '^#' "$here/modules.txt" | awk 'NF')
stamp "$rd"
(cd "$rd" && find . | LC_ALL=C sort | cpio -o -H newc --reproducible --quiet | gzip -9 -n) \
    > "$out/initramfs.cpio.gz"

# -- The boot partition's files.
boot=$out/boot
rm -rf "$boot" && mkdir -p "$boot/models" "$boot/results"
cp "$firmware/start4.elf" "$firmware/fixup4.dat" "$boot/"
cp "$dtbs"/bcm2711-rpi-4-b.dtb "$dtbs"/bcm2711-rpi-400.dtb "$dtbs"/bcm2711-rpi-cm4-io.dtb "$boot/"
cp "$work/pkgs/boot/vmlinuz-$kver" "$boot/vmlinuz"
cp "$out/initramfs.cpio.gz" "$boot/"
cp "$here/config.txt" "$here/cmdline.txt" "$here/hiddencost.conf" "$boot/"
cat > "$boot/models/README.txt" <<'EOF'
Put your own .onnx models here: hiddencost benchmarks them after the zoo (or instead of it,
with models = ... in hiddencost.conf). Results go to results/<time>.jsonl.
EOF
if [ -n "$models" ]; then
    cp "$models"/*.onnx "$boot/models/"
fi
stamp "$boot"

# -- The card image: partition table first, then a FAT32 file system of exactly the
# partition's size, copied in at its offset.
img=$out/hiddencost.img
rm -f "$img"
truncate -s "${size_mib}M" "$img"
sfdisk --quiet "$img" < "$here/partitions.sfdisk"
read -r part_start part_sectors < <(sfdisk --dump "$img" | awk -F'[=,]' '/start=/ {gsub(/ /,""); print $2, $4}')
fat=$work/boot.vfat
rm -f "$fat"
mkfs.vfat -F 32 -n HIDDENCOST --invariant -C "$fat" $((part_sectors / 2)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mcopy -i "$fat" -s -p -m "$boot"/* ::/
dd if="$fat" of="$img" bs=512 seek="$part_start" conv=notrunc,sparse status=none
rm -f "$fat"

# -- Manifest.
{
    echo "hiddencost card image for the Raspberry Pi 4 (bookworm arm64, kernel $kver)"
    echo "packages:"; pins | sed 's/^/  /'
    echo "binary: $(stat -c %s "$binary") bytes, $(file -b "$binary" | cut -d, -f1-4)"
    echo "partition: start sector $part_start, $part_sectors sectors, FAT32 label HIDDENCOST"
    echo "files:"
    (cd "$out" && find initramfs.cpio.gz hiddencost.img boot -type f | LC_ALL=C sort \
        | xargs sha256sum | while read -r sum f; do printf '  %s %10d %s\n' "$sum" "$(stat -c %s "$f")" "$f"; done)
} > "$out/manifest.txt"
rm -rf "$work"
say "$(stat -c %s "$out/initramfs.cpio.gz") bytes initramfs, ${size_mib} MiB card image $(du -k "$img" | cut -f1) KiB on disk"
echo "$out"
