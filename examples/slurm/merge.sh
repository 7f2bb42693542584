#!/bin/bash
# Joins the shards of examples/slurm/sweep_array.sh into one sweep (sweep.csv byte-identical to
# an unsplit run). Fails with a clear message if a shard is missing points.
#SBATCH --job-name=trialsim-merge
#SBATCH --cpus-per-task=1
#SBATCH --time=00:10:00
#SBATCH --output=logs/%x_%j.out
set -euo pipefail
trialsim merge sweeps/next_trial/shard_* --out results/next_trial_sweep
