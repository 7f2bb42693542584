#!/usr/bin/env bash
# The run path against the speed floor (benches/floor.rs), in one run on this machine: 300,000
# replicates on 2 threads, best of 3, of the floor loop and of the whole `trialsim run` binary
# (truth, the identical-arms copy, reports: everything a user waits for), at n = 156 and
# n = 1,000, of the full suite of tests at n = 156, and of a sweep (10 points × 30,000
# replicates, from scratch each time), and of the full suite with the never-better copy (its
# replicates counted like the run's: the same ratio means the copy costs no more per replicate
# than the run and the identical-arms copy). Prints each rate and its ratio to the floor. Both
# are built with the release profile.
#
#   bash benches/floor.sh            # from the repository root
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-300000}
THREADS=${THREADS:-2}
cargo build --release --quiet
cargo bench --bench floor --no-run --quiet 2>/dev/null
floor_bin=$(ls -t target/release/deps/floor-* | grep -v '\.d$' | head -1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

best() { sort -g | head -1; }

# Seconds of one command, from bash's clock.
seconds() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

floor_rate() { # n
  for _ in 1 2 3; do seconds "$floor_bin" --reps "$REPS" --threads "$THREADS" --n "$1"; done | best
}

run_rate() { # scenario file
  for _ in 1 2 3; do
    seconds target/release/trialsim run "$1" --reps "$REPS" --threads "$THREADS" --quiet --out "$work/out"
  done | best
}

sed 's/^n = 156$/n = 1000/' benches/floor.toml > "$work/floor_1000.toml"
sed 's/^tests = \["logrank"\]$/tests = ["logrank", "fh(0,1)", "maxcombo", "mw", "robust_mw", "cox", "cox_periods", "rmst", "milestone"]/' \
  benches/floor.toml > "$work/floor_full.toml"
# The experimental arm's late disease hazard raised towards control's until it is never better.
{ cat "$work/floor_full.toml"; printf '[analysis.never_better]\nvary = ["arms.experimental.causes.disease.piecewise.rates[1]"]\nto = 0.2\n'; } \
  > "$work/floor_never_better.toml"

# The whole run simulates the identical-arms copy too (min(reps, 10,000) replicates): every
# simulated replicate counts.
null=$(( REPS < 10000 ? REPS : 10000 ))
report() { # label floor-seconds run-seconds [identical-arms replicates]
  awk -v l="$1" -v f="$2" -v r="$3" -v reps="$REPS" -v null="${4:-$null}" 'BEGIN {
    fr = reps / f; rr = (reps + null) / r;
    printf "%-36s floor %9.0f/s   trialsim %9.0f/s   ratio %.2f\n", l, fr, rr, rr / fr }'
}

sweep_rate() {
  for _ in 1 2 3; do
    rm -rf "$work/sweep"
    seconds target/release/trialsim sweep benches/floor.toml --set "arms.control.dropout=0.010:0.019:0.001" \
      --reps $(( REPS / 10 )) --threads "$THREADS" --quiet --out "$work/sweep" 2>/dev/null
  done | best
}

f156=$(floor_rate 156)
f1000=$(floor_rate 1000)
report "run, log-rank, n = 156" "$f156" "$(run_rate benches/floor.toml)"
report "run, log-rank, n = 1000" "$f1000" "$(run_rate "$work/floor_1000.toml")"
report "run, full suite, n = 156" "$f156" "$(run_rate "$work/floor_full.toml")"
report "sweep, 10 points, log-rank, n = 156" "$f156" "$(sweep_rate)" 0
report "run, full suite + never-better, n = 156" "$f156" "$(run_rate "$work/floor_never_better.toml")" $(( null + REPS ))
