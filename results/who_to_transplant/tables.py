"""Tables of the who-to-transplant study from its sweeps' sweep.csv (run by make.sh).

Writes results/who_to_transplant/tables.md: for all-comers against excluding the high-risk
group, and for the grid of high-risk share x TRM, the overall TRM, power of each test
unstratified and stratified, each test's rate of declaring benefit at the never-better boundary,
the true crossing, the long-term benefit to 20 years and when the analysis comes.
"""

import csv
import sys
from collections import defaultdict

HERE = "results/who_to_transplant"
STANDARD_TRM = 0.0632
TESTS = ["logrank", "logrank[strata]", "mw", "mw[strata]", "fh(0,1)", "fh(0,1)[strata]"]


def points(path):
    """Per point: its keys' values and {metric: (value, se)}."""
    out = defaultdict(lambda: {"keys": {}, "m": {}})
    with open(path, newline="") as f:
        rows = csv.reader(f)
        header = next(rows)
        keys = header[1:-3]
        for r in rows:
            p = out[int(r[0])]
            p["keys"] = dict(zip(keys, map(float, r[1 : 1 + len(keys)])))
            p["m"][r[-3]] = (float(r[-2]), float(r[-1]))
    return [out[k] for k in sorted(out)]


def pct(m, name):
    v, se = m.get(name, (float("nan"), float("nan")))
    return f"{100 * v:.1f} ± {100 * se:.1f}"


def num(m, name, digits=2):
    v = m.get(name, (float("nan"),))[0]
    return "not reached" if v != v else f"{v:.{digits}f}"


def table(o, pts, label):
    o.write(f"| {label} | " + " | ".join(f"`{t}`" for t in TESTS) + " |\n")
    o.write("|---" * (len(TESTS) + 1) + "|\n")
    for lab, p in pts:
        o.write(f"| {lab} | " + " | ".join(pct(p["m"], f"power.{t}") for t in TESTS) + " |\n")
    o.write("\nDeclaring benefit at each point's never-better boundary (%; wrong for every test here):\n\n")
    o.write(f"| {label} | boundary late HR | " + " | ".join(f"`{t}`" for t in TESTS) + " |\n")
    o.write("|---" * (len(TESTS) + 2) + "|\n")
    for lab, p in pts:
        cells = " | ".join(pct(p["m"], f"never_better.{t}") for t in TESTS)
        o.write(f"| {lab} | {num(p['m'], 'never_better.value', 3)} | {cells} |\n")
    o.write("\nThe model's truth (no simulation):\n\n")
    o.write(f"| {label} | curves cross at (years) | ΔRMST at 20 years (event-free years) | break-even (years) | analysis at (years) |\n")
    o.write("|---|---|---|---|---|\n")
    for lab, p in pts:
        m = p["m"]
        o.write(
            f"| {lab} | {num(m, 'crossing.curves_equal')} | {num(m, 'truth.long_term.gain')} | "
            f"{num(m, 'truth.long_term.break_even')} | {num(m, 'truth.expected_cut')} |\n"
        )


def main():
    with open(f"{HERE}/tables.md", "w") as o:
        o.write("# Who to transplant: tables (written by make.sh; read README.md)\n\n")
        o.write("## All-comers against excluding the cardiopulmonary-risk group\n\n")
        ie = points(f"{HERE}/include_exclude/sweep.csv")
        labels = []
        for p in ie:
            share = p["keys"]["strata.cardiopulmonary_risk.share"]
            rate = p["keys"]["design.accrual.rates[0]"]
            accrual = 156 / rate
            who = "all-comers" if share > 0 else "exclude high risk"
            labels.append((f"{who} ({rate:g}/year: accrual {accrual:.1f} y)", p))
        table(o, labels, "population")
        o.write("\n## High-risk share × its TRM (all-comers enrolment rate)\n\n")
        grid = points(f"{HERE}/grid/sweep.csv")
        labels = []
        for p in grid:
            share = p["keys"]["strata.cardiopulmonary_risk.share"]
            trm = p["keys"]["strata.cardiopulmonary_risk.arms.hsct.causes.treatment_death.early_risk.risk"]
            overall = share * trm + (1 - share) * STANDARD_TRM
            labels.append((f"{share:g} at {100 * trm:g}% (overall {100 * overall:.1f}%)", p))
        table(o, labels, "high-risk share at TRM")
    print(f"wrote {HERE}/tables.md", file=sys.stderr)


main()
