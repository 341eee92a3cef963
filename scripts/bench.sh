#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: what kexec-metadata costs and buys, ours against stock 7.3 in
# one run.  It reports, it never fails on speed.  The table is printed and
# saved in build/bench.md, the serial logs stay in build/logs/bench-*.
#
# The series carries no timing code.  Two bench-only patches, kept here
# and never in patches/, are applied to two extra worktrees:
#  - scripts/bench-common.patch, on ours and on the base: TSC at kernel
#    entry (x86_64_start_kernel) and at run_init_process();
#  - scripts/bench-kmd.patch, on ours: TSC around the early read, the
#    /sys/kernel/kexec/previous/ group, the late registration (kmd_init,
#    with its parts, kho_add_subtree() split into FDT work and its debugfs
#    file) and the kexec-path notifier;
#  - scripts/bench-stock.patch, on the base: TSC around the base's own
#    version of the feature (kho_kexec_metadata_init() in kho_init()).
# One x86_64 chain of HOPS kexecs (default 30) runs the busybox guest of
# scripts/guest-init in the order ours, ours, stock, ... under QEMU's
# "-icount shift=0,sleep=off": guest time, hence the TSC, advances by one
# per guest instruction, so each figure counts instructions, the same in
# every run and free of TCG's translation cost.  A second, plain chain
# (the accelerator accel.sh picks) gives the same figures in TSC ticks of
# the host, translation included, for comparison only.
# Then the developer loop: a one-file edit to a chain result, and (unless
# BENCH_COLD=0) a cold "make check" in a fresh clone with an empty cache.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
trees_lock

HOPS=${HOPS:-30}
# The guest CPU: "max" has what x86-64 servers have had for a decade
# (PCLMULQDQ, which crc32_le() uses once the kernel is up), and qemu64,
# QEMU's default, lacks.  ERMS and FSRM are taken out because icount counts
# every iteration of "rep movsb/stosb" as an instruction: with them, a 4 KiB
# page clear would count 4096, instead of 512 with "rep stosq".  RDRAND and
# RDSEED are taken out because they made every boot's random choices
# (KASLR, hash seeds, freelist order) different, which moved the count to
# /init by up to 1M instructions from one boot of a kernel to the next;
# without them the guest's randomness comes from the TSC, which icount
# makes repeatable.
BENCH_CPU=${BENCH_CPU:-max,-erms,-fsrm,-rdrand,-rdseed}
BENCH_COLD=${BENCH_COLD:-1}
if ! [[ "$HOPS" =~ ^[0-9]+$ ]] || ((HOPS < 30)); then
	die "HOPS=$HOPS: the chain needs at least 30 kexecs to give 10 hops of stock"
fi
need_cmd python3 python3
need_cmd qemu-system-x86_64 qemu-system-x86
# make bench built the tree and our test kernel first (Makefile): the
# accelerator probe and the developer loop use it.
[ -f "$IMAGES/kmd-x86_64" ] || die "no test kernel; run make bench, not this script"

# bench_tree NAME COMMIT PATCH...: build/linux-NAME, a worktree of
# build/linux at COMMIT, with the bench patches applied.
bench_tree() {
	local wt=$BUILD/linux-$1 commit p
	commit=$(git -C "$TREE" rev-parse "$2")
	shift 2
	if [ ! -e "$wt/.git" ]; then
		git -C "$TREE" worktree prune
		git -C "$TREE" worktree add -q --detach "$wt" "$commit"
	fi
	git -C "$wt" checkout -q -f --detach "$commit"
	for p in "$@"; do
		git -C "$wt" apply "$p" ||
			die "$(basename "$p") does not apply to $wt: refresh it for the current series (see its header)"
	done
}
# Ours is build/linux as it is, uncommitted edits included.
bench_tree kmdbench HEAD
git -C "$TREE" diff HEAD >"$BUILD/bench-edits.diff"
if [ -s "$BUILD/bench-edits.diff" ] &&
   ! git -C "$BUILD/linux-kmdbench" apply "$BUILD/bench-edits.diff"; then
	die "cannot copy the uncommitted edits of build/linux into the bench tree"
fi
git -C "$BUILD/linux-kmdbench" apply "$TOP/scripts/bench-common.patch" "$TOP/scripts/bench-kmd.patch" ||
	die "the bench patches do not apply to build/linux: refresh scripts/bench-kmd.patch for the current series"
bench_tree stockbench base "$TOP/scripts/bench-common.patch" "$TOP/scripts/bench-stock.patch"

dir=$BUILD/bench
"$TOP/scripts/build-kernel.sh" kmdbench x86_64
"$TOP/scripts/build-kernel.sh" stockbench x86_64
busybox_guest "$TOP/scripts/guest-init" "$dir" x86_64 kmdbench stockbench
accel=$("$TOP/scripts/accel.sh" x86_64)

# Prefix every serial line with the host's clock.
stamp() {
	local line
	while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"
	done
}

# run_chain NAME QEMU_ACCEL_ARGS...
run_chain() {
	local name=$1 log=$LOGS/bench-$1.serial limit=$((120 + HOPS * 40)) rc
	shift
	info "chain '$name': $HOPS kexecs, ours, ours, stock... ($*, at most ${limit}s)"
	# test_kho.max_mem: the KHO self-test module preserves 8 MiB of random
	# data on every boot by default; one page keeps its work out of the
	# figures.
	set +o pipefail
	timeout -k 5 "$limit" qemu-system-x86_64 "$@" -cpu "$BENCH_CPU" -m 1G -smp 2 \
		-nographic -nodefaults -serial stdio -no-reboot \
		-kernel "$IMAGES/kmdbench-x86_64" -initrd "$dir/initrd.cpio" \
		-append "console=ttyS0 printk.time=1 kho=on panic=-1 test_kho.max_mem=4096 bench.hop=0 bench.hops=$HOPS" \
		</dev/null 2>&1 | stamp >"$log"
	rc=${PIPESTATUS[0]}
	set -o pipefail
	if ((rc == 124)); then
		warn "chain '$name' hung and was stopped after ${limit}s; the table uses the hops it finished. Log: $log"
	elif ! grep -q "bench-done $HOPS" "$log"; then
		warn "chain '$name' stopped early (QEMU exit $rc); the table uses the hops it finished. Log: $log"
	fi
}

run_chain icount -accel tcg -icount shift=0,sleep=off
run_chain plain -accel "$accel"

# Developer loop, warm: one .c file changed (ccache made to miss), rebuilt,
# and a 2-kexec chain run by scripts/chain.sh.
info "developer loop: touch kexec_metadata.c, rebuild, run a 2-kexec chain"
start=$EPOCHREALTIME
touch "$KMD_SRC/kernel/liveupdate/kexec_metadata.c"
mkdir -p "$LOGS/bench-loop"
if CCACHE_RECACHE=1 "$TOP/scripts/build-kernel.sh" kmd x86_64 &&
	"$TOP/scripts/chain.sh" -m chain -n 2 -a "$accel" \
		-k "$IMAGES/kmd-x86_64" -l "$LOGS/bench-loop" >"$LOGS/bench-loop.ktap" 2>&1; then
	loop_warm=$(echo "$start $EPOCHREALTIME" | awk '{ printf "%.0f s", $2 - $1 }')
else
	loop_warm="failed, see $LOGS/bench-loop.ktap"
fi

# Developer loop, cold: make check in a fresh clone of this repository's
# HEAD, with an empty cache directory (KMD_CACHE): no ccache, no base
# download, no cached stock images, as on a new machine.
loop_cold="not run (BENCH_COLD=0)"
if [[ "$BENCH_COLD" != 0 ]]; then
	info "developer loop: cold make check in a fresh clone (about 20 min on 2 cores)"
	rm -rf "$dir/clone" "$dir/cache"
	git clone -q "$TOP" "$dir/clone"
	start=$SECONDS
	if env -u BUILD -u CCACHE_DIR KMD_CACHE="$dir/cache" make -C "$dir/clone" check \
		>"$LOGS/bench-cold-check.log" 2>&1; then
		rm -rf "$dir/clone" "$dir/cache"
	else
		warn "the cold make check failed; its logs are in $dir/clone/build/logs"
	fi
	loop_cold="$(((SECONDS - start) / 60)) min $(((SECONDS - start) % 60)) s, \`$(grep '^check: ' "$LOGS/bench-cold-check.log" | tail -1 || true)\`"
fi

machine="$(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/^MemTotal/ { printf "%d GiB", $2 / 1048576 }' /proc/meminfo), host $(uname -r), $(qemu-system-x86_64 --version | head -1)"
python3 "$TOP/scripts/bench-table.py" --accel "$accel" --machine "$machine" \
	--cpu "$BENCH_CPU" --stock "stock $BASE_SERIES" \
	--loop-warm "$loop_warm" --loop-cold "$loop_cold" \
	"$LOGS/bench-icount.serial" "$LOGS/bench-plain.serial" | tee "$BUILD/bench.md"
info "table saved in build/bench.md; serial logs in $LOGS/bench-*.serial"
