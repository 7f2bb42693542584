#!/bin/bash
# Submits the sweep's job array and the merge that waits for it, from the repository root:
#   bash examples/slurm/submit.sh
# Settings come from the environment, with these defaults (the same as sweep_array.sh's):
#   TRIALSIM_SHARDS=8   array tasks, one shard each
#   TRIALSIM_CPUS=8     --cpus-per-task (and trialsim --threads)
#   TRIALSIM_MEM=2G     --mem per task
#   TRIALSIM_REPS, TRIALSIM_GRID, TRIALSIM_SCENARIO, TRIALSIM_OUT, TRIALSIM_RESULT: see the scripts
# Prints the array's and the merge's job ids.
set -euo pipefail
here=$(dirname "$0")
export TRIALSIM_SHARDS=${TRIALSIM_SHARDS:-8}
cpus=${TRIALSIM_CPUS:-8}
mem=${TRIALSIM_MEM:-2G}
# Slurm opens each task's log before the script runs: the folder must exist first.
mkdir -p logs
array=$(sbatch --parsable --array="1-${TRIALSIM_SHARDS}" --cpus-per-task="$cpus" --mem="$mem" \
  "$here/sweep_array.sh")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:${array}" --mem=200M "$here/merge.sh")
merge=${merge%%;*}
echo "array ${array} merge ${merge}"
