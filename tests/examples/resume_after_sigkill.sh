#!/usr/bin/env bash
# Resumable training, end to end: runs of mnist_step3_gap and mnist_adder killed with SIGKILL at random
# moments (uniform over the run, as soon as a save has opened its temporary file, or within 5 ms of an
# epoch's end, when the CSV row is written and the state saved) and resumed with --resume until they
# complete end with a training state byte-identical to the uninterrupted run's, and a CSV log equal to its
# log but for the seconds column; resumes switch between 1 and 2 threads, which must not matter. Then the
# refusals: other options (exit 2), another program's state, a file that is no state, other data, a missing
# file (exit 1), --resume on --device cuda (exit 2), an already complete run (exit 0), each with its message;
# and mnist_predict loads the final state. The data are small MNIST-format IDX files written here (no MNIST,
# no python needed).
#
# Usage: resume_after_sigkill.sh MNIST_STEP3_GAP MNIST_ADDER MNIST_PREDICT
set -euo pipefail

gap=$1 adder=$2 predict=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=$work/data
mkdir -p "$data"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# A big-endian 32-bit integer, as IDX headers hold them.
be32() { printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)))"; }
# Sparse random images (about one pixel in eight lit, as MNIST's strokes) and labels 0-9 in turn.
write_images() {
  { printf '\x00\x00\x08\x03'; be32 "$2"; be32 28; be32 28; head -c $(($2 * 784)) /dev/urandom | tr '\000-\337' '\000'; } >"$1"
}
write_labels() {
  { printf '\x00\x00\x08\x01'; be32 "$2"; for ((i = 0; i < $2; i++)); do printf "\\x0$((i % 10))"; done; } >"$1"
}
write_images "$data/train-images-idx3-ubyte" 256
write_labels "$data/train-labels-idx1-ubyte" 256
write_images "$data/t10k-images-idx3-ubyte" 100
write_labels "$data/t10k-labels-idx1-ubyte" 100

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# run_case NAME BINARY CSV_FIELDS TRIALS MAX_KILLS OPTIONS...: the uninterrupted reference, then TRIALS runs
# each killed up to MAX_KILLS times at uniform random moments within the reference's duration and resumed.
kills=0 during_save=0 before_first_save=0
run_case() {
  local name=$1 bin=$2 fields=$3 trials=$4 max_kills=$5
  shift 5
  local ref=$work/$name.ref.safetensors
  local t0 t1
  t0=$(now_ms)
  "$bin" "$@" --progress off --save "$ref" --csv "$work/$name.ref.csv" >"$work/$name.ref.log" 2>&1 ||
    fail "$name: the uninterrupted run failed: $(tail -3 "$work/$name.ref.log")"
  t1=$(now_ms)
  local duration=$((t1 - t0))
  echo "$name: uninterrupted run ${duration} ms"
  [[ -f $ref.tmp ]] && fail "$name: a completed save left $ref.tmp behind"
  local trial
  for ((trial = 1; trial <= trials; trial++)); do
    local state=$work/$name.$trial.safetensors csv=$work/$name.$trial.csv
    local killed_here=0 runs=0
    while :; do
      local resume=() status=0 threads=$((1 + RANDOM % 2))
      [[ -f $state ]] && resume=(--resume "$state")
      runs=$((runs + 1))
      ((runs <= 20)) || fail "$name trial $trial: did not complete within 20 runs"
      local tmp_before tmp_after
      tmp_before=$(stat -c %y "$state.tmp" 2>/dev/null || echo none)
      "$bin" "$@" --progress off --threads "$threads" --save "$state" --csv "$csv" "${resume[@]}" \
        >"$work/$name.$trial.log" 2>&1 &
      local pid=$!
      if ((killed_here < max_kills)); then
        local mode=$((RANDOM % 3))
        if ((mode == 0)); then
          # At a uniform random moment of the run.
          local at=$(((RANDOM * 32768 + RANDOM) % (duration + 1)))
          sleep "$((at / 1000)).$(printf %03d $((at % 1000)))"
        elif ((mode == 1)) && [[ ! -e $state.tmp ]]; then
          # As soon as a save has created its temporary file (builtins only, so within microseconds).
          while kill -0 "$pid" 2>/dev/null && [[ ! -e $state.tmp ]]; do :; done
        else
          # Within 5 ms of an epoch's end: while the CSV row is written and the state saved (fsynced).
          while kill -0 "$pid" 2>/dev/null && ! grep -q '^epoch [0-9]*/[0-9]*  train' "$work/$name.$trial.log"; do
            sleep 0.002
          done
          sleep "0.00$((RANDOM % 5))"
        fi
        kill -KILL "$pid" 2>/dev/null || true
      fi
      wait "$pid" 2>/dev/null || status=$?  # bash reports the kill on stderr: that is expected
      if ((status == 137)); then
        killed_here=$((killed_here + 1))
        kills=$((kills + 1))
        # A temporary file written by this run (not left by an earlier one): killed while saving.
        tmp_after=$(stat -c %y "$state.tmp" 2>/dev/null || echo none)
        [[ $tmp_after != none && $tmp_after != "$tmp_before" ]] && during_save=$((during_save + 1))
        [[ -f $state ]] || before_first_save=$((before_first_save + 1))
        continue
      fi
      ((status == 0)) || fail "$name trial $trial: exit status $status: $(tail -3 "$work/$name.$trial.log")"
      break
    done
    cmp -s "$ref" "$state" || fail "$name trial $trial ($killed_here kills): the final state differs from the uninterrupted run's"
    diff <(cut -d, -f1-$((fields - 1)) "$work/$name.ref.csv") <(cut -d, -f1-$((fields - 1)) "$csv") >/dev/null ||
      fail "$name trial $trial: the CSV log differs from the uninterrupted run's (seconds aside)"
    [[ $(wc -l <"$csv") -eq $(wc -l <"$work/$name.ref.csv") ]] || fail "$name trial $trial: CSV row count differs"
    echo "$name trial $trial: $killed_here kills, $runs runs, final state and CSV identical"
  done
}

common=(--data "$data" --epochs 4 --batch 32 --lr 0.05)
run_case gap "$gap" 9 5 4 "${common[@]}"
run_case adder "$adder" 11 3 3 "${common[@]}"
echo "kills: $kills ($during_save during a save, $before_first_save before the first save)"
((kills > 0)) || fail "no run was killed: the kill times never fell inside a run"

# expect STATUS MESSAGE COMMAND...: the command's exit status and a line of its output.
expect() {
  local want=$1 message=$2 status=0
  shift 2
  "$@" >"$work/out.log" 2>&1 || status=$?
  ((status == want)) || fail "exit status $status, expected $want: $* : $(cat "$work/out.log")"
  grep -qF -- "$message" "$work/out.log" || fail "no '$message' in the output of $*: $(cat "$work/out.log")"
}
ref=$work/gap.ref.safetensors
copy=$work/copy.safetensors
cp "$ref" "$copy"
expect 2 "error: ctnet: --epochs: the run saved in '$copy' has 4, this run has 5 (a resumed run must keep the settings it was started with)" \
  "$gap" --data "$data" --epochs 5 --batch 32 --lr 0.05 --progress off --csv - --resume "$copy"
expect 2 "error: ctnet: --lr: the run saved in '$copy' has 0.05, this run has 0.1" \
  "$gap" "${common[@]/0.05/0.1}" --progress off --csv - --resume "$copy"
expect 0 "the run saved in $copy is already complete (4 of 4 epochs): nothing to resume" \
  "$gap" "${common[@]}" --progress off --csv - --resume "$copy"
cmp -s "$ref" "$copy" || fail "resuming a complete run changed its file"
expect 2 "error: ctnet: --resume: --device cuda cannot resume a run (it saves only the final model); resume with --device cpu" \
  "$gap" "${common[@]}" --device cuda --resume "$copy"
expect 1 "error: ctnet: '$copy' is the training state of a mnist_step3_gap run, not of mnist_adder" \
  "$adder" "${common[@]}" --progress off --csv - --resume "$copy"
expect 1 "error: ctnet: safetensors file '$work/gap.ref.csv': header size" \
  "$gap" "${common[@]}" --progress off --csv - --resume "$work/gap.ref.csv"
expect 1 "error: ctnet: safetensors file '$work/missing.safetensors': cannot open" \
  "$gap" "${common[@]}" --progress off --csv - --resume "$work/missing.safetensors"
other=$work/other
mkdir -p "$other"
cp "$data"/t10k-* "$data/train-labels-idx1-ubyte" "$other/"
write_images "$other/train-images-idx3-ubyte" 256
expect 1 "error: ctnet: '$copy' was saved training on other data: loader.data_fingerprint is" \
  "$gap" --data "$other" --epochs 4 --batch 32 --lr 0.05 --progress off --csv - --resume "$copy"
expect 0 "of 5 correct" "$predict" --model "$ref" --data "$data" --test 5
echo "refusals: every exit status and message as expected"
