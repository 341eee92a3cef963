#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kunit.sh: run the kexec-metadata KUnit suite with the kernel's own
# kunit.py, in our x86_64 test kernel.  build-kernel.sh builds the suite
# into it (configs/kunit.config, from the patch that adds the suite on),
# off unless kunit.enable=1 is on the command line, which "kunit.py exec"
# passes; every other boot of that kernel runs no test.  The suite needs
# KHO, which UML lacks; a kernel of kunit.py's own would be one more full
# build of about 1,500 objects (about 9.5 minutes cold on two cores) for
# the 23 cases of one file.  The upstream way, "kunit.py run
# --kunitconfig=kernel/liveupdate --arch=x86_64", works as well.
#
# kunit.py asks QEMU for KVM first.  Where KVM does not work (see accel.sh),
# /dev/kvm is hidden from it in a private mount namespace so that QEMU falls
# back to TCG instead of hanging.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

trees_lock
# Up to date with build/linux first (make check has just built it).
"$TOP/scripts/build-kernel.sh" kmd x86_64 || die "cannot build our x86_64 test kernel"
grep -qx 'CONFIG_KEXEC_METADATA_KUNIT_TEST=y' "$KMD_SRC/.kbuild-x86_64/.config" ||
	die "the test kernel has no KUnit suite (the series has no patch that adds it?)"
cd "$KMD_SRC" || die "cannot enter $KMD_SRC"
kunit=(python3 tools/testing/kunit/kunit.py exec --arch=x86_64
       --build_dir=.kbuild-x86_64 --timeout=600 'kexec_metadata')
if [ "$("$TOP/scripts/accel.sh" x86_64)" = kvm ]; then
	exec "${kunit[@]}"
fi
hide_kvm "${kunit[@]}"
