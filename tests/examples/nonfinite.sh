#!/usr/bin/env bash
# A diverging run stops at the first non-finite loss or gradient: exit status 1, one `error:` line naming
# the step, the first non-finite layer and a hint, no checkpoint written, a CSV holding only finite epochs.
# The runs: the plain step-1 network (no batch-norm) at a constant lr 10 with weight decay 0.1 on tiny
# generated IDX data (256 training, 64 test images); with every seed tried (1-4, 1 or 2 threads) it diverges
# in epoch 2 or 3. A checkpoint holding a NaN is then refused by mnist_predict, naming the tensor.
#
# usage: nonfinite.sh MNIST_STEP1_SKELETON [MNIST_PREDICT] [MNIST_ADDER]
set -u
step1=$1 predict=${2:-} adder=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# write_split DIR PREFIX COUNT (generated, learnable digits).
source "$(dirname "${BASH_SOURCE[0]}")/../support/learnable_mnist.sh"
mkdir -p "$work/data"
write_split "$work/data" train 256
write_split "$work/data" t10k 64

# check_diverged NAME RC: the run's stderr ($work/err), CSV ($work/run.csv) and checkpoint ($work/model.safetensors).
check_diverged() {
  local name=$1 rc=$2 err rows epoch
  err=$(cat "$work/err")
  [ "$rc" -eq 1 ] || fail "$name: exit status $rc, expected 1 (stderr: $err)"
  [ "$(wc -l <"$work/err")" -eq 1 ] || fail "$name: stderr is not one line: $err"
  local re='^error: ctnet: training diverged at training step [0-9]+ \(epoch ([0-9]+), batch [0-9]+, lr [0-9.e+]+\): '
  re+='the loss is .*; first non-finite (output|gradient|parameter|buffer): .*layer [0-9.]+ [A-Z][A-Za-z0-9]*\(.*; '
  re+='hint: the learning rate is probably too high'
  if [[ $err =~ $re ]]; then epoch=${BASH_REMATCH[1]}; else fail "$name: message does not name step, layer and hint: $err"; epoch=0; fi
  # --save keeps the training state of the last finite epoch (resumable runs): nothing of the diverged
  # epoch may reach it, so it exists only after a finite epoch and mnist_predict loads it (it refuses NaN).
  if [ "$epoch" -le 1 ]; then
    [ ! -e "$work/model.safetensors" ] || fail "$name: a checkpoint was written before any finite epoch"
  elif [ -n "$predict" ] && [ "$name" = mnist_step1_skeleton ]; then
    timeout 60 "$predict" --model "$work/model.safetensors" --data "$work/data" --test 10 >/dev/null 2>"$work/perr" ||
      fail "$name: the saved state of the last finite epoch does not load: $(cat "$work/perr")"
  fi
  if grep -qi 'nan\|inf' "$work/run.csv"; then fail "$name: the CSV holds a non-finite value: $(cat "$work/run.csv")"; fi
  rows=$(($(wc -l <"$work/run.csv") - 1))
  [ "$rows" -eq $((epoch - 1)) ] || fail "$name: the CSV has $rows epochs; the run diverged in epoch $epoch"
  [ "$rows" -ge 1 ] || fail "$name: the recipe diverged in epoch 1 (expected later, so the CSV shows finite epochs)"
  echo "$name: $err"
}

common=(--data "$work/data" --epochs 4 --batch 32 --lr 10 --threads 1 --progress off --csv "$work/run.csv"
        --save "$work/model.safetensors")
timeout 300 "$step1" "${common[@]}" --weight-decay 0.1 --schedule step >"$work/out" 2>"$work/err"
check_diverged mnist_step1_skeleton $?

# The adder (batch-norm, OneCycleLR up to 10) needs weight decay 1 to diverge (seeds 1 and 2: epoch 3).
if [ -n "$adder" ]; then
  rm -f "$work/run.csv" "$work/model.safetensors"
  timeout 300 "$adder" "${common[@]}" --weight-decay 1 --rotation 0 --translate 0 >"$work/out" 2>"$work/err"
  check_diverged mnist_adder $?
fi

# mnist_predict refuses a checkpoint holding a NaN (written by a short finite run, then one float replaced).
if [ -n "$predict" ]; then
  timeout 300 "$step1" --data "$work/data" --epochs 1 --batch 32 --threads 1 --progress off --csv - \
    --save "$work/good.safetensors" >"$work/out" 2>"$work/err" || fail "finite run failed: $(cat "$work/err")"
  # The tensor at data offset 0 starts right after the 8-byte length and the header: its element 2 becomes NaN.
  header=$(od -A n -t u4 -N 4 "$work/good.safetensors" | tr -d ' ')
  cp "$work/good.safetensors" "$work/bad.safetensors"
  printf '\x00\x00\xc0\x7f' | dd of="$work/bad.safetensors" bs=1 seek=$((8 + header + 8)) conv=notrunc 2>/dev/null
  first=$(head -c $((8 + header)) "$work/good.safetensors" | tail -c "$header" |
          grep -o '"[0-9a-z._]*":{"dtype":"F32","shape":\[[0-9,]*\],"data_offsets":\[0,' | cut -d'"' -f2)
  timeout 60 "$predict" --model "$work/bad.safetensors" --data "$work/data" --test 10 >"$work/out" 2>"$work/err"
  rc=$? err=$(cat "$work/err")
  [ "$rc" -eq 1 ] || fail "mnist_predict: exit status $rc on a NaN checkpoint, expected 1 (stderr: $err)"
  [[ $err == "error: ctnet: '$work/bad.safetensors': tensor '$first' holds NaN at element 2 of "* ]] ||
    fail "mnist_predict: message does not name tensor '$first' and element 2: $err"
  echo "mnist_predict: $err"
fi

[ "$failures" -eq 0 ] && echo "nonfinite.sh: all checks passed"
exit $((failures > 0))
