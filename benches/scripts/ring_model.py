"""Writes the model file of the peers' ring benchmark (../shared/peers/ring.py) with N cells:
examples/ring10.toml's cell, N copies, cell g drives cell (g+1) mod N (weight 0.05 uS, delay
5 ms), a kick into every cell whose gid is a multiple of 100 at 1 ms.

Usage: python3 benches/scripts/ring_model.py N THREADS OUT.toml
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    n, threads, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    src = open(os.path.join(ROOT, "examples", "ring10.toml")).read()
    head = src[: src.index("# The kick")]
    head = head.replace('title = "ring10"', f'title = "ring{n}"').replace("count = 10", f"count = {n}")
    head = head.replace("v_init = -65", f"v_init = -65\nthreads = {threads}", 1)
    parts = [head]
    for g in range(0, n, 100):
        parts.append(f'[[event]]\ntarget = "ring[{g}].syn"\ntimes = [1]\nweight = 0.05\n\n')
    for g in range(n):
        parts.append(
            f'[[connection]]\nsource = "ring[{g}]"\ntarget = "ring[{(g + 1) % n}].syn"\n'
            f"weight = 0.05\ndelay = 5\n\n"
        )
    with open(out, "w") as f:
        f.write("".join(parts))


if __name__ == "__main__":
    main()
