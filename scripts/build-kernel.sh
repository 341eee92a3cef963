#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh FLAVOR ARCH [make args...]
#
# FLAVOR: kmd   our series (what build/linux holds, in $KMD_SRC), LOCALVERSION -kmd
#         stock pristine base ($STOCK_TREE), LOCALVERSION -stock
#         xabi  the base with another KHO root compatible string
#               ($XABI_TREE), LOCALVERSION -xabi
#         The three trees are shared by every clone (lib.sh).
#         kmdbench, stockbench  the trees make bench prepares (bench.sh)
# ARCH:   x86_64 or arm64
#
# Builds in TREE/.kbuild-ARCH (ccache if installed), copies the image to
# build/images/FLAVOR-ARCH and keeps the log in build/logs/.  An object
# directory that is a direct child of its source tree makes kbuild use
# relative paths ("../kernel/fork.c"), so the three trees, the selftest's
# own build and the bench trees hit the same ccache entries.
# With extra make arguments (e.g. W=1 C=1 kernel/liveupdate/) it runs just
# that make invocation in the configured build directory.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

flavor=${1:?usage: build-kernel.sh kmd|stock|xabi x86_64|arm64 [make args]}
arch=${2:?usage: build-kernel.sh kmd|stock|xabi x86_64|arm64 [make args]}
shift 2

case $flavor in
kmd) src=$KMD_SRC ;;
stock) src=$STOCK_TREE ;;
xabi) src=$XABI_TREE ;;
kmdbench | stockbench) src=$BUILD/linux-$flavor ;;
*) die "unknown flavor '$flavor' (kmd, stock, xabi, kmdbench or stockbench)" ;;
esac
[ -f "$src/Makefile" ] || die "$src is missing; run make tree first"
trees_lock
# Ours is built from what build/linux holds now.
[ "$flavor" != kmd ] || sync_kmd_src

cross=$(cross_compile "$arch")
need_cmd "${cross}gcc" "$([ -n "$cross" ] && echo "gcc-${cross%-}" || echo gcc)"
need_cmd flex flex
need_cmd bison bison
need_cmd bc bc
[ -e /usr/include/libelf.h ] || die "libelf headers missing; install them with: apt-get install libelf-dev"
[ -e /usr/include/openssl/ssl.h ] || die "OpenSSL headers missing; install them with: apt-get install libssl-dev"

obj=$src/.kbuild-$arch
mkdir -p "$obj" "$LOGS" "$IMAGES"
log=$LOGS/build-$flavor-$arch.log

# ccache through PATH, with CC a plain command name: kbuild records the
# command line of every object, so the peers' tests (peers.sh) and the
# selftest's own build, which call "gcc", can reuse these objects.
ccache_path
cc=${cross}gcc
# ARCH=x86, as the selftests use it: the architecture name is written into
# autoconf.h, so x86_64 would make every ccache entry differ from theirs.
karch=${arch/x86_64/x86}
mk=(make -C "$src" O="$obj" ARCH="$karch" CROSS_COMPILE="$cross" CC="$cc"
    HOSTCC=gcc LOCALVERSION="-$flavor" -j"$(nproc_jobs)")

# The test kernel's options: the harness's fragments (configs/, which say
# why each option is there) and the QEMU options of the architecture file
# of KHO's selftest in the tree being built.  LOCALVERSION is a make
# variable, not an option, so the three flavors share one autoconf.h.
fragment() {
	local conf
	conf=$src/tools/testing/selftests/kho/$([ "$arch" = arm64 ] && echo arm64 || echo x86).conf
	[ -f "$conf" ] || die "$conf is missing; run make tree"
	grep -h '^CONFIG_' "$TOP/configs/test.config"
	(eval "$(cat "$conf")" && echo "$QEMU_KCONFIG") | grep '^CONFIG_'
	[ "$arch" != arm64 ] || grep -h '^CONFIG_' "$TOP/configs/arm64.config"
	grep -h '^CONFIG_' "$TOP/configs/distro.config"
	# Ours on x86_64: KUnit, and the suite once a patch has added it.
	if [ "$flavor" = kmd ] && [ "$arch" = x86_64 ]; then
		grep -h '^CONFIG_' "$TOP/configs/kunit.config" |
			if [ -f "$src/kernel/liveupdate/tests/kexec_metadata_kunit.c" ]; then
				cat
			else
				grep -v KEXEC_METADATA_KUNIT_TEST
			fi
	fi
}

configure() {
	local frag=$obj/kmd.fragment opt
	{ fragment && echo "# ARCH=$karch"; } >"$frag"
	# allnoconfig plus the fragment, as the selftest itself does.
	if ! [ -f "$obj/.config" ] || ! cmp -s "$frag" "$obj/kmd.fragment.done"; then
		(cd "$src" && ARCH=$karch CROSS_COMPILE=$cross scripts/kconfig/merge_config.sh -n -O "$obj" \
			"$frag") >>"$log" 2>&1 || { tail -n 20 "$log"; die "merge_config.sh failed, see $log"; }
	fi
	# Every option of the fragment must have survived.
	while read -r opt; do
		case $opt in CONFIG_*=n | \#* | "") continue ;; esac
		grep -qxF "$opt" "$obj/.config" || die "$opt did not survive allnoconfig for $arch (a dependency is missing); see $obj/.config"
	done <"$frag"
	cp "$frag" "$obj/kmd.fragment.done"
}

: >"$log"
if [ $# -gt 0 ]; then
	configure
	"${mk[@]}" "$@"
	exit
fi

img=$IMAGES/$flavor-$arch
# The ccache setup is part of the key: an image built with an older one may
# hold a stale compressed kernel (see scripts/ccache-cc).
stamp="$flavor $arch $(git -C "$src" rev-parse HEAD) $(fragment | sha256sum | cut -c1-16) $("${cross}gcc" -dumpfullversion) $(cat "$0" "$TOP/scripts/ccache-cc" | sha256sum | cut -c1-8) $(declare -f ccache_env ccache_bin | sha256sum | cut -c1-8)"
# Stock and other-ABI images do not depend on the series: they are kept in
# the user's cache, keyed by source commit, fragment and compiler, so a
# new clone does not build them again.
cached=$CACHE/images/$(echo "$stamp" | sha256sum | cut -c1-16)
if [ "$flavor" = stock ] || [ "$flavor" = xabi ]; then
	if [ -f "$img" ] && [ "$(cat "$img.stamp" 2>/dev/null)" = "$stamp" ]; then
		info "$flavor kernel for $arch is up to date ($img)"
		exit 0
	fi
	if [ -f "$cached" ]; then
		cp "$cached" "$img" || die "cannot copy $cached to $img"
		echo "$stamp" >"$img.stamp"
		info "$flavor kernel for $arch taken from the cache ($cached)"
		exit 0
	fi
fi

# Ours: up to date if this clone's image and the shared build directory
# both come from this stamp (another clone may have built other sources
# there since); kunit.sh then boots the build directory's image unbuilt.
if [ -f "$img" ] && [ "$(cat "$img.stamp" 2>/dev/null)" = "$stamp" ] &&
   [ "$(cat "$obj/image.stamp" 2>/dev/null)" = "$stamp" ]; then
	info "$flavor kernel for $arch is up to date ($img)"
	exit 0
fi

need_space "$src" 3000
start=$SECONDS
if [ -f "$obj/vmlinux" ]; then
	info "building the $flavor kernel for $arch (incremental, usually under a minute; log: $log)"
else
	info "building the $flavor kernel for $arch (cold: about 5 min on 2 cores; log: $log)"
fi
configure
targets=("$(basename "$(kimage "$arch")")")
if ! "${mk[@]}" "${targets[@]}" >>"$log" 2>&1; then
	grep -E 'error|Error' "$log" | head -n 20 >&2 || true
	tail -n 15 "$log" >&2
	if grep -q 'No space left' "$log"; then
		die "the disk is full while building ($log); free space (make clean) and retry"
	fi
	die "building the $flavor kernel for $arch failed; full log: $log"
fi
cp "$obj/$(kimage "$arch")" "$img"
echo "$stamp" >"$img.stamp"
echo "$stamp" >"$obj/image.stamp"
# Only a tree without local edits goes into the cache shared by clones.
if { [ "$flavor" = stock ] || [ "$flavor" = xabi ]; } &&
   [ -z "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
	mkdir -p "$CACHE/images"
	tmp=$(mktemp "$CACHE/images/.tmp.XXXXXX")
	cp "$img" "$tmp" && mv "$tmp" "$cached"
fi
info "built $img ($(cat "$obj/include/config/kernel.release")) in $(elapsed "$start")"
