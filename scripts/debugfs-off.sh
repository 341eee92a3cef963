#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# debugfs-off.sh [FLAVOR]: a KHO kexec into a kernel booted with
# debugfs=off, and on from it, in a busybox guest on x86_64 (see dfo_job in
# guest-init).  Stock 7.3's kho_init() fails there, since KHO's debugfs
# files cannot be created, and takes its error path on a KHO boot; the
# series keeps KHO enabled without the files.  FLAVOR is kmd (the default:
# the series, which must pass) or stock (Linux 7.3, to see what the fixes
# fix).

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

flavor=${1:-kmd}
need_cmd qemu-system-x86_64 qemu-system-x86
dir=$BUILD/debugfs-off-$flavor
busybox_guest "$TOP/scripts/guest-init" "$dir" x86_64 "$flavor"
accel=$("$TOP/scripts/accel.sh" x86_64)
serial=$LOGS/debugfs-off-$flavor.serial
info "KHO kexec into debugfs=off ($flavor, $accel); serial log: $serial"
busybox_run 300 "$serial" kmdd "$dir" "$IMAGES/$flavor-x86_64" \
	"console=ttyS0 printk.time=1 kho=on panic=-1 kmdd.hop=0" qemu-system-x86_64 -accel "$accel"
grep -aq 'kmdd-check .* FAIL' "$serial" && die "the debugfs=off boot failed its checks; see $serial"
grep -aq '^kmdd-done 2' "$serial" ||
	die "the chain through the debugfs=off boot did not finish (a crash?); see $serial"
say "KHO kexec through debugfs=off ($flavor): KHO stays enabled, count 1 then 2"
