# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the kexec-metadata harness.  Sourced, never run.
# shellcheck shell=bash

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
CACHE=${KMD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kexec-metadata}
LOGS=$BUILD/logs
TREE=$BUILD/linux
IMAGES=$BUILD/images
# The trees that kernels are built in are shared by every clone on this
# machine (made by scripts/tree.sh): stock and the other-ABI kernel at
# their commits, and for ours a mirror of what build/linux holds.  A clone
# then builds incrementally: a checkout rewrites only the files that
# differ, and kbuild rebuilds only what depends on them.  build/linux stays
# the tree to work in.  trees_lock() keeps two clones out of each other's way.
TREES=$CACHE/trees
KMD_SRC=$TREES/kmd
STOCK_TREE=$TREES/stock
XABI_TREE=$TREES/xabi
export TOP BUILD CACHE LOGS TREE IMAGES TREES KMD_SRC STOCK_TREE XABI_TREE

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

# trees_lock: hold the lock on the shared trees until this process and its
# children are done (they inherit it), so that another clone's make check
# never switches a tree under this one.
trees_lock() {
	[ -z "${KMD_TREES_LOCKED:-}" ] || return 0
	mkdir -p "$TREES"
	exec 9>>"$TREES/.lock"
	if ! flock -n 9; then
		info "waiting for another make check, demo or build that uses $TREES (fuser -v $TREES/.lock names it)"
		flock 9
	fi
	export KMD_TREES_LOCKED=1
}

# sync_kmd_src: the shared tree of ours ($KMD_SRC) holds what build/linux
# holds, uncommitted edits of tracked files included (git stash create);
# only the files that differ are rewritten.
sync_kmd_src() {
	local c
	[ -e "$KMD_SRC/.git" ] || die "$KMD_SRC is missing; run make tree"
	c=$(git -C "$TREE" stash create) || die "git stash create failed in $TREE"
	[ -n "$c" ] || c=$(git -C "$TREE" rev-parse HEAD)
	git -C "$TREE" update-ref refs/kmd/build "$c"
	git -C "$KMD_SRC" fetch -q "$TREE" +refs/kmd/build:refs/kmd/build ||
		die "cannot fetch build/linux into $KMD_SRC"
	git -C "$KMD_SRC" checkout -q -f --detach "$c"
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

# elf_libs ROOT TRIPLET FILE: the shared libraries that FILE needs,
# recursively, as found in ROOT/lib/TRIPLET or ROOT/usr/lib/TRIPLET.
elf_libs() {
	local root=$1 triplet=$2 todo=("$3") seen=" " f lib path
	while [ ${#todo[@]} -gt 0 ]; do
		f=${todo[0]} && todo=("${todo[@]:1}")
		for lib in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
			case $seen in *" $lib "*) continue ;; esac
			seen="$seen$lib "
			path=$(first_match "$root/lib/$triplet/$lib" "$root/usr/lib/$triplet/$lib") ||
				die "$lib, needed by $f, is not in $root/lib/$triplet"
			echo "$path"
			todo+=("$path")
		done
	done
}

# busybox_guest INIT DIR ARCH OURS [STOCK]: an initramfs in
# DIR/initrd.cpio with Debian's static busybox, kexec-tools and its
# libraries, the build-kernel.sh images of flavors OURS and STOCK (if given)
# for ARCH as /kernel and /kernel-stock, and INIT as /init.
# x86_64 takes busybox and kexec-tools from the host, arm64 from
# arm64-userland.sh.  Used by make shell, make bench, kexec-tools.sh and
# debugfs-off.sh.
busybox_guest() {
	local init=$1 dir=$2 arch=$3 ours=$4 stock=${5:-} root="" triplet lib interp
	case $arch in
	x86_64)
		need_cmd busybox busybox-static
		need_cmd kexec kexec-tools
		file -L "$(command -v busybox)" | grep -q 'statically linked' ||
			die "a static busybox is needed: apt-get install busybox-static"
		triplet=x86_64-linux-gnu ;;
	arm64)
		root=$("$TOP/scripts/arm64-userland.sh")
		triplet=aarch64-linux-gnu ;;
	esac
	need_cmd readelf binutils
	# The kernels are built by the caller (make's dependencies, check's
	# build stages), so that two guests can be prepared at once.
	for k in "$ours" $stock; do
		[ -f "$IMAGES/$k-$arch" ] ||
			die "no $k kernel for $arch in $IMAGES: build it first (scripts/build-kernel.sh $k $arch)"
	done
	rm -rf "$dir" && mkdir -p "$dir" "$LOGS"
	interp=$(readelf -l "$root/sbin/kexec" | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
	{
		for d in /bin /sbin /proc /sys /dev /tmp /lib /lib/$triplet "$(dirname "$interp")"; do
			echo "dir $d 0755 0 0"
		done
		echo "nod /dev/console 0600 0 0 c 5 1"
		echo "file /bin/busybox $root/bin/busybox 0755 0 0"
		echo "file /sbin/kexec $root/sbin/kexec 0755 0 0"
		elf_libs "$root" "$triplet" "$root/sbin/kexec" | while read -r lib; do
			echo "file /lib/$triplet/${lib##*/} $(readlink -f "$lib") 0755 0 0"
			[ "${lib##*/}" != "${interp##*/}" ] ||
				echo "file $interp $(readlink -f "$lib") 0755 0 0"
		done
		echo "file /kernel $IMAGES/$ours-$arch 0644 0 0"
		[ -z "$stock" ] || echo "file /kernel-stock $IMAGES/$stock-$arch 0644 0 0"
		echo "file /init $init 0755 0 0"
	} | LC_ALL=C sort -u >"$dir/cpio_list"
	"$KMD_SRC/.kbuild-$arch/usr/gen_init_cpio" "$dir/cpio_list" >"$dir/initrd.cpio"
}

# busybox_run LIMIT SERIAL TAG DIR KERNEL APPEND QEMU...: boots the guest
# that busybox_guest prepared in DIR, with KERNEL and the command line
# APPEND, under QEMU... (the binary and its machine and accelerator
# options), serial console in SERIAL; prints the guest's "TAG-" lines and
# dies if it runs for more than LIMIT seconds.  Used by kexec-tools.sh
# and debugfs-off.sh.
busybox_run() {
	local limit=$1 serial=$2 tag=$3 dir=$4 kernel=$5 append=$6 rc=0
	shift 6
	timeout "$limit" "$@" -m 1G -smp 2 -nographic -nodefaults \
		-serial "file:$serial" -no-reboot -kernel "$kernel" \
		-initrd "$dir/initrd.cpio" -append "$append" || rc=$?
	grep -a "^$tag-" "$serial" || true
	[ "$rc" -ne 124 ] || die "the guest timed out after $limit s; see $serial"
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
# is shared by all clones (paths are relative to the checkout).  Which
# objects go through depend mode is scripts/ccache-cc's choice, not the
# caller's environment's.
ccache_env() {
	export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
	export CCACHE_BASEDIR=$TOP CCACHE_NOHASHDIR=true
	unset CCACHE_DEPEND
}

# ccache_bin: a directory whose gcc, x86_64-linux-gnu-gcc and
# aarch64-linux-gnu-gcc are scripts/ccache-cc: ccache, except for sources
# that .incbin a file.
ccache_bin() {
	# In the cache, not the clone: kunit.py passes the path as CC, and
	# kbuild rebuilds every object whose command line changed.
	local dir=$CACHE/ccache-bin cc
	mkdir -p "$dir"
	for cc in gcc x86_64-linux-gnu-gcc aarch64-linux-gnu-gcc; do
		[ "$(readlink "$dir/$cc")" = "$TOP/scripts/ccache-cc" ] ||
			ln -sf "$TOP/scripts/ccache-cc" "$dir/$cc"
	done
	echo "$dir"
}

# ccache_path: the same for scripts that run make themselves (the
# selftests' own builds), through those compilers first in PATH.
ccache_path() {
	command -v ccache >/dev/null 2>&1 || return 0
	PATH=$(ccache_bin):$PATH
	export PATH
	ccache_env
}
