#!/usr/bin/env bash
# The monitoring study: the calibrated model (scenarios/hsct_monitoring.toml without its
# [monitoring] table, with its never-better boundary) at the size that gives the fixed design 80%
# power for each test (`trialsim plan`: FH(0,1) n = 180, log-rank n = 596), monitored at a third
# and two thirds of the information by each rule in turn, on the same simulated trials (same
# seed). Every variant reports what the committee sees at the interims ([monitoring.committee]:
# conditional power under three drifts) and both sides of its rule (the scenario's trials,
# identical arms, the never-better boundary). The predictive-probability variants take the joint
# calibration's 500 draws as their prior. Writes one run directory per (test, rule) here and the
# tables README.md quotes (table.md, sides.md, committee.md).
#
#   bash results/astis_monitoring/make.sh        # from the repository root; about 2 minutes
set -euo pipefail
here=results/astis_monitoring
trialsim=${TRIALSIM:-target/release/trialsim}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The model and design without the monitoring table, with 4,000 replicates.
sed '/^\[monitoring/,$d' scenarios/hsct_monitoring.toml | sed '/^# Interim monitoring of the same trials/,$d' > "$work/base.toml"
# The never-better boundary (the scenario's own table, which the line above leaves out with
# everything after [monitoring]): both late hazard ratios raised until the transplant is nowhere
# better, for what each rule saves when it is not.
sed -n '/^\[analysis.never_better\]/,$p' scenarios/hsct_monitoring.toml > "$work/never_better.toml"
draws=results/calibration/joint/astis/draws.csv

looks='looks = [{ fraction = 0.33 }, { fraction = 0.67 }]'
futility_design=$'[monitoring.futility]\nspending = { hsd = -2 }\nbeta = 0.2\nalternative = "design"'
futility_truth=$'[monitoring.futility]\nspending = { hsd = -2 }\nbeta = 0.2\nalternative = "truth"'
harm=$'[monitoring.harm]\nz = [2.5, 2.5]'
cp_design=$'[monitoring.futility]\nrule = "conditional_power"\nbelow = 0.1\nunder = "design"'
cp_trend=$'[monitoring.futility]\nrule = "conditional_power"\nbelow = 0.1\nunder = "trend"'
cp_model=$'[monitoring.futility]\nrule = "conditional_power"\nbelow = 0.1\nunder = "model"'
pp=$'[monitoring.futility]\nrule = "predictive_probability"\nbelow = 0.1'
committee=$'[monitoring.committee]\nthreshold = 0.1'
safety=$'[monitoring.safety]\ncause = "treatment_death"\ncompeting = ["disease_death"]\narm = "hsct"\nwindow = 0.25\nafter = [20, 40, 60]\nstop_if_at_least = [5, 8, 10]'

variant() { # test n name trm monitoring-body rule [run options] (rule: for the title)
  local test=$1 n=$2 name=$3 trm=$4 body=$5 rule=$6
  shift 6
  local file="$work/${test}_${name}.toml"
  local label; label=$( [ "$test" = fh01 ] && echo 'FH(0,1)' || echo 'log-rank' )
  # Each variant's reports say what it is: its test, size, looks and rule.
  local title="HSCT vs cyclophosphamide, the calibrated model at n = $n (80% power for $label), monitored by $label at a third and two thirds of the information: $rule"
  sed -e "s/^n = 156/n = $n/" -e "s/risk = 0.1024/risk = $trm/" \
      -e "s/^name = \"hsct_monitoring\"/name = \"${test}_${name}\"/" \
      -e "s/^title = .*/title = \"$title\"/" "$work/base.toml" > "$file"
  # The safety variants change transplant mortality, and at 3% no late hazard ratio makes the
  # transplant never better: their both sides are the scenario's trials and identical arms.
  case $name in safety_*) ;; *) cat "$work/never_better.toml" >> "$file" ;; esac
  printf '\n[monitoring]\ntests = ["%s"]\n%s\n%s\n%s\n' "$( [ "$test" = fh01 ] && echo 'fh(0,1)' || echo logrank )" "$looks" "$body" "$committee" >> "$file"
  "$trialsim" run "$file" --out "$here/${test}_${name}" --quiet "$@" > /dev/null
  echo "$test $name done" >&2
}

for pair in "fh01 180" "logrank 596"; do
  set -- $pair
  t=$1 n=$2
  # The efficacy-only variant's replicates (in the work directory) give committee.md's example.
  variant "$t" "$n" efficacy_only 0.1024 "" "O'Brien–Fleming efficacy only" \
    --export-replicates
  mv "$here/${t}_efficacy_only/replicates.csv" "$work/${t}_replicates.csv"
  variant "$t" "$n" futility_design 0.1024 "$futility_design" \
    "O'Brien–Fleming efficacy and β-spending futility (HSD −2) under the design's drift"
  variant "$t" "$n" futility_truth 0.1024 "$futility_truth" \
    "O'Brien–Fleming efficacy and β-spending futility (HSD −2) under the model's drift"
  variant "$t" "$n" futility_harm 0.1024 "$futility_design"$'\n'"$harm" \
    "O'Brien–Fleming efficacy, β-spending futility (design drift) and a harm bound z ≥ 2.5"
  variant "$t" "$n" cp_design 0.1024 "$cp_design" \
    "O'Brien–Fleming efficacy and futility when the conditional power under the design's drift is below 10%"
  variant "$t" "$n" cp_trend 0.1024 "$cp_trend" \
    "O'Brien–Fleming efficacy and futility when the conditional power under the current trend is below 10%"
  variant "$t" "$n" cp_model 0.1024 "$cp_model" \
    "O'Brien–Fleming efficacy and futility when the conditional power under the model's path is below 10%"
  variant "$t" "$n" predictive 0.1024 "$pp" \
    "O'Brien–Fleming efficacy and futility when the predictive probability over the calibration's draws is below 10%" \
    --draws "$draws"
  variant "$t" "$n" safety_trm03 0.03 "$safety" \
    "O'Brien–Fleming efficacy and a safety rule on transplant deaths, treatment-related mortality 3%"
  variant "$t" "$n" safety_trm10 0.1024 "$safety" \
    "O'Brien–Fleming efficacy and a safety rule on transplant deaths, treatment-related mortality 10% (ASTIS)"
  variant "$t" "$n" safety_trm20 0.20 "$safety" \
    "O'Brien–Fleming efficacy and a safety rule on transplant deaths, treatment-related mortality 20%"
done

python3 - "$here" "$work" <<'PY'
import json, sys, pathlib
here = pathlib.Path(sys.argv[1])
rules = [("efficacy_only", "O'Brien–Fleming efficacy only"),
         ("futility_design", "+ β-spending futility (design drift)"),
         ("futility_truth", "+ β-spending futility (model's drift)"),
         ("futility_harm", "+ futility (design) + harm z ≥ 2.5"),
         ("cp_design", "+ futility: CP (design drift) < 10%"),
         ("cp_trend", "+ futility: CP (trend) < 10%"),
         ("cp_model", "+ futility: CP (model) < 10%"),
         ("predictive", "+ futility: predictive probability < 10%"),
         ("safety_trm03", "efficacy + safety rule, TRM 3%"),
         ("safety_trm10", "efficacy + safety rule, TRM 10% (ASTIS)"),
         ("safety_trm20", "efficacy + safety rule, TRM 20%")]
tests = [("fh01", "FH(0,1)", 180), ("logrank", "log-rank", 596)]
pct = lambda x: f"{100 * x:.1f}"
def monitoring(test, key):
    return json.load(open(here / f"{test}_{key}" / "summary.json"))["monitoring"]

# What each rule costs when the transplant works (the scenario's trials).
out = ["| test (n) | rule | power | fixed design | lost: futility / harm / safety | final bound | gained | stop at look 1 | look 1 (years) | type I error | expected n | duration (years) |",
       "|---|---|---|---|---|---|---|---|---|---|---|---|"]
for test, label, n in tests:
    for key, rule in rules:
        m = monitoring(test, key)
        l1 = m["looks"][0]
        stop1 = l1["p_efficacy"] + l1["p_futility"] + l1["p_harm"]
        out.append(
            f"| {label} ({n}) | {rule} | {pct(m['power'])} ± {pct(m['power_se'])} | {pct(m['fixed_power'])} | "
            f"{pct(m['lost']['futility'])} / {pct(m['lost']['harm'])} / {pct(m['lost']['safety'])} | {pct(m['final_bound_cost'])} | "
            f"{pct(m['gained'])} | {pct(stop1)} | {l1['time_mean']:.2f} | {pct(m['type_i_error'])} ± {pct(m['type_i_error_se'])} | "
            f"{m['expected_n']:.0f} | {m['expected_duration']:.2f} |")
(here / "table.md").write_text("\n".join(out) + "\n")

# What each rule buys when it does not: identical arms, and the never-better boundary.
out = ["| test (n) | rule | power (lost) | identical arms: futility stops at look 1 / by look 2 | patients saved | years saved | never better: declared benefit | futility stops at look 1 / by look 2 | patients saved | years saved |",
       "|---|---|---|---|---|---|---|---|---|---|"]
for test, label, n in tests:
    for key, rule in rules[:8]:
        m = monitoring(test, key)
        sides = m["both_sides"]
        ia, nb = sides["identical_arms"], sides["never_better"]
        def stops(s):
            f = s["stopped_futility_by_look"]
            return f"{pct(f[0])} / {pct(f[0] + f[1])}"
        out.append(
            f"| {label} ({n}) | {rule} | {pct(m['power'])} ({pct(m['fixed_power'] - m['power'])}) | {stops(ia)} | "
            f"{ia['n_saved']:.0f} | {ia['duration_saved']:.2f} | {pct(nb['declared_benefit'])} ± {pct(nb['declared_benefit_se'])} | "
            f"{stops(nb)} | {nb['n_saved']:.0f} | {nb['duration_saved']:.2f} |")
(here / "sides.md").write_text("\n".join(out) + "\n")

# What the committee sees at each interim: conditional power under each drift (the efficacy-only
# design, so that every trial reaching a look is counted), the predictive probability over the
# calibration's draws, and how often the design's drift and the model disagree about 10%.
out = ["| test (n) | look | trials | CP design: median (below 10%) | CP trend | CP model | predictive | effective draws | design says stop, model go on | model stop, design go on |",
       "|---|---|---|---|---|---|---|---|---|---|"]
for test, label, n in tests:
    base, pred = monitoring(test, "efficacy_only"), monitoring(test, "predictive")
    for k in range(2):
        c = base["looks"][k]["conditional_power"]
        p = pred["looks"][k]["conditional_power"]
        cell = lambda d: f"{d['median']:.2f} ({pct(d['below_threshold'])}% ± {pct(d['below_threshold_se'])})"
        # The predictive variant stops trials at look 1, so its look-2 trials are fewer: its own count.
        out.append(
            f"| {label} ({n}) | {k + 1} | {c['trials']} | {cell(c['design'])} | {cell(c['trend'])} | {cell(c['model'])} | "
            f"{cell(p['predictive'])} of {p['trials']} | {p['effective_draws_mean']:.0f} (below 50: {pct(p['effective_draws_below_50'])}%) | "
            f"{pct(c['design_stops_model_continues'])}% ± {pct(c['design_stops_model_continues_se'])} | "
            f"{pct(c['model_stops_design_continues'])}% ± {pct(c['model_stops_design_continues_se'])} |")
# The crossing-hazard example: trials at the log-rank test's second look whose conditional
# power under the design's drift is below 10% while the model's is not, and how many of them the
# efficacy-only design goes on to win; then the first such trial, number by number.
import csv, math
rows = list(csv.DictReader(open(pathlib.Path(sys.argv[2]) / "logrank_replicates.csv")))
col = lambda r, k: float(r[k]) if r[k] not in ("", "NaN") else float("nan")
taken = [r for r in rows if not math.isnan(col(r, "monitoring.logrank.cp_design[1]"))]
split = [r for r in taken if col(r, "monitoring.logrank.cp_design[1]") < 0.1 <= col(r, "monitoring.logrank.cp_model[1]")]
won = [r for r in split if r["monitoring.logrank.stop_reason"] == "1"]
share, p = len(split) / len(taken), len(won) / len(split)
se = lambda q, n: 100 * math.sqrt(q * (1 - q) / n)
e = split[0]
out += ["",
        f"At the log-rank test's second look (596 patients), {len(split)} of {len(taken)} trials ({100 * share:.1f}% ± {se(share, len(taken)):.1f}) "
        f"have a conditional power below 10% under the design's drift and at least 10% under the model's path: "
        f"a constant-drift rule would stop them. The efficacy-only design goes on to declare benefit in {len(won)} of them "
        f"({100 * p:.1f}% ± {se(p, len(split)):.1f}). The first of them, replicate {e['replicate']}: at information fraction "
        f"{col(e, 'monitoring.logrank.fraction[1]'):.3f}, z = {col(e, 'monitoring.logrank.z[1]'):.3f} (no benefit visible yet); "
        f"conditional power {100 * col(e, 'monitoring.logrank.cp_design[1]'):.1f}% under the design's drift, "
        f"{100 * col(e, 'monitoring.logrank.cp_trend[1]'):.2f}% under the trend, {100 * col(e, 'monitoring.logrank.cp_model[1]'):.1f}% under the model; "
        f"at the final analysis z = {col(e, 'monitoring.logrank.z[2]'):.2f}, "
        f"{'benefit declared' if e['monitoring.logrank.stop_reason'] == '1' else 'no benefit declared'}."]
(here / "committee.md").write_text("\n".join(out) + "\n")
for f in ["table.md", "sides.md", "committee.md"]:
    print((here / f).read_text())
PY
