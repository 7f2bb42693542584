#!/bin/bash
# A trialsim sweep spread over a Slurm job array: each array task computes one shard.
# Submit from the repository root (see examples/slurm/README.md):
#   mkdir -p logs
#   jid=$(sbatch --parsable examples/slurm/sweep_array.sh)
#   sbatch --dependency=afterok:$jid examples/slurm/merge.sh
#
# Every setting has a default and can be changed from the environment at submission (sbatch
# passes the environment on), e.g. TRIALSIM_REPS=2000 sbatch --array=1-4 ... with
# TRIALSIM_SHARDS=4. The number of shards is TRIALSIM_SHARDS, never the array's own task count:
# resubmitting one failed task (--array=3) must still compute shard 3 of 8, not shard 3 of 1.
#
# A task that hits its time limit or is preempted loses nothing it finished: resubmitting that
# task computes only the missing points of its shard.
#SBATCH --job-name=trialsim-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=8
#SBATCH --time=01:00:00
#SBATCH --output=logs/%x_%A_%a.out
set -euo pipefail

SHARDS=${TRIALSIM_SHARDS:-8}
TASK=${SLURM_ARRAY_TASK_ID:?"run as a Slurm array task (sbatch --array=1-${SHARDS})"}
SCENARIO=${TRIALSIM_SCENARIO:-scenarios/plan_next_trial.toml}
OUT=${TRIALSIM_OUT:-sweeps/next_trial}
REPS=${TRIALSIM_REPS:-10000}
# The grid: one --set per line.
GRID=${TRIALSIM_GRID:-"arms.hsct.causes.treatment_death.early_risk.risk=0.02:0.20:0.01
arms.hsct.causes.disease_event.relative.hr[1]=0.25:0.70:0.05
design.n=150:450:50"}
TRIALSIM=${TRIALSIM:-trialsim}

if (( TASK < 1 || TASK > SHARDS )); then
  echo "array task ${TASK} is outside 1..${SHARDS} (TRIALSIM_SHARDS=${SHARDS})" >&2
  exit 2
fi
sets=()
while IFS= read -r line; do
  [[ -n "$line" ]] && sets+=(--set "$line")
done <<< "$GRID"

mkdir -p "${OUT}"
"$TRIALSIM" sweep "$SCENARIO" "${sets[@]}" \
  --reps "$REPS" --threads "${SLURM_CPUS_PER_TASK:-1}" \
  --shard "${TASK}/${SHARDS}" --out "${OUT}/shard_${TASK}" --quiet
