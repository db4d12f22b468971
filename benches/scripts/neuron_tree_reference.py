"""NEURON 9.0.2 reference for the tree benchmark: root-middle voltage of cell 0 and its spike
times, for a small size, written as CSV for `benches/tests/tree.rs`.

The model is built by the peers' own `bench_tree.py` code path, rebuilt here step by step with
the same parameters (see ../shared/peers/bench_tree.py) plus a voltage recording.
Usage: python neuron_tree_reference.py DEPTH NSEG TSTOP OUT.csv
(run with the peers' venv: bash ../shared/peers/setup.sh "$HOME/peers").
"""
import sys

from neuron import h

SEC_L, DIAM, RA, CM = 100.0, 1.0, 100.0, 1.0
DT, V_INIT = 0.025, -65.0
AMP, DELAY = 0.5, 1.0


def main():
    depth, nseg, tstop, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    h.load_file("stdrun.hoc")
    secs = []
    for i in range(2 ** (depth + 1) - 1):
        s = h.Section(name=f"s{i}")
        s.L, s.diam, s.nseg, s.Ra, s.cm = SEC_L, DIAM, nseg, RA, CM
        s.insert("hh")
        if i > 0:
            s.connect(secs[(i - 1) // 2](1), 0)
        secs.append(s)
    stim = h.IClamp(secs[0](0.5))
    stim.delay, stim.dur, stim.amp = DELAY, 1e9, AMP
    nc = h.NetCon(secs[0](0.5)._ref_v, None, sec=secs[0])
    nc.threshold = 0
    spk = h.Vector()
    nc.record(spk)
    tv, vv = h.Vector(), h.Vector()
    tv.record(h._ref_t)
    vv.record(secs[0](0.5)._ref_v)
    h.CVode().active(0)
    h.celsius = 6.3
    h.dt = DT
    h.steps_per_ms = 1.0 / DT
    h.finitialize(V_INIT)
    h.continuerun(tstop)
    with open(out, "w") as f:
        f.write("t_ms,v_root_mid_mV\n")
        for t, v in zip(tv, vv):
            f.write(f"{t:.10g},{v:.17g}\n")
    with open(out.replace(".csv", "_spikes.csv"), "w") as f:
        f.write("spike_ms\n")
        for t in spk:
            f.write(f"{t:.17g}\n")
    print(len(tv), "samples,", len(spk), "spikes")


if __name__ == "__main__":
    main()
