#!/usr/bin/env bash
# bench_onnx.sh [BUILD_DIR] [THREADS] [REPS] — ctnet against ONNX Runtime on the same exported network, same
# threads, same run: the reference S4-GAP network (9,752 parameters, seeded) is exported with
# ctnet_export_onnx, then ctnet_bench (--only infer, --only latency_b1) and tests/onnx/bench_ort.mjs time
# inference at batch 1000 and batch-1 latency, one after the other. Prints their JSON lines and one
# "onnx_ratio" line: ctnet's throughput over ORT's (above 1: ctnet faster) and ORT's median latency over
# ctnet's (above 1: ctnet faster). Needs a build with ctnet::onnx, node and tests/onnx/node_modules
# (npm ci there), MNIST in data/mnist. Timings mean something only on a quiet machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
threads="${2:-2}"
reps="${3:-5}"
data="${CTNET_DATA:-$root/data/mnist}"
for exe in ctnet_export_onnx ctnet_bench; do
  [[ -x "$build/examples/$exe" ]] || { echo "bench_onnx.sh: no $build/examples/$exe (build it, with libonnx-dev for the first)" >&2; exit 1; }
done
tmp="$(mktemp -d "${TMPDIR:-/tmp}/ctnet_bench_onnx.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

"$build/examples/ctnet_export_onnx" --network reference --seed 1 "$tmp/reference.onnx" > /dev/null
export OMP_NUM_THREADS="$threads"
{
  "$build/examples/ctnet_bench" --model reference --threads "$threads" --data "$data" --only infer --reps "$reps"
  "$build/examples/ctnet_bench" --model reference --threads "$threads" --data "$data" --only latency_b1
  node "$root/tests/onnx/bench_ort.mjs" "$tmp/reference.onnx" "$data" "$threads" "$reps"
} | tee "$tmp/lines.jsonl"
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
const get = (f, b) => lines.find((l) => l.framework === f && l.bench === b);
const [ci, oi, cl, ol] = [get("ctnet", "infer"), get("onnxruntime", "infer"), get("ctnet", "latency_b1"),
                          get("onnxruntime", "latency_b1")];
if (!ci || !oi || !cl || !ol) { console.error("bench_onnx.sh: a benchmark line is missing"); process.exit(1); }
console.log(JSON.stringify({ bench: "onnx_ratio", model: "reference", threads: ci.threads, runtime: ol.runtime,
  infer_b1000_ctnet_over_ort: Math.round(ci.img_per_s / oi.img_per_s * 100) / 100,
  latency_b1_ort_over_ctnet: Math.round(ol.us_median / cl.us_median * 100) / 100 }));
' "$tmp/lines.jsonl"
