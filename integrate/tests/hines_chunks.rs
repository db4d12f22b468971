//! The Hines solver interleaves many cells (solving by height, in chunks of whole cells, in
//! parallel): each cell's answer is bit for bit the one it gets alone, and agrees with a dense
//! solve of its system.

#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use integrate::{CableTree, Hines, Scheme};

/// Cell `k`: a branched cell of 3–40 compartments (a trunk with side branches), its
/// parameters varying with `k`.
fn cell(k: usize) -> (Vec<Option<usize>>, Vec<f64>, Vec<f64>) {
    let n = 3 + (k * 7) % 38;
    let parent: Vec<Option<usize>> = (0..n)
        .map(|i| match i {
            0 => None,
            i if i % 5 == 0 => Some(i / 3),
            i => Some(i - 1),
        })
        .collect();
    let cap = (0..n)
        .map(|i| 0.01 + 0.001 * ((i + k) % 13) as f64)
        .collect();
    let axial = (0..n)
        .map(|i| 0.05 + 0.01 * ((i * 3 + k) % 11) as f64)
        .collect();
    (parent, cap, axial)
}

fn tree(cells: &[usize]) -> CableTree {
    let (mut parent, mut cap, mut axial) = (Vec::new(), Vec::new(), Vec::new());
    for &k in cells {
        let off = parent.len();
        let (p, c, a) = cell(k);
        parent.extend(p.into_iter().map(|p| p.map(|p| p + off)));
        cap.extend(c);
        axial.extend(a);
    }
    let area = vec![100.0; parent.len()];
    CableTree::new(&parent, &cap, &axial, &area).unwrap()
}

fn inputs(n: usize, salt: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let v = (0..n).map(|i| -65.0 + ((i + salt) % 17) as f64).collect();
    let g = (0..n)
        .map(|i| 1e-3 * (1 + (i * 5 + salt) % 9) as f64)
        .collect();
    let j = (0..n)
        .map(|i| 0.01 * (((i + 2 * salt) % 7) as f64 - 3.0))
        .collect();
    (v, g, j)
}

#[test]
fn a_cell_gets_the_same_bits_alone_and_among_many() {
    let ids: Vec<usize> = (0..400).collect();
    let forest = tree(&ids);
    assert!(forest.len() > 4096, "several chunks and rayon tasks");
    for scheme in [Scheme::BackwardEuler, Scheme::CrankNicolson] {
        let mut h = Hines::new(&forest);
        h.set_parallel_grain(1500);
        let (mut v, mut g, mut j) = (Vec::new(), Vec::new(), Vec::new());
        let mut slices = Vec::new();
        for &k in &ids {
            let n = cell(k).0.len();
            let (a, b, c) = inputs(n, k);
            slices.push((v.len(), n));
            v.extend(a);
            g.extend(b);
            j.extend(c);
        }
        h.step(scheme, 0.025, &mut v, &g, &j).unwrap();
        for (&k, &(off, n)) in ids.iter().zip(&slices) {
            let mut alone = Hines::new(&tree(&[k]));
            let (mut va, ga, ja) = inputs(n, k);
            alone.step(scheme, 0.025, &mut va, &ga, &ja).unwrap();
            for i in 0..n {
                assert_eq!(
                    v[off + i].to_bits(),
                    va[i].to_bits(),
                    "{scheme:?} cell {k} compartment {i}"
                );
            }
            // Against a dense solve of the backward-Euler system of this cell.
            if scheme == Scheme::BackwardEuler {
                let (parent, cap, axial) = cell(k);
                let (v0, ga, ja) = inputs(n, k);
                let mut m = vec![vec![0.0; n + 1]; n];
                for i in 0..n {
                    m[i][i] += cap[i] / 0.025 + ga[i];
                    m[i][n] = cap[i] / 0.025 * v0[i] + ja[i];
                    if let Some(p) = parent[i] {
                        m[i][i] += axial[i];
                        m[p][p] += axial[i];
                        m[i][p] -= axial[i];
                        m[p][i] -= axial[i];
                    }
                }
                for c in 0..n {
                    let piv = m[c][c];
                    let row = m[c].clone();
                    for r in 0..n {
                        if r != c {
                            let f = m[r][c] / piv;
                            for (x, y) in m[r].iter_mut().zip(&row) {
                                *x -= f * y;
                            }
                        }
                    }
                }
                for i in 0..n {
                    let x = m[i][n] / m[i][i];
                    assert!(
                        (v[off + i] - x).abs() < 1e-9,
                        "cell {k} {i}: {} vs {x}",
                        v[off + i]
                    );
                }
            }
        }
    }
}
