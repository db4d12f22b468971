//! T10: Hines' tree solver against a dense LU (random trees up to 10³ compartments), against
//! the residual of the tree system for 10⁴–10⁵ compartments, and against the Thomas algorithm
//! on an unbranched chain; the forest solver against per-cell solves; parallel = sequential.
#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

mod common;
use integrate::*;
use rand::{Rng, SeedableRng};

struct Sys {
    parent: Vec<u32>,
    d: Vec<f64>,
    u: Vec<f64>,
    l: Vec<f64>,
    rhs: Vec<f64>,
}

/// Random tree system: symmetric off-diagonals −a, D = C/dt + G + Σa (diagonally dominant).
fn random_system(n: usize, seed: u64) -> Sys {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let parent: Vec<u32> = (0..n)
        .map(|i| {
            if i == 0 {
                ROOT
            } else {
                rng.gen_range(0..i) as u32
            }
        })
        .collect();
    let a: Vec<f64> = (0..n).map(|_| rng.gen_range(0.01..10.0)).collect();
    let mut d: Vec<f64> = (0..n).map(|_| rng.gen_range(0.001..1.0)).collect();
    for i in 1..n {
        d[i] += a[i];
        d[parent[i] as usize] += a[i];
    }
    let mut u = a.clone();
    u.iter_mut().for_each(|x| *x = -*x);
    u[0] = 0.0;
    let l = u.clone();
    let rhs = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
    Sys {
        parent,
        d,
        u,
        l,
        rhs,
    }
}

fn dense(s: &Sys) -> Mat {
    let n = s.d.len();
    let mut m = Mat::zeros(n);
    for i in 0..n {
        m.set(i, i, s.d[i]);
        if s.parent[i] != ROOT {
            let p = s.parent[i] as usize;
            m.set(p, i, s.u[i]);
            m.set(i, p, s.l[i]);
        }
    }
    m
}

fn residual(s: &Sys, x: &[f64]) -> f64 {
    let n = x.len();
    let mut r: Vec<f64> = (0..n).map(|i| s.d[i] * x[i] - s.rhs[i]).collect();
    let mut scale = 0.0f64;
    for i in 0..n {
        scale = scale.max(s.d[i].abs() * x[i].abs());
        if s.parent[i] != ROOT {
            let p = s.parent[i] as usize;
            r[p] += s.u[i] * x[i];
            r[i] += s.l[i] * x[p];
        }
    }
    r.iter().fold(0.0f64, |m, v| m.max(v.abs())) / scale
}

#[test]
fn hines_matches_dense_lu() {
    for (k, &n) in [10usize, 100, 1000].iter().enumerate() {
        let s = random_system(n, k as u64);
        let m = dense(&s);
        let mut b = Mat::zeros(n);
        for i in 0..n {
            b.set(i, 0, s.rhs[i]);
        }
        let x_lu = m.solve(&b).unwrap();
        let mut d = s.d.clone();
        let mut x = s.rhs.clone();
        solve_tree(&s.parent, &mut d, &s.u, &s.l, &mut x).unwrap();
        let xmax = x.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let err = (0..n)
            .map(|i| (x[i] - x_lu.get(i, 0)).abs())
            .fold(0.0, f64::max)
            / xmax;
        println!("T10 N = {n}: max |x_hines − x_LU|/|x|∞ = {err:e}");
        assert!(err < 1e-12, "N {n}: {err:e}");
    }
}

#[test]
fn hines_residual_large_trees() {
    for (k, &n) in [10_000usize, 100_000].iter().enumerate() {
        let s = random_system(n, 100 + k as u64);
        let mut d = s.d.clone();
        let mut x = s.rhs.clone();
        solve_tree(&s.parent, &mut d, &s.u, &s.l, &mut x).unwrap();
        let r = residual(&s, &x);
        println!("T10 N = {n}: relative residual {r:e}");
        assert!(r < 1e-13, "N {n}: {r:e}");
    }
}

#[test]
fn chain_matches_thomas_algorithm() {
    let n = 500;
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let a: Vec<f64> = (0..n).map(|_| rng.gen_range(0.1..2.0)).collect();
    let mut d: Vec<f64> = (0..n).map(|_| rng.gen_range(0.01..1.0)).collect();
    for i in 1..n {
        d[i] += a[i];
        d[i - 1] += a[i];
    }
    let rhs: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
    // Thomas algorithm, forward sweep from row 0: sub-diagonal b_i = −a_i, super c_i = −a_{i+1}.
    let mut cp = vec![0.0; n];
    let mut dp = vec![0.0; n];
    cp[0] = -a[1] / d[0];
    dp[0] = rhs[0] / d[0];
    for i in 1..n {
        let sub = -a[i];
        let sup = if i + 1 < n { -a[i + 1] } else { 0.0 };
        let den = d[i] - sub * cp[i - 1];
        cp[i] = sup / den;
        dp[i] = (rhs[i] - sub * dp[i - 1]) / den;
    }
    let mut xt = vec![0.0; n];
    xt[n - 1] = dp[n - 1];
    for i in (0..n - 1).rev() {
        xt[i] = dp[i] - cp[i] * xt[i + 1];
    }
    let parent: Vec<u32> = (0..n)
        .map(|i| if i == 0 { ROOT } else { (i - 1) as u32 })
        .collect();
    let off: Vec<f64> = a.iter().map(|x| -x).collect();
    let mut dd = d.clone();
    let mut x = rhs.clone();
    solve_tree(&parent, &mut dd, &off, &off, &mut x).unwrap();
    for i in 0..n {
        assert!((x[i] - xt[i]).abs() <= 1e-14 * xt[i].abs().max(1.0), "{i}");
    }
}

/// The step API on a forest equals solving each cell on its own; 1 and 2 rayon threads agree
/// bit for bit.
#[test]
fn forest_equals_cells_and_parallel_equals_sequential() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let cells: Vec<CableTree> = (0..30)
        .map(|k| common::random_cell(&mut rng, 50 + 37 * k, 0.001..0.05, 0.01..0.5, 1.0))
        .collect();
    let refs: Vec<&CableTree> = cells.iter().collect();
    let forest = CableTree::concat(&refs);
    let n = forest.len();
    let g: Vec<f64> = (0..n).map(|_| rng.gen_range(0.0..0.01)).collect();
    let j: Vec<f64> = (0..n).map(|_| rng.gen_range(-0.5..0.5)).collect();
    let v0: Vec<f64> = (0..n).map(|_| rng.gen_range(-80.0..-50.0)).collect();
    for scheme in [Scheme::BackwardEuler, Scheme::CrankNicolson] {
        let mut per_cell = v0.clone();
        for (c, t) in cells.iter().enumerate() {
            let (s, e) = (forest.cells()[c], forest.cells()[c + 1]);
            let mut h = Hines::new(t);
            h.step(scheme, 0.025, &mut per_cell[s..e], &g[s..e], &j[s..e])
                .unwrap();
        }
        let mut results = Vec::new();
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut h = Hines::new(&forest);
            h.set_parallel_grain(64);
            let mut v = v0.clone();
            pool.install(|| h.step(scheme, 0.025, &mut v, &g, &j))
                .unwrap();
            results.push(v);
        }
        assert_eq!(results[0], per_cell);
        assert_eq!(results[1], per_cell);
    }
}
