"""Knowledge-base write/load benchmark.

Writes a version with ``n_tasks`` task groups (one small artifact file and
metrics each, plus two tasks per group in the catalog) and loads it back
(``open_index`` on the root pointer + reading every artifact). Reports the
median of ``repeats`` runs.

    PYTHONPATH=src python benchmarks/bench_kb.py
"""

import os
import shutil
import statistics
import tempfile
import time

from sedna.knowledge import KnowledgeBase


def _write_version(kb, n_tasks, payload, parent):
    """Commit one version with ``n_tasks`` groups; returns it."""
    w = kb.begin_version(parent=parent)
    groups = []
    for i in range(n_tasks):
        rel = f"models/group-{i:04d}.model"
        with open(w.path(rel), "wb") as f:
            f.write(payload)
        groups.append({
            "entry": f"group-{i}",
            "model": {"url": rel, "metrics": {"accuracy": 0.5 + (i % 50) / 100, "loss": 1.0 / (i + 1)}},
            "n_samples": 20,
            "tasks": [{"entry": f"task-{i}-{j}", "meta_attr": f"attr-{j}", "n_samples": 10}
                      for j in range(2)],
        })
    return w.commit({"task_groups": groups})


def _load_everything(index_url):
    """Open the index and read every artifact; returns the bytes read."""
    version = KnowledgeBase.open_index(index_url)
    total = 0
    for group in version.task_groups:
        with open(version.local_path(group["model"]["url"]), "rb") as f:
            total += len(f.read())
    return total


def run_kb_bench(n_tasks=100, repeats=5, artifact_bytes=4096):
    """Time writing and loading a KB version with ``n_tasks`` groups; returns a dict."""
    payload = os.urandom(artifact_bytes)
    root = tempfile.mkdtemp(prefix="sedna-bench-kb-")
    try:
        kb = KnowledgeBase(root)
        writes, loads, version = [], [], None
        for _ in range(repeats):
            start = time.perf_counter()
            version = _write_version(kb, n_tasks, payload, version)
            writes.append(time.perf_counter() - start)
            start = time.perf_counter()
            read = _load_everything(kb.index_url)
            loads.append(time.perf_counter() - start)
            assert read == n_tasks * artifact_bytes
        write_s, load_s = statistics.median(writes), statistics.median(loads)
        return {
            "n_tasks": n_tasks,
            "artifact_bytes": artifact_bytes,
            "repeats": repeats,
            "write_median_s": write_s,
            "load_median_s": load_s,
            "write_per_task_ms": 1000 * write_s / n_tasks,
            "load_per_task_ms": 1000 * load_s / n_tasks,
            "versions_written": len(kb.versions()),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def format_table(result):
    """A Markdown table of a ``run_kb_bench`` result."""
    rows = [
        ("write version (index + artifacts + catalog)", result["write_median_s"],
         result["write_per_task_ms"]),
        ("load version (open_index + read artifacts)", result["load_median_s"],
         result["load_per_task_ms"]),
    ]
    head = (f"Knowledge base, {result['n_tasks']} task groups, "
            f"{result['artifact_bytes'] // 1024} KiB artifact each, median of {result['repeats']}")
    lines = [head, "", "| operation | median (s) | per task group (ms) |", "|---|---:|---:|"]
    lines += [f"| {name} | {total:.4f} | {per:.3f} |" for name, total, per in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_table(run_kb_bench()))
