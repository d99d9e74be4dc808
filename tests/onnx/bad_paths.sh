#!/usr/bin/env bash
# bad_paths.sh EXPORTER — ctnet_export_onnx on bad output paths and bad arguments: each case checks the exit
# status and that stderr is exactly one line matching the expected message. Generated inputs only.
set -uo pipefail
exe="${1:?usage: bad_paths.sh PATH/TO/ctnet_export_onnx}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ctnet_onnx_bad.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect STATUS REGEX ARGS...: runs the exporter, checks its exit status and its one stderr line.
expect() {
  local want="$1" regex="$2"
  shift 2
  "$exe" "$@" > "$tmp/out" 2> "$tmp/err"
  local status=$? lines
  lines=$(wc -l < "$tmp/err")
  if [[ $status -ne $want || $lines -ne 1 ]] || ! grep -Eq "^error: $regex" "$tmp/err"; then
    echo "FAIL: ctnet_export_onnx $* -> exit $status (expected $want), stderr ($lines lines): $(cat "$tmp/err")"
    failures=$((failures + 1))
  else
    echo "ok: $* -> exit $status: $(cat "$tmp/err")"
  fi
}

expect 1 "ctnet: export_onnx: directory '$tmp/missing' \(of '$tmp/missing/m\.onnx'\) does not exist" \
  --network mnist_step3_gap "$tmp/missing/m.onnx"
mkdir "$tmp/dir.onnx"
expect 1 "ctnet: export_onnx: '$tmp/dir\.onnx' is a directory, not a file" --network mnist_step3_gap "$tmp/dir.onnx"
mkfifo "$tmp/fifo.onnx"
expect 1 "ctnet: export_onnx: '$tmp/fifo\.onnx' exists and is not a regular file" --network mnist_adder "$tmp/fifo.onnx"
[[ -p "$tmp/fifo.onnx" ]] || { echo "FAIL: the FIFO was replaced"; failures=$((failures + 1)); }
: > "$tmp/target.onnx"
ln -s "$tmp/target.onnx" "$tmp/link.onnx"
expect 1 "ctnet: export_onnx: '$tmp/link\.onnx' is a symbolic link" --network mnist_session3 "$tmp/link.onnx"
if [[ "$(id -u)" != 0 ]]; then
  mkdir "$tmp/ro" && chmod 555 "$tmp/ro"
  expect 1 "ctnet: export_onnx: cannot write in directory '$tmp/ro'" --network mnist_step3_gap "$tmp/ro/m.onnx"
else
  echo "note: the unwritable-directory case is not run as root (root writes in any directory)"
fi
printf 'not a safetensors file' > "$tmp/garbage.safetensors"
expect 1 "ctnet: .*garbage\.safetensors" --checkpoint "$tmp/garbage.safetensors" "$tmp/m.onnx"
expect 2 "ctnet: --network 'mnist_step9'" --network mnist_step9 "$tmp/m.onnx"
expect 2 "ctnet: no output file given" --network mnist_step3_gap
expect 2 "ctnet: give exactly one of --checkpoint and --network" "$tmp/m.onnx"
[[ ! -e "$tmp/m.onnx" && ! -e "$tmp/m.onnx.tmp" ]] || { echo "FAIL: a failed export left a file"; failures=$((failures + 1)); }
# And the good path writes the file (and no temporary).
"$exe" --network mnist_step3_gap "$tmp/good.onnx" > /dev/null || { echo "FAIL: a good export failed"; failures=$((failures + 1)); }
[[ -s "$tmp/good.onnx" && ! -e "$tmp/good.onnx.tmp" ]] || { echo "FAIL: no good.onnx"; failures=$((failures + 1)); }

if [[ $failures -ne 0 ]]; then echo "bad_paths.sh: $failures failures"; exit 1; fi
echo "bad_paths.sh: all cases give one error line and the expected status"
