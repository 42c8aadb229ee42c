"""Benchmark: TxtDataParse on a generated 1,000,000-line index (no callback).

Each measurement runs in a fresh interpreter. Speed and peak memory come from
a run without tracing (peak = ``ru_maxrss`` after parsing minus ``ru_maxrss``
after importing numpy and sedna); the tracemalloc peak comes from a separate
run with tracing on, since tracing slows allocation down.

The original's figures (590,000 lines/s; 566 MiB) were measured on another
machine; "original (re-run here)" is a re-implementation of the tutorial's
``TxtDataParse.parse`` loop timed on this machine on the same file, so the
ratio to it is the fair comparison.

    PYTHONPATH=src python benchmarks/bench_datasources.py [n_lines]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ORIGINAL_LINES_PER_S = 590_000
ORIGINAL_PEAK_MIB = 566
SPEED_FACTOR = 2.0   # target: at least this many times the original's speed
MEMORY_FACTOR = 0.5  # target: at most this fraction of the original's memory

SRC = Path(__file__).resolve().parents[1] / "src"

_CHILD = r'''
import json, os, resource, sys, time, tracemalloc
import numpy as np
from sedna.datasources import TxtDataParse

impl, path, trace = sys.argv[1], sys.argv[2], sys.argv[3] == "1"


def original_parse(files, is_test=False, use_raw=False):
    # the tutorial's TxtDataParse.parse loop, no callback
    x_data = []
    y_data = []
    for f in files:
        if not (f and os.path.exists(f)):
            continue
        with open(f) as fin:
            res = [line.strip().split() for line in fin.readlines()]
        for tup in res:
            if not len(tup):
                continue
            if use_raw:
                x_data.append(tup)
            else:
                x_data.append(tup[0])
                if not is_test:
                    if len(tup) > 1:
                        y_data.append(tup[1])
                    else:
                        y_data.append(0)
    return np.array(x_data), np.array(y_data)


base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if trace:
    tracemalloc.start()
t0 = time.perf_counter()
if impl == "sedna":
    ds = TxtDataParse(data_type="train").parse(path)
    x, y = ds.x, ds.y
else:
    x, y = original_parse([path])
dt = time.perf_counter() - t0
peak_traced = tracemalloc.get_traced_memory()[1] if trace else None
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"n": int(len(x)), "ny": int(len(y)), "seconds": dt,
                  "rss_delta_kib": peak - base, "traced_peak": peak_traced,
                  "x0": str(x[0]), "y0": str(y[0]), "dtype": [str(x.dtype), str(y.dtype)]}))
'''

CITIES = ("berlin", "hamburg", "munich", "zurich", "bochum")


def make_index(path, n_lines):
    """Write an index like ``real/berlin/img_000001.png real/berlin/depth_... label_...``."""
    with open(path, "w", encoding="utf-8") as f:
        block = []
        for i in range(1, n_lines + 1):
            c = CITIES[i % len(CITIES)]
            block.append(f"real/{c}/img_{i:06d}.png real/{c}/depth_{i:06d}.png "
                         f"real/{c}/label_{i:06d}.png\n")
            if len(block) == 50_000:
                f.write("".join(block))
                block = []
        f.write("".join(block))


def _child(impl, path, trace=False):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH")) if p)
    out = subprocess.run([sys.executable, "-c", _CHILD, impl, path, "1" if trace else "0"],
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child {impl} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _measure(impl, path, n_lines, repeats, trace):
    runs = [_child(impl, path) for _ in range(repeats)]
    for r in runs:
        if r["n"] != n_lines or r["ny"] != n_lines:
            raise RuntimeError(f"{impl} parsed {r['n']} lines, expected {n_lines}")
    rates = [n_lines / r["seconds"] for r in runs]
    res = {
        "lines_per_s": statistics.median(rates),
        "lines_per_s_runs": rates,
        "peak_rss_mib": max(r["rss_delta_kib"] for r in runs) / 1024.0,
        "tracemalloc_peak_mib": None,
        "sample": (runs[0]["x0"], runs[0]["y0"]),
        "dtypes": runs[0]["dtype"],
    }
    if trace:
        res["tracemalloc_peak_mib"] = _child(impl, path, trace=True)["traced_peak"] / 2**20
    return res


def run_txt_parse_bench(n_lines=1_000_000, repeats=3, rerun_original=True, workdir=None):
    """Measure TxtDataParse (no callback) on an ``n_lines`` index; return a dict.

    Keys: ``n_lines``, ``lines_per_s`` (median of ``repeats`` fresh runs),
    ``peak_rss_mib``, ``tracemalloc_peak_mib``, ``original`` (the published
    figures), ``original_rerun`` (None unless ``rerun_original``), ``targets``,
    ``meets_targets`` and ``table`` (Markdown).
    """
    tmp = tempfile.TemporaryDirectory(prefix="sedna-bench-", dir=workdir)
    try:
        path = os.path.join(tmp.name, "index.txt")
        make_index(path, n_lines)
        new = _measure("sedna", path, n_lines, repeats, trace=True)
        orig = _measure("original", path, n_lines, 1, trace=False) if rerun_original else None
        if orig is not None and (orig["sample"] != new["sample"] or orig["dtypes"] != new["dtypes"]):
            raise RuntimeError(f"results differ: {orig['sample']} {orig['dtypes']} vs "
                               f"{new['sample']} {new['dtypes']}")
    finally:
        tmp.cleanup()
    targets = {"lines_per_s": SPEED_FACTOR * ORIGINAL_LINES_PER_S,
               "peak_rss_mib": MEMORY_FACTOR * ORIGINAL_PEAK_MIB}
    result = {
        "n_lines": n_lines,
        "lines_per_s": new["lines_per_s"],
        "lines_per_s_runs": new["lines_per_s_runs"],
        "peak_rss_mib": new["peak_rss_mib"],
        "tracemalloc_peak_mib": new["tracemalloc_peak_mib"],
        "original": {"lines_per_s": ORIGINAL_LINES_PER_S, "peak_rss_mib": ORIGINAL_PEAK_MIB},
        "original_rerun": None if orig is None else {
            "lines_per_s": orig["lines_per_s"], "peak_rss_mib": orig["peak_rss_mib"]},
        "targets": targets,
        "meets_targets": (new["lines_per_s"] >= targets["lines_per_s"]
                          and new["peak_rss_mib"] <= targets["peak_rss_mib"]),
    }
    result["table"] = format_table(result)
    return result


def format_table(r):
    def rate(v):
        return f"{v:,.0f}"

    def mib(v):
        return "—" if v is None else f"{v:,.0f}"

    t = r["targets"]
    runs = ", ".join(rate(v) for v in r["lines_per_s_runs"])
    rows = [
        f"TxtDataParse, {r['n_lines']:,}-line index, no callback",
        "",
        "| implementation | lines/s | peak memory (MiB, RSS Δ) | tracemalloc peak (MiB) |",
        "|---|---:|---:|---:|",
        f"| original (published figures) | {rate(r['original']['lines_per_s'])} | "
        f"{mib(r['original']['peak_rss_mib'])} | — |",
    ]
    o = r.get("original_rerun")
    if o:
        rows.append(f"| original (re-run here) | {rate(o['lines_per_s'])} | "
                    f"{mib(o['peak_rss_mib'])} | — |")
    rows.append(f"| sedna (this) | {rate(r['lines_per_s'])} | {mib(r['peak_rss_mib'])} | "
                f"{mib(r['tracemalloc_peak_mib'])} |")
    rows.append(f"| target (≥{SPEED_FACTOR:g}× faster, ≤{MEMORY_FACTOR:g}× memory) | "
                f"≥ {rate(t['lines_per_s'])} | ≤ {mib(t['peak_rss_mib'])} | |")
    rows.append("")
    rows.append(f"sedna runs (lines/s, fresh interpreter each): {runs}; median shown.")
    if o:
        rows.append(f"Speed-up over the original re-run here: {r['lines_per_s'] / o['lines_per_s']:.1f}×; "
                    f"memory: {r['peak_rss_mib'] / o['peak_rss_mib']:.2f}× of it.")
    rows.append(f"Targets met: {'yes' if r['meets_targets'] else 'no'}.")
    return "\n".join(rows)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(run_txt_parse_bench(n)["table"])
