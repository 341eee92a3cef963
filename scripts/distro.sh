#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# distro.sh [NAME]: the distro-x86_64 stage.  A Debian trixie guest
# (scripts/distro-rootfs.sh: systemd 257, udev, journald with a persistent
# journal, Debian's kexec-tools) boots our kernel cold, then kexecs the way
# an operator does (kexec -s -l --reuse-cmdline --append, systemctl kexec)
# through the plan, by default ours -> ours -> stock 7.3 -> ours.  Every
# boot checks itself with journalctl and sysfs only (scripts/distro-hop.sh):
# the exec-from line and its count in the journal, journalctl --list-boots
# against the boot ID in sysfs, the previous kernel's own log through that
# ID, the taint of the previous kernel (hop 0 taints itself), and after
# stock no boot ID, as documented.
#
# The root image is cached (it holds no kernel); each run boots a copy of
# it, with the kernels, the plan and the hop script on a second disk.  QEMU
# runs with -no-reboot: a cold reboot anywhere ends it, and the chain is
# then incomplete.  Afterwards the hop results and the journal files are
# read from the copy with debugfs into build/logs/NAME/.
#
# DISTRO_PLAN="kmd kmd stock kmd" and DISTRO_TAINT_HOP=0 change the chain
# (make demo uses "kmd kmd"); NAME (default distro-x86_64) names the logs.
# The guest has one vCPU (DISTRO_SMP=2 for two): with two, beside another
# TCG guest on two host cores, a kexec'd boot crawled twice in 27 runs
# (clocksource watchdog, ACPI loop timeouts) past the timeout.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

name=${1:-distro-x86_64}
read -r -a plan <<<"${DISTRO_PLAN:-kmd kmd stock kmd}"
taint_hop=${DISTRO_TAINT_HOP:-0}
# Per boot under TCG: kernel, systemd to multi-user, checks, shutdown.
timeout=$((60 * ${#plan[@]} + 60))

need_cmd qemu-system-x86_64 qemu-system-x86
need_cmd mke2fs e2fsprogs
need_cmd debugfs e2fsprogs
for k in "${plan[@]}"; do
	case $k in kmd | stock) ;; *) die "DISTRO_PLAN: unknown kernel '$k' (kmd or stock)" ;; esac
	[ -f "$IMAGES/$k-x86_64" ] ||
		die "no $k kernel in $IMAGES: build it first (scripts/build-kernel.sh $k x86_64)"
done

# uname -r of a bzImage, from its setup header (kernel_version at 0x20e).
bzimage_release() {
	local off
	off=$(od -An -tu2 -j 526 -N 2 "$1" | tr -d ' ')
	dd if="$1" bs=1 skip=$((off + 512)) count=128 status=none | tr '\0' '\n' |
		head -n 1 | cut -d' ' -f1
}

rootfs=$("$TOP/scripts/distro-rootfs.sh")
work=$BUILD/$name
out=$LOGS/$name
serial=$LOGS/$name.serial
rm -rf "$work" "$out" "$serial"
mkdir -p "$work/kernels" "$out"
# The guest writes its journal: a copy of the cached image for each run.
cp --sparse=always "$rootfs" "$work/root.img"

declare -A release
for k in kmd stock; do
	[ -f "$IMAGES/$k-x86_64" ] || continue
	cp "$IMAGES/$k-x86_64" "$work/kernels/$k"
	release[$k]=$(bzimage_release "$IMAGES/$k-x86_64")
done
cp "$TOP/scripts/distro-hop.sh" "$work/kernels/hop"
{
	declare -p release | sed 's/^declare -A release=/declare -A RELEASE=/'
	echo "PLAN=(${plan[*]})"
	echo "TAINT_HOP=$taint_hop"
	[ -z "${KMD_SYSFS:-}" ] || echo "KMD_SYSFS=$KMD_SYSFS"
} >"$work/kernels/plan"
mke2fs -q -F -t ext4 -L kmd-kernels -d "$work/kernels" "$work/kernels.img" 64M >/dev/null ||
	die "mke2fs could not make the kernels disk"

accel=$("$TOP/scripts/accel.sh" x86_64)
last=$((${#plan[@]} - 1))
info "Debian guest ($accel): ${plan[*]}, $last kexecs through systemctl kexec (about $((25 * ${#plan[@]})) s); serial log: $serial"
start=$SECONDS
rc=0
timeout "$timeout" qemu-system-x86_64 -accel "$accel" -m 1G -smp "${DISTRO_SMP:-1}" -nographic -nodefaults \
	-serial "file:$serial" -no-reboot \
	-drive "file=$work/root.img,format=raw,if=virtio" \
	-drive "file=$work/kernels.img,format=raw,if=virtio,readonly=on" \
	-kernel "$IMAGES/${plan[0]}-x86_64" \
	-append "console=ttyS0 root=/dev/vda rw kho=on printk.time=1 panic=-1 kmd.hop=0" || rc=$?
info "QEMU exited ($rc) after $((SECONDS - start)) s"

# What the guest wrote: the hop results and what journalctl said, and the
# journal files themselves.
debugfs -R "rdump /var/lib/kmd-distro $out" "$work/root.img" >"$out/debugfs.log" 2>&1
debugfs -R "rdump /var/log/journal $out" "$work/root.img" >>"$out/debugfs.log" 2>&1
for ((i = 0; i <= last; i++)); do
	[ ! -f "$out/kmd-distro/hop$i/result" ] || cat "$out/kmd-distro/hop$i/result"
done

[ "$rc" -ne 124 ] || die "the guest timed out after $timeout s; see $serial"
bad=$(cat "$out"/kmd-distro/hop*/result 2>/dev/null | grep -c '^kmd-distro-check .* FAIL' || true)
[ "$bad" -eq 0 ] || die "$bad checks failed; see $out and $serial"
for ((i = 0; i <= last; i++)); do
	[ -f "$out/kmd-distro/hop$i/result" ] ||
		die "the chain stopped before hop $i (${plan[$i]}): a kexec failed or fell back to a cold reboot; see $serial"
done
grep -q "^kmd-distro-done $last " "$out/kmd-distro/hop$last/result" ||
	die "the last hop did not finish; see $serial"
say "$name: $last kexecs through systemd (${plan[*]}), every check passed; logs in $out"
