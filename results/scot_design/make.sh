#!/usr/bin/env bash
# A SCOT-like design (issue 29): 75 patients (36 transplant, 39 cyclophosphamide), SCOT's global
# rank composite at 54 months (death, event-free survival, FVC, HAQ-DI, mRSS), the calibrated
# model (scenarios/scot_design.toml; nothing fitted to SCOT).
#   1. base/      the scenario as written (transplant-related mortality 10.24%), every report
#   2. trm/       transplant-related mortality 3%, 6%, 9%, 12%, 15%: each run's summary
#   3. tables.md  per TRM: power of the composite's Finkelstein–Schoenfeld test against the
#                 log-rank test of EFS and the other tests on the same trials (and each test's type
#                 I error under identical arms), the simulated distribution of the win ratio and of the shares of pairs favouring transplant, which layer
#                 decides the pairs; and the win ratio CI's coverage at this size (the true win
#                 ratio from 40,000 separate trials), reported, not asserted
#
#   bash results/scot_design/make.sh        # from the repository root; about 20 seconds
set -euo pipefail
here=results/scot_design
trialsim=${TRIALSIM:-target/release/trialsim}
scenario=scenarios/scot_design.toml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$here/base" "$here/trm"
"$trialsim" run "$scenario" --quiet --out "$here/base" --export-replicates
# The true win ratio at this design: the mean of the unbiased U-statistics over many trials.
"$trialsim" run "$scenario" --quiet --out "$tmp/truth" --reps 40000 --seed 1
cp "$tmp/truth/summary.json" "$here/base/truth_40000.json"
for risk in 0.03 0.06 0.09 0.12 0.15; do
  sed "s/treatment_death = { early_risk = { risk = 0.1024, within = 0.25 } }/treatment_death = { early_risk = { risk = $risk, within = 0.25 } }/" \
    "$scenario" > "$tmp/scot_$risk.toml"
  grep -q "risk = $risk," "$tmp/scot_$risk.toml"
  "$trialsim" run "$tmp/scot_$risk.toml" --quiet --out "$tmp/trm_$risk"
  mkdir -p "$here/trm/risk_$risk"
  cp "$tmp/trm_$risk/summary.json" "$tmp/trm_$risk/summary.md" "$here/trm/risk_$risk/"
done
# tables.md: the numbers README.md reads (python3, standard library only); replicates.csv is
# only for the coverage and is not kept.
python3 "$here/tables.py"
rm -f "$here/base/replicates.csv"
echo "wrote $here/base, $here/trm, $here/tables.md"
