#!/usr/bin/env python3
"""Solves a market file (as `platone market clear` reads it) with HiGHS, for
scripts/bench-clearing.sh: the same lexicographic objective as platone-clearing (most DSO
volume, then most TSO volume, then least cost), per slot and direction, as three LPs with
each optimum fixed before the next. For divisible sessions (no minima) the LP optimum is the
clearing's optimum (the flow problem is totally unimodular), so the objectives must agree.
Prints JSON: solve seconds (HiGHS `run` only) and seconds overall, and the objectives.

  highs_clear.py MARKET.json [ladder|bipartite]

`ladder` (the default) gives HiGHS the same aggregated network platone-clearing solves (offers
feed their ancestor areas' price ladders; pallets/clearing/src/ladder.rs), a few edges per
offer; `bipartite` one column per compatible offer and request, as the first formulation did.
Both are the same problem with the same optimum."""

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


def lexicographic(h, n, dso_cols, tso_cols, costs, dso_row, tso_row):
    """Most DSO volume, then most TSO volume with it fixed, then least cost with both fixed,
    on the model passed to `h`: (dso, tso, cost, solve seconds)."""
    inf = highspy.kHighsInf
    solve = 0.0

    def run(cols, values, sense):
        nonlocal solve
        c = np.zeros(n)
        c[cols] = values
        h.changeColsCost(n, np.arange(n, dtype=np.int32), c)
        h.changeObjectiveSense(sense)
        t = time.perf_counter()
        h.run()
        solve += time.perf_counter() - t
        return h.getInfo().objective_function_value

    maximize, minimize = highspy.ObjSense.kMaximize, highspy.ObjSense.kMinimize
    dso = run(dso_cols, 1.0, maximize) if dso_cols else 0.0
    h.changeRowBounds(dso_row, dso - 1e-6, inf)
    tso = run(tso_cols, 1.0, maximize) if tso_cols else 0.0
    h.changeRowBounds(tso_row, tso - 1e-6, inf)
    cost = run(list(range(n)), np.array(costs), minimize)
    return round(dso), round(tso), round(cost), solve


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
    costs = [float(offs[j][0]["price"]) for _, j in pairs]
    return lexicographic(h, n, dso_cols, tso_cols, costs, m - 2, m - 1)


def solve_step_ladder(h, reqs, offs, parents):
    """solve_step on the aggregated graph: (dso, tso, cost, solve seconds)."""
    ladders = {}
    for r, _ in reqs:
        ladders.setdefault(r["area"], set()).add(r["max_price"])
    rung, caps = {}, {}
    for area in sorted(ladders):
        caps[area] = sorted(ladders[area])
        for k, _ in enumerate(caps[area]):
            rung[(area, k)] = len(rung)
    cols_cost, cols_upper = [], []
    entries = []  # (row, col, coeff)
    inf = highspy.kHighsInf
    offer_row = {j: len(rung) + j for j in range(len(offs))}

    def column(cost, upper):
        cols_cost.append(cost)
        cols_upper.append(upper)
        return len(cols_cost) - 1

    for j, (o, _) in enumerate(offs):
        a = o["area"]
        while a is not None:
            if a in caps:
                k = next((k for k, c in enumerate(caps[a]) if c >= o["price"]), None)
                if k is not None:
                    c = column(float(o["price"]), inf)
                    entries += [(offer_row[j], c, 1.0), (rung[(a, k)], c, 1.0)]
            a = parents.get(a)
    for area, cs in caps.items():
        for k in range(1, len(cs)):
            c = column(0.0, inf)
            entries += [(rung[(area, k - 1)], c, -1.0), (rung[(area, k)], c, 1.0)]
    dso_row, tso_row = len(rung) + len(offs), len(rung) + len(offs) + 1
    dso_cols, tso_cols = [], []
    for r, q in reqs:
        c = column(0.0, float(q))
        k = caps[r["area"]].index(r["max_price"])
        entries += [(rung[(r["area"], k)], c, -1.0)]
        if r["requester"] == "dso":
            dso_cols.append(c)
            entries.append((dso_row, c, 1.0))
        else:
            tso_cols.append(c)
            entries.append((tso_row, c, 1.0))
    n, m = len(cols_cost), len(rung) + len(offs) + 2
    lower = [0.0] * len(rung) + [-inf] * len(offs) + [-inf, -inf]
    upper = [0.0] * len(rung) + [float(q) for _, q in offs] + [inf, inf]
    by_col = sorted(entries, key=lambda e: (e[1], e[0]))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.array(cols_upper)
    lp.row_lower_, lp.row_upper_ = np.array(lower), np.array(upper)
    starts, index, value = [0] * (n + 1), [], []
    for row, col, coeff in by_col:
        starts[col + 1] += 1
        index.append(row)
        value.append(coeff)
    for c in range(n):
        starts[c + 1] += starts[c]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, m
    lp.col_cost_ = np.zeros(n)
    h.clearModel()
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    return lexicographic(h, n, dso_cols, tso_cols, cols_cost, dso_row, tso_row)


def main():
    market = json.load(open(sys.argv[1]))
    formulation = sys.argv[2] if len(sys.argv) > 2 else "ladder"
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
            step = solve_step if formulation == "bipartite" else solve_step_ladder
            dso, tso, cost, s = step(h, reqs, offs, parents)
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
