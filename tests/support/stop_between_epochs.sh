# stop_between_epochs.sh — sourced by test scripts. stop_between_epochs EPOCHS STATE CSV COMMAND...: removes
# STATE and CSV, starts COMMAND (a training run that saves STATE after every epoch) in the background, stops
# it with SIGTERM as soon as STATE exists, and tries again (5 tries at most) until the stop lands between
# epochs, the state holding 1 to EPOCHS-1 of them. Sets stopped_epoch (empty when no try landed) and
# stop_try; returns 1 when no try landed.
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
