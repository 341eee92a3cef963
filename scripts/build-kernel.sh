#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh FLAVOR ARCH [make args...]
#
# FLAVOR: kmd   our series (build/linux), LOCALVERSION -kmd
#         stock pristine base (build/linux-stock), LOCALVERSION -stock
#         xabi  the base with another KHO root compatible string, -xabi
# ARCH:   x86_64 or arm64
#
# Builds out of tree under build/kbuild/ (ccache if installed), copies the
# image to build/images/FLAVOR-ARCH and keeps the log in build/logs/.
# With extra make arguments (e.g. W=1 C=1 kernel/liveupdate/) it runs just
# that make invocation in the configured build directory.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

flavor=${1:?usage: build-kernel.sh kmd|stock|xabi x86_64|arm64 [make args]}
arch=${2:?usage: build-kernel.sh kmd|stock|xabi x86_64|arm64 [make args]}
shift 2

# The compatible string the "xabi" kernel writes and accepts.
XABI_COMPAT=kho-v4-xabi
XABI_HEADER=include/linux/kho/abi/kexec_handover.h

case $flavor in
kmd) src=$TREE ;;
stock | xabi) src=$STOCK_TREE ;;
*) die "unknown flavor '$flavor' (kmd, stock or xabi)" ;;
esac
[ -f "$src/Makefile" ] || die "$src is missing; run make tree first"

cross=$(cross_compile "$arch")
need_cmd "${cross}gcc" "$([ -n "$cross" ] && echo "gcc-${cross%-}" || echo gcc)"
need_cmd flex flex
need_cmd bison bison
need_cmd bc bc
[ -e /usr/include/libelf.h ] || die "libelf headers missing; install them with: apt-get install libelf-dev"
[ -e /usr/include/openssl/ssl.h ] || die "OpenSSL headers missing; install them with: apt-get install libssl-dev"

obj=$BUILD/kbuild/$(basename "$src")-$arch
mkdir -p "$obj" "$LOGS" "$IMAGES"
log=$LOGS/build-$flavor-$arch.log

cc=${cross}gcc
if command -v ccache >/dev/null 2>&1; then
	export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache}
	# Paths relative to the checkout: another clone hits the same cache.
	export CCACHE_BASEDIR=$TOP CCACHE_NOHASHDIR=true
	cc="ccache $cc"
fi
mk=(make -C "$src" O="$obj" ARCH="$arch" CROSS_COMPILE="$cross" CC="$cc"
    HOSTCC=gcc LOCALVERSION= -j"$(nproc_jobs)")

# The test kernel's options: the selftest's fragment and the QEMU options of
# its architecture file (one source of truth, in the series), without the
# kexec-metadata options that the tree being built does not have (stock,
# or an early patch under check-bisect), and LOCALVERSION.  KMD_CONFIG_REV
# takes them from that commit of build/linux instead of its work tree.
selftest_file() {
	if [ -n "${KMD_CONFIG_REV:-}" ]; then
		git -C "$TREE" show "$KMD_CONFIG_REV:tools/testing/selftests/kho/$1"
	else
		cat "$TREE/tools/testing/selftests/kho/$1"
	fi
}

fragment() {
	local conf opt
	conf=$([ "$arch" = arm64 ] && echo arm64 || echo x86).conf
	if ! selftest_file kexec_metadata.config >/dev/null || ! selftest_file "$conf" >/dev/null; then
		die "the selftest's kexec_metadata.config or $conf is missing; run make tree"
	fi
	selftest_file kexec_metadata.config | while read -r opt; do
		case $opt in
		CONFIG_KEXEC_METADATA_*=*)
			opt=${opt%%=*}
			grep -qx "config ${opt#CONFIG_}" "$src/kernel/liveupdate/Kconfig" || continue
			echo "$opt=y" ;;
		*) echo "$opt" ;;
		esac
	done
	(eval "$(selftest_file "$conf")" && echo "$QEMU_KCONFIG") | grep '^CONFIG_'
	echo "CONFIG_LOCALVERSION=\"-$flavor\""
}

configure() {
	local frag=$obj/kmd.fragment opt
	fragment >"$frag"
	if [ -f "$obj/.config" ] && [ -f "$obj/kmd.fragment.done" ] &&
	   cmp -s "$frag" "$obj/kmd.fragment.done"; then
		sed -i "s/^CONFIG_LOCALVERSION=.*/CONFIG_LOCALVERSION=\"-$flavor\"/" "$obj/.config"
	else
		ARCH=$arch CROSS_COMPILE=$cross "$src/scripts/kconfig/merge_config.sh" -m -O "$obj" \
			"$frag" >>"$log" 2>&1 || { tail -n 20 "$log"; die "merge_config.sh failed, see $log"; }
	fi
	"${mk[@]}" olddefconfig >>"$log" 2>&1 || { tail -n 20 "$log"; die "olddefconfig failed, see $log"; }
	# Every option of the fragment must have survived olddefconfig.
	while read -r opt; do
		case $opt in CONFIG_*=n | \#* | "") continue ;; esac
		grep -qxF "$opt" "$obj/.config" || die "$opt did not survive olddefconfig for $arch (a dependency is missing); see $obj/.config"
	done <"$frag"
	cp "$frag" "$obj/kmd.fragment.done"
}

xabi_on() { sed -i "s/^#define KHO_FDT_COMPATIBLE \".*\"/#define KHO_FDT_COMPATIBLE \"$XABI_COMPAT\"/" "$src/$XABI_HEADER"; }
xabi_off() { git -C "$src" checkout -q -- "$XABI_HEADER"; }

: >"$log"
if [ $# -gt 0 ]; then
	configure
	"${mk[@]}" "$@"
	exit
fi

img=$IMAGES/$flavor-$arch
stamp="$flavor $arch $(git -C "$src" rev-parse HEAD) $(fragment | sha256sum | cut -c1-16)"
if [ "$flavor" != kmd ] && [ -f "$img" ] && [ "$(cat "$img.stamp" 2>/dev/null)" = "$stamp" ]; then
	info "$flavor kernel for $arch is up to date ($img)"
	exit 0
fi

need_space "$BUILD" 3000
start=$SECONDS
if [ -f "$obj/vmlinux" ]; then
	info "building the $flavor kernel for $arch (incremental, usually under a minute; log: $log)"
else
	info "building the $flavor kernel for $arch (cold: about 5 min on 2 cores; log: $log)"
fi
configure
# The shared worktree is pristine for stock, whatever a killed xabi build
# left behind: "stock" can never be built with the other compatible.
[ "$flavor" = stock ] && xabi_off
[ "$flavor" = xabi ] && { trap xabi_off EXIT; xabi_on; }
targets=("$(basename "$(kimage "$arch")")")
if ! "${mk[@]}" "${targets[@]}" >>"$log" 2>&1; then
	grep -E 'error|Error' "$log" | head -n 20 >&2 || true
	tail -n 15 "$log" >&2
	if grep -q 'No space left' "$log"; then
		die "the disk is full while building ($log); free space (make clean) and retry"
	fi
	die "building the $flavor kernel for $arch failed; full log: $log"
fi
[ "$flavor" = xabi ] && { xabi_off; trap - EXIT; }
cp "$obj/$(kimage "$arch")" "$img"
echo "$stamp" >"$img.stamp"
info "built $img ($(cat "$obj/include/config/kernel.release")) in $(elapsed "$start")"
