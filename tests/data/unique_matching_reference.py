#!/usr/bin/python3
"""Ground truth for `deft select`: the reference's unique-neighbour matching
(TAO data services, mining/tmm/selection.py: iterative_tmm_retrieval, perform_tmm_retrieval,
_merge_capped; quoted in ../shared/specs/tao-compat.md) ported line by line to numpy, with a
brute-force k-nearest search in place of cuML. Independent of deft's code: only numpy.

Input JSON: {"targets": {"paths": [...], "vectors": [[...]]}, "pool": {...}, "desired": n,
"expansion": f, "metric": "euclidean"|"cosine"|"manhattan", "exclude": [paths]}.
Output JSON: {"passes": [{"file": name, "rows": [[target, [src...], [dist...]]],
"merged": [files this pass added to the result]}],
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
    added = []
    for fp, _ in sorted(best.items(), key=lambda item: (item[1], item[0])):
        if len(retrieved) >= desired:
            break
        if fp not in retrieved:
            added.append(fp)
        retrieved.add(fp)
    return added


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
        added = merge_capped(retrieved, rows, desired)
        # deft's provenance names the pass whose claim entered the result (not in the
        # reference's outputs: the test checks selection_provenance.parquet against it).
        passes.append({"file": f"{subset}_iteration_{iteration + 1}_topn_{topn}.parquet",
                       "rows": rows, "merged": sorted(added)})
        if not added or not unsatisfied:
            break
        remaining = [remaining[i] for i in unsatisfied]
    return retrieved, passes


def basename(path):
    return path.rstrip("/").rsplit("/", 1)[-1] if path.rstrip("/") else ""


def stem(path):
    name = basename(path)
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


# --- detection files (dataset_loading.py: _load_coco, _load_kitti, coco_lookup) ---
def load_coco(path):
    coco = json.load(open(path, encoding="utf-8"))
    image_fp = {}
    for img in coco.get("images", []):
        fp = img.get("file_name") or img.get("filepath") or img.get("file_path") or ""
        if fp and img.get("id") is not None:
            image_fp[img["id"]] = fp
    cat_name = {c["id"]: c["name"] for c in coco.get("categories", [])}
    fp_cls, bn_cls, fp_box, bn_box, bn_fps = {}, {}, {}, {}, {}
    for ann in coco.get("annotations", []):
        fp = image_fp.get(ann.get("image_id"))
        name = cat_name.get(ann.get("category_id"))
        if not fp or not name:
            continue
        bn = basename(fp)
        fp_cls.setdefault(fp, set()).add(name)
        bn_cls.setdefault(bn, set()).add(name)
        bn_fps.setdefault(bn, set()).add(fp)
        bbox = ann.get("bbox")
        if bbox and len(bbox) == 4:
            fp_box.setdefault(fp, []).append((name, bbox))
            bn_box.setdefault(bn, []).append((name, bbox))
    for bn, fps in bn_fps.items():
        if len(fps) > 1:
            bn_cls.pop(bn, None)
            bn_box.pop(bn, None)
    return fp_cls, bn_cls, fp_box, bn_box


def load_kitti(folder):
    bn_cls, bn_box = {}, {}
    files = sorted(f for f in os.listdir(folder) if f.endswith(".txt"))
    if not files:
        raise SystemExit("no .txt files")
    for f in files:
        bn = f[:-4]
        for line in open(os.path.join(folder, f), encoding="utf-8"):
            parts = line.strip().split()
            if len(parts) < 9 or parts[0].lower() == "dontcare":
                continue
            try:
                x1, y1, x2, y2 = (float(parts[i]) for i in range(4, 8))
            except ValueError:
                continue
            bn_cls.setdefault(bn, set()).add(parts[0])
            bn_box.setdefault(bn, []).append((parts[0], [x1, y1, x2 - x1, y2 - y1]))
    return {}, bn_cls, {}, bn_box


def lookup(fp, full, base, default):
    if fp in full:
        return full[fp]
    return base.get(basename(fp)) or base.get(stem(fp)) or default


def load(path, fmt):
    if not path:
        return None
    return load_coco(path) if fmt == "coco" else load_kitti(path)


# --- statistics (reporting/stats.py) ---
def distribution(fps, ann, rare):
    if ann is None or not rare:
        return {"total_images": len(fps), "rare_images": 0, "common_images": len(fps),
                "rare_instances": 0}
    r = c = inst = 0
    for fp in fps:
        hits = {x.lower() for x in lookup(fp, ann[0], ann[1], set())} & rare
        inst += len(hits)
        if hits:
            r += 1
        else:
            c += 1
    return {"total_images": len(fps), "rare_images": r, "common_images": c,
            "rare_instances": inst}


def per_class_counts(fps, ann):
    if ann is None:
        return {}
    per, images = {}, {}
    for fp in fps:
        for name, _ in lookup(fp, ann[2], ann[3], []):
            per.setdefault(name, {"image_count": 0, "instance_count": 0})["instance_count"] += 1
            images.setdefault(name, set()).add(fp)
    for name, s in images.items():
        per[name]["image_count"] = len(s)
    return per


def dataset(fps, ann, rare):
    d = distribution(fps, ann, rare)
    d["per_class"] = per_class_counts(fps, ann)
    return d


def arr_stats(a):
    a = np.asarray(a)
    return {"count": int(a.size), "min": float(a.min()), "max": float(a.max()),
            "mean": float(a.mean()), "median": float(np.median(a)), "std": float(a.std()),
            "p25": float(np.percentile(a, 25)), "p75": float(np.percentile(a, 75))}


def first_top1(passes):
    out, seen = [], set()
    for p in passes:
        for target, _, dists in p["rows"]:
            if target not in seen:
                seen.add(target)
                out.append(dists[0])
    return out


def distance_stats(passes, rare):
    by_file = {p["file"]: p for p in passes}
    stats = {}
    for name in sorted(rare | {"non_rare"}):
        files = sorted(f for f in by_file if f.startswith(name + "_iteration_"))
        if name != "non_rare":
            files += sorted(f for f in by_file if f.startswith(name + "_fallback_iteration_"))
        d = first_top1([by_file[f] for f in files])
        if d:
            stats[name] = arr_stats(d)
    d = first_top1([by_file[f] for f in sorted(by_file)])
    if d:
        stats["overall"] = arr_stats(d)
    return stats


def allocate(ratios, desired):
    total = sum(ratios.values())
    if desired <= 0 or total <= 0:
        return {g: 0 for g in ratios}
    ideal = {g: desired * r / total for g, r in ratios.items()}
    quota = {g: int(v) for g, v in ideal.items()}
    leftover = desired - sum(quota.values())
    for g in sorted(ratios, key=lambda s: (ideal[s] - quota[s], s), reverse=True)[:leftover]:
        quota[g] += 1
    return quota


def main():
    case = json.load(open(sys.argv[1]))
    targets = l2_normalize(case["targets"]["vectors"])
    pool = l2_normalize(case["pool"]["vectors"])
    target_paths = case["targets"]["paths"]
    pool_paths = case["pool"]["paths"]
    names = set()
    for p in case.get("exclude", []):
        names.add(p)
        names.add(basename(p))
    keep = [i for i, p in enumerate(pool_paths) if p not in names and basename(p) not in names]
    pool = pool[keep] if keep else pool[:0]
    pool_paths = [pool_paths[i] for i in keep]
    desired, expansion, metric = case["desired"], case["expansion"], case["metric"]
    rare = {c.strip().lower() for c in case.get("rare", "").split(",") if c.strip()}
    fmt = case.get("format")
    src_ann = load(case.get("source_detections"), fmt)
    tgt_ann = load(case.get("target_detections"), fmt)
    policy = case.get("policy", "global")
    all_passes = []

    def run(t_idx, p_idx, quota, excluded, subset):
        got, passes = iterative(targets[t_idx], [target_paths[i] for i in t_idx], pool[p_idx],
                                [pool_paths[i] for i in p_idx], quota, expansion, metric,
                                excluded, subset)
        all_passes.extend(passes)
        return got

    if policy == "global":
        retrieved = run(list(range(len(targets))), list(range(len(pool_paths))), desired, set(),
                        "global")
        summary = {"allocation_policy": "global", "desired_unique_count": desired,
                   "retrieved_unique_count": len(retrieved),
                   "coverage_pct": round(len(retrieved) / desired * 100, 2),
                   "target_queries": len(targets), "rare_classes": sorted(rare)}
        if src_ann is not None or tgt_ann is not None:
            summary["target_dataset"] = dataset(set(target_paths), tgt_ann, rare)
            summary["resultant_dataset"] = dataset(retrieved, src_ann, rare)
    else:
        def has(ann, fp, c):
            return c in {x.lower() for x in lookup(fp, ann[0], ann[1], set())}

        def is_rare(ann, fp):
            return bool({x.lower() for x in lookup(fp, ann[0], ann[1], set())} & rare)

        subsets = {}
        for c in rare:
            subsets[c] = ([i for i, fp in enumerate(pool_paths) if has(src_ann, fp, c)],
                          [i for i, fp in enumerate(target_paths) if has(tgt_ann, fp, c)])
        common = ([i for i, fp in enumerate(pool_paths) if not is_rare(src_ann, fp)],
                  [i for i, fp in enumerate(target_paths) if not is_rare(tgt_ann, fp)])
        total = len(target_paths)
        ratios = {c: len(subsets[c][1]) / total if total else 0.0 for c in sorted(rare)}
        common_ratio = len(common[1]) / total if total else 0.0
        quotas = allocate({**ratios, "non_rare": common_ratio}, desired)
        taken = set()
        for c in sorted(rare):
            src, tgt = subsets[c]
            q = quotas.get(c, 0)
            if not tgt or q <= 0:
                continue
            got = set()
            if src:
                got = run(tgt, src, q, taken, c)
            if len(got) < q and common[0]:
                got |= run(tgt, common[0], q - len(got), taken | got, c + "_fallback")
            taken |= got
        q = quotas.get("non_rare", 0)
        if common[1] and q > 0 and common[0]:
            taken |= run(common[1], common[0], q, taken, "non_rare")
        retrieved = taken
        summary = {
            "allocation_policy": "class_stratified", "desired_unique_count": desired,
            "retrieved_unique_count": len(retrieved),
            "coverage_pct": round(len(retrieved) / desired * 100, 2),
            "rare_classes": sorted(rare),
            "target_queries": {"rare": sum(len(subsets[c][1]) for c in rare),
                               "non_rare": len(common[1])},
            "allocation": {
                "per_class": {c: {"target_count": len(subsets[c][1]),
                                  "ratio_pct": round(ratios[c] * 100, 2),
                                  "desired_count": quotas.get(c, 0)} for c in sorted(ratios)},
                "non_rare": {"target_count": len(common[1]),
                             "ratio_pct": round(common_ratio * 100, 2),
                             "desired_count": quotas.get("non_rare", 0)},
                "total_desired": sum(quotas.values())},
            "target_dataset": dataset(set(target_paths), tgt_ann, rare),
            "resultant_dataset": dataset(retrieved, src_ann, rare),
            "distance_stats": {"metric": metric, "based_on": "top1_distance",
                               "per_class": distance_stats(all_passes, rare)},
        }
    out = {"passes": all_passes, "final": sorted(retrieved), "retrieved": len(retrieved),
           "coverage_pct": round(len(retrieved) / desired * 100, 2),
           "target_queries": len(targets), "summary": summary}
    json.dump(out, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
