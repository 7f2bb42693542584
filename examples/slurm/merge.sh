#!/bin/bash
# Joins the shards of examples/slurm/sweep_array.sh into one sweep (sweep.csv byte-identical to
# an unsplit run). Fails with a clear message if a shard is missing points. Submit it as a job
# that depends on the array:  sbatch --dependency=afterok:<array job id> examples/slurm/merge.sh
# The merge reads only the shards' own records: the scenario file need not be where it was.
#SBATCH --job-name=trialsim-merge
#SBATCH --cpus-per-task=1
#SBATCH --time=00:10:00
#SBATCH --output=logs/%x_%j.out
set -euo pipefail
OUT=${TRIALSIM_OUT:-sweeps/next_trial}
RESULT=${TRIALSIM_RESULT:-results/next_trial_sweep}
TRIALSIM=${TRIALSIM:-trialsim}
"$TRIALSIM" merge "${OUT}"/shard_* --out "$RESULT"
