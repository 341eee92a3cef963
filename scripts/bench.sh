#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: ours against stock 7.3 in one run.  Never fails on speed; it
# reports a markdown table, printed and saved in build/bench.md.
#
# One interop chain alternates our kernel and stock, so both run on the
# same machine in the same minute.  From its serial log (printk.time=1):
#  - time to the line: timestamp of "KHO: exec from" in each hop;
#  - seconds per hop: the kernel's uptime when it starts the next kexec
#    ("kexec_core: Starting new kernel"), ours over stock.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

HOPS=${HOPS:-12}
"$TOP/scripts/tree.sh"
"$TOP/scripts/build-kernel.sh" kmd x86_64
"$TOP/scripts/build-kernel.sh" stock x86_64
accel=$("$TOP/scripts/accel.sh" x86_64)

info "running a $HOPS-hop chain alternating ours and stock ($accel, about $((HOPS * 3)) s under TCG)"
"$TREE/tools/testing/selftests/kho/kexec_metadata.sh" -m interop -n "$HOPS" -a "$accel" \
	-k "$IMAGES/kmd-x86_64" -s "$IMAGES/stock-x86_64" -l "$LOGS" >"$LOGS/bench.ktap" 2>&1 ||
	warn "the chain reported failures, see $LOGS/bench.ktap; numbers below may be partial"
serial=$LOGS/kexec_metadata-interop-x86_64.serial
cp "$serial" "$LOGS/bench.serial"

# Per hop: which kernel ran (from its release) and the two timestamps.
python3 - "$LOGS/bench.serial" "$accel" "$BUILD/bench.md" <<'EOF'
import re, statistics, sys

serial, accel, out = sys.argv[1:]
hops, cur = [], None
for line in open(serial, errors="replace"):
    m = re.search(r"\[\s*([0-9.]+)\] Linux version (\S+)", line)
    if m:
        cur = {"kernel": "ours" if m.group(2).endswith("-kmd") else "stock"}
        hops.append(cur)
        continue
    if cur is None:
        continue
    m = re.search(r"\[\s*([0-9.]+)\] KHO: exec from: ", line)
    if m:
        cur["line"] = float(m.group(1))
    m = re.search(r"\[\s*([0-9.]+)\] kexec_core: Starting new kernel", line)
    if m:
        cur["hop"] = float(m.group(1))

def col(kernel, key):
    return [h[key] for h in hops if h["kernel"] == kernel and key in h]

def cell(v, fmt):
    if not v:
        return "n/a", None
    med = statistics.median(v)
    return f"{fmt.format(med)} ({fmt.format(min(v))} to {fmt.format(max(v))}, n={len(v)})", med

rows = []
for key, what, fmt in (("line", "time to the `exec from` line, s", "{:.6f}"),
                       ("hop", "seconds per hop (uptime at kexec), s", "{:.3f}")):
    o, om = cell(col("ours", key), fmt)
    s, sm = cell(col("stock", key), fmt)
    ratio = f"{om / sm:.3f}" if om is not None and sm else "n/a"
    rows.append(f"| {what} | {o} | {s} | {ratio} |")

table = "\n".join([
    f"QEMU accelerator: **{accel}** (TCG and KVM figures are not comparable)",
    "",
    "| measure | ours: median (min to max) | stock 7.3: median (min to max) | ours/stock |",
    "|---|---|---|---|",
    *rows,
    "| pages preserved for the next kernel (by construction, not measured) | 1 (732-byte record) | 1 (73-byte record) | |",
    "| pages left reserved from the previous kernel (by construction, not measured) | 0 (released at late_initcall) | 1 (never released) | |",
])
open(out, "w").write(table + "\n")
print(table)
EOF
info "table saved in build/bench.md; serial log in $LOGS/bench.serial"
