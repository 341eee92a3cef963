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
trees_lock
shopt -s extglob

HOPS=${HOPS:-5}
start=$SECONDS
"$TOP/scripts/deps.sh" check || die "install the packages above (or run make deps as root), then make demo again"
# make demo built the tree and the kernels first (Makefile).
if ! [ -f "$IMAGES/kmd-x86_64" ] || ! [ -f "$IMAGES/stock-x86_64" ]; then
	die "no kernels; run make demo, not this script"
fi
accel=$("$TOP/scripts/accel.sh" x86_64)

info "booting $(cat "$KMD_SRC/.kbuild-x86_64/include/config/kernel.release") in QEMU ($accel) and kexec'ing $HOPS times, ours and stock $BASE_SERIES mixed (about $((HOPS * 3 + 5)) s under TCG)"
out=$LOGS/demo.ktap
# A failed or hung chain still gets its hops shown, then the log named.
rc=0
"$TOP/scripts/chain.sh" -m mixed -n "$HOPS" -a "$accel" \
	-k "$IMAGES/kmd-x86_64" -s "$IMAGES/stock-x86_64" -l "$LOGS" >"$out" 2>&1 || rc=$?
serial=$LOGS/chain-mixed-x86_64.serial
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
	"["*"] KHO: exec from"* | "["*"] KHO: previous kernel"* | "["*"]"*kexec-metadata*)
		klines[$k]+="  kernel:    $l"$'\n'
		if [[ $l == *"KHO: exec from:"* ]]; then
			t=${l#[}
			t=${t%%]*}
			when[$k]=${t// /}
			knew[$k]=${l#*exec from: }
		fi ;;
	"kmd-check "*" ok: "@(count|reason|release|taint|build_id|boot_id)" "*)
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
	# What ours learned beyond the line: the reason in sysfs, and from
	# ours the taint, build ID and boot ID of the kexec-metadata-ext record.
	extra=""
	case ${kernel[$i]:-} in
	*"(kmd)"*)
		extra="; reason $(grep -o 'reason [a-z-]*' <<<"${ulines[$i]:-}" | cut -d' ' -f2 || echo "?")"
		if grep -q 'build_id ' <<<"${ulines[$i]:-}"; then
			extra+=", with taint, build ID and boot ID"
		else
			extra+=", release and count only"
		fi ;;
	esac
	printf '  %-4s %-22s %-10s %s%s\n' "$i" "${kernel[$i]:-?}" "${when[$i]:-none}" \
		"${knew[$i]:-nothing}" "$extra"
done

say ""
say "summary:"
grep -E '^(ok|not ok) ' "$out" | sed 's/^/  /'
say "  serial log: $serial"
say "  KTAP:       $out"

# The operator's view on a distribution: one kexec of ours in the Debian
# guest (scripts/distro.sh), through kexec -s -l and systemctl kexec, then
# the previous boot's journal found through the boot ID in sysfs.
say ""
info "one more kexec, under systemd: a Debian trixie guest boots ours and kexecs ours with systemctl kexec (about 60 s; the first time also builds the guest, about 2 min)"
drc=0
DISTRO_PLAN="kmd kmd" DISTRO_TAINT_HOP=-1 "$TOP/scripts/distro.sh" demo-distro >"$LOGS/demo-distro.log" 2>&1 || drc=$?
hop1=$LOGS/demo-distro/kmd-distro/hop1
say "systemd hop: Debian trixie, systemd $(sed -n 's/.*, systemd \([0-9]*\)$/\1/p' "$hop1/result" 2>/dev/null | head -n 1), ours -> ours with kexec -s -l --reuse-cmdline and systemctl kexec"
say "  # journalctl --list-boots"
sed 's/^/  /' "$hop1/list-boots.txt" 2>/dev/null || say "  (none: the hop did not run)"
# The boot ID from sysfs, as the hop script read it (its one place for
# the sysfs path), and the journal of that boot.
bid=$(sed -n 's/^kmd-distro: 1 sysfs boot_id \([^;]*\);.*/\1/p' "$hop1/result" 2>/dev/null)
say "  # boot_id in sysfs: ${bid:-(none)}"
say "  # journalctl -b ${bid//-/} | head -n 4   (systemd 257 wants it without dashes)"
{ head -n 4 "$hop1/previous-boot.txt" 2>/dev/null || say "(none: the hop did not run)"; } | sed 's/^/  /'
{ grep -h '^kmd-distro-check .* FAIL' "$hop1/result" 2>/dev/null || true; } | sed 's/^/  FAILED: /'
say "  serial log: $LOGS/demo-distro.serial"
say "  wall time:  $((SECONDS - start))s"
[ "$rc" -eq 0 ] || die "the chain failed; see $serial"
[ "$drc" -eq 0 ] || die "the systemd hop failed; see $LOGS/demo-distro.log"
