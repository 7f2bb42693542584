#!/bin/bash
# A trialsim sweep spread over a Slurm job array: each array task computes one shard.
# Submit from the repository root:   sbatch examples/slurm/sweep_array.sh
# then, when all tasks are done:     sbatch examples/slurm/merge.sh
# (or chain them: jid=$(sbatch --parsable examples/slurm/sweep_array.sh);
#                 sbatch --dependency=afterok:$jid examples/slurm/merge.sh)
#
# A task that hits its time limit or is preempted loses nothing it finished: resubmitting the
# same array (or just that task) computes only the missing points of its shard.
#SBATCH --job-name=trialsim-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=8
#SBATCH --mem=2G
#SBATCH --time=01:00:00
#SBATCH --output=logs/%x_%A_%a.out
set -euo pipefail

SHARDS=${SLURM_ARRAY_TASK_COUNT:-8}
TASK=${SLURM_ARRAY_TASK_ID:-1}
OUT=sweeps/next_trial

trialsim sweep scenarios/plan_next_trial.toml \
  --set "arms.hsct.causes.treatment_death.early_risk.risk=0.02:0.20:0.01" \
  --set "arms.hsct.causes.disease_event.relative.hr[1]=0.25:0.70:0.05" \
  --set "design.n=150:450:50" \
  --reps 10000 --threads "${SLURM_CPUS_PER_TASK:-1}" \
  --shard "${TASK}/${SHARDS}" --out "${OUT}/shard_${TASK}" --quiet
