#!/usr/bin/env bash
# fuzz.sh — builds ctnet's libFuzzer targets (tests/fuzz, clang 19, ASan + UBSan, no recovery) and runs each
# for a fixed time from its committed seed corpus; exits non-zero on any finding (crash, sanitizer report,
# leak, timeout, allocation over the limit, uncaught exception) and prints each target's final figures.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60 s, all targets; CI runs 10 s each)
#   Targets: idx idx_gzip image safetensors checkpoint training_state json.
#   Build directory: <repository>/build-fuzz
#   (CTNET_FUZZ_BUILD_DIR overrides it).
#   A finding leaves its input as build-fuzz/findings/<target>-crash-* (or leak-, timeout-, oom-); rerun it
#   with build-fuzz/tests/fuzz/fuzz_<target> <file>. The corpus grown by a run stays in
#   build-fuzz/corpus/<target> and is reused by the next run; the committed seeds are never modified.
# Needs: clang-19, libclang-rt-19-dev, libomp-19-dev (scripts/install_deps.sh installs them).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
seconds="${1:-60}"
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
  exit 2
fi
all_targets=(idx idx_gzip image safetensors checkpoint training_state json)
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then targets=("${all_targets[@]}"); fi
for t in "${targets[@]}"; do
  if [[ ! " ${all_targets[*]} " =~ " $t " ]]; then
    echo "fuzz.sh: unknown target '$t' (targets: ${all_targets[*]})" >&2
    exit 2
  fi
done
cxx="${CTNET_FUZZ_CXX:-clang++-19}"
if ! command -v "$cxx" > /dev/null; then
  echo "fuzz.sh: $cxx not found (apt-get install clang-19 libclang-rt-19-dev libomp-19-dev)" >&2
  exit 2
fi

build="${CTNET_FUZZ_BUILD_DIR:-build-fuzz}"
export OMP_NUM_THREADS=1
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$cxx" -DCTNET_FUZZ=ON \
  -DCTNET_BUILD_TESTS=OFF -DCTNET_BUILD_EXAMPLES=OFF -DCTNET_CUDA=OFF -DCTNET_NATIVE=OFF > "$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}")

declare -A dict=([image]=image.dict [safetensors]=safetensors.dict [checkpoint]=safetensors.dict [training_state]=safetensors.dict
                 [json]=json.dict)
mkdir -p "$build/findings"
failed=()
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  mkdir -p "$corpus"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1
        -artifact_prefix="$build/findings/$t-" "$corpus" "tests/fuzz/corpus/$t")
  if [[ -n "${dict[$t]:-}" ]]; then args=(-dict="tests/fuzz/${dict[$t]}" "${args[@]}"); fi
  log="$build/fuzz_$t.log"
  echo "== fuzz_$t: ${seconds} s (log: $log)"
  rc=0
  # The outer timeout only guards against a hung process; libFuzzer stops itself at -max_total_time.
  timeout --kill-after=30 $((seconds + 120)) "$build/tests/fuzz/fuzz_$t" "${args[@]}" > "$log" 2>&1 || rc=$?
  # libFuzzer's last status line (#N DONE cov: ... ft: ... corp: ... exec/s: ...) and its final statistics.
  grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true
  grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added)' "$log" || true
  if [[ $rc -ne 0 ]]; then
    echo "fuzz_$t: FAILED (exit $rc); the report:" >&2
    grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==|Test unit written|deadly signal|terminate called' "$log" | head -20 >&2 || true
    failed+=("$t")
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: findings in: ${failed[*]} (inputs in $build/findings/)" >&2
  exit 1
fi
echo "fuzz.sh: no findings in ${#targets[@]} targets, ${seconds} s each"
