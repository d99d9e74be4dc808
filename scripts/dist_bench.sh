#!/usr/bin/env bash
# dist_bench.sh — data-parallel scaling of an example program: one JSON line per rank count.
#
# Usage: scripts/dist_bench.sh [--ranks "1 2 4"] [--threads T] [--program build/examples/mnist_step3_gap]
#                              [-- extra options for the program]
# Runs `mpirun -n N PROGRAM --epochs 1 --threads T --progress off --csv - ...` for each N (the same global
# batch every time) and prints {"ranks":N,"threads_per_rank":T,"seconds":S,"speedup":S1/S} from the
# program's own JSON line (rank 0's). Timings mean something only on an otherwise idle machine with
# N x T cores. With T > 1 the ranks are not bound to cores (--bind-to none).
set -euo pipefail
ranks="1 2 4" threads=1 program=build/examples/mnist_step3_gap extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --ranks) ranks=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --program) program=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "dist_bench.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
command -v mpirun > /dev/null || { echo "dist_bench.sh: no mpirun (apt-get install openmpi-bin)" >&2; exit 1; }
[[ -x $program ]] || { echo "dist_bench.sh: no program '$program' (build it first)" >&2; exit 1; }
root=()
if [[ "$(id -u)" -eq 0 ]]; then root=(--allow-run-as-root); fi
first=""
for n in $ranks; do
  # Open MPI binds each rank to one core when there are at most two: a rank's other threads would share it.
  bind=()
  if [[ $threads -gt 1 ]]; then bind=(--bind-to none); fi
  line=$(OMP_NUM_THREADS=$threads mpirun -n "$n" --oversubscribe "${bind[@]}" "${root[@]}" "$program" --epochs 1 \
         --threads "$threads" --progress off --csv - "${extra[@]}" | grep '^{')
  seconds=$(grep -o '"seconds":[0-9.e+-]*' <<< "$line" | cut -d: -f2)
  [[ -n $first ]] || first=$seconds
  speedup=$(awk -v a="$first" -v b="$seconds" 'BEGIN { printf "%.3f", b > 0 ? a / b : 0 }')
  echo "{\"ranks\":$n,\"threads_per_rank\":$threads,\"seconds\":$seconds,\"speedup\":$speedup}"
done
