#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# distro-hop.sh: runs in the Debian guest of scripts/distro.sh, as
# /run/kmd/hop on its second disk, started by kmd-hop.service on every boot
# (scripts/distro-rootfs.sh).  It checks this boot with journalctl and sysfs
# only, the way an operator would, then does what an operator does to kexec:
#   kexec -s -l <kernel> --reuse-cmdline --append=kmd.hop=<N+1>
#   systemctl kexec
# After the last hop of the plan it reboots, which ends QEMU (-no-reboot).
#
# The hop number is the last kmd.hop= of /proc/cmdline: --reuse-cmdline
# copies the whole command line (kexec-tools drops only BOOT_IMAGE=), so
# every hop adds one more marker, and the last one is this boot's.
#
# Output: "kmd-distro: N ..." facts and "kmd-distro-check N NAME PASS|FAIL
# detail" lines, on the console and in the journal, and the same in
# /var/lib/kmd-distro/hopN/ with what journalctl said, which the stage
# reads from the image afterwards.
#
# The plan (/run/kmd/plan, written by scripts/distro.sh) sets PLAN (the
# kernel of each hop: kmd or stock, files next to this script), RELEASE
# (uname -r of each), TAINT_HOP (the hop that taints itself before its
# kexec, -1 for none) and may set KMD_SYSFS.

set -u

# ------------------------------------------------------------------------
# What this test assumes about the series: the sysfs directory, its files
# and the exact log lines (Documentation/ABI/testing/, the kexec-metadata
# part of Documentation/admin-guide/mm/kho.rst).  The one place to change
# them when the series changes; the plan may override KMD_SYSFS.
KMD_SYSFS=/sys/kernel/kexec/previous
# Files that exist whenever ours runs, and what a cold boot has in them.
ALWAYS=(count reason)
COLD_COUNT=0 COLD_REASON=none
# After a record it accepted.
VALID_REASON=valid
# The exec-from line, printed by ours and by stock 7.3 alike.
exec_from_line() { printf 'KHO: exec from: %s (count %s)' "$1" "$2"; }
# Ours, after ours: the previous kernel's boot ID, as sysfs has it.
boot_id_line() { printf 'KHO: previous kernel: boot ID %s' "$1"; }
# Ours, a warning, after ours tainted at its kexec: the letters, the value.
TAINT_PREFIX='KHO: previous kernel was tainted: '
taint_line() { printf '%s%s (%#x)' "$TAINT_PREFIX" "$1" "$2"; }
# What the tainted hop does: TAINT_WARN, bit 9, letter W, as a WARN() would;
# the next kernel logs a taint that a kernel raises on a fault as a warning.
TAINT_BIT=512 TAINT_LETTER=W
# After stock 7.3, whose record has no extension: ours has no boot ID to
# report, and no taint or build ID; the file is absent (the ABI document:
# "absent otherwise, e.g. after a kexec from Linux 7.3 or earlier").
V1_ABSENT=(boot_id taint build_id)
# ------------------------------------------------------------------------

# shellcheck source=/dev/null
. /run/kmd/plan

hop=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^kmd\.hop=//p' | tail -n 1)
state=/var/lib/kmd-distro
dir=$state/hop${hop:-none}
mkdir -p "$dir"
failed=0

# Whatever stops this script early ends the chain at once, instead of
# leaving the guest up until the stage's timeout.
done=0
on_exit() {
	[ "$done" -eq 1 ] && return
	out "kmd-distro-check ${hop:-?} script FAIL the hop script stopped early (exit $1); see the journal"
	systemctl reboot
}
trap 'on_exit $?' EXIT

out() {
	printf '%s\n' "$*"
	printf '%s\n' "$*" >>"$dir/result"
}
fact() { out "kmd-distro: $hop $*"; }
# check NAME DETAIL CONDITION...: one line, PASS or FAIL.
check() {
	local name=$1 detail=$2
	shift 2
	if "$@"; then
		out "kmd-distro-check $hop $name PASS $detail"
	else
		out "kmd-distro-check $hop $name FAIL $detail"
		failed=1
	fi
}
sysfs() { cat "$KMD_SYSFS/$1" 2>/dev/null || echo "(absent)"; }
has_line() { grep -qxF -- "$2" "$1"; }
no_text() { ! grep -qF -- "$2" "$1"; }
cold_ok() {
	no_text "$dir/kernel.txt" "KHO: exec from" &&
		[ "$(sysfs count)" = "$COLD_COUNT" ] && [ "$(sysfs reason)" = "$COLD_REASON" ]
}
untainted() { [ "$(sysfs taint)" = 0 ] && no_text "$dir/kernel.txt" "$TAINT_PREFIX"; }
has_bit() { [[ $1 =~ ^[0-9]+$ ]] && (($1 & $2)); }

if [ -z "$hop" ] || [ "$hop" -ge "${#PLAN[@]}" ]; then
	out "kmd-distro-check ${hop:-?} marker FAIL no usable kmd.hop= in /proc/cmdline: $(cat /proc/cmdline)"
	done=1
	systemctl reboot
	exit 1
fi
kernel=${PLAN[$hop]}
cp /proc/cmdline "$dir/cmdline"
fact "kernel $(uname -r) ($kernel), boot_id $(cat /proc/sys/kernel/random/boot_id), machine-id $(cat /etc/machine-id), systemd $(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')"
fact "cmdline $(cat /proc/cmdline)"
fact "hop script started at $(cut -d' ' -f1 /proc/uptime) s of uptime; failed units: $(systemctl --failed --plain --no-legend | awk '{ printf "%s ", $1 }')"
check kernel "uname -r $(uname -r), plan ${RELEASE[$kernel]}" [ "$(uname -r)" = "${RELEASE[$kernel]}" ]

# What journalctl says, kept for the stage (build/logs/distro-x86_64/).
journalctl --no-pager --list-boots >"$dir/list-boots.txt" 2>&1
journalctl --no-pager -k -b 0 -o cat >"$dir/kernel.txt" 2>&1
journalctl --no-pager -k -b 0 -p warning -o cat >"$dir/kernel-warnings.txt" 2>&1
grep -r . "$KMD_SYSFS" >"$dir/sysfs.txt" 2>&1
sed 's/^/list-boots: /' "$dir/list-boots.txt" | while read -r l; do fact "$l"; done
fact "sysfs $(tr '\n' ' ' <"$dir/sysfs.txt")"
grep -F 'KHO: ' "$dir/kernel.txt" | while read -r l; do fact "journal -k: $l"; done

# The ID of boot -1 in journalctl --list-boots (32 hex digits), if any.
listed_id() {
	awk -v want="$1" '$1 == want { print $2 }' "$dir/list-boots.txt"
}
nboots=$(grep -c -E '^ *-?[0-9]+ [0-9a-f]{32} ' "$dir/list-boots.txt")
check list-boots "journalctl --list-boots lists $nboots boots, want $((hop + 1))" \
	[ "$nboots" -eq $((hop + 1)) ]

if [ "$hop" -eq 0 ]; then
	check cold "no exec-from line, count $(sysfs count), reason $(sysfs reason)" \
		cold_ok
else
	prev=${PLAN[$((hop - 1))]}
	prel=${RELEASE[$prev]}
	want=$(exec_from_line "$prel" "$hop")
	check exec-from "journalctl -k -b 0: $want" has_line "$dir/kernel.txt" "$want"

	# The previous boot's ID: from sysfs when ours follows ours, else the
	# operator's fallback, boot -1 of the list.
	id=$(listed_id -1)
	if [ "$kernel" = kmd ]; then
		for f in "${ALWAYS[@]}"; do
			check "sysfs-has-$f" "$KMD_SYSFS/$f exists" [ -e "$KMD_SYSFS/$f" ]
		done
		check sysfs-count "count $(sysfs count), want $hop" [ "$(sysfs count)" = "$hop" ]
		check sysfs-reason "reason $(sysfs reason), want $VALID_REASON" [ "$(sysfs reason)" = "$VALID_REASON" ]
		check sysfs-release "release $(sysfs release), want $prel" [ "$(sysfs release)" = "$prel" ]
	fi
	if [ "$kernel" = kmd ] && [ "$prev" = kmd ]; then
		sid=$(sysfs boot_id)
		fact "sysfs boot_id $sid; list-boots -1 is $id"
		check boot-id "sysfs boot_id $sid = list-boots -1 $id (dashes aside)" \
			[ "${sid//-/}" = "$id" ]
		check boot-id-line "journal: $(boot_id_line "$sid")" \
			has_line "$dir/kernel.txt" "$(boot_id_line "$sid")"
		id=$sid
		if [ $((hop - 1)) -eq "$TAINT_HOP" ]; then
			t=$(sysfs taint)
			tl=$(grep -F -- "$TAINT_PREFIX" "$dir/kernel-warnings.txt" | head -n 1)
			fact "sysfs taint $t; journal warning: ${tl:-(none)}"
			check taint-sysfs "taint $t has bit $TAINT_BIT" has_bit "$t" "$TAINT_BIT"
			check taint-warning "journalctl -p warning: $(taint_line "$TAINT_LETTER" "$TAINT_BIT")" \
				has_line "$dir/kernel-warnings.txt" "$(taint_line "$TAINT_LETTER" "$TAINT_BIT")"
		else
			check untainted "taint $(sysfs taint), no tainted warning" untainted
		fi
	elif [ "$kernel" = kmd ]; then
		# After stock 7.3: no boot ID to report, as documented.
		for f in "${V1_ABSENT[@]}"; do
			check "after-stock-no-$f" "$KMD_SYSFS/$f absent after stock $prel" [ ! -e "$KMD_SYSFS/$f" ]
		done
		check after-stock-no-boot-id-line "no '$(boot_id_line "")' in the journal" \
			no_text "$dir/kernel.txt" "$(boot_id_line "")"
		fact "no boot ID in sysfs after stock; the operator falls back to list-boots -1: $id"
	fi

	# The previous kernel's own log, through that ID.  systemd 257's
	# journalctl reads "-b ID" as 32 hex digits with an optional "-N" or
	# "+N" offset after them: the UUID form with dashes, as sysfs and
	# /proc/sys/kernel/random/boot_id write it, is refused.  What it says
	# to the dashed form is kept as a note; the check uses the ID as
	# journalctl --list-boots prints it.
	if [[ $id == *-* ]]; then
		journalctl --no-pager -b "$id" -n 1 -o cat >"$dir/journalctl-b-dashed.txt" 2>&1
		fact "note: journalctl -b $id (the sysfs form, dashes kept) exits $? and says: $(head -n 1 "$dir/journalctl-b-dashed.txt")"
		# The same ID as the option's own argument, which -b takes only
		# when attached ("-b ID" takes ID as -b's only if it parses).
		journalctl --no-pager --boot="$id" -n 1 -o cat >"$dir/journalctl-boot-dashed.txt" 2>&1
		fact "note: journalctl --boot=$id exits $? and says: $(head -n 1 "$dir/journalctl-boot-dashed.txt")"
		id=${id//-/}
	fi
	if [ -n "$id" ]; then
		journalctl --no-pager -b "$id" >"$dir/previous-boot.txt" 2>&1
	fi
	: >>"$dir/previous-boot.txt"
	head -n 3 "$dir/previous-boot.txt" | while read -r l; do fact "journalctl -b $id: $l"; done
	lv=$(grep -m1 -o 'Linux version .*' "$dir/previous-boot.txt")
	fact "previous boot's $lv"
	check prev-linux-version "journalctl -b $id: Linux version $prel" \
		grep -qF "Linux version $prel " <<<"$lv"
	pm=$(grep -m1 -o 'Kernel command line: .*' "$dir/previous-boot.txt" | tr ' ' '\n' |
		sed -n 's/^kmd\.hop=//p' | tail -n 1)
	check prev-marker "journalctl -b $id: its command line ends with kmd.hop=${pm:-none}, want $((hop - 1))" \
		[ "${pm:-none}" = $((hop - 1)) ]
	# How far the previous boot's journal goes: its shutdown.
	fact "previous boot's last journal line: $(tail -n 1 "$dir/previous-boot.txt")"
fi

if [ "$hop" -eq "$TAINT_HOP" ]; then
	echo "$TAINT_BIT" >/proc/sys/kernel/tainted
	fact "tainted this kernel: /proc/sys/kernel/tainted is $(cat /proc/sys/kernel/tainted)"
fi

next=$((hop + 1))
if [ "$next" -ge "${#PLAN[@]}" ]; then
	out "kmd-distro-done $hop failed=$failed"
	done=1
	sync
	systemctl reboot
	exit 0
fi
nk=${PLAN[$next]}
if kexec -s -l "/run/kmd/$nk" --reuse-cmdline --append="kmd.hop=$next" 2>"$dir/kexec.err"; then
	out "kmd-distro-kexec $hop -> $next: kexec -s -l $nk --reuse-cmdline --append=kmd.hop=$next; systemctl kexec"
	done=1
	sync
	systemctl kexec
else
	out "kmd-distro-check $hop kexec-load FAIL $(cat "$dir/kexec.err")"
fi
