#!/usr/bin/env bash
# Who to transplant (issue 28): the calibrated model split into a cardiopulmonary-risk stratum
# and the others (scenarios/who_to_transplant.toml; the split is an assumption to vary, not data).
#   1. base/             the base split (25% at 22% TRM, 75% at 6.32%: 10.24% overall), every report
#   2. include_exclude/  all-comers against excluding the high-risk group: share 0.25 → 0, and the
#                        enrolment rate 18.14/year → 18.14 × 0.75 = 13.605/year (fewer eligible
#                        patients), same n, analysis 4 years after the last entry
#   3. grid/             the high-risk share 0 … 0.5 × its TRM 15%, 22%, 30%, at the all-comers
#                        rate (who enrols changes, the rate does not)
# Each point: power of every test unstratified and stratified, each test's rate of declaring
# benefit at the never-better boundary, the crossing time, the long-term benefit to 20 years.
#
#   bash results/who_to_transplant/make.sh        # from the repository root; about 10 seconds
set -euo pipefail
here=results/who_to_transplant
trialsim=${TRIALSIM:-target/release/trialsim}
scenario=scenarios/who_to_transplant.toml
high=strata.cardiopulmonary_risk
rm -rf "$here/base" "$here/include_exclude" "$here/grid"
"$trialsim" run "$scenario" --quiet --out "$here/base"
"$trialsim" sweep "$scenario" --quiet --out "$here/include_exclude" --zip \
  --set "$high.share=0.25,0" --set "design.accrual.rates[0]=18.14,13.605"
"$trialsim" sweep "$scenario" --quiet --out "$here/grid" \
  --set "$high.share=0,0.1,0.2,0.25,0.3,0.4,0.5" \
  --set "$high.arms.hsct.causes.treatment_death.early_risk.risk=0.15,0.22,0.3"
# Sweep point records are for resuming; the tables are what a reader opens.
rm -rf "$here/include_exclude/points" "$here/grid/points"
# tables.md: the numbers README.md reads (python3, standard library only).
python3 "$here/tables.py"
echo "wrote $here/base, $here/include_exclude, $here/grid, $here/tables.md"
