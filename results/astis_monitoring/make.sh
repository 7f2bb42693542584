#!/usr/bin/env bash
# The monitoring study: the calibrated model (scenarios/hsct_monitoring.toml without its
# [monitoring] table) at the size that gives the fixed design 80% power for each test
# (`trialsim plan`: FH(0,1) n = 180, log-rank n = 596), monitored at a third and two thirds of
# the information by each rule in turn, on the same simulated trials (same seed). Writes one
# run directory per (test, rule) here and table.md, the table README.md quotes.
#
#   bash results/astis_monitoring/make.sh        # from the repository root; about 15 seconds
set -euo pipefail
here=results/astis_monitoring
trialsim=${TRIALSIM:-target/release/trialsim}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The model and design without the monitoring table, with 4,000 replicates.
sed '/^\[monitoring/,$d' scenarios/hsct_monitoring.toml | sed '/^# Interim monitoring of the same trials/,$d' > "$work/base.toml"

looks='looks = [{ fraction = 0.33 }, { fraction = 0.67 }]'
futility_design=$'[monitoring.futility]\nspending = { hsd = -2 }\nbeta = 0.2\nalternative = "design"'
futility_truth=$'[monitoring.futility]\nspending = { hsd = -2 }\nbeta = 0.2\nalternative = "truth"'
harm=$'[monitoring.harm]\nz = [2.5, 2.5]'
safety=$'[monitoring.safety]\ncause = "treatment_death"\ncompeting = ["disease_death"]\narm = "hsct"\nwindow = 0.25\nafter = [20, 40, 60]\nstop_if_at_least = [5, 8, 10]'

variant() { # test n name trm monitoring-body rule (what the variant monitors, for its title)
  local test=$1 n=$2 name=$3 trm=$4 body=$5 rule=$6
  local file="$work/${test}_${name}.toml"
  local label; label=$( [ "$test" = fh01 ] && echo 'FH(0,1)' || echo 'log-rank' )
  # Each variant's reports say what it is: its test, size, looks and rule.
  local title="HSCT vs cyclophosphamide, the calibrated model at n = $n (80% power for $label), monitored by $label at a third and two thirds of the information: $rule"
  sed -e "s/^n = 156/n = $n/" -e "s/risk = 0.1024/risk = $trm/" \
      -e "s/^name = \"hsct_monitoring\"/name = \"${test}_${name}\"/" \
      -e "s/^title = .*/title = \"$title\"/" "$work/base.toml" > "$file"
  printf '\n[monitoring]\ntests = ["%s"]\n%s\n%s\n' "$( [ "$test" = fh01 ] && echo 'fh(0,1)' || echo logrank )" "$looks" "$body" >> "$file"
  "$trialsim" run "$file" --out "$here/${test}_${name}" --quiet > /dev/null
  echo "$test $name done" >&2
}

for pair in "fh01 180" "logrank 596"; do
  set -- $pair
  t=$1 n=$2
  variant "$t" "$n" efficacy_only 0.1024 "" "O'Brien–Fleming efficacy only"
  variant "$t" "$n" futility_design 0.1024 "$futility_design" \
    "O'Brien–Fleming efficacy and β-spending futility (HSD −2) under the design's drift"
  variant "$t" "$n" futility_truth 0.1024 "$futility_truth" \
    "O'Brien–Fleming efficacy and β-spending futility (HSD −2) under the model's drift"
  variant "$t" "$n" futility_harm 0.1024 "$futility_design"$'\n'"$harm" \
    "O'Brien–Fleming efficacy, β-spending futility (design drift) and a harm bound z ≥ 2.5"
  variant "$t" "$n" safety_trm03 0.03 "$safety" \
    "O'Brien–Fleming efficacy and a safety rule on transplant deaths, treatment-related mortality 3%"
  variant "$t" "$n" safety_trm10 0.1024 "$safety" \
    "O'Brien–Fleming efficacy and a safety rule on transplant deaths, treatment-related mortality 10% (ASTIS)"
  variant "$t" "$n" safety_trm20 0.20 "$safety" \
    "O'Brien–Fleming efficacy and a safety rule on transplant deaths, treatment-related mortality 20%"
done

python3 - "$here" <<'PY'
import json, sys, pathlib
here = pathlib.Path(sys.argv[1])
rules = [("efficacy_only", "O'Brien–Fleming efficacy only"),
         ("futility_design", "+ β-spending futility (design drift)"),
         ("futility_truth", "+ β-spending futility (model's drift)"),
         ("futility_harm", "+ futility (design) + harm z ≥ 2.5"),
         ("safety_trm03", "efficacy + safety rule, TRM 3%"),
         ("safety_trm10", "efficacy + safety rule, TRM 10% (ASTIS)"),
         ("safety_trm20", "efficacy + safety rule, TRM 20%")]
out = ["| test (n) | rule | power | fixed design | lost: futility / harm / safety | final bound | gained | stop at look 1 | look 1 (years) | type I error | expected n | duration (years) |",
       "|---|---|---|---|---|---|---|---|---|---|---|---|"]
for test, label, n in [("fh01", "FH(0,1)", 180), ("logrank", "log-rank", 596)]:
    for key, rule in rules:
        m = json.load(open(here / f"{test}_{key}" / "summary.json"))["monitoring"]
        l1 = m["looks"][0]
        pct = lambda x: f"{100 * x:.1f}"
        stop1 = l1["p_efficacy"] + l1["p_futility"] + l1["p_harm"]
        out.append(
            f"| {label} ({n}) | {rule} | {pct(m['power'])} ± {pct(m['power_se'])} | {pct(m['fixed_power'])} | "
            f"{pct(m['lost']['futility'])} / {pct(m['lost']['harm'])} / {pct(m['lost']['safety'])} | {pct(m['final_bound_cost'])} | "
            f"{pct(m['gained'])} | {pct(stop1)} | {l1['time_mean']:.2f} | {pct(m['type_i_error'])} ± {pct(m['type_i_error_se'])} | "
            f"{m['expected_n']:.0f} | {m['expected_duration']:.2f} |")
(here / "table.md").write_text("\n".join(out) + "\n")
print("\n".join(out))
PY
