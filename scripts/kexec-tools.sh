#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kexec-tools.sh [ARCH]: a chain driven by Debian's kexec-tools, as people
# kexec, in a busybox guest like make shell's (ARCH x86_64, the default, or
# arm64).  Two KHO kexecs with "kexec -s -l"; a kexec_load ("kexec -l"),
# which carries no KHO handover; a KHO kexec again; then a kdump ("kexec -p"
# and a crash).  Each hop checks the exec-from line, /sys/kernel/kexec/previous/
# and what KHO says about stale handover data (see chain_job in guest-init).

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

arch=${1:-x86_64}
case $arch in
x86_64) qemu=(qemu-system-x86_64) pkg=qemu-system-x86 cmdline=console=ttyS0 ;;
# arm64 reserves crashkernel= memory while memblock only hands out KHO
# scratch, so a KHO boot finds room for a crash kernel only in scratch
# areas made large enough on the cold boot.
arm64) qemu=(qemu-system-aarch64 -M virt -cpu max) pkg=qemu-system-arm cmdline="console=ttyAMA0 kho_scratch=64M,256M,32M" ;;
*) die "unknown architecture '$arch' (use x86_64 or arm64)" ;;
esac
need_cmd "${qemu[0]}" "$pkg"
dir=$BUILD/kexec-tools-$arch
busybox_guest "$TOP/scripts/guest-init" "$dir" "$arch" kmd
accel=$("$TOP/scripts/accel.sh" "$arch")
serial=$LOGS/kexec-tools-$arch.serial
info "kexec-tools chain on $arch ($accel); serial log: $serial"
busybox_run 600 "$serial" kmdt "$dir" "$IMAGES/kmd-$arch" \
	"$cmdline printk.time=1 kho=on panic=-1 kmdt.hop=0" "${qemu[@]}" -accel "$accel"
if grep -aq 'kmdt-check .* FAIL' "$serial"; then
	die "a hop failed its checks; see $serial"
fi
grep -aq '^kmdt-done 5' "$serial" || die "the chain did not reach the kdump kernel; see $serial"
say "kexec-tools chain on $arch: KHO kexecs, a kexec_load and a kdump, all as documented"
