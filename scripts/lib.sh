# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the kexec-metadata harness.  Sourced, never run.
# shellcheck shell=bash

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
CACHE=${KMD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kexec-metadata}
LOGS=$BUILD/logs
TREE=$BUILD/linux
STOCK_TREE=$BUILD/linux-stock
XABI_TREE=$BUILD/linux-xabi
IMAGES=$BUILD/images
export TOP BUILD CACHE LOGS TREE STOCK_TREE XABI_TREE IMAGES

# Fixed identity and date: the base commit hash only depends on the source.
KMD_NAME="kexec-metadata developers"
KMD_EMAIL="kexec-metadata@example.org"
export KMD_DATE="2026-01-01T00:00:00+00:00"

# shellcheck source=../base.conf
. "$TOP/base.conf"

say()  { printf '%s\n' "$*"; }
info() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die()  { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Run git with our fixed identity.
kgit() {
	GIT_AUTHOR_NAME=$KMD_NAME GIT_AUTHOR_EMAIL=$KMD_EMAIL \
	GIT_COMMITTER_NAME=$KMD_NAME GIT_COMMITTER_EMAIL=$KMD_EMAIL \
		git "$@"
}

# need_space DIR MIB: refuse to start a step that would fill the disk.
need_space() {
	local dir=$1 mib=$2 avail
	mkdir -p "$dir"
	avail=$(df -Pm "$dir" | awk 'NR == 2 { print $4 }')
	if [ "${avail:-0}" -lt "$mib" ]; then
		die "only ${avail} MiB free under $dir, this step needs about $mib MiB; free some space (e.g. make clean, or rm -rf $CACHE) and retry"
	fi
}

# need_cmd CMD PACKAGE...: fail with the package that provides CMD.
need_cmd() {
	local cmd=$1
	shift
	command -v "$cmd" >/dev/null 2>&1 && return 0
	die "'$cmd' not found; install it with: apt-get install $*  (or run 'make deps' as root)"
}

# first_match GLOB...: the first existing path among the expanded globs.
first_match() {
	local f
	for f in "$@"; do
		[ -e "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

nproc_jobs() { nproc 2>/dev/null || echo 2; }

# elapsed START: seconds since START (from $SECONDS).
elapsed() { echo "$((SECONDS - $1))s"; }

# Cross compiler prefix for an architecture, empty for the host.
cross_compile() {
	case $1 in
	x86_64) [ "$(uname -m)" = x86_64 ] || echo x86_64-linux-gnu- ;;
	arm64) [ "$(uname -m)" = aarch64 ] || echo aarch64-linux-gnu- ;;
	*) die "unknown architecture '$1' (use x86_64 or arm64)" ;;
	esac
}

kimage() {
	case $1 in
	x86_64) echo arch/x86/boot/bzImage ;;
	arm64) echo arch/arm64/boot/Image ;;
	esac
}

# busybox_guest INIT DIR [OURS STOCK]: builds our kernel and stock for
# x86_64 (flavors OURS and STOCK of build-kernel.sh, default kmd and stock)
# and an initramfs in DIR/initrd.cpio with Debian's static busybox,
# kexec-tools and its libraries, our kernel as /kernel, stock as
# /kernel-stock, and INIT as /init.  Used by make shell and make bench.
busybox_guest() {
	local init=$1 dir=$2 ours=${3:-kmd} stock=${4:-stock} d lib
	need_cmd qemu-system-x86_64 qemu-system-x86
	need_cmd busybox busybox-static
	need_cmd kexec kexec-tools
	file -L "$(command -v busybox)" | grep -q 'statically linked' ||
		die "a static busybox is needed: apt-get install busybox-static"
	"$TOP/scripts/tree.sh"
	"$TOP/scripts/build-kernel.sh" "$ours" x86_64
	"$TOP/scripts/build-kernel.sh" "$stock" x86_64
	rm -rf "$dir" && mkdir -p "$dir" "$LOGS"
	{
		for d in /bin /sbin /proc /sys /dev /tmp /lib /lib64 /lib/x86_64-linux-gnu; do
			echo "dir $d 0755 0 0"
		done
		echo "nod /dev/console 0600 0 0 c 5 1"
		echo "file /bin/busybox $(command -v busybox) 0755 0 0"
		echo "file /sbin/kexec $(command -v kexec) 0755 0 0"
		ldd "$(command -v kexec)" | awk '/=>/ { print $3 } /^\t\/lib/ { print $1 }' |
			while read -r lib; do
				echo "file $lib $(readlink -f "$lib") 0755 0 0"
			done
		echo "file /kernel $IMAGES/$ours-x86_64 0644 0 0"
		echo "file /kernel-stock $IMAGES/$stock-x86_64 0644 0 0"
		echo "file /init $init 0755 0 0"
	} >"$dir/cpio_list"
	"$TREE/.kbuild-x86_64/usr/gen_init_cpio" "$dir/cpio_list" >"$dir/initrd.cpio"
}

# hide_kvm CMD...: runs CMD with /dev/kvm hidden (bound to /dev/null in a
# private mount namespace), for tools that try KVM first and would hang on
# an unusable one (kunit.py, the in-tree vmtest.sh scripts).
hide_kvm() {
	local hide=(sh -c 'mount --bind /dev/null /dev/kvm && exec "$@"' sh "$@")
	# A /dev/kvm this user cannot open is no danger: QEMU falls back.
	{ [ -r /dev/kvm ] && [ -w /dev/kvm ]; } || exec "$@"
	if [ "$(id -u)" -eq 0 ]; then
		exec unshare -m "${hide[@]}"
	fi
	unshare -rm true 2>/dev/null ||
		die "cannot hide the unusable /dev/kvm from $1: run as root, or enable user namespaces"
	exec unshare -rm "${hide[@]}"
}

# ccache_env: the one ccache setup of every kernel build here.  The cache
# is shared by all clones (paths are relative to the checkout); depend mode
# runs no second preprocessor on a miss, so a cold build costs what it
# costs without ccache, and a hit needs identical sources.
ccache_env() {
	export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
	export CCACHE_BASEDIR=$TOP CCACHE_NOHASHDIR=true CCACHE_DEPEND=1
}

# ccache_path: the same for scripts that run make themselves (the
# selftests' own builds), through ccache's compiler links first in PATH.
ccache_path() {
	[ -d /usr/lib/ccache ] || return 0
	export PATH=/usr/lib/ccache:$PATH
	ccache_env
}
