#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# chain.sh -m MODE -k KERNEL [options]: boot a kernel in QEMU and follow a
# chain of KHO kexecs, checking in every hop what the kernel reports about
# the previous one (scripts/chain-init.c has the checks): the exec-from
# line, read before the first initcall; /sys/kernel/kexec/previous/; the
# records handed on, in debugfs; the pages of the records it read, given
# back.  It prints KTAP: one test per hop, then the chain.
#
# It takes the kernel images as they are (build-kernel.sh builds them with
# configs/), and from the kernel tree (build/linux unless -K) only nolibc,
# the uapi headers, usr/gen_init_cpio.c, ktap_helpers.sh and the QEMU
# settings of KHO's selftest (tools/testing/selftests/kho/{x86,arm64}.conf).
#
# Damage in transit (after the writer sealed its records at kexec) is not
# tested here: no end-to-end path reaches the records between the writer's
# kexec and the reader without a hook in the kernel; KUnit covers the
# reader's checksum check.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

CROSS_COMPILE="${CROSS_COMPILE:-""}"

# Targets on which ours prints the exec-from line at 0.000000: arm64's
# sched clock starts after mm_core_init(), x86_64's TSC clock in setup_arch().
# Everywhere the line must come before the "Mount-cache hash table
# entries" line that start_kernel() prints before any initcall
# (EARLY_MARKER in chain-init.c).
ZERO_TS_TARGETS="aarch64"
# What the writer logs at kexec when it finds its records overwritten.
WRITER_DAMAGE="kexec-metadata: records overwritten while this kernel ran"

mode=chain
hops=5
target=$(uname -m)
kernel_dir=$TREE
kmd_kernel=""
stock_kernel=""
xabi_kernel=""
log_dir=$LOGS
accel=""
firmware=""
hop_timeout=60
header=""
plan_a=()
counts_a=()
qemu=()

usage() {
	cat <<EOF
$0 -k kernel [-m mode] [-n hops] [-t arch] [-s stock] [-x xabi] [-K tree]
   [-l log_dir] [-a accel] [-b firmware] [-T seconds] [-h]
Modes (-m):
	chain	our kernel only; the middle hop taints itself (TAINT_USER)
		before it kexecs (default)
	interop	alternate our kernel and a stock kernel (-s), both directions
	mixed	ours, ours, stock (-s), ours, ours, ...: every pair of kernels
	xabi	start from a kernel with another KHO root compatible (-x),
		whose handover (and record) the next kernel drops
	khooff	one hop booted with kho=off restarts the count
	corrupt	overwrite a byte of the outgoing kexec-metadata record (hop
		0), then of the kexec-metadata-ext record (hop 1), through
		/dev/mem while the kernel runs
Options:
	-k)	our kernel image (required)
	-n)	number of kexecs (default $hops)
	-t)	target architecture: x86_64 or aarch64 (needs CROSS_COMPILE)
	-s)	stock kernel image for interop and mixed
	-x)	kernel image with another KHO ABI for xabi
	-K)	kernel tree for nolibc, headers and gen_init_cpio (default $TREE)
	-l)	where to keep the serial log (default $LOGS)
	-a)	QEMU accelerator (default: kvm, hvf or tcg, the first that works)
	-b)	boot the first kernel through this UEFI firmware image (-bios)
	-T)	seconds allowed per hop (default $hop_timeout)
	-h)	display this help
EOF
}

skip_all() {
	[ -n "$header" ] || ktap_print_header
	ktap_skip_all "$1"
	exit "$KSFT_SKIP"
}

# The uapi headers for the init.  headers_install takes about a minute, so
# they are kept in build/chain-headers/, per architecture and per content
# of the uapi directories (their git tree IDs), unless those have
# uncommitted edits.  Concurrent runs each install, and the first to
# finish keeps its copy.
install_headers() {
	local uapi=(include/uapi "arch/$arch/include/uapi") key="" cache=$BUILD/chain-headers
	headers=$tmp_dir/usr
	if git -C "$kernel_dir" diff --quiet HEAD -- "${uapi[@]}" 2>/dev/null; then
		key=$(git -C "$kernel_dir" rev-parse "${uapi[@]/#/HEAD:}" | sha256sum | cut -c1-16)
		if [ -d "$cache/$arch-$key/include" ]; then
			headers=$cache/$arch-$key
			return
		fi
		# Installed next to the cache, so that mv renames it at once.
		mkdir -p "$cache"
		headers=$(mktemp -d "$cache/.tmp.XXXXXX")
	fi
	make ARCH="$arch" -C "$kernel_dir" O="$tmp_dir/hdr" headers_install \
		INSTALL_HDR_PATH="$headers" >"$tmp_dir/headers.log" 2>&1 || {
		[ -z "$key" ] || rm -rf "$headers"
		skip_all "cannot install kernel headers, see $tmp_dir/headers.log"
	}
	[ -n "$key" ] || return 0
	if mv -T "$headers" "$cache/$arch-$key" 2>/dev/null; then
		headers=$cache/$arch-$key
	else
		# Another run was first: use its copy.
		rm -rf "$headers"
		headers=$cache/$arch-$key
	fi
}

build_init() {
	local headers

	install_headers
	"${CROSS_COMPILE}gcc" -static -Os -nostdinc -nostdlib \
		-fno-asynchronous-unwind-tables -fno-ident -fno-stack-protector \
		-I "$headers/include" -I "$kernel_dir/tools/include/nolibc" \
		-o "$tmp_dir/init" "$TOP/scripts/chain-init.c" -lgcc ||
		ktap_exit_fail_msg "cannot build chain-init.c"
}

build_initrd() {
	local list="$tmp_dir/cpio_list" gen="$tmp_dir/gen_init_cpio" k var

	"${HOSTCC:-gcc}" -o "$gen" "$kernel_dir/usr/gen_init_cpio.c" ||
		ktap_exit_fail_msg "cannot build usr/gen_init_cpio"
	cat >"$list" <<EOF
dir /dev 0755 0 0
dir /proc 0755 0 0
dir /sys 0755 0 0
dir /debugfs 0755 0 0
nod /dev/console 0600 0 0 c 5 1
nod /dev/mem 0600 0 0 c 1 1
file /init $tmp_dir/init 0755 0 0
EOF
	for k in kmd stock xabi; do
		var="${k}_kernel"
		[ -z "${!var}" ] || echo "file /kernel-$k ${!var} 0644 0 0" >>"$list"
	done
	"$gen" "$list" >"$tmp_dir/initrd.cpio"
}

# The plan (one kernel per hop) and the count each hop must report.
make_plan() {
	local i kern count=0 mid=$((hops / 2))

	for ((i = 0; i <= hops; i++)); do
		case $mode in
		chain) kern=$([ "$i" -eq "$mid" ] && [ "$i" -lt "$hops" ] && echo kmd:taint || echo kmd) ;;
		interop) kern=$([ $((i % 2)) -eq 0 ] && echo kmd || echo stock) ;;
		mixed) kern=$([ $((i % 3)) -eq 2 ] && echo stock || echo kmd) ;;
		xabi) kern=$([ "$i" -eq 0 ] && echo xabi || echo kmd) ;;
		khooff) kern=$([ "$i" -eq "$((mid > 0 ? mid : 1))" ] && echo kmd:off || echo kmd) ;;
		corrupt) kern=$(case $i in 0) echo kmd:run ;; 1) echo kmd:runext ;; *) echo kmd ;; esac) ;;
		esac
		# The last hop does not kexec.
		[ "$i" -lt "$hops" ] || kern=${kern%%:run*}
		plan_a+=("$kern")
		counts_a+=("$count")
		case $kern in
		# kho=off or another KHO ABI: the next kernel gets no handover
		*:off | xabi) count=0 ;;
		*) count=$((count + 1)) ;;
		esac
	done
	plan=$(IFS=,; echo "${plan_a[*]}")
	counts=$(IFS=,; echo "${counts_a[*]}")
}

# The serial lines from hop I's kexec to the next hop's init: what the
# kernel of hop I printed on its way out, and the next kernel's boot.
kexec_segment() {
	tr -d '\r' <"$serial" |
		awk -v a="kmd-kexec $1 " -v b="kmd-hop $(($1 + 1)) " \
			'index($0, a) == 1 { on = 1 } index($0, b) == 1 { on = 0 } on'
}

# hop I passed: its init said ok and nothing failed, and the kernel warned
# at kexec about overwritten records exactly when the hop overwrote them.
hop_ok() {
	local i=$1 warned=0 seg
	grep -aq "^kmd-result $i ok" "$serial" || return 1
	! grep -aq "^kmd-check $i FAIL\|^kmd-result $i fail" "$serial" || return 1
	[ "$i" -lt "$hops" ] || return 0
	seg=$(kexec_segment "$i")
	! grep -qF "$WRITER_DAMAGE" <<<"$seg" || warned=1
	if [[ ${plan_a[i]} == *:run* ]]; then
		[ "$warned" -eq 1 ] || { echo "no '$WRITER_DAMAGE' at kexec"; return 1; }
		echo "the kernel warned at kexec: $WRITER_DAMAGE"
	elif [ "$warned" -eq 1 ]; then
		echo "unexpected at kexec: $WRITER_DAMAGE"
		return 1
	fi
}

main() {
	local opt
	while getopts 'hm:n:t:k:s:x:K:l:a:b:T:' opt; do
		case $opt in
		m) mode=$OPTARG ;;
		n) hops=$OPTARG ;;
		t) target=$OPTARG ;;
		k) kmd_kernel=$OPTARG ;;
		s) stock_kernel=$OPTARG ;;
		x) xabi_kernel=$OPTARG ;;
		K) kernel_dir=$OPTARG ;;
		l) log_dir=$OPTARG ;;
		a) accel=$OPTARG ;;
		b) firmware=$OPTARG ;;
		T) hop_timeout=$OPTARG ;;
		h) usage; exit 0 ;;
		*) usage; exit 1 ;;
		esac
	done

	[ -f "$kernel_dir/tools/testing/selftests/kselftest/ktap_helpers.sh" ] ||
		die "no kernel tree at $kernel_dir (-K); run make tree"
	# shellcheck source=/dev/null
	. "$kernel_dir/tools/testing/selftests/kselftest/ktap_helpers.sh"
	[ -n "$kmd_kernel" ] || { usage; exit 1; }
	[[ "$hops" =~ ^[1-9][0-9]*$ ]] || { usage; exit 1; }
	case $target in
	x86_64) arch=x86 ;;
	aarch64) arch=arm64 ;;
	*) skip_all "architecture $target is not supported" ;;
	esac
	# QEMU_CMD, KERNEL_CMDLINE: KHO's selftest settings for the architecture.
	# shellcheck source=/dev/null
	. "$kernel_dir/tools/testing/selftests/kho/$arch.conf"
	case $mode in
	chain | khooff | corrupt) ;;
	interop | mixed) [ -n "$stock_kernel" ] || skip_all "$mode needs a stock kernel (-s)" ;;
	xabi) [ -n "$xabi_kernel" ] || skip_all "xabi needs a kernel with another KHO ABI (-x)" ;;
	*) usage; exit 1 ;;
	esac
	if [[ "$target" != "$(uname -m)" ]] && [[ -z "$CROSS_COMPILE" ]]; then
		skip_all "cross-platform testing needs CROSS_COMPILE"
	fi
	read -r -a qemu <<<"$QEMU_CMD"
	command -v "${qemu[0]}" >/dev/null || skip_all "${qemu[0]} is not installed"
	command -v "${CROSS_COMPILE}gcc" >/dev/null ||
		skip_all "${CROSS_COMPILE}gcc is not installed"

	tmp_dir=$(mktemp -d /tmp/kho-kmd.XXXXXXXX)
	trap 'rm -rf "$tmp_dir"' EXIT
	mkdir -p "$log_dir"

	make_plan
	local first=${plan%%,*}
	serial="$log_dir/chain-$mode-$target${firmware:+-uefi}.serial"
	local first_kernel="${first%%:*}_kernel" limit=$(((hops + 1) * hop_timeout))
	local cmdline="$KERNEL_CMDLINE printk.time=1 panic=-1 kho=on"
	local qemu_args=(-accel kvm -accel hvf -accel tcg)
	cmdline="$cmdline kmd.hop=0 kmd.plan=$plan kmd.count=$counts"
	[[ " $ZERO_TS_TARGETS " != *" $target "* ]] || cmdline="$cmdline kmd.zero=1"
	[ -z "$accel" ] || qemu_args=(-accel "$accel")
	[ -z "$firmware" ] || qemu_args+=(-bios "$firmware")

	ktap_print_header
	header=1
	ktap_set_plan $((hops + 2))
	ktap_print_msg "mode $mode, $hops kexecs, plan $plan"
	build_init
	build_initrd
	ktap_print_msg "serial log: $serial"

	local rc=0
	timeout "$limit" "${qemu[@]}" "${qemu_args[@]}" -m 1G -smp 2 -no-reboot \
		-nographic -nodefaults -serial file:"$serial" \
		-kernel "${!first_kernel}" -initrd "$tmp_dir/initrd.cpio" \
		-append "$cmdline" || rc=$?

	local i why
	for ((i = 0; i <= hops; i++)); do
		if why=$(hop_ok "$i"); then
			[ -z "$why" ] || ktap_print_msg "hop $i: $why"
			ktap_test_pass "hop $i: ${plan_a[i]}, count ${counts_a[i]}"
		else
			[ -z "$why" ] || ktap_print_msg "hop $i: $why"
			grep -a "^kmd-check $i FAIL\|^kmd-result $i fail" "$serial" |
				sed 's/^/# /' || true
			ktap_test_fail "hop $i: ${plan_a[i]}, count ${counts_a[i]}"
		fi
	done
	if [ "$rc" -eq 124 ]; then
		ktap_test_fail "chain: guest timed out after ${limit}s, see $serial"
	elif grep -aq "^kmd-chain-done $hops" "$serial"; then
		ktap_test_pass "chain of $hops kexecs ($mode)"
	else
		ktap_test_fail "chain of $hops kexecs ($mode), see $serial"
	fi
	ktap_finished
}

main "$@"
