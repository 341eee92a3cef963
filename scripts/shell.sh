#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make shell: an interactive x86_64 guest running our kernel, with a shell
# from Debian's busybox-static and kexec-tools with its libraries, so that a
# person can kexec by hand and read /sys and dmesg.  Leave with Ctrl-a x.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

need_cmd qemu-system-x86_64 qemu-system-x86
dir=$BUILD/shell
busybox_guest "$TOP/scripts/guest-init" "$dir" x86_64 kmd stock
accel=$("$TOP/scripts/accel.sh" x86_64)
info "starting QEMU ($accel); serial log: $LOGS/shell.serial; leave with Ctrl-a x"
qemu-system-x86_64 -accel "$accel" -m 1G -smp 2 -nographic -nodefaults \
	-serial mon:stdio -no-reboot -kernel "$IMAGES/kmd-x86_64" -initrd "$dir/initrd.cpio" \
	-append "console=ttyS0 printk.time=1 kho=on panic=-1" | tee "$LOGS/shell.serial"
