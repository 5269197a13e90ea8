#!/usr/bin/python3
"""Ground truth for `deft select`: the reference's unique-neighbour matching
(TAO data services, mining/tmm/selection.py: iterative_tmm_retrieval, perform_tmm_retrieval,
_merge_capped; quoted in ../shared/specs/tao-compat.md) ported line by line to numpy, with a
brute-force k-nearest search in place of cuML. Independent of deft's code: only numpy.

Input JSON: {"targets": {"paths": [...], "vectors": [[...]]}, "pool": {...}, "desired": n,
"expansion": f, "metric": "euclidean"|"cosine"|"manhattan", "exclude": [paths]}.
Output JSON: {"passes": [{"file": name, "rows": [[target, [src...], [dist...]]]}],
"final": [...], "retrieved": n, "coverage_pct": x, "target_queries": n}.

Precision as deft reads the tables: vectors are float32, normalised with a double norm and
stored back as float32; distances are accumulated in double. kNN ties go to the earlier pool
row (a stable sort), the order deft documents; the reference leaves them to cuML.
"""
import json
import math
import os
import sys

import numpy as np

MAX_ITERATIONS = 8


def l2_normalize(x):
    x = np.asarray(x, dtype=np.float32).astype(np.float64)
    norms = np.sqrt((x * x).sum(axis=1, keepdims=True))
    return (x * (1.0 / norms)).astype(np.float32)


def distances(metric, targets, pool):
    t = targets.astype(np.float64)[:, None, :]
    p = pool.astype(np.float64)[None, :, :]
    if metric == "euclidean":
        return np.sqrt(((t - p) ** 2).sum(axis=2))
    if metric == "cosine":
        return 1.0 - (t * p).sum(axis=2)
    return np.abs(t - p).sum(axis=2)


def perform_tmm_retrieval(target_emb, target_paths, source_emb, source_paths, topn, metric,
                          excluded, expansion):
    keep = [i for i, p in enumerate(source_paths) if p not in excluded]
    if not keep:
        return [], []
    src = source_emb[keep]
    src_paths = [source_paths[i] for i in keep]
    k = min(expansion * topn, len(keep))
    if k == 0:
        return [], []
    d = distances(metric, target_emb, src)
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    rows = []
    unsatisfied = []
    assigned = set()
    for t in range(len(target_emb)):
        tentative = []
        for c in range(k):
            if len(tentative) >= topn:
                break
            idx = int(order[t, c])
            fp = src_paths[idx]
            if fp in assigned:
                continue
            if any(fp == picked[0] for picked in tentative):
                continue
            tentative.append((fp, float(d[t, idx])))
        if len(tentative) < topn:
            unsatisfied.append(t)
            continue
        for fp, _ in tentative:
            assigned.add(fp)
        rows.append([target_paths[t], [fp for fp, _ in tentative],
                     [dist for _, dist in tentative]])
    return rows, unsatisfied


def merge_capped(retrieved, rows, desired):
    best = {}
    for _, fps, dists in rows:
        for fp, dist in zip(fps, dists):
            best[fp] = min(dist, best.get(fp, math.inf))
    before = len(retrieved)
    for fp, _ in sorted(best.items(), key=lambda item: (item[1], item[0])):
        if len(retrieved) >= desired:
            break
        retrieved.add(fp)
    return len(retrieved) - before


def iterative(targets, target_paths, pool, pool_paths, desired, expansion, metric, excluded,
              subset):
    passes = []
    if len(targets) == 0 or desired <= 0:
        return set(), passes
    topn = max(1, int(np.ceil(desired / len(targets))))
    retrieved = set()
    remaining = list(range(len(targets)))
    for iteration in range(MAX_ITERATIONS):
        if len(retrieved) >= desired or not remaining:
            break
        rows, unsatisfied = perform_tmm_retrieval(
            targets[remaining], [target_paths[i] for i in remaining], pool, pool_paths, topn,
            metric, excluded | retrieved, expansion * (iteration + 1))
        if not rows:
            break
        passes.append({"file": f"{subset}_iteration_{iteration + 1}_topn_{topn}.parquet",
                       "rows": rows})
        new_unique = merge_capped(retrieved, rows, desired)
        if new_unique == 0 or not unsatisfied:
            break
        remaining = [remaining[i] for i in unsatisfied]
    return retrieved, passes


def basename(path):
    return path.rstrip("/").rsplit("/", 1)[-1] if path.rstrip("/") else ""


def main():
    case = json.load(open(sys.argv[1]))
    targets = l2_normalize(case["targets"]["vectors"])
    pool = l2_normalize(case["pool"]["vectors"])
    pool_paths = case["pool"]["paths"]
    names = set()
    for p in case.get("exclude", []):
        names.add(p)
        names.add(basename(p))
    excluded = {p for p in pool_paths if p in names or basename(p) in names}
    retrieved, passes = iterative(targets, case["targets"]["paths"], pool, pool_paths,
                                  case["desired"], case["expansion"], case["metric"], excluded,
                                  "global")
    out = {"passes": passes, "final": sorted(retrieved), "retrieved": len(retrieved),
           "coverage_pct": round(len(retrieved) / case["desired"] * 100, 2),
           "target_queries": len(targets)}
    json.dump(out, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
