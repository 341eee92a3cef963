#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# peers.sh kho|kho-chain|luo|luo-multi: the peers' own tests, unmodified, on
# the patched tree (build/linux as it is), x86_64:
#   kho        tools/testing/selftests/kho/vmtest.sh ("KHO restore succeeded")
#   kho-chain  the same with -n 4: the series' upstream selftest, a chain of
#              4 kexecs that checks kexec-metadata in every kernel
#   luo        tools/testing/selftests/liveupdate/vmtest.sh -T luo_kexec_simple
#   luo-multi  the same with -T luo_multi_session
# They build their own kernel, in $KMD_SRC/.peers-x86_64.  One configuration
# serves all three, given to their vmtest.sh through KCONFIG_CONFIG: the
# x86_64 test kernel's (build-kernel.sh kmd, allnoconfig plus the
# selftest's fragment) plus both of their fragments (kho's from its
# vmtest.sh, LUO's config files), through olddefconfig.  Their own
# configurations are olddefconfig over their fragment alone: the two
# differ in SMP, and neither shares an object with the test kernel, so
# each took a cold build of 5 to 8 minutes.  This one differs from the
# test kernel's in a few LIVEUPDATE options, so the first build starts
# from a copy of the test kernel's objects (same tree, same compiler
# command) and kbuild rebuilds only what those options touch.  Each
# vmtest.sh checks its options against the .config it wrote, which kbuild
# then does not read, so this script checks them against peers.config.
# /dev/kvm is hidden when it does not work (kho's vmtest tries KVM
# first).  The LUO workspace, with its serial
# log, is kept in build/logs/peers-TEST/; kho's vmtest always deletes its
# own (it has no option to keep it), so only its output is kept: build
# and KTAP, in the stage log and in build/logs/peers-kho.ktap.  It reports
# a failed build as a skip and exits 0, so only its "ok 1" counts here.
# The LUO runs also check that the kexec'ed kernel, which restored the live
# session, printed the exec-from line of our series with count 1.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

what=${1:?usage: peers.sh kho|kho-chain|luo|luo-multi}
need_cmd qemu-system-x86_64 qemu-system-x86
accel=$("$TOP/scripts/accel.sh" x86_64)
ccache_path
trees_lock
obj=$KMD_SRC/.peers-x86_64
st=$KMD_SRC/tools/testing/selftests
limit=1800
export KCONFIG_CONFIG=$obj/peers.config

# The configuration, in $obj/peers.config; redone when the test kernel's
# configuration or a fragment changes.
peers_config() {
	local frag=$obj/peers.fragment kmd=$KMD_SRC/.kbuild-x86_64 opt from to
	[ -f "$kmd/.config" ] ||
		die "no x86_64 test kernel in $kmd: build it first (scripts/build-kernel.sh kmd x86_64)"
	if ! [ -f "$obj/vmlinux" ] && [ -f "$kmd/vmlinux" ]; then
		info "starting the peers' kernel from a copy of the test kernel's objects"
		rm -rf "$obj" "$obj.tmp" && cp -a "$kmd" "$obj.tmp" && rm -f "$obj.tmp/.config"
		# tools/build records objtool's objects by absolute, physical
		# path (.cmd and .d files).  Unless the copy's records name the
		# copy, objtool is built again, and after a new objtool kbuild
		# compiles every object again.
		from=$(cd -P "$kmd" && pwd)/ to=$(cd -P "$obj.tmp" && pwd)
		to=${to%.tmp}/
		# shellcheck disable=SC2016 # perl expands them
		{ grep -rlIZ -F "$from" "$obj.tmp/tools" || [ $? -eq 1 ]; } |
			from=$from to=$to xargs -0 -r perl -pi -e 's/\Q$ENV{from}\E/$ENV{to}/g'
		mv "$obj.tmp" "$obj"
	fi
	mkdir -p "$obj"
	{
		sed -n '/^CONFIG_/p' "$st/kho/vmtest.sh"
		# shellcheck source=/dev/null
		(. "$st/kho/x86.conf" && echo "$QEMU_KCONFIG") | grep '^CONFIG_'
		cat "$st/liveupdate/config.x86_64" "$st/liveupdate/config"
	} | sort -u >"$frag"
	grep -qx 'CONFIG_TEST_KEXEC_HANDOVER=y' "$frag" ||
		die "no CONFIG_TEST_KEXEC_HANDOVER=y in $st/kho/vmtest.sh: update peers_config() in $0"
	if ! [ -f "$KCONFIG_CONFIG" ] ||
	   ! cat "$kmd/.config" "$frag" | cmp -s - "$obj/peers.inputs"; then
		# The test kernel's lines for the fragments' options give way.
		sed 's/^\(CONFIG_[A-Za-z0-9_]*\)=.*/\1[= ]/' "$frag" >"$obj/peers.drop"
		{ grep -v -f "$obj/peers.drop" "$kmd/.config"; cat "$frag"; } >"$KCONFIG_CONFIG"
		make -s -C "$KMD_SRC" O="$obj" ARCH=x86 olddefconfig ||
			die "olddefconfig over $KCONFIG_CONFIG failed"
		cat "$kmd/.config" "$frag" >"$obj/peers.inputs"
	fi
	while read -r opt; do
		grep -qxF "$opt" "$KCONFIG_CONFIG" ||
			die "$opt, which a peer test needs, did not survive olddefconfig (see $KCONFIG_CONFIG)"
	done <"$frag"
}

run() {
	if [ "$accel" = kvm ]; then
		timeout -k 10 "$limit" "$@"
	else
		(hide_kvm timeout -k 10 "$limit" "$@")
	fi
}

peers_config
case $what in
kho)
	# vmtest.sh reports a failed build or boot preparation as a skip, and
	# then exits 0: only its pass counts.
	run "$st/kho/vmtest.sh" -d "$obj" -j "$(nproc_jobs)" -t x86_64 | tee "$LOGS/peers-kho.ktap"
	if ! grep -q '^ok 1 ' "$LOGS/peers-kho.ktap" || grep -q '^ok 1 .*# SKIP' "$LOGS/peers-kho.ktap"; then
		die "KHO's vmtest.sh did not pass (see its output above)"
	fi ;;
kho-chain)
	# The same: a build failure is a skip with exit 0, so only a real pass
	# of its one test, and no other result, counts.
	ktap=$LOGS/peers-kho-chain.ktap
	run "$st/kho/vmtest.sh" -d "$obj" -j "$(nproc_jobs)" -t x86_64 -n 4 | tee "$ktap"
	if ! grep -q '^ok 1 ' "$ktap" || grep -q '# SKIP' "$ktap" ||
	   grep -q '^not ok ' "$ktap" || [ "$(grep -c '^ok ' "$ktap")" -ne 1 ]; then
		die "KHO's vmtest.sh -n 4 did not pass (see its output above)"
	fi ;;
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
*) die "usage: peers.sh kho|kho-chain|luo|luo-multi" ;;
esac
