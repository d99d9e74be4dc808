#!/usr/bin/env bash
# An example program distributed: `mpiexec -n 3 mnist_step3_gap ...` on generated IDX data (250 training
# images: batches of 32 split 11/11/10, the last one of 26 as 9/9/8; 60 test images), 4 epochs. Checks: the
# run succeeds; stdout holds rank 0's output only (one JSON line, as many lines as a single-process run); the
# CSV and the training state are written (by rank 0); the model learns (best test accuracy >= 40%); -n 1
# gives the single-process run's state file byte for byte; a 2-rank run stopped (SIGTERM to mpiexec) between
# epochs and resumed with --resume ends with the very file of the uninterrupted 2-rank run; --batch-norm sync
# learns, is recorded in the state and checked on resume; --device cuda under mpiexec is refused.
#
# usage: examples_dist.sh MPIEXEC NUMPROC_FLAG MNIST_STEP3_GAP
set -u
mpiexec=$1 np_flag=$2 gap=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
run_mpi() { local n=$1; shift; timeout 300 "$mpiexec" "$np_flag" "$n" --oversubscribe --allow-run-as-root "$@"; }

# Generated, learnable digits (tests/support/learnable_mnist.sh, as tests/examples/nonfinite.sh uses).
source "$(dirname "${BASH_SOURCE[0]}")/../support/learnable_mnist.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../support/stop_between_epochs.sh"
# 10000 training images in big/ (40 copies of the 250) for the interrupted run, so that its epochs last long
# enough (~0.5 s) to stop it between two.
small_and_big_splits "$work" 40

common=(--data "$work/data" --epochs 4 --batch 32 --lr 0.2 --threads 1 --progress lines)

# One process, then 3 ranks.
timeout 300 "$gap" "${common[@]}" --csv "$work/one.csv" --save "$work/one.state" >"$work/one.out" 2>"$work/one.err" ||
  fail "single-process run failed: $(cat "$work/one.err")"
run_mpi 3 "$gap" "${common[@]}" --csv "$work/three.csv" --save "$work/three.state" \
  >"$work/three.out" 2>"$work/three.err" || fail "3-rank run failed: $(cat "$work/three.err")"
json=$(grep -c '^{' "$work/three.out")
[ "$json" -eq 1 ] || fail "3 ranks: $json JSON lines on stdout, expected 1 (rank 0's)"
[ "$(wc -l <"$work/three.out")" -eq "$(wc -l <"$work/one.out")" ] ||
  fail "3 ranks: $(wc -l <"$work/three.out") lines on stdout, a single run prints $(wc -l <"$work/one.out")"
grep -q '3 ranks' "$work/three.out" || fail "3 ranks: the run header does not say '3 ranks'"
[ "$(wc -l <"$work/three.csv")" -eq 5 ] || fail "3 ranks: the CSV has not 4 epochs: $(cat "$work/three.csv")"
[ -s "$work/three.state" ] || fail "3 ranks: no training state saved"
# It learns (10 classes: chance is 10%; one process reaches 80%, 3 ranks 60% on these data).
best=$(grep '^{' "$work/three.out" | grep -o '"best":[0-9.]*' | cut -d: -f2)
awk -v a="${best:-0}" 'BEGIN { exit !(a >= 40) }' || fail "3 ranks: best test accuracy ${best:-none}% (expected >= 40%)"
echo "3 ranks: best test accuracy $best%; one process: $(grep '^{' "$work/one.out" | grep -o '"best":[0-9.]*' | cut -d: -f2)%"

# -n 1 is the single-process run, bit for bit.
run_mpi 1 "$gap" "${common[@]}" --csv - --save "$work/mpi1.state" >/dev/null 2>"$work/mpi1.err" ||
  fail "1-rank run failed: $(cat "$work/mpi1.err")"
cmp -s "$work/one.state" "$work/mpi1.state" || fail "-n 1: the training state differs from the single-process run's"

# 2 ranks to the end, and 2 ranks stopped after epoch 1, 2 or 3 and resumed: the same state, byte for byte.
common=(--data "$work/big" "${common[@]:2}")
resume_matches_uninterrupted 2 4 "$work" "$gap" "${common[@]}" || fail "2 ranks resumed: see above"

# --batch-norm sync (SyncBatchNorm) on 2 ranks learns too; its state records the mode, so resuming a
# per-replica state with it is refused, naming the option.
run_mpi 2 "$gap" "${common[@]}" --csv - --batch-norm sync --save "$work/sync.state" >"$work/sync.out" \
  2>"$work/sync.err" || fail "2 ranks --batch-norm sync failed: $(cat "$work/sync.err")"
best=$(grep '^{' "$work/sync.out" | grep -o '"best":[0-9.]*' | cut -d: -f2)
awk -v a="${best:-0}" 'BEGIN { exit !(a >= 40) }' || fail "--batch-norm sync: best test accuracy ${best:-none}%"
cmp -s "$work/sync.state" "$work/whole.state" && fail "--batch-norm sync: the same state as per-replica batch norm"
run_mpi 2 "$gap" "${common[@]}" --csv - --batch-norm sync --resume "$work/whole.state" >/dev/null 2>"$work/mode.err"
grep -q -- "--batch-norm: the run saved in .* has its default, this run has sync" "$work/mode.err" ||
  fail "resuming a per-replica state with --batch-norm sync: not refused: $(head -3 "$work/mode.err")"

# A distributed run on a GPU is refused: exit status 2 (bad usage), one error line per rank, nothing trained.
run_mpi 2 "$gap" "${common[@]}" --csv - --device cuda >"$work/cuda.out" 2>"$work/cuda.err"
rc=$?
want="error: ctnet: --device cuda: a distributed run (mpirun) trains on the CPU only (see $(basename "$gap") --help)"
[ "$rc" -ne 0 ] || fail "--device cuda under mpirun: exit status 0"
# (matched within a line: two ranks' lines may still meet in mpirun's forwarding)
grep -qF "${want#error: }" "$work/cuda.err" || fail "--device cuda under mpirun: no '$want' in: $(cat "$work/cuda.err")"
grep -q '^{' "$work/cuda.out" && fail "--device cuda under mpirun: it trained"

[ "$failures" -eq 0 ] && echo "examples_dist: all checks passed"
exit $((failures > 0))
