#!/usr/bin/env bash
# Makes sure Debian packages are installed, before anything long starts:
#
#     bash tools/need-packages.sh [--backports] [--no-recommends] PACKAGE...
#
# Installs the missing ones: as root with apt-get, as a normal user with sudo (saying so first,
# so the password prompt is expected; without a terminal, only if sudo needs no password); with
# neither, prints the exact commands to run and exits 1.
# --backports installs (or upgrades) them from bookworm-backports whether or not an older
# version is there (the caller checks the version: QEMU >= 9 for -M raspi4b), adding that
# source first if apt does not have it. --no-recommends leaves out the packages' Recommends
# (lava-dispatcher's would bring an NFS server, LXC and more that nothing here uses). Prints nothing when every package is there; everything
# it prints goes to stderr, so a script's stdout stays its own.
set -eu
exec 1>&2
backports=0
recommends=1
while :; do
    case "${1:-}" in
        --backports) backports=1; shift ;;
        --no-recommends) recommends=0; shift ;;
        *) break ;;
    esac
done
missing=()
for pkg in "$@"; do
    [ $backports = 0 ] && dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null \
        | grep -q 'install ok installed' && continue
    missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

source_file=/etc/apt/sources.list.d/bookworm-backports.sources
sources() {
    printf '%s\n' "Types: deb" "URIs: http://deb.debian.org/debian" "Suites: bookworm-backports" \
        "Components: main" "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
}
add_source=0
if [ $backports = 1 ] && ! apt-cache policy 2>/dev/null | grep -q bookworm-backports; then
    add_source=1
fi
install=(apt-get install -y -qq)
[ $backports = 1 ] && install+=(-t bookworm-backports)
[ $recommends = 0 ] && install+=(--no-install-recommends)
install+=("${missing[@]}")

if [ "$(id -u)" = 0 ]; then
    as_root=()
elif command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
    as_root=(sudo)
    echo "need-packages: installing ${missing[*]} with sudo (apt-get needs root)" >&2
else
    {
        echo "need-packages: missing Debian packages: ${missing[*]}. As root:"
        if [ $add_source = 1 ]; then
            echo "  write these lines to $source_file:"
            sources | sed 's/^/    /'
        fi
        echo "  apt-get update && ${install[*]}"
    } >&2
    exit 1
fi

if [ $add_source = 1 ]; then
    sources | "${as_root[@]}" tee "$source_file" >/dev/null
fi
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive "${install[@]}" >/dev/null
