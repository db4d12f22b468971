//! What the integrate tests share.

#![allow(clippy::unwrap_used, dead_code)]

use std::ops::Range;

use integrate::CableTree;
use rand::rngs::StdRng;
use rand::Rng;

/// A random tree of `n` compartments (each parent drawn uniformly among the earlier ones),
/// capacitances (nF) and axial conductances (µS) uniform in the given ranges, every area
/// `area_um2`. Draws parents, then capacitances, then conductances.
pub fn random_cell(
    rng: &mut StdRng,
    n: usize,
    c_nf: Range<f64>,
    axial_us: Range<f64>,
    area_um2: f64,
) -> CableTree {
    let parent: Vec<Option<usize>> = (0..n)
        .map(|i| {
            if i == 0 {
                None
            } else {
                Some(rng.gen_range(0..i))
            }
        })
        .collect();
    let c: Vec<f64> = (0..n).map(|_| rng.gen_range(c_nf.clone())).collect();
    let a: Vec<f64> = (0..n).map(|_| rng.gen_range(axial_us.clone())).collect();
    CableTree::new(&parent, &c, &a, &vec![area_um2; n]).unwrap()
}
