#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every test, one line per stage, then
#   check: N passed, M failed[, K skipped]
# A failing stage prints the tail of its log and the command that reruns it
# alone; all logs stay in build/logs/.  ONLY=stage[,stage...] runs only
# those stages (the stages they need, such as apply, run first anyway).

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
set +e

passed=0 failed=0 skipped=0 failed_builds=""
mkdir -p "$LOGS"
# The stage lines and their times are kept in build/logs/check.summary too.
exec > >(tee "$LOGS/check.summary") 2>&1
tee_pid=$!
T0=$SECONDS
# One make check at a time uses the trees shared by clones (lib.sh).
trees_lock
ONLY=${ONLY:-}

# stage NAME COMMAND...: exit 0 passes, 4 (KSFT_SKIP) skips, anything else
# fails.  With ONLY, a stage that is not listed is left out, unless later
# stages need it: deps, apply and the kernel builds (incremental) always run.
# Between "pairs=1" and "pairs=0", stages run two at a time: each is one
# QEMU guest that keeps about one core busy, so on 2 cores two of them take
# about as long as one.  A stage starts as soon as one of the two slots is
# free, so the long one (distro-x86_64, first) runs beside several short
# ones.  Their lines come in order, each with its own time.
# No kernel build runs there, and no two stages that share a build directory.
pairs=0 pending=()
stage() {
	local name=$1 log=$LOGS/check-$1.log start=$SECONDS rc
	shift
	if [ -n "$ONLY" ] && [[ ",$ONLY,deps,apply," != *",$name,"* ]] &&
	   [[ $name != build-* ]]; then
		return 0
	fi
	if ((pairs)); then
		rm -f "$log.rc"
		while (($(running) >= 2)); do
			sleep 1
			flush
		done
		start=$SECONDS
		("$@" >"$log" 2>&1; echo "$? $((SECONDS - start))" >"$log.rc") &
		pending+=("$name:$!")
		return 0
	fi
	printf 'stage %-24s ' "$name"
	"$@" >"$log" 2>&1
	rc=$?
	report "$name" "$rc" "$((SECONDS - start))"
	return $rc
}

# How many of the stages started in pairs are still running.
running() {
	local p n=0
	for p in "${pending[@]}"; do
		[ -f "$LOGS/check-${p%%:*}.log.rc" ] || n=$((n + 1))
	done
	echo "$n"
}

# The line of the first stage started in pairs, once it is done.
report_first() {
	local p=${pending[0]} name rc secs
	name=${p%%:*}
	wait "${p#*:}"
	rc=1 secs="?"
	[ -f "$LOGS/check-$name.log.rc" ] && read -r rc secs <"$LOGS/check-$name.log.rc"
	printf 'stage %-24s ' "$name"
	report "$name" "$rc" "$secs"
	pending=("${pending[@]:1}")
}

# The lines of the stages that are done, in order, up to the first that is not.
flush() {
	while ((${#pending[@]})) && [ -f "$LOGS/check-${pending[0]%%:*}.log.rc" ]; do
		report_first
	done
}

# The lines of all stages started in pairs, in order, once they are done.
collect() {
	while ((${#pending[@]})); do
		report_first
	done
}

# report NAME RC SECONDS: the rest of the stage's line, and the counts.
report() {
	local name=$1 rc=$2 secs=$3 log=$LOGS/check-$1.log
	[ "$rc" -ne 0 ] && [[ $name == build-kmd-* ]] && failed_builds+=" ${name#build-kmd-}"
	case $rc in
	0) passed=$((passed + 1)); printf 'PASS  (%ss)\n' "$secs" ;;
	4) skipped=$((skipped + 1)); printf 'SKIP  (%ss) %s\n' "$secs" "$(tail -n 1 "$log")" ;;
	*) failed=$((failed + 1)); printf 'FAIL  (%ss), log: %s\n' "$secs" "$log"
	   tail -n 25 "$log" | sed 's/^/    | /'
	   printf '    rerun alone: make check ONLY=%s\n' "$name" ;;
	esac
}

finish() {
	local s=""
	[ "$skipped" -gt 0 ] && s=", $skipped skipped"
	say "total time $((SECONDS - T0))s; logs in build/logs/"
	say "check: $passed passed, $failed failed$s"
	# Let tee finish writing before make returns.
	exec >&- 2>&-
	wait "$tee_pid"
	[ "$failed" -eq 0 ]
	exit
}

# shellcheck disable=SC2317 # called through stage()
selftest() {
	local mode=$1 arch=$2 target accel
	shift 2
	target=$([ "$arch" = arm64 ] && echo aarch64 || echo x86_64)
	if [[ " $failed_builds " == *" $arch "* ]]; then
		echo "the kmd kernel for $arch did not build (see the build-kmd-$arch stage): nothing to test"
		return 1
	fi
	accel=$("$TOP/scripts/accel.sh" "$arch") || return 1
	CROSS_COMPILE=$(cross_compile "$arch") \
		"$TOP/scripts/chain.sh" -m "$mode" -t "$target" \
		-a "$accel" -l "$LOGS" -k "$IMAGES/kmd-$arch" "$@"
}

# shellcheck disable=SC2317 # called through stage()
# The Debian guest's chain (scripts/distro.sh): systemd, journald and
# Debian's kexec-tools across kexecs of ours and stock.
distro() {
	if [[ " $failed_builds " == *" x86_64 "* ]]; then
		echo "the kmd kernel for x86_64 did not build (see the build-kmd-x86_64 stage): nothing to test"
		return 1
	fi
	"$TOP/scripts/distro.sh" distro-x86_64
}

stage deps "$TOP/scripts/deps.sh" install || finish
stage apply "$TOP/scripts/tree.sh" || finish
stage checkpatch "$TOP/scripts/static.sh" checkpatch
stage kernel-doc "$TOP/scripts/static.sh" kernel-doc
stage shellcheck "$TOP/scripts/static.sh" shellcheck
stage harness-gate "$TOP/scripts/test-gate.sh"
stage build-kmd-x86_64 "$TOP/scripts/build-kernel.sh" kmd x86_64
stage build-stock-x86_64 "$TOP/scripts/build-kernel.sh" stock x86_64
stage build-xabi-x86_64 "$TOP/scripts/build-kernel.sh" xabi x86_64
stage build-kmd-arm64 "$TOP/scripts/build-kernel.sh" kmd arm64
stage w1-sparse "$TOP/scripts/static.sh" warnings
stage kunit-x86_64 "$TOP/scripts/kunit.sh"
# The accelerator probe writes a cache file: once, before the pairs.
"$TOP/scripts/accel.sh" x86_64 >/dev/null 2>&1
"$TOP/scripts/accel.sh" arm64 >/dev/null 2>&1
pairs=1
stage distro-x86_64 distro
stage selftest-chain-x86_64 selftest chain x86_64 -n 10
stage selftest-chain-arm64 selftest chain arm64 -n 5
stage selftest-khooff-x86_64 selftest khooff x86_64 -n 6
stage selftest-uefi-arm64 selftest chain arm64 -n 3 -b /usr/share/qemu-efi-aarch64/QEMU_EFI.fd
stage selftest-corrupt-x86_64 selftest corrupt x86_64 -n 3
stage selftest-uefi-x86_64 selftest chain x86_64 -n 3 -b /usr/share/ovmf/OVMF.fd
stage interop-x86_64 selftest interop x86_64 -n 6 -s "$IMAGES/stock-x86_64"
stage interop-xabi-x86_64 selftest xabi x86_64 -n 5 -x "$IMAGES/xabi-x86_64"
stage kexec-tools-x86_64 "$TOP/scripts/kexec-tools.sh" x86_64
stage kexec-tools-arm64 "$TOP/scripts/kexec-tools.sh" arm64
stage debugfs-off-x86_64 "$TOP/scripts/debugfs-off.sh" kmd
collect
pairs=0
stage kho-vmtest-x86_64 "$TOP/scripts/peers.sh" kho
stage kho-vmtest-chain-x86_64 "$TOP/scripts/peers.sh" kho-chain
stage luo-kexec-simple-x86_64 "$TOP/scripts/peers.sh" luo
stage luo-multi-session-x86_64 "$TOP/scripts/peers.sh" luo-multi
finish
