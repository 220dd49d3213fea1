#!/usr/bin/env python3
"""Solves a market file (as `platone market clear` reads it) with HiGHS, for
scripts/bench-clearing.sh: the same lexicographic objective as platone-clearing (most DSO
volume, then most TSO volume, then least cost), per slot and direction, as three LPs with
each optimum fixed before the next. For divisible sessions (no minima) the LP optimum is the
clearing's optimum (the flow problem is totally unimodular), so the objectives must agree.
Prints JSON: solve seconds (HiGHS `run` only) and seconds overall, and the objectives."""

import json
import sys
import time

import highspy
import numpy as np


def contains(parents, outer, inner):
    a = inner
    while a is not None:
        if a == outer:
            return True
        a = parents.get(a)
    return False


def solve_step(h, reqs, offs, parents):
    """One slot and direction: (dso, tso, cost, solve seconds)."""
    pairs = [
        (i, j)
        for i, (r, rq) in enumerate(reqs)
        for j, (o, oq) in enumerate(offs)
        if o["price"] <= r["max_price"] and contains(parents, r["area"], o["area"])
    ]
    if not pairs:
        return 0, 0, 0, 0.0
    n = len(pairs)
    inf = highspy.kHighsInf
    h.clearModel()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.full(n, inf)
    # Rows: one per request (≤ its quantity), one per offer (≤ its quantity), then the DSO and
    # TSO volume rows that fix earlier optima.
    rows = {}
    for k, (i, j) in enumerate(pairs):
        rows.setdefault(("r", i), []).append(k)
        rows.setdefault(("o", j), []).append(k)
    dso_cols = [k for k, (i, _) in enumerate(pairs) if reqs[i][0]["requester"] == "dso"]
    tso_cols = [k for k, (i, _) in enumerate(pairs) if reqs[i][0]["requester"] == "tso"]
    keys = list(rows)
    starts, index, value, upper = [], [], [], []
    for key in keys:
        starts.append(len(index))
        index.extend(rows[key])
        value.extend([1.0] * len(rows[key]))
        upper.append(float(reqs[key[1]][1] if key[0] == "r" else offs[key[1]][1]))
    for cols in (dso_cols, tso_cols):
        starts.append(len(index))
        index.extend(cols)
        value.extend([1.0] * len(cols))
        upper.append(inf)
    m = len(upper)
    lp.num_row_ = m
    lp.row_lower_ = np.concatenate([np.full(m - 2, -inf), [-inf, -inf]])
    lp.row_upper_ = np.array(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array(starts + [len(index)], dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = m
    lp.col_cost_ = np.zeros(n)
    h.passModel(lp)
    solve = 0.0

    def run(costs, sense):
        nonlocal solve
        h.changeColsCost(n, np.arange(n, dtype=np.int32), np.array(costs, dtype=float))
        h.changeObjectiveSense(sense)
        t = time.perf_counter()
        h.run()
        solve += time.perf_counter() - t
        return h.getInfo().objective_function_value

    maximize, minimize = highspy.ObjSense.kMaximize, highspy.ObjSense.kMinimize
    dso = run([1.0 if reqs[i][0]["requester"] == "dso" else 0.0 for i, _ in pairs], maximize)
    h.changeRowBounds(m - 2, dso - 1e-6, inf)
    tso = run([1.0 if reqs[i][0]["requester"] == "tso" else 0.0 for i, _ in pairs], maximize)
    h.changeRowBounds(m - 1, tso - 1e-6, inf)
    cost = run([float(offs[j][0]["price"]) for _, j in pairs], minimize)
    return round(dso), round(tso), round(cost), solve


def main():
    market = json.load(open(sys.argv[1]))
    start = time.perf_counter()
    parents = {a["id"]: a["parent"] for a in market["areas"]}
    slots = sorted(
        {s for item in market["requests"] + market["offers"] for s, _ in item["quantities"]}
    )
    h = highspy.Highs()
    objectives, solve = [], 0.0
    for slot in slots:
        for direction in ("up", "down"):
            def at(items):
                return [
                    (it, dict(it["quantities"])[slot])
                    for it in items
                    if it["direction"] == direction and slot in dict(it["quantities"])
                ]

            reqs, offs = at(market["requests"]), at(market["offers"])
            if not reqs or not offs:
                continue
            dso, tso, cost, s = solve_step(h, reqs, offs, parents)
            solve += s
            objectives.append(
                {"slot": slot, "direction": direction, "dso_volume": dso, "tso_volume": tso, "cost": cost}
            )
    print(
        json.dumps(
            {"solve_seconds": solve, "seconds": time.perf_counter() - start, "objectives": objectives}
        )
    )


if __name__ == "__main__":
    main()
