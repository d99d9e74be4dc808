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
  python3 scripts/search_mnist.py --stage tiny-recipe --device cuda --jobs 3 --confirm 6 --deadline 400
                                                        # on a GPU: the wider tiny search, the best 6 on seeds 2, 3

The flagship stage varies mnist_step3_gap's recipe through its options; the tiny stage builds mnist_tiny with
other widths (CMake's CTNET_TINY_WIDTHS, in --search-build, a build directory of its own) and varies the
recipe of the best; tiny-recipe (meant for a GPU, --device cuda) crosses augmentation (rotation, translation,
scale) with the learning rate, batch and weight decay on mnist::Tiny and tries five more widths. --jobs runs
several trainings at once, --deadline stops starting new ones after that many seconds (what finished is in
the CSV), --confirm K reruns the K best candidates of the seeds run (by the worst of their last three epochs)
on --confirm-seeds. Needs the examples built (--build-dir, default build/) and MNIST (--data). Stdlib only."""
import argparse, concurrent.futures, csv, json, os, shutil, subprocess, sys, threading, time

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
# The flagship's augmentation (mnist_tiny's defaults when these ran), spelled out so that a rerun repeats them.
FLAGSHIP_AUG = ["--translate", "0.08", "--scale", "0"]
TINY = [(f"tiny-{w}", "mnist_tiny", w, FLAGSHIP_AUG) for w in TINY_WIDTHS] + [
    ("tiny-8,12,8,10,10,12-lr0.3", "mnist_tiny", "8,12,8,10,10,12", FLAGSHIP_AUG + ["--lr", "0.3"]),
    ("tiny-8,12,8,10,10,12-rotation10", "mnist_tiny", "8,12,8,10,10,12", FLAGSHIP_AUG + ["--rotation", "10"]),
    ("tiny-8,12,8,10,10,12-batch64", "mnist_tiny", "8,12,8,10,10,12", FLAGSHIP_AUG + ["--batch", "64"]),
    ("tiny-8,12,8,10,10,12-wd5e-5", "mnist_tiny", "8,12,8,10,10,12", FLAGSHIP_AUG + ["--weight-decay", "5e-5"]),
]
# The wider tiny search (a GPU's afternoon; each run is seconds there, two minutes on two CPU cores): the
# augmentation crossed on mnist::Tiny, then the learning rate, batch and weight decay with one augmentation,
# then five more widths in the budget (3,922-3,998 parameters), each at the flagship's augmentation (rotation
# 7, translation 0.08) and the augmented recipe. Every candidate names its augmentation, so that it does not
# depend on mnist_tiny's defaults (which this search chose).
AUG = ["--rotation", "7", "--translate", "0.05", "--scale", "0.1"]
TINY0 = "8,12,8,10,10,12"


def tiny_candidate(name, widths, options):
    # mnist::Tiny's widths are the --build-dir's mnist_tiny; others are built (build_tiny).
    return (f"tiny-{widths}-{name}", "mnist_tiny", None if widths == TINY0 else widths, options)


TINY_RECIPE = (
    [tiny_candidate(f"rot{r}-tr{t}-sc{c}", TINY0, ["--rotation", r, "--translate", t, "--scale", c])
     for r in ("7", "12") for t in ("0", "0.05", "0.1") for c in ("0", "0.1")] +
    [tiny_candidate(f"aug-lr{lr}", TINY0, AUG + ["--lr", lr]) for lr in ("0.1", "0.15", "0.3", "0.4")] +
    [tiny_candidate("aug-batch64-lr0.15", TINY0, AUG + ["--batch", "64", "--lr", "0.15"]),
     tiny_candidate("aug-batch256-lr0.3", TINY0, AUG + ["--batch", "256", "--lr", "0.3"]),
     tiny_candidate("aug-wd5e-5", TINY0, AUG + ["--weight-decay", "5e-5"]),
     tiny_candidate("aug-wd3e-4", TINY0, AUG + ["--weight-decay", "3e-4"]),
     tiny_candidate("rot15-tr0.1-sc0.15", TINY0, ["--rotation", "15", "--translate", "0.1", "--scale", "0.15"]),
     tiny_candidate("rot7-tr0.05-sc0.2", TINY0, ["--rotation", "7", "--translate", "0.05", "--scale", "0.2"])] +
    [tiny_candidate(name, w, options)
     for w in ("6,12,8,10,10,14", "8,10,8,10,10,14", "6,14,8,12,10,10", "8,10,10,10,10,12", "6,10,8,10,10,16")
     for name, options in (("flagship-aug", ["--rotation", "7"] + FLAGSHIP_AUG), ("aug", AUG))])
# What --final runs: the choices, at each program's defaults (build/'s mnist_tiny is mnist::Tiny, 8,12,8,10,10,12).
FINAL = {
    "flagship": [("flagship", "mnist_step3_gap", None, [])],
    "tiny": [("tiny", "mnist_tiny", None, [])],
    "session3": [("session3", "mnist_session3", None, [])],
    "step2": [("step2", "mnist_step2_bn_dropout", None, [])],
    "adder": [("adder", "mnist_adder", None, [])],
}
COLUMNS = ["stage", "candidate", "program", "widths", "options", "split", "seed", "parameters", "epochs",
           "accuracies", "last3_min", "best", "last", "seconds", "sum_accuracies", "device"]


def build_tiny(widths, a):
    """The mnist_tiny binary for `widths`, built once in a build directory of its own (search_build-<widths>,
    so that several build at once), with its CUDA part when --device cuda."""
    tag = widths.replace(",", "-")
    build = f"{a.search_build}-{tag}"
    target = os.path.join(build, "examples", "mnist_tiny")
    stamp = target + ".built"
    if os.path.exists(stamp):
        return target
    cuda = "ON" if a.device == "cuda" else "OFF"
    subprocess.run(["cmake", "-S", repo, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DCTNET_BUILD_TESTS=OFF",
                    f"-DCTNET_CUDA={cuda}", f"-DCTNET_TINY_WIDTHS={widths}"] + a.cmake_arg, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build, "--target", "mnist_tiny", f"-j{a.build_jobs}"], check=True,
                   stdout=subprocess.DEVNULL)
    open(stamp, "w").close()
    return target


def run_one(program_path, options, seed, a, validation):
    threads = ["--threads", str(a.threads)] if a.device == "cpu" else []  # a GPU run refuses --threads
    cmd = ([program_path, "--data", a.data, "--seed", str(seed)] + threads +
           ["--progress", "off", "--csv", "-", "--device", a.device] +
           (["--validation", str(validation)] if validation else []) + options)
    cmd += a.extra.split() if a.extra else []
    print("  " + " ".join(cmd), flush=True)
    start = time.time()
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        err = [line for line in run.stderr.splitlines() if line.startswith("error:")]
        raise RuntimeError(f"{' '.join(cmd)}: exit status {run.returncode}: {(err or [''])[0]}")
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{program_path} printed no JSON line")
    j = lines[-1]
    if "digit_accuracy" in j:  # the adder (test set only): the digit's accuracies; the sum's go in their column
        j["best"], j["last"] = j["best_digit"], j["last_digit"]
        return j, j["digit_accuracy"], time.time() - start
    acc = j["validation_accuracy" if validation else "test_accuracy"]
    return j, acc, time.time() - start


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stage", choices=["flagship", "tiny", "tiny-recipe", "session3", "step2", "adder", "all"],
                   default="all", help="all: flagship and tiny (tiny-recipe only when named)")
    p.add_argument("--seeds", default="1,2", help="comma-separated seeds (default: 1,2)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", default=os.path.join(repo, "data", "mnist"))
    p.add_argument("--build-dir", default=os.path.join(repo, "build"))
    p.add_argument("--search-build", default=os.path.join(repo, "build-search"))
    p.add_argument("--out", help="CSV file (default: search/validation.csv, with --final search/final.csv)")
    p.add_argument("--validation", type=int, default=10000)
    p.add_argument("--final", action="store_true", help="run the final choices on the test set")
    p.add_argument("--list", action="store_true", help="print the plan and run nothing")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--jobs", type=int, default=1, help="trainings at once (default: 1)")
    p.add_argument("--build-jobs", type=int, default=2, help="make -j for each widths build (default: 2)")
    p.add_argument("--cmake-arg", action="append", default=[], help="passed to each widths build's cmake")
    p.add_argument("--deadline", type=float, default=0, help="start no run after this many seconds (0: none)")
    p.add_argument("--confirm", type=int, default=0, help="rerun the K best candidates on --confirm-seeds")
    p.add_argument("--confirm-seeds", default="2,3")
    p.add_argument("--extra", default="", help="options added to every run (for a quick check of the script)")
    a = p.parse_args()
    try:
        seeds = [int(s) for s in a.seeds.split(",")]
        confirm_seeds = [int(s) for s in a.confirm_seeds.split(",")]
    except ValueError:
        sys.exit(f"search_mnist.py: --seeds {a.seeds!r} / --confirm-seeds {a.confirm_seeds!r}: expected "
                 "comma-separated integers")
    if a.jobs < 1 or a.build_jobs < 1:
        sys.exit("search_mnist.py: --jobs and --build-jobs must be at least 1")
    out = a.out or os.path.join(repo, "search", "final.csv" if a.final else "validation.csv")
    plan = FINAL if a.final else {"flagship": FLAGSHIP, "tiny": TINY, "tiny-recipe": TINY_RECIPE}
    stages = [s for s in plan if a.stage == s or (a.stage == "all" and s != "tiny-recipe")]
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
    start = time.time()
    lock = threading.Lock()
    failures = []
    with open(out, "a", newline="") as f:
        w = csv.writer(f)
        if new_file:
            w.writerow(COLUMNS)
            f.flush()

        def todo(stage, candidates, seed_list):
            jobs = []
            for name, program, widths, options in candidates:
                for seed in seed_list:
                    if (name, split, str(seed)) in done:
                        print(f"  {name} seed {seed}: in {out} already")
                    elif a.list:
                        print(f"  {name} seed {seed}: {program} {widths or ''} {' '.join(options)}")
                    else:
                        jobs.append((stage, name, program, widths, options, seed))
            return jobs

        builds = {}  # widths -> the future of its build (build_pool)
        build_pool = concurrent.futures.ThreadPoolExecutor(max(1, a.jobs))

        def one(job):
            stage, name, program, widths, options, seed = job
            if widths:
                try:
                    path = builds[widths].result()
                except subprocess.CalledProcessError as e:
                    raise RuntimeError(f"building mnist_tiny with widths {widths}: {e}") from None
            else:
                path = os.path.join(a.build_dir, "examples", program)
            if a.deadline and time.time() - start > a.deadline:
                return
            if not os.path.exists(path):
                raise RuntimeError(f"{path} not found (build the examples; see README)")
            j, acc, seconds = run_one(path, options, seed, a, validation)
            last3 = min(acc[-3:])
            with lock:
                print(f"  {name} seed {seed}: last three {acc[-3:]}, best {j['best']}", flush=True)
                w.writerow([stage, name, program, widths or "", " ".join(options), split, seed, j["parameters"],
                            j["epochs"], " ".join(f"{x:.2f}" for x in acc), f"{last3:.2f}", j["best"], j["last"],
                            f"{seconds:.0f}", " ".join(f"{x:.2f}" for x in j.get("sum_accuracy", [])), a.device])
                f.flush()
                done.add((name, split, str(seed)))

        def run_all(jobs):
            # Every widths build starts at once (each make -j --build-jobs); the runs of the --build-dir's
            # programs go meanwhile, and a run of built widths waits for its build.
            for wd in sorted({job[3] for job in jobs if job[3]}):
                builds.setdefault(wd, build_pool.submit(build_tiny, wd, a))
            with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
                for job, fut in [(job, pool.submit(one, job)) for job in jobs]:
                    try:
                        fut.result()
                    except RuntimeError as e:
                        failures.append(str(e))
                        print(f"  {job[1]} seed {job[5]}: FAILED: {e}", flush=True)

        for stage in stages:
            print(f"stage {stage} ({split}):", flush=True)
            run_all(todo(stage, plan[stage], seeds))
            if a.confirm and not a.list:
                best = ranked(out, split, stage, seeds)[:a.confirm]
                chosen = [c for c in plan[stage] if c[0] in best]
                print(f"stage {stage}: confirming {', '.join(best)} on seeds {a.confirm_seeds}", flush=True)
                run_all(todo(stage, chosen, confirm_seeds))
        build_pool.shutdown()
    if not a.list:
        summarize(out, split)
    if failures:
        sys.exit("search_mnist.py: " + str(len(failures)) + " run(s) failed; the first: " + failures[0])


def rows_by_candidate(out, split, stage=None):
    """The CSV's rows of `split` (and `stage`, when given), grouped by candidate in the order they appear."""
    with open(out, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == split and stage in (None, r["stage"])]
    by = {}
    for r in rows:
        by.setdefault(r["candidate"], []).append(r)
    return by


def ranked(out, split, stage, seeds):
    """The stage's candidates run on all of `seeds`, best first by the worst of their last-three minima."""
    full = []
    for name, rs in rows_by_candidate(out, split, stage).items():
        minima = [float(r["last3_min"]) for r in rs if int(r["seed"]) in seeds]
        if len(minima) == len(seeds):
            full.append((min(minima), name))
    return [name for _, name in sorted(full, reverse=True)]


def summarize(out, split):
    """Per candidate: the seeds run and the worst of their last-three minima."""
    by = rows_by_candidate(out, split)
    print(f"\n{split}: candidate, parameters, seeds, worst last-three minimum, mean last")
    for name, rs in by.items():
        worst = min(float(r["last3_min"]) for r in rs)
        mean = sum(float(r["last"]) for r in rs) / len(rs)
        print(f"  {name:34s} {rs[0]['parameters']:>6s}  seeds {','.join(r['seed'] for r in rs):10s} "
              f"worst {worst:.2f}  mean last {mean:.2f}")


if __name__ == "__main__":
    main()
