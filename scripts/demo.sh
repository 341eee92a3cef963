#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: build what is missing, boot our kernel in QEMU and kexec through
# a chain of KHO kexecs that passes through the stock 7.3 kernel, then show
# per hop the "KHO: exec from" line and what userspace sees.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
shopt -s extglob

HOPS=${HOPS:-4}
start=$SECONDS
"$TOP/scripts/deps.sh" check || die "install the packages above (or run make deps as root), then make demo again"
"$TOP/scripts/tree.sh"
"$TOP/scripts/build-kernel.sh" kmd x86_64
"$TOP/scripts/build-kernel.sh" stock x86_64
accel=$("$TOP/scripts/accel.sh" x86_64)

info "booting $(cat "$BUILD/kbuild/linux-x86_64/include/config/kernel.release") in QEMU ($accel) and kexec'ing $HOPS times, through stock $BASE_SERIES (about $((HOPS * 3 + 5)) s under TCG)"
out=$LOGS/demo.ktap
# A failed or hung chain still gets its hops shown, then the log named.
rc=0
"$TREE/tools/testing/selftests/kho/kexec_metadata.sh" -m interop -n "$HOPS" -a "$accel" \
	-k "$IMAGES/kmd-x86_64" -s "$IMAGES/stock-x86_64" -l "$LOGS" >"$out" 2>&1 || rc=$?
serial=$LOGS/kexec_metadata-interop-x86_64.serial
cp "$serial" "$LOGS/demo.serial"

# Kernel lines come before the init of their hop reports: collect them and
# print them under that hop.
klines=()
hop=-1
while IFS= read -r l; do
	case $l in
	"kmd-hop "*)
		hop=$(awk '{ print $2 }' <<<"$l")
		printf '\nhop %s: %s\n' "$hop" "$(awk '{ print $6 " (" $4 ")" }' <<<"$l")"
		if [ "$hop" -eq 0 ]; then
			say "  kernel:    (cold boot: no exec-from line)"
		else
			[ ${#klines[@]} -eq 0 ] || printf '%s\n' "${klines[@]}"
		fi
		klines=()
		;;
	"["*"] KHO: exec from"* | "["*"] KHO: previous kernel"* | "["*"] KHO: kexec chain"* | \
	"["*"]"*kexec-metadata*) klines+=("  kernel:    $l") ;;
	"kmd-check "*" ok: "@(count|present|valid|format|release|damaged|boot_id|taint|build_id|uptime_ns|history)*) say "  userspace: ${l#*ok: }" ;;
	"kmd-check "*" ok: outgoing"*) say "  handover:  ${l#*ok: }" ;;
	"kmd-check "*FAIL*) say "  FAILED:    ${l#*FAIL: }" ;;
	esac
done < <(tr -d '\r' <"$serial")

say ""
say "summary:"
grep -E '^(ok|not ok) ' "$out" | sed 's/^/  /'
say "  serial log: $serial"
say "  KTAP:       $out"
say "  wall time:  $((SECONDS - start))s"
[ "$rc" -eq 0 ] || die "the chain failed; see $serial"
