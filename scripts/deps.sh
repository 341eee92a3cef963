#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh [install|check]: the Debian packages the harness needs.  As root,
# "install" installs what is missing with apt-get; otherwise it prints the
# exact command to run.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

PACKAGES=(
	build-essential bc bison flex libelf-dev libssl-dev dwarves cpio
	python3 rsync git ccache shellcheck
	qemu-system-x86 qemu-system-arm gcc-aarch64-linux-gnu
	kexec-tools busybox-static xz-utils zstd ovmf qemu-efi-aarch64
	mmdebstrap e2fsprogs debian-archive-keyring
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
mkdir -p "$CACHE"

if [ "${1:-check}" = install ] && [ "$(id -u)" -eq 0 ]; then
	info "installing ${missing[*]} (about 1-2 minutes)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -q update >"$CACHE/apt-deps.log" 2>&1 || true
	apt-get -q install -y --no-install-recommends "${missing[@]}" >>"$CACHE/apt-deps.log" 2>&1 ||
		{ tail -n 5 "$CACHE/apt-deps.log" >&2; die "apt-get install failed (log: $CACHE/apt-deps.log); is a mirror reachable?"; }
	exit 0
fi
say "missing Debian packages: ${missing[*]}" >&2
say "install them with: sudo apt-get install ${missing[*]}" >&2
exit 1
