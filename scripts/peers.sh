#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# peers.sh kho|luo|luo-multi: the peers' own tests, unmodified, on the
# patched tree (build/linux as it is), x86_64:
#   kho        tools/testing/selftests/kho/vmtest.sh ("KHO restore succeeded")
#   luo        tools/testing/selftests/liveupdate/vmtest.sh -T luo_kexec_simple
#   luo-multi  the same with -T luo_multi_session
# They build their own kernel (olddefconfig plus their fragment); all three
# share TREE/.peers-x86_64 and the ccache, so a switch of fragment rebuilds
# only what the changed options touch.  /dev/kvm is hidden when it does not
# work (kho's vmtest tries KVM first).  The LUO workspace, with its serial
# log, is kept in build/logs/peers-TEST/; kho's vmtest always deletes its
# own (it has no option to keep it), so its stage log holds only its KTAP.
# The LUO runs also check that the kexec'ed kernel, which restored the live
# session, printed the exec-from line of our series with count 1.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

what=${1:?usage: peers.sh kho|luo|luo-multi}
need_cmd qemu-system-x86_64 qemu-system-x86
accel=$("$TOP/scripts/accel.sh" x86_64)
ccache_path
obj=$TREE/.peers-x86_64
st=$TREE/tools/testing/selftests
limit=1800

run() {
	if [ "$accel" = kvm ]; then
		timeout -k 10 "$limit" "$@"
	else
		(hide_kvm timeout -k 10 "$limit" "$@")
	fi
}

case $what in
kho)
	run "$st/kho/vmtest.sh" -d "$obj" -j "$(nproc_jobs)" -t x86_64 ;;
luo | luo-multi)
	test=luo_kexec_simple
	[ "$what" = luo-multi ] && test=luo_multi_session
	ws=$LOGS/peers-$test
	rm -rf "$ws"
	run "$st/liveupdate/vmtest.sh" -d "$obj" -j "$(nproc_jobs)" -t x86_64 -T "$test" -w "$ws" -k
	serial=$ws/qemu.serial
	grep -q 'TEST PASSED' "$serial" || die "$test: no TEST PASSED in $serial"
	# The kernel that restored the session is the second one to boot.
	line=$(grep -a 'KHO: exec from: ' "$serial" || true)
	[ -n "$line" ] || die "$test: the kexec'ed kernel did not print the exec-from line ($serial)"
	grep -q "exec from: $(cat "$obj/include/config/kernel.release") (count 1)" <<<"$line" ||
		die "$test: unexpected exec-from line: $line"
	say "$test: live session restored, and in the same boot: ${line#*] }" ;;
*) die "usage: peers.sh kho|luo|luo-multi" ;;
esac
