#!/usr/bin/env bash
# shellcheck disable=SC2016  # the stand-ins' bodies are single-quoted: they expand when the stand-ins run
# gpu_check_replay.sh — scripts/gpu_check.sh's GPU branch, run here without a GPU: nvidia-smi, cmake, ctest,
# the examples, ctnet_bench and PyTorch are stand-ins that print what the real ones printed on the H200
# (tests/scripts/gpu_replay/*.txt, cut from that run's stages.log). The GPU branch cannot run in CI, and the
# first real run lost a stage to a bug in its parsing (a grep under pipefail), so this replays it: a good
# run must pass with the figures in summary.json; a failing benchmark and an example without a JSON line
# must each stop the run at their stage with one FAILED line.
#
# Usage: gpu_check_replay.sh   (exit 0: every replay behaved; needs bash, python3 for the ratios)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
replay="$here/gpu_replay"
work="$(mktemp -d "${TMPDIR:-/tmp}/ctnet_gpu_replay.XXXXXX")"
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

fake="$work/bin" build="$work/build" carry="$work/carry"
mkdir -p "$fake" "$build/tests/cuda" "$build/examples" "$carry/mnist"
: > "$build/CMakeCache.txt"
real_python=$(command -v python3)

stub() {  # name, then the body of a bash script
  printf '#!/usr/bin/env bash\n%s\n' "$2" > "$1"
  chmod +x "$1"
}
stub "$fake/nvidia-smi" 'case "$*" in
  -L) echo "GPU 0: NVIDIA H200 (UUID: GPU-replay)" ;;
  *--query-gpu*) echo "NVIDIA H200, 580.159.04, 143771 MiB" ;;
  *) echo "| NVIDIA-SMI 580.159.04   Driver Version: 580.159.04   CUDA Version: 13.0 |" ;;
esac'
stub "$fake/nvcc" 'echo "Cuda compilation tools, release 13.0, V13.0.48"; echo "Build cuda_13.0"'
stub "$fake/cmake" '[[ "${1:-}" == --version ]] && echo "cmake version 3.25.1"; exit 0'
# ctest: -N lists two host tests; a run with --output-junit writes the report the real one wrote.
stub "$fake/ctest" 'for a in "$@"; do [[ $prev == --output-junit ]] && echo "<testsuite tests=\"12\" failures=\"0\"/>" > "$a"; prev=$a; done
[[ " $* " == *" -N "* ]] && printf "  Test  #1: cuda_host/a\n  Test  #2: cuda_host/b\n"; exit 0'
# python3: the torch checks and pytorch_ref.py are replayed; anything else (the ratios) is the real python3.
stub "$fake/python3" "case \"\$*\" in
  *'import torch'*) echo 'torch 2.11.0+cu130 cuda True'; exit 0 ;;
  *pytorch_ref.py*--batch\\ 128*) cat '$replay/pytorch_128.txt' ;;
  *pytorch_ref.py*--batch\\ 512*) cat '$replay/pytorch_512.txt' ;;
  *) exec '$real_python' \"\$@\" ;;
esac"
: > "$carry/pytorch_ref.py"

program() {  # the build's examples: name, then the body
  stub "$build/examples/$1" "$2"
}
good_programs() {
  program mnist_step3_gap "[[ \" \$* \" == *' --cuda-graph off '* ]] && exec cat '$replay/step3_eager.txt'; exec cat '$replay/step3_graph.txt'"
  program mnist_adder "exec cat '$replay/adder.txt'"
  program ctnet_bench "exec cat '$replay/ctnet_bench.txt'"
}

replay_run() {  # out-dir: runs gpu_check.sh's GPU branch on the stand-ins
  PATH="$fake:$PATH" CTNET_GPU_CARRY="$carry" CTNET_GPU_CHECK_BUDGET=120 \
    bash "$repo/scripts/gpu_check.sh" --require-gpu --build-dir "$build" "$1" > "$1.out" 2>&1
}

# 1. The H200's run, replayed: it passes, and summary.json holds its stages, figures and ratios.
good_programs
replay_run "$work/good"
rc=$?
(( rc == 0 )) || fail "the replayed H200 run failed (exit $rc): $(tail -n 5 "$work/good.out")"
grep -q '^gpu_check: gpu run passed' "$work/good.out" || fail "no 'gpu run passed' line"
"$real_python" - "$work/good/summary.json" <<'EOF' || fail "summary.json: see above"
import json, sys
s = json.load(open(sys.argv[1]))
problems = []
if not s["ok"] or s["mode"] != "gpu":
    problems.append(f"ok {s['ok']}, mode {s['mode']}")
names = [x["name"] for x in s["stages"]]
want = ["env", "configure", "build", "host", "cuda_sync", "cuda", "examples", "bench", "pytorch"]
if names != want or any(x["status"] != "ok" for x in s["stages"]):
    problems.append(f"stages {[(x['name'], x['status']) for x in s['stages']]}")
examples = next(x["note"] for x in s["stages"] if x["name"] == "examples")
for text in ('mnist_step3_gap "best":98.98', 'mnist_step3_gap "best":98.97', 'mnist_adder "best_digit":98.82'):
    if text not in examples:
        problems.append(f"examples note lacks {text!r}: {examples!r}")
r = s.get("ratios", {})
if r.get("train_reference_b128_vs_pytorch_reference") != 7.36 or r.get("flagship_seconds_to_target") != 4.23:
    problems.append(f"ratios {r}")
if len([b for b in s["bench"] if b.get("framework") == "pytorch"]) != 6:
    problems.append("bench.jsonl lacks PyTorch's six lines")
for p in problems:
    print("summary.json: " + p)
sys.exit(1 if problems else 0)
EOF

# 2. ctnet_bench fails: the run stops at the bench stage, naming its error.
program ctnet_bench 'echo "error: --device cuda: out of memory in the replay"; exit 1'
replay_run "$work/bench_fails"
rc=$?
(( rc == 1 )) || fail "a failing ctnet_bench: exit $rc, expected 1"
grep -q '^FAILED bench: ctnet_bench --device cuda: exit status 1 error: --device cuda: out of memory in the replay' \
  "$work/bench_fails.out" || fail "a failing ctnet_bench: no FAILED bench line: $(grep -m1 FAILED "$work/bench_fails.out")"

# 3. An example that prints no JSON line: the examples stage fails and says so; nothing after it runs.
good_programs
program mnist_adder 'echo "epoch 1/1 ..."'
replay_run "$work/no_json"
rc=$?
(( rc == 1 )) || fail "an example without a JSON line: exit $rc, expected 1"
grep -q '^FAILED examples: mnist_adder: no JSON result line' "$work/no_json.out" ||
  fail "an example without a JSON line: $(grep -m1 FAILED "$work/no_json.out")"
grep -q '"name":"bench"' "$work/no_json/summary.json" && fail "stages ran after the failed examples stage"

(( failures == 0 )) && echo "gpu_check_replay: 3 replays behaved" && exit 0
exit 1
