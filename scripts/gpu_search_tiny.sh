#!/usr/bin/env bash
# gpu_search_tiny.sh — the tiny model's wider search on a GPU, and compute-sanitizer over the CUDA backend,
# in one command for the lent GPU machine (bare, no network; scripts/gpu_prepare.sh fills .gpu_carry/ first).
#
# Usage: scripts/gpu_search_tiny.sh OUTDIR
#   device tool: command  bash scripts/gpu_search_tiny.sh "$OUT"   carry [".gpu_carry"]   timeout_s 600
# Writes into OUTDIR (at most 6 files): validation_gpu.csv (search_mnist.py --stage tiny-recipe --device cuda:
# every run of mnist::Tiny's recipes and five more widths on seed 1, on the validation split, then the six best
# on seeds 2 and 3), search.log, final_gpu.csv (the flagship's defaults on the test set, seeds 1-5, on the GPU,
# if time is left), sanitizer.log (compute-sanitizer memcheck of the CUDA tests and of one short training run
# with its CUDA graph; each "exit" line gives its status, 0 = no error found), build.log and summary.txt.
# The whole run is held to $CTNET_SEARCH_BUDGET seconds (default 540); no training starts in its last 60.
# CTNET_SEARCH_SANITIZER=0 leaves compute-sanitizer out (and the CUDA tests unbuilt); CTNET_SEARCH_FROM=CSV
# continues an earlier search (its runs are not repeated), CTNET_SEARCH_CONFIRM=K confirms the K best (default
# 6), CTNET_SEARCH_FINAL=0 skips the flagship's test-set runs.
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:?usage: gpu_search_tiny.sh OUTDIR}"
mkdir -p "$out" && out="$(cd "$out" && pwd)" || exit 2
cd "$repo" || exit 2
budget=${CTNET_SEARCH_BUDGET:-540}
start=$SECONDS
command -v nvcc > /dev/null || export PATH="$PATH:/usr/local/cuda/bin"
carry="$repo/.gpu_carry"
mnist="$carry/mnist"
[[ -f "$mnist/train-images-idx3-ubyte.gz" ]] || mnist="$repo/data/mnist"
build="$repo/build-gpu"
summary="$out/summary.txt"
: > "$summary"
say() { echo "$*" | tee -a "$summary"; }

cmake_args=(-DCMAKE_BUILD_TYPE=Release -DCTNET_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="${CTNET_GPU_ARCH:-90}")
[[ -d "$carry/prefix" ]] && cmake_args+=(-DCTNET_FALLBACK_PREFIX="$carry/prefix")
command -v ninja > /dev/null && cmake_args+=(-G Ninja)
jobs=$(nproc)
sanitize=${CTNET_SEARCH_SANITIZER:-1}
targets=(mnist_tiny mnist_step3_gap)
(( sanitize )) && targets+=(cuda_ops cuda_training)
{ cmake -S "$repo" -B "$build" "${cmake_args[@]}" &&
  cmake --build "$build" -j"$jobs" --target "${targets[@]}"; } > "$out/build.log" 2>&1 ||
  { say "FAILED build (build.log)"; tail -n 30 "$out/build.log"; exit 1; }
say "built in $((SECONDS - start)) s"

# compute-sanitizer shares the GPU with the search (it only slows it): the tests, then a short training run.
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
(
  if (( ! sanitize )); then echo "exit none: CTNET_SEARCH_SANITIZER=0"; exit 0; fi
  if [[ ! -x "$sanitizer" ]]; then echo "exit none: compute-sanitizer not found"; exit 0; fi
  timeout 120 "$sanitizer" --tool memcheck --error-exitcode 9 "$build/examples/mnist_step3_gap" --device cuda \
    --epochs 1 --train-limit 4096 --test-limit 2000 --data "$mnist" --progress off --csv -
  echo "exit mnist_step3_gap memcheck (CUDA graph): $?"
  for t in cuda_training cuda_ops; do
    CTNET_REQUIRE_CUDA=1 timeout 200 "$sanitizer" --tool memcheck --leak-check full --error-exitcode 9 \
      "$build/tests/cuda/$t"
    echo "exit $t memcheck: $?"
  done
  CTNET_REQUIRE_CUDA=1 timeout 150 "$sanitizer" --tool initcheck --error-exitcode 9 "$build/tests/cuda/cuda_ops"
  echo "exit cuda_ops initcheck: $?"
) > "$out/sanitizer.log" 2>&1 &
sanitizer_pid=$!

[[ -n "${CTNET_SEARCH_FROM:-}" ]] && cp "$CTNET_SEARCH_FROM" "$out/validation_gpu.csv"
left=$((budget - (SECONDS - start) - 60))
PYTHONUNBUFFERED=1 python3 scripts/search_mnist.py --stage tiny-recipe --device cuda --jobs 4 --build-jobs 3 \
  --seeds 1 --confirm "${CTNET_SEARCH_CONFIRM:-6}" --confirm-seeds 2,3 --deadline "$left" --build-dir "$build" \
  --search-build "$repo/build-search" --data "$mnist" --out "$out/validation_gpu.csv" \
  "${cmake_args[@]/#/--cmake-arg=}" > "$out/search.log" 2>&1
say "search: exit $? after $((SECONDS - start)) s, $(($(wc -l < "$out/validation_gpu.csv") - 1)) runs"

left=$((budget - (SECONDS - start) - 45))
if (( left > 10 )) && [[ ${CTNET_SEARCH_FINAL:-1} != 0 ]]; then
  PYTHONUNBUFFERED=1 python3 scripts/search_mnist.py --final --stage flagship --device cuda --jobs 4 \
    --seeds 1,2,3,4,5 --deadline "$left" --build-dir "$build" --data "$mnist" --out "$out/final_gpu.csv" \
    >> "$out/search.log" 2>&1
  say "flagship on the GPU: exit $? after $((SECONDS - start)) s"
fi

# The sanitizer gets what is left of the budget, then is stopped.
while kill -0 "$sanitizer_pid" 2> /dev/null && (( SECONDS - start < budget - 5 )); do sleep 2; done
if kill -0 "$sanitizer_pid" 2> /dev/null; then
  pkill -P "$sanitizer_pid"; kill "$sanitizer_pid"; say "sanitizer stopped at the budget"
fi
grep '^exit ' "$out/sanitizer.log" | tee -a "$summary"
grep -E '^(=+ )?(ERROR SUMMARY|LEAK SUMMARY)' "$out/sanitizer.log" | head -n 8 | tee -a "$summary"
tail -n 25 "$out/search.log" | tee -a "$summary"
say "gpu_search_tiny: done in $((SECONDS - start)) s"
