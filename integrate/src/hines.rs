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

/// The compartments of a forest ordered by height (the longest path down to a leaf), then
/// index: children come before their parents, and compartments of one height are independent,
/// so their pivots can be inverted together and their divisions overlap. The order of the
/// floating-point operations of [`eliminate_by_height`] for one tree depends only on that tree
/// (children are folded into a parent in order of height, then index).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeightOrder {
    /// Compartment at each position.
    pub order: Vec<u32>,
    /// Position of each compartment.
    pub pos: Vec<u32>,
    /// Position of the parent of each position's compartment, [`ROOT`] for roots (always a
    /// later position).
    pub parent: Vec<u32>,
    /// First position of each height, then the number of compartments.
    pub levels: Vec<u32>,
}

impl HeightOrder {
    /// The order of a forest given by `parent[i]` (the parent of compartment i, or `None`);
    /// `None` unless parents precede their children and the count fits in `u32`.
    pub fn new(parent: &[Option<usize>]) -> Option<HeightOrder> {
        let n = parent.len();
        let n32 = u32::try_from(n).ok().filter(|&x| x < ROOT)?;
        if parent
            .iter()
            .enumerate()
            .any(|(i, p)| p.is_some_and(|p| p >= i))
        {
            return None;
        }
        // Children have larger indices: one backward sweep.
        let mut height = vec![0u32; n];
        for i in (0..n).rev() {
            if let Some(p) = parent[i] {
                height[p] = height[p].max(height[i] + 1);
            }
        }
        let mut order: Vec<u32> = (0..n32).collect();
        order.sort_by_key(|&i| (height[i as usize], i));
        let mut levels: Vec<u32> = (0..n)
            .filter(|&q| q == 0 || height[order[q] as usize] != height[order[q - 1] as usize])
            .map(|q| q as u32)
            .collect();
        levels.push(n32);
        let mut pos = vec![0u32; n];
        for (q, &i) in order.iter().enumerate() {
            pos[i as usize] = q as u32;
        }
        let parent = order
            .iter()
            .map(|&i| parent[i as usize].map_or(ROOT, |p| pos[p]))
            .collect();
        Some(HeightOrder {
            order,
            pos,
            parent,
            levels,
        })
    }

    /// `x` permuted into this order (`x[order[q]]` at position q).
    pub fn permute(&self, x: &[f64]) -> Vec<f64> {
        self.order
            .iter()
            .map(|&i| x.get(i as usize).copied().unwrap_or(f64::NAN))
            .collect()
    }
}

/// `d[q] ← 1/d[q]` wherever `parent[q]` is not [`ROOT`] (a root keeps its pivot): the pivots
/// of one height, all final once the lower heights are eliminated, inverted together (a loop
/// LLVM vectorises).
#[inline]
pub fn invert_pivots(parent: &[u32], d: &mut [f64]) {
    let n = d.len().min(parent.len());
    let (parent, d) = (&parent[..n], &mut d[..n]);
    for q in 0..n {
        let inv = 1.0 / d[q];
        d[q] = if parent[q] == ROOT { d[q] } else { inv };
    }
}

/// Hines elimination of a tree stored in a [`HeightOrder`] (`levels`, `parent` from it; `a`
/// the axial conductances to the parents, `d` the diagonal, `rhs` the right-hand side, all by
/// position): for each height, its pivots are inverted together ([`invert_pivots`]) and each
/// compartment is folded into its parent, `d[p] −= a²/d`, `rhs[p] += a·rhs/d`. Afterwards `d`
/// holds the inverted pivots (roots keep theirs) and `rhs` the eliminated right-hand side for
/// the substitution, `x = rhs/d` at a root and `(rhs + a·x[parent])·d` elsewhere.
#[inline]
pub fn eliminate_by_height(
    levels: &[u32],
    parent: &[u32],
    a: &[f64],
    d: &mut [f64],
    rhs: &mut [f64],
) {
    let n = parent.len().min(a.len()).min(d.len()).min(rhs.len());
    let (parent, a, d, rhs) = (&parent[..n], &a[..n], &mut d[..n], &mut rhs[..n]);
    for w in levels.windows(2) {
        let (lo, hi) = ((w[0] as usize).min(n), (w[1] as usize).min(n));
        if lo >= hi {
            continue;
        }
        invert_pivots(&parent[lo..hi], &mut d[lo..hi]);
        for q in lo..hi {
            let p = parent[q];
            // A parent out of range would be a broken order: treated as a root.
            if p == ROOT || p as usize >= n {
                continue;
            }
            let p = p as usize;
            let f = a[q] * d[q];
            d[p] -= f * a[q];
            rhs[p] += f * rhs[q];
        }
    }
}

/// Fewest compartments solved together in order of height (cells are never split).
const INTERLEAVE: usize = 1024;

/// Precomputed Hines solver for one [`CableTree`] (a forest of cells).
///
/// The cells are grouped into chunks of at least 1024 compartments (whole cells); within a
/// chunk the compartments are solved in a [`HeightOrder`], interleaving the chunk's cells and
/// sections: compartments of one height are independent, so their divisions overlap instead of
/// waiting on each other along each section (about 2.7× faster than cell by cell on a ring of
/// 13-node cells). A cell's answer does not depend on its chunk. Chunks are solved in parallel
/// on the current rayon pool, [`Hines::set_parallel_grain`] compartments or more per task.
#[derive(Debug, Clone)]
pub struct Hines {
    n: usize,
    grain: usize,
    /// Chunk bounds (compartment indices, on cell boundaries).
    chunks: Vec<usize>,
    /// Per chunk, relative to its first compartment: the compartment at each position.
    order: Vec<u32>,
    /// Per chunk, relative to its first compartment: the parent's position, [`ROOT`] for roots.
    parent_q: Vec<u32>,
    /// Per chunk, relative to its first compartment: the first position of each height, then
    /// the chunk's length.
    levels: Vec<u32>,
    /// Chunk c's heights are `levels[level_of_chunk[c]..level_of_chunk[c + 1]]`.
    level_of_chunk: Vec<usize>,
    /// Axial conductance to the parent, capacitance and Σ axial conductances, by position.
    axial: Vec<f64>,
    cap: Vec<f64>,
    sum_axial: Vec<f64>,
    d: Vec<f64>,
    rhs: Vec<f64>,
}

struct Ctx<'a> {
    order: &'a [u32],
    parent_q: &'a [u32],
    levels: &'a [u32],
    level_of_chunk: &'a [usize],
    chunks: &'a [usize],
    axial: &'a [f64],
    cap: &'a [f64],
    sum_axial: &'a [f64],
    g: &'a [f64],
    j: &'a [f64],
    inv_h: f64,
    cn: bool,
    grain: usize,
}

impl Hines {
    /// Precompute per-compartment sums of axial conductances, the solving order and scratch
    /// space.
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
        let mut chunks = vec![0];
        for &c in tree.cells().iter().skip(1) {
            if c < n && c - chunks.last().copied().unwrap_or(0) >= INTERLEAVE {
                chunks.push(c);
            }
        }
        chunks.push(n);
        chunks.dedup();
        let mut order: Vec<u32> = Vec::with_capacity(n);
        let mut parent_q: Vec<u32> = Vec::with_capacity(n);
        let (mut levels, mut level_of_chunk) = (Vec::new(), vec![0]);
        for w in chunks.windows(2) {
            let (s, e) = (w[0], w[1]);
            // The chunk's own forest. CableTree keeps parents before children, cells whole and
            // the count within u32, so the order always exists; the identity fallback (every
            // compartment a root of its own) is never taken.
            let local: Vec<Option<usize>> = (s..e)
                .map(|i| tree.parent(i).and_then(|p| p.checked_sub(s)))
                .collect();
            let h = HeightOrder::new(&local).unwrap_or_else(|| HeightOrder {
                order: (0..(e - s) as u32).collect(),
                pos: (0..(e - s) as u32).collect(),
                parent: vec![ROOT; e - s],
                levels: vec![0, (e - s) as u32],
            });
            order.extend(&h.order);
            parent_q.extend(&h.parent);
            levels.extend(&h.levels);
            level_of_chunk.push(levels.len());
        }
        let global = |x: &[f64]| -> Vec<f64> {
            chunks
                .windows(2)
                .flat_map(|w| order[w[0]..w[1]].iter().map(move |&i| x[w[0] + i as usize]))
                .collect()
        };
        Hines {
            n,
            grain: 4096,
            axial: global(tree.axial_us()),
            cap: global(tree.capacitance_nf()),
            sum_axial: global(&sum_axial),
            chunks,
            order,
            parent_q,
            levels,
            level_of_chunk,
            d: vec![0.0; n],
            rhs: vec![0.0; n],
        }
    }

    /// Number of compartments.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True if there are no compartments.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Minimum number of compartments handed to one rayon task (default 4096).
    pub fn set_parallel_grain(&mut self, grain: usize) {
        self.grain = grain.max(1);
    }

    /// Advance `v` (mV) by `dt` (ms) with membrane conductance `g_us` (µS, total per compartment)
    /// and membrane source current `j_na` (nA; Σ g·E plus injected current, positive
    /// depolarising), held constant over the step. Chunks of cells are solved in parallel on the
    /// current rayon pool when the tree has enough compartments. Does not allocate.
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
            order: &self.order,
            parent_q: &self.parent_q,
            levels: &self.levels,
            level_of_chunk: &self.level_of_chunk,
            chunks: &self.chunks,
            axial: &self.axial,
            cap: &self.cap,
            sum_axial: &self.sum_axial,
            g: g_us,
            j: j_na,
            inv_h: 1.0 / h,
            cn: scheme == Scheme::CrankNicolson,
            grain: self.grain,
        };
        let nchunks = self.chunks.len().saturating_sub(1);
        let ok = n == 0 || solve_chunks(0, nchunks, v, &mut self.d, &mut self.rhs, &ctx);
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

/// Chunks `c0..c1`, whose compartments (and positions) are `v`, `d`, `rhs` (starting at
/// compartment `ctx.chunks[c0]`); split in two with `rayon::join` while large enough.
fn solve_chunks(
    c0: usize,
    c1: usize,
    v: &mut [f64],
    d: &mut [f64],
    rhs: &mut [f64],
    ctx: &Ctx<'_>,
) -> bool {
    let (s, e) = (ctx.chunks[c0], ctx.chunks[c1]);
    if c1 - c0 <= 1 || e - s <= ctx.grain {
        let mut ok = true;
        for c in c0..c1 {
            let (a, b) = (ctx.chunks[c] - s, ctx.chunks[c + 1] - s);
            ok &= solve_chunk(c, &mut v[a..b], &mut d[a..b], &mut rhs[a..b], ctx);
        }
        return ok;
    }
    let mid = (c0 + c1) / 2;
    let split = ctx.chunks[mid] - s;
    let (v1, v2) = v.split_at_mut(split);
    let (d1, d2) = d.split_at_mut(split);
    let (r1, r2) = rhs.split_at_mut(split);
    let (a, b) = rayon::join(
        || solve_chunks(c0, mid, v1, d1, r1, ctx),
        || solve_chunks(mid, c1, v2, d2, r2, ctx),
    );
    a && b
}

/// One chunk: compartments and positions `off..off + v.len()`, solved in its
/// [`HeightOrder`].
fn solve_chunk(c: usize, v: &mut [f64], d: &mut [f64], rhs: &mut [f64], ctx: &Ctx<'_>) -> bool {
    let off = ctx.chunks[c];
    let n = v.len();
    let e = off + n;
    let (order, parent_q) = (&ctx.order[off..e], &ctx.parent_q[off..e]);
    let (cap, sa, a) = (&ctx.cap[off..e], &ctx.sum_axial[off..e], &ctx.axial[off..e]);
    let (d, rhs) = (&mut d[..n], &mut rhs[..n]);
    let (g, j) = (&ctx.g[off..e], &ctx.j[off..e]);
    // Finiteness of the inputs as a chain of `and`s (a running sum would be a chain of
    // floating-point additions, one latency per compartment).
    let mut ok = true;
    for q in 0..n {
        let i = order[q] as usize;
        let (gi, ji, vi) = (g[i], j[i], v[i]);
        let ch = cap[q] * ctx.inv_h;
        d[q] = ch + gi + sa[q];
        rhs[q] = ch * vi + ji;
        ok &= gi.is_finite() & ji.is_finite();
    }
    // d then holds 1/d (roots keep theirs): the substitution multiplies instead of dividing.
    let levels = &ctx.levels[ctx.level_of_chunk[c]..ctx.level_of_chunk[c + 1]];
    eliminate_by_height(levels, parent_q, a, d, rhs);
    // Substitution, roots to leaves.
    for q in (0..n).rev() {
        let p = parent_q[q];
        let x = if p == ROOT {
            rhs[q] / d[q]
        } else {
            (rhs[q] + a[q] * rhs[p as usize]) * d[q]
        };
        rhs[q] = x;
        let i = order[q] as usize;
        v[i] = if ctx.cn { 2.0 * x - v[i] } else { x };
    }
    ok
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pivots_of_roots_are_kept() {
        let parent: Vec<u32> = (0..19).map(|i| if i % 7 == 3 { ROOT } else { 0 }).collect();
        let mut d: Vec<f64> = (0..19).map(|i| 2.0 + i as f64).collect();
        invert_pivots(&parent, &mut d);
        for (i, x) in d.iter().enumerate() {
            let want = if i % 7 == 3 {
                2.0 + i as f64
            } else {
                1.0 / (2.0 + i as f64)
            };
            assert_eq!(*x, want, "{i}");
        }
    }

    #[test]
    fn height_order_puts_children_first_and_refuses_bad_parents() {
        // 0 ← 1 ← 2, 0 ← 3: heights 2, 1, 0, 0.
        let h = HeightOrder::new(&[None, Some(0), Some(1), Some(0)]).unwrap();
        assert_eq!(h.order, vec![2, 3, 1, 0]);
        assert_eq!(h.levels, vec![0, 2, 3, 4]);
        assert_eq!(h.parent, vec![2, 3, 3, ROOT]);
        assert_eq!(h.pos, vec![3, 2, 0, 1]);
        assert_eq!(
            h.permute(&[10.0, 11.0, 12.0, 13.0]),
            vec![12.0, 13.0, 11.0, 10.0]
        );
        assert!(HeightOrder::new(&[Some(0)]).is_none());
        assert!(HeightOrder::new(&[None, Some(2), None]).is_none());
    }
}
