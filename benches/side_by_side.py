"""Side by side: neuwon's `tree_bench` against NEURON 9.0.2 and Arbor 0.12.2 (`bench_tree.py`
of ../shared/peers), interleaved, one process per run under /usr/bin/time -v (peak RSS).

Every repetition runs every configuration of a size once, in turn, so the configurations see
the same machine load; ratios are taken per repetition and their median is reported. CPU time
(all threads of the process, integration only) is the primary figure, as in the peers' README.

Usage (from the repository root, after `cargo build --release -p benches` and
`bash ../shared/peers/setup.sh "$HOME/peers"`):
    python3 benches/side_by_side.py [--reps N] [--sizes N1e3,N1e4,N1e5,100x1e3]
        [--peers-python $HOME/peers/bin/python] [--out bench-results/DATE/tree]
Writes OUT/raw.jsonl (one JSON object per run), OUT/summary.md (the tables) and
OUT/machine.txt (lscpu, memory, kernel, rustc, git commit). Python is needed only here: the
project itself builds and tests without it.
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("NEUWON_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
TREE_BENCH = os.path.join(ROOT, "target", "release", "tree_bench")
BENCH_TREE = os.path.join(SHARED, "peers", "bench_tree.py")

# label -> (depth, nseg, ncells)
SIZES = {"N1e3": (6, 8, 1), "N1e4": (9, 10, 1), "N1e5": (12, 12, 1), "100x1e3": (6, 8, 100)}


def configs(label):
    """(name, kind, threads, argv builder) of every configuration run for a size."""
    d, k, c = SIZES[label]
    out = [
        ("neuwon", 1, lambda py: [TREE_BENCH, label, "--threads", "1"]),
        ("floor", 1, lambda py: [TREE_BENCH, label, "--threads", "1", "--floor"]),
        ("neuron", 1, lambda py: [py, BENCH_TREE, "neuron", str(d), str(k), str(c), "1"]),
        ("arbor", 1, lambda py: [py, BENCH_TREE, "arbor", str(d), str(k), str(c), "1"]),
    ]
    if c > 1:
        out += [
            ("neuwon", 2, lambda py: [TREE_BENCH, label, "--threads", "2"]),
            ("floor", 2, lambda py: [TREE_BENCH, label, "--threads", "2", "--floor"]),
            ("arbor", 2, lambda py: [py, BENCH_TREE, "arbor", str(d), str(k), str(c), "2"]),
        ]
    return out


def run_one(argv):
    p = subprocess.run(["/usr/bin/time", "-v"] + argv, capture_output=True, text=True, cwd=ROOT)
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if p.returncode != 0 or not lines:
        print("FAILED", " ".join(argv), p.stderr[-1500:], file=sys.stderr, flush=True)
        return None
    r = json.loads(lines[-1])
    r["max_rss_kb"] = int(m.group(1)) if m else None
    return r


def machine(out):
    parts = []
    for cmd in (["lscpu"], ["free", "-m"], ["uname", "-srm"], ["rustc", "--version"],
                ["git", "-C", ROOT, "log", "-1", "--format=%H %s"], ["uptime"]):
        try:
            parts.append("$ " + " ".join(cmd) + "\n" + subprocess.run(cmd, capture_output=True, text=True).stdout)
        except OSError as e:
            parts.append(f"$ {' '.join(cmd)}\n{e}\n")
    with open(os.path.join(out, "machine.txt"), "w") as f:
        f.write(f"date: {datetime.datetime.utcnow().isoformat()}Z\n\n" + "\n".join(parts))


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def summarise(runs, baseline, out):
    lines = [
        "Peak RSS baselines (process start + imports, no model): "
        + ", ".join(f"{k} {v / 1024:.1f} MiB" for k, v in baseline.items()),
        "",
        "CPU ns / compartment / step is process CPU time of the integration (all threads) over "
        "compartments (Σ nseg) × steps; medians over the repetitions (min–max). Ratios are "
        "per repetition (same rep, interleaved), then the median. Memory: (peak RSS − baseline) / compartments.",
        "",
        "| size | sim | threads | reps | CPU ns/comp/step | wall ns/comp/step | Arbor-1t CPU / this CPU | NEURON CPU / this CPU | this CPU / floor-1t CPU | speed-up vs own 1 thread (wall 1t / wall this) | KiB / compartment | spikes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label in SIZES:
        rs = [r for r in runs if r["label"] == label]
        if not rs:
            continue
        keys = []
        for r in rs:
            k = (r["sim"], r["threads"])
            if k not in keys:
                keys.append(k)
        by_rep = {}
        for r in rs:
            by_rep.setdefault(r["rep"], {})[(r["sim"], r["threads"])] = r
        for k in keys:
            mine = [r for r in rs if (r["sim"], r["threads"]) == k]
            cns = [r["cpu_ns_per_comp_step"] for r in mine]
            wns = [r["ns_per_comp_step"] for r in mine]

            def ratio(other, num_other=True, field="cpu_s"):
                xs = []
                for rep, d in by_rep.items():
                    if k in d and other in d:
                        a, b = d[other][field], d[k][field]
                        xs.append(a / b if num_other else b / a)
                return med(xs)

            arb = ratio(("arbor", 1))
            nrn = ratio(("neuron", 1))
            flo = ratio(("floor", 1), num_other=False)
            # Throughput against the same simulator's single thread (wall time).
            thr = float("nan")
            if k[1] > 1:
                xs = []
                for rep, d in by_rep.items():
                    if k in d and (k[0], 1) in d:
                        xs.append(d[(k[0], 1)]["run_s"] / d[k]["run_s"])
                thr = med(xs)
            base = baseline.get(k[0], 0)
            kib = med([(r["max_rss_kb"] - base) / r["ncomp"] for r in mine if r.get("max_rss_kb")])
            spikes = sorted({r.get("root_spikes_cell0", r.get("spikes")) for r in mine} - {None})
            lines.append(
                f"| {label} | {k[0]} | {k[1]} | {len(mine)} | {med(cns):.1f} ({min(cns):.1f}–{max(cns):.1f}) | "
                f"{med(wns):.1f} | {arb:.2f} | {nrn:.2f} | {flo:.2f} | {thr:.2f} | {kib:.3f} | {spikes} |")
    txt = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(txt)
    print(txt)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--sizes", default="N1e3,N1e4,N1e5,100x1e3")
    ap.add_argument("--peers-python", default=os.path.expanduser("~/peers/bin/python"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-results", datetime.date.today().isoformat(), "tree"))
    ap.add_argument("--reps-large", type=int, default=None, help="repetitions for N1e5 and 100x1e3")
    a = ap.parse_args()
    for path in (TREE_BENCH, BENCH_TREE, a.peers_python):
        if not os.path.exists(path):
            sys.exit(f"missing {path} (build with cargo build --release -p benches; set up the peers)")
    os.makedirs(a.out, exist_ok=True)
    machine(a.out)
    py = a.peers_python
    baseline = {
        "neuron": med([run_one([py, BENCH_TREE, "baseline_neuron"])["max_rss_kb"] for _ in range(3)]),
        "arbor": med([run_one([py, BENCH_TREE, "baseline_arbor"])["max_rss_kb"] for _ in range(3)]),
        # neuwon, floor: the same binary on a one-section tree (depth 0, nseg 1) for 1 step.
        "neuwon": med([run_one([TREE_BENCH, "0:1:1", "--tstop", "0.025"])["max_rss_kb"] for _ in range(3)]),
        "floor": med([run_one([TREE_BENCH, "0:1:1", "--tstop", "0.025", "--floor"])["max_rss_kb"] for _ in range(3)]),
    }
    runs = []
    raw = open(os.path.join(a.out, "raw.jsonl"), "a")
    for label in a.sizes.split(","):
        reps = a.reps if (a.reps_large is None or label in ("N1e3", "N1e4")) else a.reps_large
        for rep in range(reps):
            for sim, threads, argv in configs(label):
                r = run_one(argv(py))
                if r is None:
                    continue
                r.update(label=label, rep=rep, sim=sim, threads=threads)
                r.setdefault("root_spikes_cell0", r.get("spikes"))
                runs.append(r)
                raw.write(json.dumps(r) + "\n")
                raw.flush()
                print(f"{label} rep {rep} {sim} t{threads}: cpu_ns={r['cpu_ns_per_comp_step']:.1f} "
                      f"wall_ns={r['ns_per_comp_step']:.1f} rss={r['max_rss_kb']} spikes={r['root_spikes_cell0']}",
                      flush=True)
    raw.close()
    summarise(runs, baseline, a.out)


if __name__ == "__main__":
    main()
