#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-bisect: build the x86_64 test kernel after every patch of the
# series, and kernel/liveupdate/ with W=1.
#
# It walks build/linux itself, in the build directory of our kernel, so each
# step only recompiles what the patch touched (a minute or less), and puts
# build/linux back on its branch at the end.  build/linux must be clean.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
trees_lock

# make check-bisect made the tree first (Makefile).
[ -d "$TREE/.git" ] || die "no build/linux; run make check-bisect, not this script"
[ -z "$(git -C "$TREE" status --porcelain --untracked-files=no)" ] ||
	die "build/linux has uncommitted changes; commit or drop them first"
branch=$(git -C "$TREE" symbolic-ref -q --short HEAD) || die "build/linux is not on a branch"
# Every step is configured with the harness's options (configs/).
trap 'git -C "$TREE" checkout -q "$branch"' EXIT
mkdir -p "$LOGS"

fail=0
for c in $(git -C "$TREE" rev-list --reverse base..HEAD); do
	subject=$(git -C "$TREE" log -1 --format=%s "$c")
	git -C "$TREE" checkout -q --detach "$c"
	log=$LOGS/bisect-$(git -C "$TREE" rev-parse --short "$c").log
	start=$SECONDS
	if "$TOP/scripts/build-kernel.sh" kmd x86_64 >"$log" 2>&1 &&
	   "$TOP/scripts/build-kernel.sh" kmd x86_64 W=1 kernel/liveupdate/ \
		drivers/char/random.o kernel/kexec_core.o >>"$log" 2>&1; then
		if grep -qE '(liveupdate/|random\.c|kexec_core\.c).*warning:' "$log"; then
			say "FAIL  $subject: W=1 warnings, see $log"
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
git -C "$TREE" checkout -q "$branch"
trap - EXIT
"$TOP/scripts/build-kernel.sh" kmd x86_64 >/dev/null
exit $fail
