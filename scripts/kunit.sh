#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kunit.sh [ARCH]: run the kexec-metadata KUnit suite with the kernel's own
# kunit.py, in the shared tree of ours ($KMD_SRC, see lib.sh), with a
# persistent build directory there.  ARCH is
# x86_64 (the default) or arm64: kexec-metadata needs KHO, which UML lacks.
#
# kunit.py asks QEMU for KVM first.  Where KVM does not work (see accel.sh),
# /dev/kvm is hidden from it in a private mount namespace so that QEMU falls
# back to TCG instead of hanging.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

arch=${1:-x86_64}
args=(run --arch="$arch" --kunitconfig=kernel/liveupdate
      --build_dir=".kunit-$arch" --jobs="$(nproc_jobs)" --timeout=600)
[ "$arch" = arm64 ] && args+=(--cross_compile=aarch64-linux-gnu-)
command -v ccache >/dev/null 2>&1 && [ "$arch" != arm64 ] &&
	args+=(--make_options="CC=$(ccache_bin)/gcc")
ccache_env

trees_lock
sync_kmd_src
cd "$KMD_SRC"
kunit=(python3 tools/testing/kunit/kunit.py "${args[@]}")
accel=tcg
[ "$arch" = x86_64 ] && accel=$("$TOP/scripts/accel.sh" x86_64)
# UML runs no QEMU; a working KVM, or none at all, needs no hiding either.
if [ "$arch" = um ] || [ "$accel" = kvm ]; then
	exec "${kunit[@]}"
fi
hide_kvm "${kunit[@]}"
