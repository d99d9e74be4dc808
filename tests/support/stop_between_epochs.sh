# stop_between_epochs.sh — sourced by test scripts. stop_between_epochs EPOCHS STATE CSV COMMAND...: removes
# STATE and CSV, starts COMMAND (a training run that saves STATE after every epoch) in the background, stops
# it with SIGTERM as soon as STATE exists, and tries again (5 tries at most) until the stop lands between
# epochs, the state holding 1 to EPOCHS-1 of them. Sets stopped_epoch (empty when no try landed) and
# stop_try; returns 1 when no try landed. resume_matches_uninterrupted (below) builds on it.
stop_between_epochs() {
  local epochs=$1 state=$2 csv=$3 pid i e
  shift 3
  stopped_epoch=""
  for ((stop_try = 0; stop_try < 5; stop_try++)); do
    rm -f "$state" "$csv"
    "$@" >/dev/null 2>&1 &
    pid=$!
    for ((i = 0; i < 30000; i++)); do
      [ -f "$state" ] && break  # saved (atomically) after epoch 1
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.01
    done
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    e=$(grep -ao '"train.epoch":"[0-9]*"' "$state" 2>/dev/null | grep -o '[0-9]*')
    if [ -n "$e" ] && [ "$e" -ge 1 ] && [ "$e" -lt "$epochs" ]; then
      stopped_epoch=$e
      return 0
    fi
  done
  return 1
}

# resume_matches_uninterrupted RANKS EPOCHS DIR PROGRAM ARGS...: runs PROGRAM ARGS under mpiexec with RANKS
# ranks (the caller's $mpiexec and $np_flag) to the end, saving DIR/whole.state; then again, stopped between
# epochs and resumed with --resume, saving DIR/part.state and DIR/part.csv. Prints where it stopped; returns 0
# when both states are the same bytes, else says what failed on stdout and returns 1.
resume_matches_uninterrupted() {
  local ranks=$1 epochs=$2 dir=$3
  shift 3
  local launch=("$mpiexec" "$np_flag" "$ranks" --oversubscribe --allow-run-as-root)
  timeout 300 "${launch[@]}" "$@" --csv - --save "$dir/whole.state" >/dev/null 2>"$dir/whole.err" ||
    { echo "the uninterrupted $ranks-rank run failed: $(cat "$dir/whole.err")"; return 1; }
  stop_between_epochs "$epochs" "$dir/part.state" "$dir/part.csv" "${launch[@]}" "$@" --csv "$dir/part.csv" \
    --save "$dir/part.state" || { echo "could not stop a $ranks-rank run between epochs in 5 tries"; return 1; }
  echo "$ranks ranks: stopped after epoch $stopped_epoch of $epochs (try $stop_try), resuming"
  timeout 300 "${launch[@]}" "$@" --csv "$dir/part.csv" --save "$dir/part.state" --resume "$dir/part.state" \
    >/dev/null 2>"$dir/resume.err" || { echo "the resumed run failed: $(cat "$dir/resume.err")"; return 1; }
  cmp -s "$dir/whole.state" "$dir/part.state" ||
    { echo "the resumed run's state differs from the uninterrupted run's"; return 1; }
}
