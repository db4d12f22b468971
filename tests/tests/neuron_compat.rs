//! NEURON-compatible mode end to end: each reference model's file in `examples/` is read,
//! built (morpho-grow → backend-cpu engine) and run at the reference's dt and nseg, and its
//! traces and spikes are compared with NEURON 9.0.2's default-dt files
//! (`shared/reference`, copied into `tests/data`).

#![allow(clippy::unwrap_used)]

use std::path::Path;

use neuwon::model::Model;

mod common;
use common::csv;
use neuwon::run::build;

/// Runs an example and returns (probe headers, time, series, spikes).
fn run(example: &str) -> (Vec<String>, backend_cpu::Recording) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(example);
    let model = Model::load(&path).unwrap();
    let mut built = build(&model).unwrap();
    let rec = built.run(|_| {}).unwrap();
    (built.probe_headers, rec)
}

/// Max |ours − NEURON| over every row, for probe `p` against reference column `c`.
fn max_diff(rec: &backend_cpu::Recording, p: usize, rows: &[Vec<f64>], c: usize) -> f64 {
    assert_eq!(rec.t_ms.len(), rows.len());
    rows.iter()
        .enumerate()
        .map(|(k, r)| {
            assert!((rec.t_ms[k] - r[0]).abs() < 1e-9);
            (rec.series[p][k] - r[c]).abs()
        })
        .fold(0.0, f64::max)
}

fn check(example: &str, reference: &str, pairs: &[(usize, usize)], tol: f64) {
    let (headers, rec) = run(example);
    let (ref_header, rows) = csv(reference);
    for &(p, c) in pairs {
        let d = max_diff(&rec, p, &rows, c);
        println!(
            "{example}: {} vs NEURON {}: max |Δ| = {d:.2e}",
            headers[p], ref_header[c]
        );
        assert!(
            d < tol,
            "{example}: {} vs {}: {d}",
            headers[p],
            ref_header[c]
        );
    }
}

// NEURON prints 10 significant digits; measured differences are 5e-9 mV (rounding).
const TOL_MV: f64 = 1e-6;

#[test]
fn hh_soma_matches_neuron() {
    check(
        "hh_soma.toml",
        "hh_soma_neuron_dt0.025.csv",
        &[(0, 1), (1, 2)],
        TOL_MV,
    );
}

#[test]
fn passive_y_matches_neuron() {
    check(
        "passive_y.toml",
        "passive_y_neuron_dt0.025.csv",
        &[(0, 1), (1, 2), (2, 3), (3, 4)],
        TOL_MV,
    );
}

#[test]
fn hh_axon_matches_neuron() {
    check(
        "hh_axon.toml",
        "hh_axon_neuron_dt0.025_nseg501.csv",
        &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)],
        TOL_MV,
    );
}

#[test]
fn ball_and_stick_syn_matches_neuron() {
    // v soma, v dend(0.5), v at the synapse (mV); synaptic i (nA) and g (µS).
    check(
        "ball_and_stick_syn.toml",
        "ball_and_stick_syn_neuron_dt0.025.csv",
        &[(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)],
        TOL_MV,
    );
}

#[test]
fn ring10_spikes_match_neuron() {
    let (_, rec) = run("ring10.toml");
    let (_, rows) = csv("ring10_spikes_neuron_dt0.025_interp.csv");
    assert_eq!(rec.spikes.len(), 32);
    assert_eq!(rows.len(), 32);
    let mut worst: f64 = 0.0;
    for (&(d, t), r) in rec.spikes.iter().zip(&rows) {
        // Detector d is ring[d] (connections are declared in gid order).
        assert_eq!(d as f64, r[0]);
        worst = worst.max((t - r[1]).abs());
    }
    println!("ring10: 32 spikes, max |Δt| = {worst:.2e} ms");
    assert!(worst < 1e-6, "max spike time difference {worst} ms");
}

/// The ring split into 2 or 10 blocks runs in epochs (at most its 5 ms delay, 200 steps; 80
/// steps here, a hundredth of the run, for progress) and gives the same spike times, bit for
/// bit, as 10 blocks exchanging spikes after every step.
#[test]
fn ring10_in_blocks_and_epochs_gives_the_step_by_step_spikes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ring10.toml");
    let mut model = Model::load(&path).unwrap();
    let times = |blocks: &[backend_cpu::Engine]| {
        let mut t: Vec<f64> = blocks
            .iter()
            .flat_map(|b| b.spikes().iter().map(|s| s.1))
            .collect();
        t.sort_by(|a, b| a.partial_cmp(b).unwrap());
        t
    };
    let mut runs = Vec::new();
    for threads in [1, 5] {
        model.simulation.threads = Some(threads);
        let mut built = build(&model).unwrap();
        let blocks = built.network.blocks().len();
        assert_eq!(blocks, 2 * threads);
        assert_eq!(built.network.epoch_steps(), Some(200));
        built.run(|_| {}).unwrap();
        runs.push(times(built.network.blocks()));
    }
    // Step by step.
    let mut built = build(&model).unwrap();
    for _ in 0..8000 {
        built.network.step().unwrap();
    }
    let reference = times(built.network.blocks());
    assert_eq!(reference.len(), 32);
    for r in &runs {
        assert_eq!(r, &reference);
    }
}

#[test]
fn passive_y_dc_values_match_cable_theory() {
    // shared/reference/passive_y/model.md: analytic steady-state depolarisation for 0.05 nA at
    // the c1 tip (sealed-end cable theory); the step is on for 100 ms = 10 τm, so at
    // t = 105 ms the model sits within e^-10 of DC.
    let (_, rec) = run("passive_y.toml");
    let k = rec
        .t_ms
        .iter()
        .position(|&t| (t - 105.0).abs() < 1e-9)
        .unwrap();
    let analytic = [22.26497, 23.16152, 31.42972, 16.75790]; // trunk x=0, branch point, c1 tip, c2 tip
    for (p, dv) in analytic.iter().enumerate() {
        let ours = rec.series[p][k] + 65.0;
        println!("passive_y DC, probe {p}: {ours:.5} mV vs analytic {dv:.5} mV");
        assert!((ours - dv).abs() < 0.01, "probe {p}: {ours} vs {dv}");
    }
}

/// Runs an example with Crank–Nicolson (NEURON's `secondorder = 2`).
fn run_cn(example: &str) -> backend_cpu::Recording {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(example);
    let mut model = Model::load(&path).unwrap();
    model.simulation.method = neuwon::model::Method::CrankNicolson;
    let mut built = build(&model).unwrap();
    built.run(|_| {}).unwrap()
}

/// Upward 0 mV crossings, linearly interpolated between samples (the references' rule).
fn crossings(t: &[f64], v: &[f64]) -> Vec<f64> {
    (1..v.len())
        .filter(|&k| v[k - 1] < 0.0 && v[k] >= 0.0)
        .map(|k| t[k - 1] + (t[k] - t[k - 1]) * (0.0 - v[k - 1]) / (v[k] - v[k - 1]))
        .collect()
}

#[test]
fn crank_nicolson_matches_neurons_secondorder_2() {
    let rec = run_cn("hh_soma.toml");
    let (_, rows) = csv("hh_soma_neuron_so2_dt0.025.csv");
    let d = max_diff(&rec, 0, &rows, 1);
    println!("hh_soma Crank–Nicolson vs NEURON secondorder=2: max |Δv| = {d:.2e} mV");
    assert!(d < TOL_MV, "{d}");
}

#[test]
fn crank_nicolson_spike_times_are_30x_closer_to_converged_than_neurons_default() {
    // shared/reference/hh_soma/hh_soma_spikes.csv: CVODE 1e-9 (converged, table rates) and
    // NEURON's default (dt 0.025, backward Euler).
    let converged = [6.443436148, 19.314361502, 31.790046598, 44.243183650];
    let neuron_default = [6.460698729, 19.397084015, 31.935222459, 44.450709825];
    let rec = run_cn("hh_soma.toml");
    let ours = crossings(&rec.t_ms, &rec.series[0]);
    assert_eq!(ours.len(), 4);
    for k in 0..4 {
        let (e_ours, e_neuron) = (
            (ours[k] - converged[k]).abs(),
            (neuron_default[k] - converged[k]).abs(),
        );
        println!("hh_soma spike {k}: CN off by {e_ours:.4} ms, NEURON default by {e_neuron:.4} ms");
        assert!(
            4.0 * e_ours <= e_neuron,
            "spike {k}: {e_ours} vs {e_neuron}"
        );
    }
}

#[test]
fn splitting_cells_into_blocks_changes_nothing() {
    // ring10 with `threads = 1` runs as 2 blocks, with `threads = 5` as 10 (one per cell);
    // spikes cross blocks through the network. Results are bitwise equal.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ring10.toml");
    let spikes = |threads: usize| {
        let mut model = Model::load(&path).unwrap();
        model.simulation.threads = Some(threads);
        let mut built = build(&model).unwrap();
        assert_eq!(built.network.blocks().len(), (2 * threads).min(10));
        let rec = built.run(|_| {}).unwrap();
        (rec.spikes, rec.series)
    };
    let (a, va) = spikes(1);
    let (b, vb) = spikes(5);
    assert_eq!(a.len(), 32);
    assert_eq!(a, b);
    assert_eq!(va, vb);
}

#[test]
fn a_cross_block_delay_shorter_than_dt_is_refused() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ring10.toml");
    let mut model = Model::load(&path).unwrap();
    model.simulation.threads = Some(5);
    model.connections[0].delay_ms = 0.01;
    let e = build(&model).err().unwrap().to_string();
    assert!(e.contains("needs a delay of at least dt"), "{e}");
}
