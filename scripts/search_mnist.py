#!/usr/bin/env python3
"""The architecture and recipe search behind the README's seed tables, on a validation split: every run holds
out the last 10,000 training images (--validation 10000), trains on the other 50,000 and is judged on them,
so the test set plays no part in any choice. Each run is one row of a CSV file (what was tried, the seed, every
epoch's validation accuracy, the minimum of the last three); rows already in the file are not run again, so an
interrupted search continues where it stopped. `--final` runs the choices on the test set instead, for the
README's tables (a separate CSV; stages flagship, tiny, session3, step2 and adder, whose rows hold the digit's
accuracies and, in sum_accuracies, the sum's).

  python3 scripts/search_mnist.py                       # every stage, seeds 1 and 2, into search/validation.csv
  python3 scripts/search_mnist.py --stage tiny --seeds 1
  python3 scripts/search_mnist.py --final --seeds 1,2,3,4,5 --stage flagship   # into search/final.csv
  python3 scripts/search_mnist.py --list                # the plan, nothing run

The flagship stage varies mnist_step3_gap's recipe through its options; the tiny stage builds mnist_tiny with
other widths (CMake's CTNET_TINY_WIDTHS, in --search-build, a build directory of its own) and varies the
recipe of the best. Needs the examples built (--build-dir, default build/) and MNIST (--data). Stdlib only."""
import argparse, csv, json, os, shutil, subprocess, sys, time

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(here)

# (candidate, program, widths or None, options). A program "mnist_tiny" with widths is built for them.
FLAGSHIP = [
    ("flagship-lr0.2", "mnist_step3_gap", None, ["--lr", "0.2"]),
    ("flagship-lr0.3", "mnist_step3_gap", None, ["--lr", "0.3"]),
    ("flagship-lr0.15", "mnist_step3_gap", None, ["--lr", "0.15"]),
    ("flagship-wd5e-4", "mnist_step3_gap", None, ["--weight-decay", "5e-4"]),
]
TINY_WIDTHS = ["8,10,8,10,10,12", "8,12,8,10,10,12", "6,10,8,10,10,12"]
# The widths first (seed 1, the flagship's recipe), then the recipe varied on the best of them.
TINY = [(f"tiny-{w}", "mnist_tiny", w, []) for w in TINY_WIDTHS] + [
    ("tiny-8,12,8,10,10,12-lr0.3", "mnist_tiny", "8,12,8,10,10,12", ["--lr", "0.3"]),
    ("tiny-8,12,8,10,10,12-rotation10", "mnist_tiny", "8,12,8,10,10,12", ["--rotation", "10"]),
    ("tiny-8,12,8,10,10,12-batch64", "mnist_tiny", "8,12,8,10,10,12", ["--batch", "64"]),
    ("tiny-8,12,8,10,10,12-wd5e-5", "mnist_tiny", "8,12,8,10,10,12", ["--weight-decay", "5e-5"]),
]
# What --final runs: the choices, at each program's defaults (build/'s mnist_tiny is mnist::Tiny, 8,12,8,10,10,12).
FINAL = {
    "flagship": [("flagship", "mnist_step3_gap", None, [])],
    "tiny": [("tiny", "mnist_tiny", None, [])],
    "session3": [("session3", "mnist_session3", None, [])],
    "step2": [("step2", "mnist_step2_bn_dropout", None, [])],
    "adder": [("adder", "mnist_adder", None, [])],
}
COLUMNS = ["stage", "candidate", "program", "widths", "options", "split", "seed", "parameters", "epochs",
           "accuracies", "last3_min", "best", "last", "seconds", "sum_accuracies"]


def build_tiny(widths, build_dir, search_build):
    """The mnist_tiny binary for `widths`, built once (kept as search_build/bin/mnist_tiny-<widths>)."""
    target = os.path.join(search_build, "bin", "mnist_tiny-" + widths.replace(",", "-"))
    if os.path.exists(target):
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    subprocess.run(["cmake", "-S", repo, "-B", search_build, "-DCMAKE_BUILD_TYPE=Release", "-DCTNET_BUILD_TESTS=OFF",
                    "-DCTNET_CUDA=OFF", f"-DCTNET_TINY_WIDTHS={widths}"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", search_build, "--target", "mnist_tiny", "-j2"], check=True,
                   stdout=subprocess.DEVNULL)
    shutil.copy2(os.path.join(search_build, "examples", "mnist_tiny"), target)
    return target


def run_one(program_path, options, seed, a, validation):
    cmd = [program_path, "--data", a.data, "--seed", str(seed), "--threads", str(a.threads), "--progress", "off",
           "--csv", "-"] + (["--validation", str(validation)] if validation else []) + options
    print("  " + " ".join(cmd), flush=True)
    start = time.time()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if not lines:
        sys.exit(f"search_mnist.py: {program_path} printed no JSON line")
    j = lines[-1]
    if "digit_accuracy" in j:  # the adder (test set only): the digit's accuracies; the sum's go in their column
        j["best"], j["last"] = j["best_digit"], j["last_digit"]
        return j, j["digit_accuracy"], time.time() - start
    acc = j["validation_accuracy" if validation else "test_accuracy"]
    return j, acc, time.time() - start


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stage", choices=["flagship", "tiny", "session3", "step2", "adder", "all"], default="all")
    p.add_argument("--seeds", default="1,2", help="comma-separated seeds (default: 1,2)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", default=os.path.join(repo, "data", "mnist"))
    p.add_argument("--build-dir", default=os.path.join(repo, "build"))
    p.add_argument("--search-build", default=os.path.join(repo, "build-search"))
    p.add_argument("--out", help="CSV file (default: search/validation.csv, with --final search/final.csv)")
    p.add_argument("--validation", type=int, default=10000)
    p.add_argument("--final", action="store_true", help="run the final choices on the test set")
    p.add_argument("--list", action="store_true", help="print the plan and run nothing")
    a = p.parse_args()
    try:
        seeds = [int(s) for s in a.seeds.split(",")]
    except ValueError:
        sys.exit(f"search_mnist.py: --seeds {a.seeds!r}: expected comma-separated integers")
    out = a.out or os.path.join(repo, "search", "final.csv" if a.final else "validation.csv")
    plan = FINAL if a.final else {"flagship": FLAGSHIP, "tiny": TINY}
    stages = [s for s in plan if a.stage in ("all", s)]
    if not stages:
        sys.exit(f"search_mnist.py: --stage {a.stage}: nothing to run here (stages: {', '.join(plan)})")
    split = "test" if a.final else "validation"
    validation = 0 if a.final else a.validation

    done = set()
    if os.path.exists(out):
        with open(out, newline="") as f:
            rows = list(csv.DictReader(f))
        if rows and list(rows[0].keys()) != COLUMNS:
            sys.exit(f"search_mnist.py: {out} has other columns than this script writes")
        done = {(r["candidate"], r["split"], r["seed"]) for r in rows}
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    new_file = not os.path.exists(out)
    with open(out, "a", newline="") as f:
        w = csv.writer(f)
        if new_file:
            w.writerow(COLUMNS)
        for stage in stages:
            print(f"stage {stage} ({split}):", flush=True)
            for name, program, widths, options in plan[stage]:
                for seed in seeds:
                    if (name, split, str(seed)) in done:
                        print(f"  {name} seed {seed}: in {out} already")
                        continue
                    if a.list:
                        print(f"  {name} seed {seed}: {program} {' '.join(options)}")
                        continue
                    path = (build_tiny(widths, a.build_dir, a.search_build) if widths else
                            os.path.join(a.build_dir, "examples", program))
                    if not os.path.exists(path):
                        sys.exit(f"search_mnist.py: {path} not found (build the examples; see README)")
                    j, acc, seconds = run_one(path, options, seed, a, validation)
                    last3 = min(acc[-3:])
                    print(f"  {name} seed {seed}: last three {acc[-3:]}, best {j['best']}", flush=True)
                    w.writerow([stage, name, program, widths or "", " ".join(options), split, seed, j["parameters"],
                                j["epochs"], " ".join(f"{x:.2f}" for x in acc), f"{last3:.2f}", j["best"],
                                j["last"], f"{seconds:.0f}",
                                " ".join(f"{x:.2f}" for x in j.get("sum_accuracy", []))])
                    f.flush()
    if not a.list:
        summarize(out, split)


def summarize(out, split):
    """Per candidate: the seeds run and the worst of their last-three minima."""
    with open(out, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == split]
    by = {}
    for r in rows:
        by.setdefault(r["candidate"], []).append(r)
    print(f"\n{split}: candidate, parameters, seeds, worst last-three minimum, mean last")
    for name, rs in by.items():
        worst = min(float(r["last3_min"]) for r in rs)
        mean = sum(float(r["last"]) for r in rs) / len(rs)
        print(f"  {name:34s} {rs[0]['parameters']:>6s}  seeds {','.join(r['seed'] for r in rs):10s} "
              f"worst {worst:.2f}  mean last {mean:.2f}")


if __name__ == "__main__":
    main()
