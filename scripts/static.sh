#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# static.sh checkpatch|kernel-doc|warnings|shellcheck: the static checks of
# make check, all with the kernel's own tools.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# checkpatch findings that are accepted, with the reason in README.md:
# "patch-file-glob TYPE".
CHECKPATCH_EXCEPTIONS=(
	# Fixes: tags name upstream commits, which the base (Debian's source
	# package, recorded as one commit) does not have: checkpatch cannot
	# look them up.  Each ID was checked against upstream by hand.
	"* UNKNOWN_COMMIT_ID"
)

# Source files the series touches (C files and headers).
touched() {
	git -C "$TREE" diff --name-only --diff-filter=AM base..HEAD -- '*.c' '*.h' |
		grep -v '^tools/' || true
}

run_checkpatch() {
	local p ignore e bad=0
	for p in "$TOP"/patches/[0-9]*.patch; do
		case $p in */0000-*) continue ;; esac
		ignore=()
		for e in "${CHECKPATCH_EXCEPTIONS[@]}"; do
			# shellcheck disable=SC2053
			[[ $p == ${e% *} ]] && ignore+=(--ignore "${e#* }")
		done
		if ! "$TREE/scripts/checkpatch.pl" --strict --no-signoff --no-tree --quiet \
			--show-types "${ignore[@]}" "$p"; then
			say "checkpatch: $(basename "$p") has findings"
			bad=1
		else
			say "checkpatch: $(basename "$p"): clean"
		fi
	done
	return $bad
}

# kernel-doc on every touched file: no warning that the base does not have.
run_kernel_doc() {
	local files=() base_files=() f ours stock new
	mapfile -t files < <(touched)
	[ ${#files[@]} -gt 0 ] || return 0
	for f in "${files[@]}"; do
		[ -f "$STOCK_TREE/$f" ] && base_files+=("$f")
	done
	ours=$(cd "$TREE" && scripts/kernel-doc -none -Wall "${files[@]}" 2>&1 | sort -u)
	stock=$(cd "$STOCK_TREE" && [ ${#base_files[@]} -gt 0 ] &&
		scripts/kernel-doc -none -Wall "${base_files[@]}" 2>&1 | sort -u)
	say "kernel-doc -none -Wall ${files[*]}"
	say "warnings on the base: $(grep -c . <<<"$stock" || true), with the series: $(grep -c . <<<"$ours" || true)"
	new=$(comm -13 <(sed -E 's/:[0-9]+ / /' <<<"$stock" | sort -u) <(sed -E 's/:[0-9]+ / /' <<<"$ours" | sort -u))
	[ -z "$new" ] || { say "new kernel-doc warnings:"; say "$new"; return 1; }
}

# W=1 and sparse on the directories we touch, ours against stock: the set of
# warnings (file and message, without line numbers) must not grow.
warnings() {
	local flavor=$1 sparse=$2 obj log
	obj=$([ "$flavor" = kmd ] && echo "$KMD_SRC" || echo "$STOCK_TREE")/.kbuild-x86_64
	log=$LOGS/warnings-$flavor.log
	rm -f "$obj"/kernel/liveupdate/*.o "$obj"/kernel/liveupdate/tests/*.o \
		"$obj"/kernel/kexec_core.o "$obj"/drivers/char/random.o "$obj"/arch/x86/kernel/setup.o
	"$TOP/scripts/build-kernel.sh" "$flavor" x86_64 W=1 C=1 CHECK="$sparse" \
		kernel/liveupdate/ kernel/kexec_core.o drivers/char/random.o \
		arch/x86/kernel/setup.o >"$log" 2>&1 ||
		{ tail -n 20 "$log"; return 1; }
	{ grep -E '(warning|error):' "$log" || true; } | sed -E 's/:[0-9]+:[0-9]+:/:/; s/:[0-9]+:/:/' | sort -u
}

run_warnings() {
	local sparse ours stock new key cached
	sparse=$("$TOP/scripts/fetch-base.sh" sparse)
	# Stock's set only changes with its tree, sparse, gcc or this script.
	key=$(echo "$(git -C "$STOCK_TREE" rev-parse HEAD) $sparse $(gcc -dumpfullversion) $(sha256sum <"$0")" | sha256sum | cut -c1-16)
	cached=$STOCK_TREE/.kbuild-x86_64/kmd-warnings-$key
	if [ -f "$cached" ]; then
		stock=$(cat "$cached")
	else
		stock=$(warnings stock "$sparse")
		echo "$stock" >"$cached"
	fi
	ours=$(warnings kmd "$sparse")
	say "W=1 C=1 warnings on stock: $(grep -c . <<<"$stock" || true), with the series: $(grep -c . <<<"$ours" || true)"
	new=$(comm -13 <(echo "$stock") <(echo "$ours"))
	[ -z "$new" ] || { say "new warnings:"; say "$new"; return 1; }
}

run_shellcheck() {
	need_cmd shellcheck shellcheck
	# scripts/*.sh includes the chain test (chain.sh).
	(cd "$TOP" && shellcheck -x -P scripts scripts/*.sh scripts/guest-init scripts/ccache-cc .ci/run) &&
		say "shellcheck: clean"
}

case ${1:-} in
checkpatch) run_checkpatch ;;
kernel-doc) run_kernel_doc ;;
warnings) run_warnings ;;
shellcheck) run_shellcheck ;;
*) die "usage: static.sh checkpatch|kernel-doc|warnings|shellcheck" ;;
esac
