//! Spec §8.3: propagator invariants (non-negativity, C-weighted column sums, block-diagonal per
//! cell), agreement with a dense Padé expm, and the fill law (nnz per row) on uniform cables.
#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

mod common;
use integrate::tree::{cylinder_compartment, uniform_chain};
use integrate::*;
use rand::SeedableRng;

fn random_forest(seed: u64) -> CableTree {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let cells: Vec<CableTree> = (0..3)
        .map(|k| common::random_cell(&mut rng, 20 + 25 * k, 0.001..0.05, 0.001..0.2, 1.0))
        .collect();
    let refs: Vec<&CableTree> = cells.iter().collect();
    CableTree::concat(&refs)
}

fn dense_propagator(tree: &CableTree, h: f64) -> Mat {
    let n = tree.len();
    let mut m = Mat::zeros(n);
    let c = tree.capacitance_nf();
    for (i, j, k) in tree.laplacian_triplets() {
        m.add_to(i, j, -h * k / c[i]);
    }
    expm(&m).unwrap()
}

#[test]
fn invariants_and_dense_agreement() {
    let tree = random_forest(1);
    let n = tree.len();
    let c = tree.capacitance_nf();
    let cell_of: Vec<usize> = (0..n)
        .map(|i| tree.cells().iter().rposition(|&s| s <= i).unwrap())
        .collect();
    // Small steps (plain uniformisation) and long steps (scaling and squaring).
    for &h in &[0.001, 0.025, 0.5, 20.0, 1000.0] {
        let p = axial_propagator(&tree, h, NEUWON_PRUNE).unwrap();
        let dense = dense_propagator(&tree, h);
        let mut colsum = vec![0.0; n];
        let mut worst_dense = 0.0f64;
        let mut stored = vec![vec![0.0; n]; n];
        for (r, row) in p.outer_iterator().enumerate() {
            for (k, &v) in row.iter() {
                assert!(v >= 0.0, "negative entry {v:e} at ({r}, {k}), h {h}");
                assert_eq!(cell_of[r], cell_of[k], "entry crosses cells at ({r}, {k})");
                colsum[k] += c[r] * v;
                stored[r][k] = v;
            }
        }
        for k in 0..n {
            let rel = (colsum[k] / c[k] - 1.0).abs();
            assert!(rel < 1e-12, "h {h}: column {k} weighted sum off by {rel:e}");
        }
        for r in 0..n {
            for k in 0..n {
                worst_dense = worst_dense.max((stored[r][k] - dense.get(r, k)).abs());
            }
        }
        println!(
            "h = {h} ms: nnz {}, max |P − expm_dense| = {worst_dense:e}",
            p.nnz()
        );
        // Both sides carry rounding from repeated squaring for long steps (entries up to
        // max C/min C ≈ 50 here), hence 1e-12 absolute.
        assert!(worst_dense < 1e-12, "h {h}: {worst_dense:e}");
    }
}

/// The fill law of spec §3.2: uniform 400-compartment cable, interior row.
#[test]
fn fill_law_on_uniform_cables() {
    // (d µm, ℓ µm, h ms, spec's measured kept nnz/row)
    let cases = [
        (1.0, 10.0, 0.05, 89.0),
        (1.0, 10.0, 0.0125, 51.0),
        (5.0, 10.0, 0.05, 185.0),
        (0.5, 20.0, 0.05, 39.0),
        (1.0, 2.0, 0.05, 400.0),
    ];
    for (d, l, h, measured) in cases {
        let (c, g, area) = cylinder_compartment(l, d, 100.0, 1.0).unwrap();
        let tree = uniform_chain(400, c, g, area).unwrap();
        let k = h * g / c;
        let p = axial_propagator(&tree, h, NEUWON_PRUNE).unwrap();
        let row = p.outer_view(200).unwrap().nnz() as f64;
        let law = (24.0 * k.sqrt()).min(400.0);
        println!(
            "d {d} ℓ {l} h {h}: k = {k:.3}, nnz row 200 = {row}, spec measured {measured}, 24√k = {law:.1}, mean/row {:.1}",
            p.nnz() as f64 / 400.0
        );
        assert!(
            (row / measured - 1.0).abs() <= 0.1,
            "row {row} vs {measured}"
        );
        if k >= 10.0 {
            assert!((row / law - 1.0).abs() <= 0.1, "row {row} vs 24√k {law}");
        }
    }
}
