#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make shell: an interactive x86_64 guest running our kernel, with a shell
# from Debian's busybox-static and kexec-tools with its libraries, so that a
# person can kexec by hand and read /sys and dmesg.  Leave with Ctrl-a x.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

need_cmd busybox busybox-static
need_cmd kexec kexec-tools
need_cmd qemu-system-x86_64 qemu-system-x86
file -L "$(command -v busybox)" | grep -q 'statically linked' ||
	die "a static busybox is needed: apt-get install busybox-static"
"$TOP/scripts/tree.sh"
"$TOP/scripts/build-kernel.sh" kmd x86_64
"$TOP/scripts/build-kernel.sh" stock x86_64
accel=$("$TOP/scripts/accel.sh" x86_64)

dir=$BUILD/shell
rm -rf "$dir" && mkdir -p "$dir" "$LOGS"
list=$dir/cpio_list
{
	for d in /bin /sbin /proc /sys /dev /tmp /lib /lib64 /lib/x86_64-linux-gnu; do
		echo "dir $d 0755 0 0"
	done
	echo "nod /dev/console 0600 0 0 c 5 1"
	echo "file /bin/busybox $(command -v busybox) 0755 0 0"
	echo "file /sbin/kexec $(command -v kexec) 0755 0 0"
	ldd "$(command -v kexec)" | awk '/=>/ { print $3 } /^\t\/lib/ { print $1 }' |
		while read -r lib; do
			echo "file $lib $(readlink -f "$lib") 0755 0 0"
		done
	echo "file /kernel $IMAGES/kmd-x86_64 0644 0 0"
	echo "file /kernel-stock $IMAGES/stock-x86_64 0644 0 0"
	echo "file /init $TOP/scripts/shell-init 0755 0 0"
} >"$list"

"$BUILD/kbuild/linux-x86_64/usr/gen_init_cpio" "$list" >"$dir/initrd.cpio"
info "starting QEMU ($accel); serial log: $LOGS/shell.serial; leave with Ctrl-a x"
qemu-system-x86_64 -accel "$accel" -m 1G -smp 2 -nographic -nodefaults \
	-serial mon:stdio -no-reboot -kernel "$IMAGES/kmd-x86_64" -initrd "$dir/initrd.cpio" \
	-append "console=ttyS0 printk.time=1 kho=on panic=-1" | tee "$LOGS/shell.serial"
