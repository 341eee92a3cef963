#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the serial logs of make bench into a markdown table.

Each log line starts with the host's clock (see stamp() in bench.sh).  A hop
starts at "Linux version"; its kernel is ours if the release ends in
-kmdbench.  The "bench:" lines come from scripts/bench-*.patch: TSC deltas,
which under -icount shift=0 are guest instructions.
"""
import argparse
import re
import statistics

HOP = re.compile(r"^(\S+) .*\] Linux version (\S+)")
NUM = {
    "early": re.compile(r"bench: early-read (\d+)"),
    "late": re.compile(r"bench: late-total (\d+)"),
    "sysfs": re.compile(r"bench: sysfs-previous (\d+)"),
    "kexec": re.compile(r"bench: kexec-path (\d+)"),
    "stock_md": re.compile(r"bench: stock-metadata (\d+)"),
    "init": re.compile(r"bench: entry-to-init (\d+)"),
    "line_s": re.compile(r"\[\s*([0-9.]+)\] KHO: exec from: "),
    "out_bytes": re.compile(r"bench-hop \d+ .*out_bytes=(\d+)"),
    "out_ext_bytes": re.compile(r"bench-hop \d+ .*out_ext_bytes=(\d+)"),
    "held_bytes": re.compile(r"bench-hop \d+ .*held_bytes=(\d+)"),
    "held_ext_bytes": re.compile(r"bench-hop \d+ .*held_ext_bytes=(\d+)"),
    # Ours gives the pages back, but KHO keeps their kho/in files: the
    # bench patch counts them (one page per record).
    "held_records": re.compile(r"bench: records-held (\d+) of"),
}
# Parts that only split another part (inside KHO's functions): shown in
# their own rows, left out of the largest contributors.
SUBPARTS = re.compile(r"-(fdt|debugfs)$")
PARTS = re.compile(r"bench: (early-parts|late-total \d+|kexec-path \d+) (.*)")


def parse(path):
    hops = []
    for line in open(path, errors="replace"):
        m = HOP.search(line)
        if m:
            hops.append({"index": len(hops), "parts": {},
                         "kernel": "ours" if m.group(2).endswith("-kmdbench") else "stock"})
            if len(hops) > 1:
                hops[-1]["from"] = hops[-2]["kernel"]
            continue
        if not hops:
            continue
        h = hops[-1]
        for key, pat in NUM.items():
            m = pat.search(line)
            if m and key not in h:
                h[key] = float(m.group(1))
        m = PARTS.search(line)
        if m:
            it = iter(m.group(2).split())
            where = m.group(1).split("-")[0]
            h["parts"].update({f"{where}: {k}": int(v) for k, v in zip(it, it) if v.isdigit()})
    # The kexec path runs in the kernel that kexecs: it belongs to that hop.
    for h in hops:
        if "sysfs" in h:
            h["parts"]["sysfs: previous"] = int(h["sysfs"])
        h.update({f"part {k}": v for k, v in h["parts"].items()})
        if all(k in h for k in ("early", "late", "kexec")):
            h["sum"] = h["early"] + h.get("sysfs", 0) + h["late"] + h["kexec"]
    return hops


def vals(hops, kernel, key, frm=None):
    """Kexec'ed hops only: hop 0 is a cold boot from QEMU's -kernel."""
    return [h[key] for h in hops if h["kernel"] == kernel and key in h and h["index"]
            and (frm is None or h.get("from") == frm)]


def cell(v, fmt="{:,.0f}"):
    if not v:
        return "n/a", None
    med = statistics.median(v)
    return f"{fmt.format(med)} ({fmt.format(min(v))} to {fmt.format(max(v))}, n={len(v)})", med


def pages(nbytes):
    return -(-int(nbytes) // 4096)


def records(h, prefix):
    """Byte sizes of the hop's records in kho/PREFIX: kexec-metadata, then -ext."""
    return [int(h[k]) for k in (f"{prefix}_bytes", f"{prefix}_ext_bytes") if k in h]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accel", required=True)
    ap.add_argument("--machine", required=True)
    ap.add_argument("--loop-warm", required=True)
    ap.add_argument("--loop-cold", required=True)
    ap.add_argument("--cpu", required=True)
    ap.add_argument("--stock", default="stock")
    ap.add_argument("icount")
    ap.add_argument("plain")
    a = ap.parse_args()
    ic, pl = parse(a.icount), parse(a.plain)

    rows = []

    def row(*cols):
        rows.append("| " + " | ".join(cols) + " |")

    def ours(what, key, goal="", frm=None, how=""):
        row(what, cell(vals(ic, "ours", key, frm))[0], cell(vals(pl, "ours", key, frm))[0], goal, how)

    ours("1. early read, records from ours", "early", frm="ours",
         how="`kho_memory_init_early()` → `kho_kexec_metadata_read()`: both records")
    ours("1. early read, record from stock", "early", frm="stock", how="same, one record")
    ours("2. late registration (`kmd_init`)", "late", how="whole late_initcall, TSC around it")
    ours("2a. give back the previous records' pages", "part late: give-back", frm="ours",
         how="`kho_restore_free()` of both records (from ours)")
    for rec, name in (("md", "kexec-metadata"), ("ext", "kexec-metadata-ext")):
        ours(f"2b. `kho_alloc_preserve()`, {name}", f"part late: alloc-preserve-{rec}", how="in `kmd_add()`")
        ours(f"2b. `kho_add_subtree()`, {name}", f"part late: add-subtree-{rec}", how="in `kmd_add()`")
        ours("2b. … of which FDT work (lock included)", f"part late: add-subtree-{rec}-fdt",
             how="`kho_add_subtree()` minus its debugfs call")
        ours("2b. … of which the `kho/out` debugfs file", f"part late: add-subtree-{rec}-debugfs",
             how="`kho_debugfs_blob_add()` inside `kho_add_subtree()`")
    ours("2c. `/sys/kernel/kexec/previous/`, records from ours", "sysfs", frm="ours",
         how="its `sysfs_create_group()` in `init_kexec_sysctl()` (subsys_initcall): a directory and 6 files")
    ours("2c. `/sys/kernel/kexec/previous/`, record from stock", "sysfs", frm="stock",
         how="same: 3 files")
    ours("3. kexec path (reboot notifier)", "kexec", how="`kmd_reboot()`, at kexec: check the seal, boot ID, CRC")
    ours("**4. sum of 1, 2, 2c and 3, per boot**", "sum", goal="≤ 53,859 (v2)", how="same boot")
    row(f"4. {a.stock}'s version of the feature, per boot", cell(vals(ic, "stock", "stock_md"))[0],
        cell(vals(pl, "stock", "stock_md"))[0], "",
        "`kho_kexec_metadata_init()` in `kho_init()`: read, print, write (no kexec-path work)")
    _, sm = cell(vals(ic, "stock", "stock_md"))
    _, om = cell(vals(ic, "ours", "sum"))
    row("4. ours − stock, medians", f"{om - sm:,.0f}" if om and sm else "n/a", "", "",
        "what the series adds over the base's version")
    o, om = cell(vals(ic, "ours", "init"))
    s, sm = cell(vals(ic, "stock", "init"))
    po, pom = cell(vals(pl, "ours", "init"))
    ps, psm = cell(vals(pl, "stock", "init"))
    row("5. kernel entry to `/init`, ours", o, po, "", "TSC at `x86_64_start_kernel()` to `run_init_process()`")
    row(f"5. kernel entry to `/init`, {a.stock}", s, ps, "", "same patch on the base")
    row("**5. ours/stock**", f"{om / sm:.4f}" if om and sm else "n/a",
        f"{pom / psm:.4f}" if pom and psm else "n/a", "≤ 1.001", "ratio of the medians")
    allh = ic + pl
    for kern in ("ours", "stock"):
        out = [records(h, "out") for h in allh if h["kernel"] == kern and "out_bytes" in h]
        if kern == "ours":
            held = [[4096] * int(h["held_records"]) for h in allh
                    if h["kernel"] == kern and "held_records" in h and h["index"]]
        else:
            held = [records(h, "held") for h in allh if h["kernel"] == kern and "held_bytes" in h and h["index"]]
        name = "ours" if kern == "ours" else a.stock
        big = max(out, key=lambda r: sum(map(pages, r))) if out else None
        row(f"6. pages preserved for the next kernel, {name}",
            f"{sum(map(pages, big))} ({' + '.join(map(str, big))} bytes, n={len(out)})" if out else "n/a",
            "", "2" if kern == "ours" else "", "`kho/out/sub_fdts/kexec-metadata` and `-ext` in debugfs")
        row(f"6. pages of the previous records held after boot, {name}",
            f"{max(sum(map(pages, r)) for r in held)} (n={len(held)})" if held else "n/a",
            "", "0" if kern == "ours" else "",
            "`bench: records-held` (pages given back by `kmd_init()`)" if kern == "ours"
            else "`kho/in/sub_fdts/kexec-metadata` and `-ext` in debugfs")
    o = vals(ic, "ours", "line_s")
    s = vals(ic, "stock", "line_s")
    row("`exec from` line timestamp, ours / stock, s",
        f"{cell(o, '{:.6f}')[0]} / {cell(s, '{:.6f}')[0]}", "", "ours < stock",
        "printk time (v3 reads in `kho_memory_init_early()`, once the clock runs; v2 read in `setup_arch()` at 0.000000)")

    # Largest contributors, in all three parts, over the kexec'ed hops.
    parts = {}
    for h in ic[1:]:
        for k, v in h["parts"].items():
            if not SUBPARTS.search(k):
                parts.setdefault(k, []).append(v)
    contrib = sorted(((statistics.median(v), k) for k, v in parts.items()), reverse=True)

    print(f"Machine: {a.machine}  ")
    print(f"Chains: {len(ic) - 1} kexecs under `-icount shift=0,sleep=off` (TCG) and "
          f"{len(pl) - 1} under plain {a.accel}; kernels in the order ours, ours, {a.stock}, ...  ")
    print(f"Guest: `-cpu {a.cpu}`; the guest reads /proc/sys/kernel/random/boot_id at start, as journald does, "
          "so the kexec path finds the boot ID generated.  ")
    print("Units: guest instructions under icount (1 ns of guest time each); "
          f"under plain {a.accel}, TSC ticks of the host, translation included (not comparable).")
    print()
    print(f"| measure | icount: median (min to max, n), instructions | plain {a.accel}: TSC ticks | goal | how |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    if contrib:
        print("Largest contributors (icount, median instructions over the hops that ran them): " +
              ", ".join(f"{k} {v:,.0f}" for v, k in contrib) + ".")
        print()
    print(f"Developer loop: edit one .c file → chain result (warm): {a.loop_warm}.  ")
    print(f"Developer loop: `make check` in a fresh clone, empty cache: {a.loop_cold}.")


if __name__ == "__main__":
    main()
