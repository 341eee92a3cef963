#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the serial logs of make bench into a markdown table.

Each log line starts with the host's clock (see stamp() in bench.sh).  A hop
starts at "Linux version"; its kernel is ours if the release ends in -kmd.
"""
import argparse
import re
import statistics

HOP = re.compile(r"^(\S+) .*\[\s*([0-9.]+)\] Linux version (\S+)")
PATTERNS = {
    "line_s": re.compile(r"\[\s*([0-9.]+)\] KHO: exec from: "),
    "init_s": re.compile(r"\[\s*([0-9.]+)\] Run /init as init process"),
    "kexec_s": re.compile(r"\[\s*([0-9.]+)\] kexec_core: Starting new kernel"),
    "early_ns": re.compile(r"kexec-metadata cost: early read (\d+) ns"),
    "stamp_ns": re.compile(r"kexec-metadata cost: uptime stamp (\d+) ns"),
    "kmd_init_us": re.compile(r"initcall kmd_init\+\S+ returned -?\d+ after (\d+) usecs"),
    "out_bytes": re.compile(r"^\S+ bench-hop \d+ .*out_bytes=(\d+)"),
    "held_bytes": re.compile(r"^\S+ bench-hop \d+ .*held_bytes=(\d+)"),
}


def parse(path):
    hops = []
    for line in open(path, errors="replace"):
        m = HOP.search(line)
        if m:
            if hops:
                hops[-1]["wall_s"] = float(m.group(1)) - hops[-1]["start"]
            hops.append({"start": float(m.group(1)), "index": len(hops),
                         "kernel": "ours" if m.group(3).endswith("-kmd") else "stock"})
            continue
        if not hops:
            continue
        for key, pat in PATTERNS.items():
            m = pat.search(line)
            if m and key not in hops[-1]:
                hops[-1][key] = float(m.group(1))
    return hops


def values(hops, kernel, key, kexeced=True):
    return [h[key] for h in hops
            if h["kernel"] == kernel and key in h and (h["index"] or not kexeced)]


def cell(v, fmt):
    if not v:
        return "n/a", None
    med = statistics.median(v)
    return (f"{fmt.format(med)} ({fmt.format(min(v))} to {fmt.format(max(v))}, n={len(v)})",
            med)


def pages(nbytes):
    return -(-int(nbytes) // 4096)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accel", required=True)
    ap.add_argument("--machine", required=True)
    ap.add_argument("--loop-warm", required=True)
    ap.add_argument("--loop-cold", required=True)
    ap.add_argument("plain")
    ap.add_argument("cost")
    a = ap.parse_args()
    plain, cost = parse(a.plain), parse(a.cost)

    rows = []

    def row(what, o, s, ratio="", goal=""):
        rows.append(f"| {what} | {o} | {s} | {ratio} | {goal} |")

    def both(what, hops, key, fmt, scale=1.0, goal=""):
        o, om = cell([x * scale for x in values(hops, "ours", key)], fmt)
        s, sm = cell([x * scale for x in values(hops, "stock", key)], fmt)
        ratio = f"{om / sm:.3f}" if om is not None and sm else ""
        row(what, o, s, ratio, goal)

    # 1. Time to the line (plain chain).
    both("time to the `exec from` line after a kexec, s", plain, "line_s", "{:.6f}",
         goal="ours 0.000000")
    both("kernel boot to /init, s", plain, "init_s", "{:.3f}")

    # 2. Boot-path cost (cost chain, initcall_debug and KEXEC_HANDOVER_DEBUG).
    early = values(cost, "ours", "early_ns")
    kmd_init = values(cost, "ours", "kmd_init_us")
    stamp = values(cost, "ours", "stamp_ns")
    row("early read and validation (`KEXEC_HANDOVER_DEBUG`), µs",
        cell([x / 1000 for x in early], "{:.1f}")[0], "not measurable", "")
    row("late registration, `kmd_init` (`initcall_debug`), µs",
        cell(kmd_init, "{:.0f}")[0], "inside `kho_init`", "")
    row("kexec path: uptime stamp (`KEXEC_HANDOVER_DEBUG`), µs",
        cell([x / 1000 for x in stamp], "{:.1f}")[0], "nothing on this path", "")
    totals = [h["early_ns"] / 1000 + h["kmd_init_us"] + h["stamp_ns"] / 1000 for h in cost
              if h["kernel"] == "ours" and all(k in h for k in ("early_ns", "kmd_init_us", "stamp_ns"))]
    row("**total of the three, per boot**, µs", cell(totals, "{:.1f}")[0], "", "", "≤ 50")

    # 3. Memory (both chains), from the KHO debugfs in the guest.
    allhops = plain + cost
    o = values(allhops, "ours", "out_bytes", kexeced=False)
    s = values(allhops, "stock", "out_bytes", kexeced=False)
    row("pages preserved for the next kernel (`kho/out/sub_fdts/kexec-metadata`)",
        f"{max(map(pages, o))} ({int(max(o))} bytes, n={len(o)})" if o else "n/a",
        f"{max(map(pages, s))} ({int(max(s))} bytes, n={len(s)})" if s else "n/a", "", "1")
    o = values(allhops, "ours", "held_bytes")
    s = values(allhops, "stock", "held_bytes")
    row("pages of the previous kernel's record still held after boot (`kho/in/sub_fdts/kexec-metadata`)",
        f"{max(map(pages, o))} (n={len(o)})" if o else "n/a",
        f"{max(map(pages, s))} (n={len(s)})" if s else "n/a", "", "0")

    # 4. Chain throughput (plain chain): host seconds from one "Linux version"
    # to the next, for kexec'ed hops; each ours hop is paired with the stock
    # hop before it.
    both("seconds per hop (host clock, boot + guest + kexec transition)", plain, "wall_s",
         "{:.3f}")
    for key, what in (("wall_s", "seconds per hop"), ("kexec_s", "guest uptime at kexec")):
        pairs = [h[key] / p[key] for p, h in zip(plain, plain[1:])
                 if h["kernel"] == "ours" and p["kernel"] == "stock" and p["index"]
                 and key in h and key in p]
        row(f"{what}: ours/stock of adjacent hops", cell(pairs, "{:.3f}")[0], "", "",
            "≤ 1.02" if key == "wall_s" else "")
    both("guest uptime at kexec (kernel boot + guest work), s", plain, "kexec_s", "{:.3f}")

    # 5. Developer loop.
    row("developer loop: edit one .c file → chain result (warm)", a.loop_warm, "", "", "")
    row("developer loop: `make check` in a fresh clone, empty ccache", a.loop_cold, "", "", "")

    print(f"Machine: {a.machine}  ")
    print(f"QEMU accelerator: **{a.accel}** (TCG and KVM figures are not comparable)  ")
    print(f"Chains: {len(plain) - 1} and {len(cost) - 1} kexecs, ours and stock alternating")
    print()
    print("| measure | ours: median (min to max) | stock 7.3: median (min to max) | ours/stock | goal |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
