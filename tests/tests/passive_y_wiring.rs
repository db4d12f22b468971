//! The geometry path the engine will use: `morpho-grow` discretises the passive Y tree with
//! NEURON's layout, `integrate` solves it with Hines' backward Euler, and the result is
//! NEURON's own trace (`shared/reference/passive_y`, dt 0.025 ms, default nseg).

#![allow(clippy::unwrap_used)]

use integrate::{CableTree, Hines, Scheme};
use morpho_grow::{CableParams, Discretisation, Morphology, SampleType};

mod common;
use common::csv;

fn neuron_trace() -> Vec<Vec<f64>> {
    let (header, rows) = csv("passive_y_neuron_dt0.025.csv");
    assert_eq!(
        header.join(","),
        "t_ms,v_trunk0_mV,v_branchpoint_mV,v_c1tip_mV,v_c2tip_mV"
    );
    rows
}

#[test]
fn morpho_grow_discretisation_solved_by_integrate_reproduces_neuron() {
    // Geometry and biophysics from shared/reference/passive_y/model.md.
    let mut m = Morphology::new();
    let trunk = m.add_cylinder(SampleType::Basal, None, 200.0, 2.0).unwrap();
    let c1 = m
        .add_cylinder(SampleType::Basal, Some((trunk, 1.0)), 150.0, 1.0)
        .unwrap();
    let c2 = m
        .add_cylinder(SampleType::Basal, Some((trunk, 1.0)), 300.0, 0.5)
        .unwrap();
    let d = Discretisation::new(&m, &[21, 15, 31], &CableParams::uniform(&m, 100.0, 1.0)).unwrap();
    // NEURON: 67 segments plus 4 zero-area nodes.
    assert_eq!(d.nodes().len(), 71);
    let parents: Vec<Option<usize>> = d.parents().iter().map(|p| p.map(|p| p as usize)).collect();
    let tree = CableTree::new(
        &parents,
        &d.capacitances_nf(),
        &d.axial_conductances_us(),
        &d.areas_um2(),
    )
    .unwrap();
    let sites = [
        d.node_at(0, trunk, 0.0).unwrap() as usize,
        d.node_at(0, trunk, 1.0).unwrap() as usize,
        d.node_at(0, c1, 1.0).unwrap() as usize,
        d.node_at(0, c2, 1.0).unwrap() as usize,
    ];
    let stim = sites[2];

    // pas: g = 1e-4 S/cm², e = −65 mV; IClamp 0.05 nA for 5 ≤ t < 105 ms, evaluated at
    // mid-step as NEURON's fixed step does.
    let g = tree.membrane_conductance_us(1e-4);
    let mut j: Vec<f64> = g.iter().map(|g| g * -65.0).collect();
    let mut v = vec![-65.0; tree.len()];
    let mut hines = Hines::new(&tree);
    let dt = 0.025;
    let reference = neuron_trace();
    let mut worst: f64 = 0.0;
    for (step, row) in reference.iter().enumerate() {
        assert!((row[0] - step as f64 * dt).abs() < 1e-9);
        for (k, &site) in sites.iter().enumerate() {
            worst = worst.max((v[site] - row[k + 1]).abs());
        }
        let tmid = (step as f64 + 0.5) * dt;
        let injected = if (5.0..105.0).contains(&tmid) {
            0.05
        } else {
            0.0
        };
        j[stim] = g[stim] * -65.0 + injected;
        hines
            .step(Scheme::BackwardEuler, dt, &mut v, &g, &j)
            .unwrap();
    }
    // Same layout, same method: only rounding separates the two (measured 5e-9 mV).
    assert!(worst < 1e-6, "max |V − NEURON| = {worst} mV");
    println!("passive_y via morpho-grow + integrate: max |V − NEURON| = {worst:.2e} mV");
}
