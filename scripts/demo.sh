#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: build what is missing, boot our kernel in QEMU and kexec through
# a chain that goes ours -> ours -> stock 7.3 -> ours -> ours -> stock, so
# that every capability of the record shows at least once, then show per hop
# the kernel lines it printed and what userspace saw, and compare the two
# kernels side by side.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
shopt -s extglob

HOPS=${HOPS:-5}
start=$SECONDS
"$TOP/scripts/deps.sh" check || die "install the packages above (or run make deps as root), then make demo again"
# make demo built the tree and the kernels first (Makefile).
if ! [ -f "$IMAGES/kmd-x86_64" ] || ! [ -f "$IMAGES/stock-x86_64" ]; then
	die "no kernels; run make demo, not this script"
fi
accel=$("$TOP/scripts/accel.sh" x86_64)

info "booting $(cat "$TREE/.kbuild-x86_64/include/config/kernel.release") in QEMU ($accel) and kexec'ing $HOPS times, ours and stock $BASE_SERIES mixed (about $((HOPS * 3 + 5)) s under TCG)"
out=$LOGS/demo.ktap
# A failed or hung chain still gets its hops shown, then the log named.
rc=0
"$TREE/tools/testing/selftests/kho/kexec_metadata.sh" -m mixed -n "$HOPS" -a "$accel" \
	-k "$IMAGES/kmd-x86_64" -s "$IMAGES/stock-x86_64" -l "$LOGS" >"$out" 2>&1 || rc=$?
serial=$LOGS/kexec_metadata-mixed-x86_64.serial
cp "$serial" "$LOGS/demo.serial"

# A kernel's lines run from its first line at 0.000000 to the next kernel's:
# lines a kernel prints at kexec stay with it.
declare -A klines ulines kernel when knew
k=0 pending=""
while IFS= read -r l; do
	case $l in
	"["*"] "*) if [ -n "$pending" ] && [[ $l == "[    0.000000]"* ]]; then
			k=$((k + 1)) pending=""
		fi ;;
	esac
	case $l in
	"kmd-hop "*)
		kernel[$k]=$(awk '{ print $6 " (" $4 ")" }' <<<"$l") ;;
	"kmd-kexec "*) pending=1 ;;
	"["*"] KHO: exec from"* | "["*"]"*kexec-metadata*)
		klines[$k]+="  kernel:    $l"$'\n'
		if [[ $l == *"KHO: exec from:"* ]]; then
			t=${l#[}
			t=${t%%]*}
			when[$k]=${t// /}
			knew[$k]=${l#*exec from: }
		fi ;;
	"kmd-check "*" ok: "@(count|present|valid|format|release|damaged|boot_id|taint|build_id|uptime_ns|history)" "*)
		ulines[$k]+="  userspace: ${l#*ok: }"$'\n' ;;
	"kmd-check "*" ok: outgoing"*) ulines[$k]+="  handover:  ${l#*ok: }"$'\n' ;;
	"kmd-check "*FAIL*) ulines[$k]+="  FAILED:    ${l#*FAIL: }"$'\n' ;;
	esac
done < <(tr -d '\r' <"$serial")

for ((i = 0; i <= k; i++)); do
	printf '\nhop %s: %s\n' "$i" "${kernel[$i]:-?}"
	[ "$i" -gt 0 ] || say "  kernel:    (cold boot: no exec-from line)"
	printf '%s%s' "${klines[$i]:-}" "${ulines[$i]:-}"
done

say ""
say "side by side: when each kernel printed its exec-from line, and what it knew"
printf '  %-4s %-22s %-10s %s\n' hop kernel line "predecessor"
for ((i = 1; i <= k; i++)); do
	# What ours learned beyond the line: the record's format, and with a
	# sealed record the boot ID, taint, build ID, uptime and history.
	extra=""
	case ${kernel[$i]:-} in
	*"(kmd)"*) extra="; $(grep -o 'format [a-z0-9]*' <<<"${ulines[$i]:-}" || echo "no record") in sysfs" ;;
	esac
	printf '  %-4s %-22s %-10s %s%s\n' "$i" "${kernel[$i]:-?}" "${when[$i]:-none}" \
		"${knew[$i]:-nothing}" "$extra"
done

say ""
say "summary:"
grep -E '^(ok|not ok) ' "$out" | sed 's/^/  /'
say "  serial log: $serial"
say "  KTAP:       $out"
say "  wall time:  $((SECONDS - start))s"
[ "$rc" -eq 0 ] || die "the chain failed; see $serial"
