#!/usr/bin/env bash
# mnist_adder and mnist_predict under mpiexec, on generated IDX data (250 training images, 60 test images).
# mnist_adder (3 epochs, batches of 32): -n 1 gives the single-process run's state byte for byte; 3 ranks (an
# uneven split of every batch; 5000 training images, 20 copies of the 250) succeed with rank 0's output only (one JSON line saying 3 ranks, as many lines
# as one process prints), write the CSV and the state, and learn; a 2-rank run of 6 epochs stopped between
# epochs and resumed ends with the very state of the uninterrupted 2-rank run; --device cuda under mpiexec is refused.
# mnist_predict: 3 ranks classify 60 test images and two image files and print exactly what one process
# prints (checkpoint: mnist_step3_gap, 4 epochs).
# ctnet_bench under mpiexec with 2 ranks refuses to start (it measures one process).
#
# usage: adder_predict_dist.sh MPIEXEC NUMPROC_FLAG MNIST_ADDER MNIST_PREDICT MNIST_STEP3_GAP CTNET_BENCH
set -u
mpiexec=$1 np_flag=$2 adder=$3 predict=$4 gap=$5 bench=$6
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
run_mpi() { local n=$1; shift; timeout 300 "$mpiexec" "$np_flag" "$n" --oversubscribe --allow-run-as-root "$@"; }
json_field() { grep '^{' "$1" | grep -o "\"$2\":[0-9.]*" | cut -d: -f2; }

source "$(dirname "${BASH_SOURCE[0]}")/../support/learnable_mnist.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../support/stop_between_epochs.sh"
# 5000 training images in big/ for the learning check and the interrupted run (epochs long enough to stop it).
small_and_big_splits "$work" 20

common=(--data "$work/data" --epochs 3 --batch 32 --threads 1 --progress lines)

# One process, -n 1 (the same bits), then 3 ranks.
timeout 300 "$adder" "${common[@]}" --csv "$work/one.csv" --save "$work/one.state" >"$work/one.out" 2>"$work/one.err" ||
  fail "adder, one process: failed: $(cat "$work/one.err")"
run_mpi 1 "$adder" "${common[@]}" --csv - --save "$work/mpi1.state" >/dev/null 2>"$work/mpi1.err" ||
  fail "adder, 1 rank: failed: $(cat "$work/mpi1.err")"
cmp -s "$work/one.state" "$work/mpi1.state" || fail "adder -n 1: the training state differs from the single-process run's"
# 3 ranks on the 5000 images (250 are too few for 3 epochs at the default learning rate to learn anything).
big=(--data "$work/big" "${common[@]:2}")
run_mpi 3 "$adder" "${big[@]}" --csv "$work/three.csv" --save "$work/three.state" \
  >"$work/three.out" 2>"$work/three.err" || fail "adder, 3 ranks: failed: $(cat "$work/three.err")"
[ "$(grep -c '^{' "$work/three.out")" -eq 1 ] || fail "adder, 3 ranks: not one JSON line on stdout (rank 0's)"
[ "$(json_field "$work/three.out" ranks)" = 3 ] || fail "adder, 3 ranks: the JSON line does not say 3 ranks"
[ "$(wc -l <"$work/three.out")" -eq "$(wc -l <"$work/one.out")" ] ||
  fail "adder, 3 ranks: $(wc -l <"$work/three.out") lines on stdout, one process prints $(wc -l <"$work/one.out")"
grep -q ', 3 ranks' "$work/three.out" || fail "adder, 3 ranks: the run header does not say '3 ranks'"
[ "$(wc -l <"$work/three.csv")" -eq 4 ] || fail "adder, 3 ranks: the CSV has not 3 epochs: $(cat "$work/three.csv")"
[ -s "$work/three.state" ] || fail "adder, 3 ranks: no training state saved"
# It learns: chance is 10% for the digit and at most ~10% for the sum (one process reaches 100% on these data).
for key in best_digit best_sum; do
  v=$(json_field "$work/three.out" $key)
  awk -v a="${v:-0}" 'BEGIN { exit !(a >= 40) }' || fail "adder, 3 ranks: $key ${v:-none}% (expected >= 40%)"
done
echo "adder: 3 ranks best digit/sum $(json_field "$work/three.out" best_digit)/$(json_field "$work/three.out" best_sum)%"

# 2 ranks to the end, and 2 ranks stopped between epochs and resumed: the same state, byte for byte. Six
# epochs: on a fast machine an epoch of the 5000 images takes 0.3 s, less than the SIGTERM takes to reach the
# ranks through mpiexec, so with three a stop kept landing after the last epoch.
interrupted=(--data "$work/big" --epochs 6 "${common[@]:4}")
resume_matches_uninterrupted 2 6 "$work" "$adder" "${interrupted[@]}" || fail "adder, 2 ranks resumed: see above"
[ "$(wc -l <"$work/part.csv")" -eq 7 ] || fail "adder, 2 ranks resumed: the CSV has not 6 epochs: $(cat "$work/part.csv")"

run_mpi 2 "$adder" "${common[@]}" --csv - --device cuda >"$work/cuda.out" 2>"$work/cuda.err"
rc=$?
[ "$rc" -ne 0 ] || fail "adder --device cuda under mpirun: exit status 0"
grep -qF "ctnet: --device cuda: a distributed run (mpirun) trains on the CPU only" "$work/cuda.err" ||
  fail "adder --device cuda under mpirun: not refused: $(cat "$work/cuda.err")"

# mnist_predict with a checkpoint of mnist_step3_gap (4 epochs at lr 0.2, one process): the 60 test images and two
# image files (PGM: a test digit, and the same dark on light, which --invert auto turns), 1 and 3 ranks.
timeout 300 "$gap" --data "$work/data" --epochs 4 --batch 32 --lr 0.2 --threads 1 --progress off --csv - --save "$work/gap.state" >/dev/null 2>"$work/gap.err" ||
  fail "mnist_step3_gap for the checkpoint: failed: $(cat "$work/gap.err")"
{ printf 'P5\n28 28\n255\n'; tail -c +17 "$work/data/t10k-images-idx3-ubyte" | head -c 784; } >"$work/digit.pgm"
{ printf 'P5\n28 28\n255\n'; tail -c +17 "$work/data/t10k-images-idx3-ubyte" | head -c 1568 | tail -c 784 |
    od -An -v -tu1 | LC_ALL=C awk '{ for (i = 1; i <= NF; i++) printf "%c", 255 - $i }'; } >"$work/inverted.pgm"
predict_args=(--model "$work/gap.state" --data "$work/data" --test 60 "$work/digit.pgm" "$work/inverted.pgm")
timeout 300 "$predict" "${predict_args[@]}" >"$work/p1.out" 2>"$work/p1.err" ||
  fail "predict, one process: failed: $(cat "$work/p1.err")"
run_mpi 3 "$predict" "${predict_args[@]}" >"$work/p3.out" 2>"$work/p3.err" ||
  fail "predict, 3 ranks: failed: $(cat "$work/p3.err")"
[ "$(wc -l <"$work/p1.out")" -eq 63 ] || fail "predict, one process: not 63 lines: $(head -3 "$work/p1.out")"
grep -qF "inverted.pgm (inverted): " "$work/p1.out" || fail "predict: the dark-on-light image was not inverted"
cmp -s "$work/p1.out" "$work/p3.out" || fail "predict, 3 ranks: the output differs from one process's: $(diff "$work/p1.out" "$work/p3.out" | head -5)"
echo "predict: $(grep correct "$work/p3.out") on 3 ranks, as one process"

# ctnet_bench measures one process: several ranks are refused with one line.
run_mpi 2 "$bench" --only train --steps 1 >"$work/bench.out" 2>"$work/bench.err"
[ $? -ne 0 ] || fail "ctnet_bench under mpirun -n 2: exit status 0"
grep -qF "started by mpirun with 2 ranks: ctnet_bench measures one process" "$work/bench.err" ||
  fail "ctnet_bench under mpirun -n 2: not refused: $(cat "$work/bench.err")"

[ "$failures" -eq 0 ] && echo "adder_predict_dist: all checks passed"
exit $((failures > 0))
