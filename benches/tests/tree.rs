//! The tree benchmark's model against NEURON 9.0.2 (reference traces made by
//! `benches/scripts/neuron_tree_reference.py` with the peers' venv), the engine's fast path
//! against its generic (interpreter) path, and the floor against the engine.
#![allow(clippy::unwrap_used)]

use benches::floor::Floor;
use benches::tree::{build, root_spikes_cell0, Layout, Size, DT_MS};

fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Column `col` of a CSV with one header line.
fn column(path: &str, col: usize) -> Vec<f64> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().trim().parse().unwrap())
        .collect()
}

/// Runs `size` for 100 ms recording v at the root middle of cell 0; returns (trace, spikes,
/// every compartment's final v, whether the fast path ran).
fn run(size: Size, blocks: usize, fast: bool) -> (Vec<f64>, Vec<f64>, Vec<f64>, bool) {
    let mut t = build(
        size,
        Layout {
            blocks,
            exact_rates: false,
        },
        true,
    )
    .unwrap();
    t.network.set_fast_path(fast).unwrap();
    let active = t.network.fast_path_active();
    let recs = t.network.run(100.0, |_| {}).unwrap();
    let v_end: Vec<f64> = t
        .network
        .blocks()
        .iter()
        .flat_map(|b| b.voltages().to_vec())
        .collect();
    (
        recs[0].series[0].clone(),
        root_spikes_cell0(&t),
        v_end,
        active,
    )
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

/// NEURON records a NetCon spike at the end of the step in which v crossed the threshold; we
/// interpolate the crossing within the step.
fn check_against_neuron(size: Size, file: &str) {
    let (trace, spikes, _, active) = run(size, 1, true);
    assert!(active, "the benchmark model must take the fast path");
    let v_ref = column(&data(file), 1);
    let spk_ref = column(&data(&file.replace(".csv", "_spikes.csv")), 0);
    assert_eq!(trace.len(), v_ref.len());
    let worst = trace
        .iter()
        .zip(&v_ref)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        worst < 1e-9,
        "{file}: root v differs from NEURON by {worst} mV"
    );
    assert_eq!(spikes.len(), spk_ref.len(), "{file}: spike count");
    for (ours, nrn) in spikes.iter().zip(&spk_ref) {
        assert!(
            *ours <= *nrn + 1e-9 && *ours > *nrn - DT_MS - 1e-9,
            "{file}: spike at {ours} ms, NEURON's step ends at {nrn} ms"
        );
    }
}

#[test]
fn n1e3_agrees_with_neuron() {
    check_against_neuron(Size::N1e3, "tree_n1e3_neuron_root.csv");
}

#[test]
fn small_tree_agrees_with_neuron() {
    check_against_neuron(
        Size::Custom {
            depth: 2,
            nseg: 3,
            ncells: 1,
        },
        "tree_d2n3_neuron_root.csv",
    );
}

/// The spike counts NEURON 9.0.2 gives for every benchmark size (`bench_tree.py neuron`,
/// `root_spikes_cell0`, measured on this machine for bench-results/2026-11-24): one spike;
/// the root then stays depolarised under the 0.5 nA clamp. N1e3 is checked here (the others
/// are in the side-by-side results).
#[test]
fn n1e3_spike_count_is_neurons() {
    let (_, spikes, _, _) = run(Size::N1e3, 1, true);
    assert_eq!(spikes.len(), 1);
}

fn check_fast_equals_reference(size: Size, blocks: usize) {
    let (tr_f, sp_f, v_f, active) = run(size, blocks, true);
    let (tr_r, sp_r, v_r, active_r) = run(size, blocks, false);
    assert!(active && !active_r);
    assert_eq!(sp_f.len(), sp_r.len());
    for (a, b) in sp_f.iter().zip(&sp_r) {
        assert!(close(*a, *b, 1e-9), "spike {a} vs {b}");
    }
    for (k, (a, b)) in tr_f.iter().zip(&tr_r).enumerate() {
        assert!(close(*a, *b, 1e-9), "root v at sample {k}: {a} vs {b}");
    }
    assert_eq!(v_f.len(), v_r.len());
    for (k, (a, b)) in v_f.iter().zip(&v_r).enumerate() {
        assert!(
            close(*a, *b, 1e-9),
            "final v of compartment {k}: {a} vs {b}"
        );
    }
}

#[test]
fn fast_path_equals_reference_n1e3() {
    check_fast_equals_reference(Size::N1e3, 1);
}

#[test]
fn fast_path_equals_reference_many_cells_in_blocks() {
    check_fast_equals_reference(
        Size::Custom {
            depth: 3,
            nseg: 4,
            ncells: 5,
        },
        2,
    );
}

#[test]
fn floor_agrees_with_engine() {
    let (tr, sp, _, _) = run(Size::N1e3, 1, true);
    let mut f = Floor::new(Size::N1e3, 1).unwrap();
    f.run(4000);
    assert_eq!(f.root_spikes_cell0().len(), sp.len());
    for (a, b) in f.root_spikes_cell0().iter().zip(&sp) {
        assert!(close(*a, *b, 1e-9), "floor spike {a} vs engine {b}");
    }
    let last = *tr.last().unwrap();
    assert!(
        close(f.root_v_cell0(), last, 1e-9),
        "{} vs {last}",
        f.root_v_cell0()
    );
}

#[test]
fn sizes_match_the_peers() {
    assert_eq!(Size::N1e3.compartments(), 1016);
    assert_eq!(Size::N1e4.compartments(), 10230);
    assert_eq!(Size::N1e5.compartments(), 98292);
    assert_eq!(Size::Many1e3.compartments(), 101600);
    assert!(Size::parse("N1e6").is_err());
    assert_eq!(Size::parse("100x1e3").unwrap(), Size::Many1e3);
}
