//! Passive check (SPEC §10): with only the leak left, the soma input impedance of the intact
//! full and reduced Hay cells and the soma ↔ synapse transfer impedance of each of the 10 000
//! synapses (full: original site; reduced: mapped site) against NEURON's values
//! (`hay_l5pc/reduced_f{0,8}/passive_transfer_check.csv`, copied into `tests/data`).

#[allow(dead_code)]
mod common;

use common::*;
use reduce::{passive_check, reduce, ReduceOptions};

fn quantile(sorted: &[f64], p: f64) -> f64 {
    let pos = p * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// `soma_in` = (full, reduced) MΩ from SPEC §10 (3 decimals); `ratio` = (median, 5 %, 95 %).
fn check(freq: u32, soma_in: (f64, f64), ratio: (f64, f64, f64)) {
    let dir = data("hay_l5pc");
    let cell = load_cell(&dir);
    let syns = load_synapses(&dir, &cell);
    let opts = ReduceOptions {
        frequency_hz: f64::from(freq),
        ..Default::default()
    };
    let red = reduce(&cell.tree, &syns, &opts).expect("reduction");
    let pc = passive_check(&cell.tree, &syns, &red, f64::from(freq)).expect("passive check");
    let full = pc.soma_input_full_ohm.norm() / 1e6;
    let reduced = pc.soma_input_reduced_ohm.norm() / 1e6;
    eprintln!("{freq} Hz: soma input impedance full {full:.4} MΩ, reduced {reduced:.4} MΩ");
    assert!(
        (full - soma_in.0).abs() <= 6e-4,
        "full soma input {full} MΩ"
    );
    assert!(
        (reduced - soma_in.1).abs() <= 6e-4,
        "reduced soma input {reduced} MΩ"
    );

    let t = Table::read(&dir.join(format!("reduced_f{freq}/passive_transfer_check.csv")));
    assert_eq!(t.rows.len(), syns.len());
    let (mut worst_f, mut worst_r): (f64, f64) = (0.0, 0.0);
    for r in 0..t.rows.len() {
        let k = t.f(r, "syn_id") as usize;
        let f = pc.transfer_full_ohm[k].norm() / 1e6;
        let rd = pc.transfer_reduced_ohm[k].norm() / 1e6;
        worst_f = worst_f.max(rel(f, t.f(r, "transfer_full_Mohm")));
        worst_r = worst_r.max(rel(rd, t.f(r, "transfer_reduced_Mohm")));
    }
    eprintln!("{freq} Hz: per-synapse transfer vs NEURON, worst rel err full {worst_f:.2e}, reduced {worst_r:.2e}");
    assert!(worst_f < 1e-5, "full transfer impedances");
    assert!(worst_r < 1e-5, "reduced transfer impedances");

    let mut ratios = pc.transfer_ratios();
    ratios.sort_by(f64::total_cmp);
    let (med, p5, p95) = (
        quantile(&ratios, 0.5),
        quantile(&ratios, 0.05),
        quantile(&ratios, 0.95),
    );
    eprintln!("{freq} Hz: ratio reduced/full median {med:.4} (5–95 %: {p5:.4}–{p95:.4})");
    assert!((med - ratio.0).abs() <= 6e-4, "median ratio {med}");
    assert!((p5 - ratio.1).abs() <= 6e-4, "5 % ratio {p5}");
    assert!((p95 - ratio.2).abs() <= 6e-4, "95 % ratio {p95}");
}

#[test]
fn hay_passive_0hz() {
    check(0, (78.640, 78.756), (1.001, 0.965, 1.037));
}

#[test]
fn hay_passive_8hz() {
    check(8, (41.970, 42.605), (1.014, 0.970, 1.062));
}
