#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kexec-tools.sh: a chain driven by Debian's kexec-tools, as people kexec:
# two KHO kexecs with "kexec -s -l", then a kexec_load ("kexec -l"), which
# carries no KHO handover, then a kdump ("kexec -s -p" and a crash).  Each hop
# checks the exec-from line and /sys/kernel/kexec_metadata/ (see
# kexec-tools-init).  x86_64, with a busybox guest like make shell's.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

dir=$BUILD/kexec-tools
busybox_guest "$TOP/scripts/kexec-tools-init" "$dir"
accel=$("$TOP/scripts/accel.sh" x86_64)
serial=$LOGS/kexec-tools.serial
info "kexec-tools chain ($accel); serial log: $serial"
rc=0
timeout 300 qemu-system-x86_64 -accel "$accel" -m 1G -smp 2 -nographic -nodefaults \
	-serial "file:$serial" -no-reboot -kernel "$IMAGES/kmd-x86_64" -initrd "$dir/initrd.cpio" \
	-append "console=ttyS0 printk.time=1 kho=on panic=-1 kmdt.hop=0" || rc=$?
grep -a '^kmdt-' "$serial" || true
[ "$rc" -ne 124 ] || die "the guest timed out after 300 s; see $serial"
if grep -aq 'kmdt-check .* FAIL' "$serial"; then
	die "a hop failed its checks; see $serial"
fi
grep -aq '^kmdt-done 4' "$serial" || die "the chain did not reach the kdump kernel; see $serial"
say "kexec-tools chain: 2 KHO kexecs, a kexec_load and a kdump, all as documented"
