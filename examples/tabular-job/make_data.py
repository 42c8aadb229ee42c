"""Rows for the example job: ``python make_data.py`` appends 400 rows of the
sites north and south to the Dataset's CSV (round 1) and 20 rows to the
inference worker's input; ``--site east`` appends rows of a site the job has
not seen (round 2 learns it as a new task). The folders are read from the
manifests beside this script."""

import argparse
import csv
import os

import numpy as np
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
COLUMNS = ["site", "temperature", "humidity", "comfortable"]
COMFORT_FROM = {"north": 16.0, "south": 24.0, "east": 20.0}  # each site's own threshold


def rows(sites, n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        site = sites[i % len(sites)]
        t, h = rng.normal(20, 6), rng.uniform(20, 80)
        out.append([site, f"{t:.2f}", f"{h:.1f}", int(t > COMFORT_FROM[site])])
    return out


def append(path, new_rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fresh = not os.path.exists(path) or os.path.getsize(path) == 0
    with open(path, "a", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        if fresh:
            w.writerow(COLUMNS)
        w.writerows(new_rows)


def manifest_paths():
    """(the Dataset's index, the inference worker's input), from the manifests."""
    with open(os.path.join(HERE, "dataset.yaml"), encoding="utf-8") as f:
        index = yaml.safe_load(f)["spec"]["url"]
    with open(os.path.join(HERE, "job.yaml"), encoding="utf-8") as f:
        job = yaml.safe_load(f)
    env = job["spec"]["deploySpec"]["template"]["spec"]["containers"][0]["env"]
    return index, next(e["value"] for e in env if e["name"] == "infer_dataset_url")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--site", nargs="+", default=["north", "south"], choices=sorted(COMFORT_FROM))
    p.add_argument("--rows", type=int, default=400, help="rows appended to the Dataset (default 400)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    index, infer = manifest_paths()
    append(index, rows(args.site, args.rows, args.seed))
    append(infer, rows(args.site, 20, args.seed + 100))
    print(f"appended {args.rows} rows of {', '.join(args.site)} to {index} and 20 to {infer}")


if __name__ == "__main__":
    main()
