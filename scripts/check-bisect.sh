#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-bisect: build the test kernel after every patch of the series,
# in a worktree of its own (build/linux-bisect) so that build/linux and its
# objects stay untouched.  The first build is cold, the rest incremental.
# With KUNIT=1 the KUnit test is built as well (CONFIG_KUNIT=y).

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

arch=${ARCH:-x86_64}
"$TOP/scripts/tree.sh"
wt=$BUILD/linux-bisect
obj=$BUILD/kbuild/bisect-$arch
if [ ! -e "$wt/.git" ]; then
	git -C "$TREE" worktree prune
	git -C "$TREE" worktree add -q --detach "$wt" base
fi
mkdir -p "$obj" "$LOGS"
cross=$(cross_compile "$arch")
cc=${cross}gcc
command -v ccache >/dev/null 2>&1 && cc="ccache $cc"
export CCACHE_DIR=${CCACHE_DIR:-$CACHE/ccache} CCACHE_BASEDIR=$TOP CCACHE_NOHASHDIR=true
mk=(make -C "$wt" O="$obj" ARCH="$arch" CROSS_COMPILE="$cross" CC="$cc" LOCALVERSION= -j"$(nproc_jobs)")

{ cat "$TOP/configs/common.config" "$TOP/configs/$arch.config"
  echo 'CONFIG_LOCALVERSION="-bisect"'
  echo 'CONFIG_KUNIT=y'
  echo 'CONFIG_KEXEC_METADATA_KUNIT_TEST=y'
} >"$obj/.config"

fail=0
for c in $(git -C "$TREE" rev-list --reverse base..HEAD); do
	subject=$(git -C "$TREE" log -1 --format=%s "$c")
	git -C "$wt" checkout -q --detach "$c"
	log=$LOGS/bisect-$(git -C "$TREE" rev-parse --short "$c").log
	start=$SECONDS
	if "${mk[@]}" olddefconfig >"$log" 2>&1 &&
	   "${mk[@]}" W=1 "$(basename "$(kimage "$arch")")" >>"$log" 2>&1; then
		if grep -q 'kernel/liveupdate/.*warning:' "$log"; then
			say "FAIL  $subject: new W=1 warnings, see $log"
			fail=1
		else
			say "ok    $subject ($((SECONDS - start))s)"
		fi
	else
		say "FAIL  $subject: does not build, see $log"
		tail -n 15 "$log"
		fail=1
	fi
done
exit $fail
