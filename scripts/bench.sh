#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: what kexec-metadata costs and buys, ours against stock 7.3 in
# one run.  It reports, it never fails on speed.  The table is printed and
# saved in build/bench.md, the serial logs stay in build/logs/bench-*.
#
# Two x86_64 chains of HOPS kexecs (default 21) run the busybox guest of
# scripts/bench-init, which alternates our kernel and stock on every hop, so
# both are measured on the same machine in the same minute:
#  - "plain" starts from ours, with the command line of a normal boot: time
#    to the "exec from" line, kernel boot time, seconds per hop;
#  - "cost" starts from stock and adds initcall_debug: what our code costs
#    (KEXEC_HANDOVER_DEBUG prints the early read and the uptime stamp,
#    initcall_debug times kmd_init and the guest copies that line from
#    dmesg), and memory from the KHO debugfs.
# Then the developer loop: a one-file edit to a chain result, and (unless
# BENCH_COLD=0) a cold "make check" in a fresh clone with an empty ccache.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

HOPS=${HOPS:-21}
BENCH_COLD=${BENCH_COLD:-1}
if ! [[ "$HOPS" =~ ^[0-9]+$ ]] || ((HOPS < 10)); then
	die "HOPS=$HOPS: a chain needs at least 10 kexecs to give a median per kernel"
fi
need_cmd python3 python3
dir=$BUILD/bench
busybox_guest "$TOP/scripts/bench-init" "$dir"
accel=$("$TOP/scripts/accel.sh" x86_64)

# Prefix every serial line with the host's clock, for seconds per hop.
stamp() {
	local line
	while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"
	done
}

# run_chain NAME FIRST EXTRA_CMDLINE
run_chain() {
	local name=$1 first=$2 extra=$3 log=$LOGS/bench-$1.serial
	local limit=$((60 + HOPS * 30)) rc
	info "chain '$name': $HOPS kexecs from $first, alternating ours and stock ($accel, at most ${limit}s)"
	# test_kho.max_mem: the KHO self-test module preserves 8 MiB of random
	# data on every boot by default; one page keeps its work out of the hop
	# times.
	set +o pipefail
	timeout -k 5 "$limit" qemu-system-x86_64 -accel "$accel" -m 1G -smp 2 \
		-nographic -nodefaults -serial stdio -no-reboot \
		-kernel "$IMAGES/$first-x86_64" -initrd "$dir/initrd.cpio" \
		-append "console=ttyS0 printk.time=1 kho=on panic=-1 test_kho.max_mem=4096 $extra bench.hop=0 bench.hops=$HOPS" \
		</dev/null 2>&1 | stamp >"$log"
	rc=${PIPESTATUS[0]}
	set -o pipefail
	if ((rc == 124)); then
		warn "chain '$name' hung and was stopped after ${limit}s; the table uses the hops it finished. Log: $log"
	elif ! grep -q "bench-done $HOPS" "$log"; then
		warn "chain '$name' stopped early (QEMU exit $rc); the table uses the hops it finished. Log: $log"
	fi
}

run_chain plain kmd ""
run_chain cost stock "initcall_debug log_buf_len=1M"

# Developer loop, warm: one .c file changed (ccache made to miss), rebuilt,
# and a 2-kexec chain run by the selftest.
info "developer loop: touch kexec_metadata.c, rebuild, run a 2-kexec chain"
start=$EPOCHREALTIME
touch "$TREE/kernel/liveupdate/kexec_metadata.c"
mkdir -p "$LOGS/bench-loop"
if CCACHE_RECACHE=1 "$TOP/scripts/build-kernel.sh" kmd x86_64 &&
	"$TREE/tools/testing/selftests/kho/kexec_metadata.sh" -m chain -n 2 -a "$accel" \
		-k "$IMAGES/kmd-x86_64" -l "$LOGS/bench-loop" >"$LOGS/bench-loop.ktap" 2>&1; then
	loop_warm=$(echo "$start $EPOCHREALTIME" | awk '{ printf "%.0f s", $2 - $1 }')
else
	loop_warm="failed, see $LOGS/bench-loop.ktap"
fi

# Developer loop, cold: make check in a fresh clone of this repository's
# HEAD, with an empty ccache.  The Debian package and the base repository
# stay cached in ~/.cache/kexec-metadata, as on any machine that ran once.
loop_cold="not run (BENCH_COLD=0)"
if [[ "$BENCH_COLD" != 0 ]]; then
	info "developer loop: cold make check in a fresh clone (about 30 min on 2 cores)"
	rm -rf "$dir/clone" "$dir/ccache"
	git clone -q "$TOP" "$dir/clone"
	start=$SECONDS
	if env -u BUILD CCACHE_DIR="$dir/ccache" make -C "$dir/clone" check \
		>"$LOGS/bench-cold-check.log" 2>&1; then
		rm -rf "$dir/clone" "$dir/ccache"
	else
		warn "the cold make check failed; its logs are in $dir/clone/build/logs"
	fi
	loop_cold="$(((SECONDS - start) / 60)) min $(((SECONDS - start) % 60)) s, \`$(grep '^check: ' "$LOGS/bench-cold-check.log" | tail -1)\`"
fi

machine="$(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/^MemTotal/ { printf "%d GiB", $2 / 1048576 }' /proc/meminfo), host $(uname -r), $(qemu-system-x86_64 --version | head -1)"
python3 "$TOP/scripts/bench-table.py" --accel "$accel" --machine "$machine" \
	--loop-warm "$loop_warm" --loop-cold "$loop_cold" \
	"$LOGS/bench-plain.serial" "$LOGS/bench-cost.serial" | tee "$BUILD/bench.md"
info "table saved in build/bench.md; serial logs in $LOGS/bench-*.serial"
