#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# accel.sh ARCH: print the QEMU accelerator to use for ARCH guests, kvm or
# tcg.  KVM is used only if a probe guest really boots within seconds; on
# some machines /dev/kvm exists but hangs every guest.  The answer is cached
# in build/accel-ARCH for this machine.  KMD_ACCEL=kvm|tcg overrides it.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

arch=${1:?usage: accel.sh x86_64|arm64}
if [ -n "${KMD_ACCEL:-}" ]; then
	echo "$KMD_ACCEL"
	exit 0
fi
cache=$BUILD/accel-$arch
if [ -f "$cache" ] && [ "$(cat "$cache")" != "" ]; then
	cat "$cache"
	exit 0
fi
target=$([ "$arch" = arm64 ] && echo aarch64 || echo x86_64)
if [ "$target" != "$(uname -m)" ]; then
	# KVM never runs a guest of another architecture.
	echo tcg | tee "$cache"
	exit 0
fi
kernel=$IMAGES/kmd-$arch
[ -f "$kernel" ] || kernel=$IMAGES/stock-$arch
[ -f "$kernel" ] || die "no kernel to probe the accelerator with; run make kernels first"
# Boot the kernel without an initramfs: with a working KVM it reaches the
# root-mount panic within seconds, a broken one hangs.
accel=tcg
if [ -w /dev/kvm ]; then
	info "probing whether KVM runs guests here (at most 15 s)"
	if timeout 15 qemu-system-x86_64 -accel kvm -m 256M -nographic -nodefaults \
		-no-reboot -serial stdio -kernel "$kernel" -append "console=ttyS0 panic=-1" \
		2>/dev/null | grep -q "Kernel panic"; then
		accel=kvm
	fi
fi
[ "$accel" = kvm ] || info "KVM is unusable or absent here: guests run under TCG (slower, same results)"
echo "$accel" | tee "$cache"
