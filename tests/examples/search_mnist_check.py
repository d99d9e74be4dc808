#!/usr/bin/env python3
"""scripts/search_mnist.py checked: its plans are well-formed (unique names, widths within mnist_tiny's budget,
every tiny candidate naming its augmentation so that it does not depend on mnist_tiny's defaults), and a real
search on generated MNIST-format data (the flagship stage with two trainings at once, --confirm, a rerun that
repeats nothing, --deadline) writes the CSV that it promises.

Usage: search_mnist_check.py EXAMPLES_DIR   (the build's examples/, holding mnist_step3_gap)"""
import csv, os, random, struct, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
scripts = os.path.join(os.path.dirname(os.path.dirname(here)), "scripts")
sys.path.insert(0, scripts)
import search_mnist as s  # noqa: E402

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what)


def tiny_parameters(c1, c2, t, c3, c4, c5):
    """mnist::TinyOf's parameter count: 3x3 convs without bias, each with BatchNorm (2 per channel)."""
    block = lambda cin, cout: 9 * cin * cout + 2 * cout  # noqa: E731
    return block(1, c1) + block(c1, c2) + c2 * t + block(t, c3) + block(c3, c4) + block(c4, c5) + 10 * c5


# ---- the plans ----
plans = [("flagship", s.FLAGSHIP), ("tiny", s.TINY), ("tiny-recipe", s.TINY_RECIPE)]
plans += [("final " + stage, plan) for stage, plan in s.FINAL.items()]
for stage, plan in plans:
    names = [c[0] for c in plan]
    check(len(names) == len(set(names)), f"{stage}: candidate names repeat")
    for name, program, widths, options in plan:
        check(len(options) % 2 == 0 and all(o.startswith("--") for o in options[::2]),
              f"{stage}/{name}: options are not --name value pairs: {options}")
        if widths:
            w = [int(x) for x in widths.split(",")]
            check(len(w) == 6 and tiny_parameters(*w) < 4000, f"{stage}/{name}: widths {widths} not within budget")
        if program == "mnist_tiny" and stage in ("tiny", "tiny-recipe"):
            check("--translate" in options and "--scale" in options,
                  f"{stage}/{name}: does not name its augmentation (would follow mnist_tiny's defaults)")
check(tiny_parameters(8, 12, 8, 10, 10, 12) == 3956, "the parameter formula disagrees with mnist::Tiny's 3,956")

# ---- a real search on generated data ----
examples = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(scripts), "build", "examples")
work = tempfile.mkdtemp(prefix="ctnet_search_check.")
rng = random.Random(7)
for prefix, count in (("train", 96), ("t10k", 32)):
    labels = [i % 10 for i in range(count)]
    with open(os.path.join(work, f"{prefix}-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 2051, count, 28, 28))
        for label in labels:  # a bright bar whose row is the label, on noise: learnable in an epoch
            pixels = bytearray(rng.randrange(40) for _ in range(784))
            for x in range(4, 24):
                pixels[(2 + 2 * label) * 28 + x] = 255
            f.write(pixels)
    with open(os.path.join(work, f"{prefix}-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 2049, count) + bytes(labels))
out = os.path.join(work, "validation.csv")
common = [sys.executable, os.path.join(scripts, "search_mnist.py"), "--stage", "flagship", "--seeds", "1",
          "--threads", "1", "--data", work, "--build-dir", os.path.dirname(examples), "--out", out,
          "--validation", "16", "--extra", "--epochs 2 --batch 8"]
first = subprocess.run(common + ["--jobs", "2", "--confirm", "2", "--confirm-seeds", "2"], capture_output=True,
                       text=True)
check(first.returncode == 0, f"the search failed: {first.stdout[-600:]} {first.stderr[-600:]}")
rows = list(csv.DictReader(open(out, newline=""))) if os.path.exists(out) else []
check(rows and list(rows[0].keys()) == s.COLUMNS, "the CSV's columns are not search_mnist.COLUMNS")
check(len(rows) == len(s.FLAGSHIP) + 2, f"expected {len(s.FLAGSHIP)} runs on seed 1 and 2 confirmed, got {len(rows)}")
for r in rows:
    acc = [float(x) for x in r["accuracies"].split()]
    check(len(acc) == 2 and r["epochs"] == "2" and r["split"] == "validation" and r["device"] == "cpu",
          f"row {r['candidate']} seed {r['seed']}: {r}")
    check(abs(float(r["last3_min"]) - min(acc)) < 0.006, f"row {r['candidate']}: last3_min is not the minimum")
confirmed = [r["candidate"] for r in rows if r["seed"] == "2"]
best = s.ranked(out, "validation", "flagship", [1])[:2]
check(sorted(confirmed) == sorted(best), f"the confirmed candidates {confirmed} are not the two best of seed 1 {best}")
again = subprocess.run(common, capture_output=True, text=True)
check(again.returncode == 0 and again.stdout.count("already") == len(s.FLAGSHIP),
      "a rerun did not skip the runs already in the CSV")
check(len(list(csv.DictReader(open(out, newline="")))) == len(rows), "a rerun added rows")
# One training at a time, each far longer than the deadline: at most the first can start before it.
late = subprocess.run(common + ["--seeds", "3", "--jobs", "1", "--deadline", "0.001"], capture_output=True, text=True)
after = len(list(csv.DictReader(open(out, newline=""))))
check(late.returncode == 0 and after <= len(rows) + 1,
      f"--deadline did not keep new runs from starting ({after - len(rows)} ran): {late.stdout[-400:]}")
bad = subprocess.run(common + ["--seeds", "x"], capture_output=True, text=True)
check(bad.returncode != 0 and "expected comma-separated integers" in bad.stderr, "--seeds x was not refused")

print("search_mnist.py: " + ("ok" if not failures else f"{len(failures)} failure(s)"))
sys.exit(1 if failures else 0)
