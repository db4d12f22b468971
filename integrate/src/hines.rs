//! Hines' O(N) tree solver (Hines 1984) for backward Euler and Crank–Nicolson steps of the cable
//! equation C·V' = −K·V − G·V + J on a forest, cells solved in parallel with rayon.
//!
//! Units: C nF, K and G µS, J nA, V mV, dt ms. With a_i the axial conductance of compartment i to
//! its parent, one backward-Euler step of length h solves
//! (C/h + G + Σa)·V⁺ − Σ a·V⁺_neighbour = C/h·V + J.
//! Crank–Nicolson (NEURON's `secondorder = 2`) solves that system with h = dt/2 and extrapolates
//! V⁺ = 2·V^{n+½} − V^n; J must be evaluated at mid-step by the caller for second order.

use crate::error::{check_len, check_positive, Error, Result};
use crate::tree::{CableTree, ROOT};

/// Time-stepping variant of [`Hines::step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Backward Euler: first order, L-stable (NEURON's default, Arbor's only option).
    BackwardEuler,
    /// Crank–Nicolson via a half backward-Euler step and extrapolation: second order, A-stable.
    CrankNicolson,
}

/// Solve the tree-structured linear system in place (two passes, no fill-in).
///
/// `parent[i]` is the parent index of i or [`ROOT`]; `d` is the diagonal, `u[i]` the entry
/// (parent(i), i) and `l[i]` the entry (i, parent(i)); `rhs` is overwritten by the solution.
/// Parents must precede children. No pivoting: the matrix should be diagonally dominant (it is
/// for every cable system); a zero pivot gives `Err(Singular)`. `d` is overwritten.
pub fn solve_tree(
    parent: &[u32],
    d: &mut [f64],
    u: &[f64],
    l: &[f64],
    rhs: &mut [f64],
) -> Result<()> {
    let n = parent.len();
    check_len("d", n, d.len())?;
    check_len("u", n, u.len())?;
    check_len("l", n, l.len())?;
    check_len("rhs", n, rhs.len())?;
    for (i, &p) in parent.iter().enumerate() {
        if p != ROOT && p as usize >= i {
            return Err(Error::NotParentOrdered {
                index: i,
                parent: p as usize,
            });
        }
    }
    for i in (0..n).rev() {
        let p = parent[i];
        if p == ROOT {
            continue;
        }
        if d[i] == 0.0 {
            return Err(Error::Singular("tree solve"));
        }
        let f = u[i] / d[i];
        d[p as usize] -= f * l[i];
        rhs[p as usize] -= f * rhs[i];
    }
    for i in 0..n {
        let p = parent[i];
        if d[i] == 0.0 {
            return Err(Error::Singular("tree solve"));
        }
        if p == ROOT {
            rhs[i] /= d[i];
        } else {
            rhs[i] = (rhs[i] - l[i] * rhs[p as usize]) / d[i];
        }
    }
    Ok(())
}

/// Precomputed Hines solver for one [`CableTree`] (a forest of cells).
#[derive(Debug, Clone)]
pub struct Hines {
    parent: Vec<u32>,
    axial: Vec<f64>,
    cap: Vec<f64>,
    sum_axial: Vec<f64>,
    cells: Vec<usize>,
    d: Vec<f64>,
    rhs: Vec<f64>,
    grain: usize,
}

struct Ctx<'a> {
    parent: &'a [u32],
    axial: &'a [f64],
    cap: &'a [f64],
    sum_axial: &'a [f64],
    g: &'a [f64],
    j: &'a [f64],
    inv_h: f64,
    cn: bool,
}

impl Hines {
    /// Precompute per-compartment sums of axial conductances and scratch space.
    pub fn new(tree: &CableTree) -> Self {
        let n = tree.len();
        let mut sum_axial = vec![0.0; n];
        for i in 0..n {
            if let Some(p) = tree.parent(i) {
                let a = tree.axial_us()[i];
                sum_axial[i] += a;
                sum_axial[p] += a;
            }
        }
        Hines {
            parent: tree.parents().to_vec(),
            axial: tree.axial_us().to_vec(),
            cap: tree.capacitance_nf().to_vec(),
            sum_axial,
            cells: tree.cells().to_vec(),
            d: vec![0.0; n],
            rhs: vec![0.0; n],
            grain: 4096,
        }
    }

    /// Number of compartments.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// True if there are no compartments.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// Minimum number of compartments handed to one rayon task (default 4096).
    pub fn set_parallel_grain(&mut self, grain: usize) {
        self.grain = grain.max(1);
    }

    /// Advance `v` (mV) by `dt` (ms) with membrane conductance `g_us` (µS, total per compartment)
    /// and membrane source current `j_na` (nA; Σ g·E plus injected current, positive
    /// depolarising), held constant over the step. Cells are solved in parallel on the current
    /// rayon pool when the tree has enough compartments. Does not allocate.
    ///
    /// Errors on length mismatches, a non-positive `dt`, or non-finite `g_us`/`j_na`.
    pub fn step(
        &mut self,
        scheme: Scheme,
        dt: f64,
        v: &mut [f64],
        g_us: &[f64],
        j_na: &[f64],
    ) -> Result<()> {
        check_positive("dt", dt)?;
        let n = self.len();
        check_len("v", n, v.len())?;
        check_len("g_us", n, g_us.len())?;
        check_len("j_na", n, j_na.len())?;
        let h = match scheme {
            Scheme::BackwardEuler => dt,
            Scheme::CrankNicolson => dt / 2.0,
        };
        let ctx = Ctx {
            parent: &self.parent,
            axial: &self.axial,
            cap: &self.cap,
            sum_axial: &self.sum_axial,
            g: g_us,
            j: j_na,
            inv_h: 1.0 / h,
            cn: scheme == Scheme::CrankNicolson,
        };
        let ok = solve_cells(&self.cells, self.grain, v, &mut self.d, &mut self.rhs, &ctx);
        if ok {
            Ok(())
        } else {
            let index = g_us
                .iter()
                .zip(j_na)
                .position(|(a, b)| !(a.is_finite() && b.is_finite()))
                .unwrap_or(0);
            Err(Error::NonFinite {
                what: "g_us / j_na",
                index,
            })
        }
    }
}

/// Recursively split the cells in two halves and solve them with `rayon::join`.
fn solve_cells(
    bounds: &[usize],
    grain: usize,
    v: &mut [f64],
    d: &mut [f64],
    rhs: &mut [f64],
    ctx: &Ctx<'_>,
) -> bool {
    let ncell = bounds.len() - 1;
    let size = bounds[ncell] - bounds[0];
    if ncell <= 1 || size <= grain {
        let mut ok = true;
        for c in 0..ncell {
            let (s, e) = (bounds[c] - bounds[0], bounds[c + 1] - bounds[0]);
            ok &= solve_one(bounds[c], &mut v[s..e], &mut d[s..e], &mut rhs[s..e], ctx);
        }
        return ok;
    }
    let mid = ncell / 2;
    let split = bounds[mid] - bounds[0];
    let (v1, v2) = v.split_at_mut(split);
    let (d1, d2) = d.split_at_mut(split);
    let (r1, r2) = rhs.split_at_mut(split);
    let (a, b) = rayon::join(
        || solve_cells(&bounds[..=mid], grain, v1, d1, r1, ctx),
        || solve_cells(&bounds[mid..], grain, v2, d2, r2, ctx),
    );
    a && b
}

/// One cell occupying global indices `off..off+v.len()`; its root is local index 0.
#[inline]
fn solve_one(off: usize, v: &mut [f64], d: &mut [f64], rhs: &mut [f64], ctx: &Ctx<'_>) -> bool {
    let n = v.len();
    let e = off + n;
    let cap = &ctx.cap[off..e];
    let g = &ctx.g[off..e];
    let j = &ctx.j[off..e];
    let sa = &ctx.sum_axial[off..e];
    let a = &ctx.axial[off..e];
    let par = &ctx.parent[off..e];
    let mut check = 0.0;
    for i in 0..n {
        let ch = cap[i] * ctx.inv_h;
        d[i] = ch + g[i] + sa[i];
        rhs[i] = ch * v[i] + j[i];
        check += g[i] + j[i];
    }
    // Upward elimination (leaves to root); the off-diagonals are −a on both sides.
    // d[i] is replaced by 1/d[i] once final, so the downward pass multiplies instead of
    // dividing (one division per compartment on the serial dependency chain, not two).
    for i in (1..n).rev() {
        let p = par[i] as usize - off;
        let inv = 1.0 / d[i];
        d[i] = inv;
        let f = a[i] * inv;
        d[p] -= f * a[i];
        rhs[p] += f * rhs[i];
    }
    // Downward substitution.
    let x0 = rhs[0] / d[0];
    rhs[0] = x0;
    if ctx.cn {
        v[0] = 2.0 * x0 - v[0];
    } else {
        v[0] = x0;
    }
    for i in 1..n {
        let p = par[i] as usize - off;
        let x = (rhs[i] + a[i] * rhs[p]) * d[i];
        rhs[i] = x;
        if ctx.cn {
            v[i] = 2.0 * x - v[i];
        } else {
            v[i] = x;
        }
    }
    check.is_finite()
}
