#!/usr/bin/env python3
"""Run ctnet_bench and the PyTorch reference (../shared/bench/pytorch_ref.py speed) in one go, with the same
threads and batch, and print the ratios. Needs Debian's python3-torch (use /usr/bin/python3); CI does not run it.

  /usr/bin/python3 scripts/compare_pytorch.py --threads 2 --batch 128 --data data/mnist

Each side runs --rounds times, alternating, and the median of each metric is compared, so both saw the same
machine conditions. Latency is measured with 1 thread on both sides (the issue's definition). The machine's
FMA ceiling (measured by ctnet_bench in each round) and each side's fraction of it are printed too."""
import argparse, json, os, statistics, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(here)


def run(cmd, env, compete=0):
    # PyTorch's side gets its competing load from here: shell busy loops that live exactly as long as the run.
    loops = [subprocess.Popen(["/bin/sh", "-c", "while :; do :; done"]) for _ in range(compete)]
    try:
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--data", default=os.path.join(repo, "data", "mnist"))
    p.add_argument("--bench", default=os.path.join(repo, "build", "examples", "ctnet_bench"))
    p.add_argument("--reference", default=os.path.join(repo, "..", "shared", "bench", "pytorch_ref.py"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--compete", type=int, default=0,
                   help="CPU-bound processes run beside every benchmark of both sides (ctnet_bench --compete N; "
                        "for PyTorch, N shell busy loops)")
    a = p.parse_args()
    for path in (a.bench, a.reference):
        if not os.path.exists(path):
            sys.exit(f"compare_pytorch.py: {path} not found (build the examples; see README)")

    def env_for(threads):
        e = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        return e

    results = {"ctnet": {}, "pytorch": {}}

    def collect(side, lines, key_suffix=""):
        for j in lines:
            if j.get("bench") in ("train", "infer"):
                results[side].setdefault(j["bench"] + key_suffix, []).append(j["img_per_s"])
                results[side].setdefault("peak_rss_mb", []).append(j["peak_rss_mb"])
            elif j.get("bench") == "latency_b1":
                results[side].setdefault("latency_b1" + key_suffix, []).append(j["us_median"])
            elif j.get("bench") == "fma_ceiling":
                results[side].setdefault(f"ceiling_{j['threads']}t", []).append(j["gflops"])
            if "ceiling_fraction" in j:
                results[side].setdefault(j["bench"] + key_suffix + "_fraction", []).append(j["ceiling_fraction"])

    compete = ["--compete", str(a.compete)] if a.compete else []
    for r in range(a.rounds):
        collect("ctnet", run([a.bench, "--model", "reference", "--batch", str(a.batch), "--threads", str(a.threads),
                              "--data", a.data] + compete, env_for(a.threads)))
        collect("pytorch", run(["/usr/bin/python3", a.reference, "--data", a.data, "--threads", str(a.threads),
                                "speed", "--batch", str(a.batch)], env_for(a.threads), a.compete))
        collect("ctnet", run([a.bench, "--model", "reference", "--batch", str(a.batch), "--threads", "1",
                              "--data", a.data] + compete, env_for(1)), "_1t")
        collect("pytorch", run(["/usr/bin/python3", a.reference, "--data", a.data, "--threads", "1", "speed",
                                "--batch", str(a.batch)], env_for(1), a.compete), "_1t")

    med = {side: {k: statistics.median(v) for k, v in d.items()} for side, d in results.items()}
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               "unknown CPU")
    print(json.dumps({"metric": "machine", "cpu": cpu, "vcpus": os.cpu_count(),
                      "fma_ceiling_gflops_1t": med["ctnet"].get("ceiling_1t"),
                      f"fma_ceiling_gflops_{a.threads}t": med["ctnet"].get(f"ceiling_{a.threads}t")}))
    rows = [("train", f"training img/s, batch {a.batch}, {a.threads} threads", True),
            ("infer", f"inference img/s, batch 1000, {a.threads} threads", True),
            ("latency_b1_1t", "batch-1 latency us, 1 thread", False),
            ("train_1t", f"training img/s, batch {a.batch}, 1 thread", True),
            ("peak_rss_mb", "peak RSS MB", False)]
    for name, label, higher_better in rows:
        c, t = med["ctnet"].get(name), med["pytorch"].get(name)
        if c is None or t is None:
            continue
        ratio = c / t if higher_better else t / c
        # Each round ran both sides back to back: its own ratio is a paired comparison, less exposed to
        # the machine's drift than the ratio of medians.
        cs, ts = results["ctnet"][name], results["pytorch"][name]
        paired = [(x / y if higher_better else y / x) for x, y in zip(cs, ts)]
        print(json.dumps({"metric": name, "label": label, "ctnet": round(c, 1), "pytorch": round(t, 1),
                          "ctnet_advantage": round(ratio, 2), "ctnet_rounds": cs, "pytorch_rounds": ts,
                          "round_advantages": [round(r, 2) for r in paired]}))
    # Fractions of the machine's FMA ceiling measured by ctnet_bench in the same rounds: ctnet's own, and
    # PyTorch's from its img/s and the same FLOP count per image (the reference network: 1,214,656 MACs).
    flop = {"train": 6 * 1214656, "infer": 2 * 1214656}
    ceiling = med["ctnet"].get(f"ceiling_{a.threads}t")
    for name in ("train", "infer"):
        if ceiling and name in med["pytorch"] and name + "_fraction" in med["ctnet"]:
            print(json.dumps({"metric": name + "_ceiling_fraction",
                              "label": f"{name} as a fraction of the {a.threads}-thread FMA ceiling ({ceiling} GFLOP/s)",
                              "ctnet": med["ctnet"][name + "_fraction"],
                              "pytorch": round(med["pytorch"][name] * flop[name] / 1e9 / ceiling, 3)}))
    scaling = med["ctnet"]["train"] / med["ctnet"]["train_1t"]
    print(json.dumps({"metric": "thread_scaling", "label": f"ctnet training {a.threads} threads / 1 thread",
                      "ctnet": round(scaling, 2),
                      "pytorch": round(med["pytorch"]["train"] / med["pytorch"]["train_1t"], 2)}))


if __name__ == "__main__":
    main()
