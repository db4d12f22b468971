//! The sparse axial propagator P = exp(h·A) of the cable system, A = −C⁻¹K (K the axial
//! conductance Laplacian, C the capacitances), pruned below an absolute tolerance and stored as
//! CSR with `sprs`.
//!
//! Construction is column by column with *uniformisation*: with s ≥ max_i h·Σa/C_i, the matrix
//! N = h·A + s·I is entry-wise non-negative and P = e^{−s}·Σ_t s^t/t!·(N/s)^t. Every term is
//! non-negative, so the sum has no cancellation and each entry is accurate to a few ulps
//! *relative to itself* — which is what an absolute pruning threshold at 2.2e-16 needs. Each
//! column's support is tracked, so a column costs O(terms × support), never O(N). When s is
//! large (stiff: small compartments or long steps), P is built for h/2^m and squared m times
//! with sparse products, pruning far below the tolerance in between.

use crate::error::{check_positive, Result};
use crate::graph::CableGraph;
use crate::tree::CableTree;
use rayon::prelude::*;
use sprs::CsMatI;

/// Compressed sparse row matrix used for propagators: u32 column indices, usize row pointers.
pub type Csr = CsMatI<f64, u32, usize>;

/// NEUWON's pruning threshold for the propagator: f64 machine epsilon, absolute.
pub const NEUWON_PRUNE: f64 = 2.220446e-16;

/// Uniformisation rate above which the build switches to scaling and squaring.
const S_MAX: f64 = 64.0;

/// Propagator fill statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FillStats {
    /// Stored non-zeros.
    pub nnz: usize,
    /// Mean non-zeros per row.
    pub mean_per_row: f64,
    /// Largest number of non-zeros in one row.
    pub max_per_row: usize,
}

impl FillStats {
    /// Compute from a CSR matrix.
    pub fn of(p: &Csr) -> Self {
        let ip = p.indptr();
        let raw = ip.raw_storage();
        let rows = p.rows();
        let max_per_row = raw.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
        FillStats {
            nnz: p.nnz(),
            mean_per_row: if rows == 0 {
                0.0
            } else {
                p.nnz() as f64 / rows as f64
            },
            max_per_row,
        }
    }

    /// NEUWON's rule of thumb: the exact scheme becomes expensive above 256 non-zeros per row.
    pub fn is_dense_warning(&self) -> bool {
        self.mean_per_row > 256.0
    }
}

struct Adjacency {
    ptr: Vec<usize>,
    idx: Vec<u32>,
    /// Coefficient of v_i's contribution to row j: h·a_ij/(C_j·s).
    w: Vec<f64>,
    /// Diagonal of N/s: 1 − h·Σa_i/(C_i·s).
    diag: Vec<f64>,
}

fn adjacency(g: &CableGraph, h: f64, s: f64) -> Adjacency {
    let n = g.len();
    let c = g.capacitance_nf();
    let mut deg = vec![0usize; n];
    let mut sum_a = vec![0.0; n];
    for &(i, j, a) in g.edges() {
        let (i, j) = (i as usize, j as usize);
        deg[i] += 1;
        deg[j] += 1;
        sum_a[i] += a;
        sum_a[j] += a;
    }
    let mut ptr = vec![0usize; n + 1];
    for i in 0..n {
        ptr[i + 1] = ptr[i] + deg[i];
    }
    let mut fill = ptr.clone();
    let mut idx = vec![0u32; ptr[n]];
    let mut w = vec![0.0; ptr[n]];
    for &(i, j, a) in g.edges() {
        let (i, j) = (i as usize, j as usize);
        // v_i feeds row j, v_j feeds row i.
        idx[fill[i]] = j as u32;
        w[fill[i]] = h * a / (c[j] * s);
        fill[i] += 1;
        idx[fill[j]] = i as u32;
        w[fill[j]] = h * a / (c[i] * s);
        fill[j] += 1;
    }
    let diag = (0..n).map(|i| 1.0 - h * sum_a[i] / (c[i] * s)).collect();
    Adjacency { ptr, idx, w, diag }
}

struct Work {
    cur: Vec<f64>,
    next: Vec<f64>,
    acc: Vec<f64>,
    acc2: Vec<f64>,
    active: Vec<bool>,
    touched: Vec<bool>,
    support: Vec<usize>,
    all: Vec<usize>,
}

impl Work {
    fn new(n: usize) -> Self {
        Work {
            cur: vec![0.0; n],
            next: vec![0.0; n],
            acc: vec![0.0; n],
            acc2: vec![0.0; n],
            active: vec![false; n],
            touched: vec![false; n],
            support: Vec::new(),
            all: Vec::new(),
        }
    }
}

/// One sparse column: sorted (row, value) pairs.
type Column = Vec<(u32, f64)>;

/// Poisson weights of uniformisation for rate s: `w[t]` = e^{−s}s^t/t! and
/// `tail_over_s[t]` = Pr[Poisson(s) > t]/s (the weights of φ₁), up to the truncation point.
struct Weights {
    w: Vec<f64>,
    tail_over_s: Vec<f64>,
}

fn poisson_weights(s: f64, cap_ratio_max: f64, drop: f64) -> Weights {
    let mut w = vec![(-s).exp()];
    let mut t = 0.0f64;
    loop {
        t += 1.0;
        let next = w[w.len() - 1] * s / t;
        w.push(next);
        // Remaining tail after term t is < w_t·r/(1 − r), r = s/(t+1) < ½; entries of
        // (N/s)^t e_k are bounded by C_k/C_min (charge conservation).
        if t + 1.0 > 2.0 * s {
            let r = s / (t + 1.0);
            if next * r / (1.0 - r) * cap_ratio_max < drop {
                break;
            }
        }
    }
    let mut tail_over_s = vec![0.0; w.len()];
    let mut acc = 0.0;
    for t in (0..w.len()).rev() {
        tail_over_s[t] = acc / s;
        acc += w[t];
    }
    Weights { w, tail_over_s }
}

/// Column k of e^{s(N/s − I)} (and of φ₁ of the same matrix if `with_phi`) by uniformisation.
/// Returns sorted (row, value) pairs with values ≥ `keep` (resp. ≥ `keep_phi`); the charge of
/// dropped entries is returned to the diagonal.
#[allow(clippy::too_many_arguments)]
fn column(
    adj: &Adjacency,
    cap: &[f64],
    wts: &Weights,
    k: usize,
    drop: f64,
    keep: f64,
    with_phi: bool,
    ws: &mut Work,
) -> (Column, Column) {
    ws.support.clear();
    ws.all.clear();
    ws.cur[k] = 1.0;
    ws.active[k] = true;
    ws.touched[k] = true;
    ws.support.push(k);
    ws.all.push(k);
    ws.acc[k] += wts.w[0];
    if with_phi {
        ws.acc2[k] += wts.tail_over_s[0];
    }
    for t in 1..wts.w.len() {
        if ws.support.is_empty() {
            break;
        }
        let len = ws.support.len();
        for q in 0..len {
            let i = ws.support[q];
            let vi = ws.cur[i];
            ws.next[i] += adj.diag[i] * vi;
            for e in adj.ptr[i]..adj.ptr[i + 1] {
                let j = adj.idx[e] as usize;
                if !ws.active[j] {
                    ws.active[j] = true;
                    ws.support.push(j);
                    if !ws.touched[j] {
                        ws.touched[j] = true;
                        ws.all.push(j);
                    }
                }
                ws.next[j] += adj.w[e] * vi;
            }
        }
        std::mem::swap(&mut ws.cur, &mut ws.next);
        let (w, wp) = (wts.w[t], wts.tail_over_s[t]);
        // Accumulate, zero the old vector, prune negligible entries of the new one.
        let mut q = 0;
        while q < ws.support.len() {
            let i = ws.support[q];
            ws.next[i] = 0.0;
            let vi = ws.cur[i];
            ws.acc[i] += w * vi;
            if with_phi {
                ws.acc2[i] += wp * vi;
            }
            if vi < drop {
                ws.cur[i] = 0.0;
                ws.active[i] = false;
                ws.support.swap_remove(q);
            } else {
                q += 1;
            }
        }
    }
    for &i in &ws.support {
        ws.cur[i] = 0.0;
        ws.active[i] = false;
    }
    let mut out = Vec::with_capacity(ws.all.len());
    let mut out2 = Vec::new();
    let (mut pruned, mut pruned2) = (0.0, 0.0);
    for &i in &ws.all {
        let v = ws.acc[i];
        if v >= keep {
            out.push((i as u32, v));
        } else {
            pruned += cap[i] * v;
        }
        if with_phi {
            let v2 = ws.acc2[i];
            if v2 >= keep {
                out2.push((i as u32, v2));
            } else {
                pruned2 += cap[i] * v2;
            }
            ws.acc2[i] = 0.0;
        }
        ws.acc[i] = 0.0;
        ws.touched[i] = false;
    }
    out.sort_unstable_by_key(|e| e.0);
    return_to_diagonal(&mut out, k, pruned / cap[k]);
    if with_phi {
        out2.sort_unstable_by_key(|e| e.0);
        return_to_diagonal(&mut out2, k, pruned2 / cap[k]);
    }
    (out, out2)
}

/// Add `extra` to the diagonal entry (k, k) of a sorted column (inserting it if absent), so
/// that the charge of pruned entries stays in the column and Σ_j C_j P_jk = C_k holds.
fn return_to_diagonal(col: &mut Vec<(u32, f64)>, k: usize, extra: f64) {
    if extra == 0.0 {
        return;
    }
    match col.binary_search_by_key(&(k as u32), |e| e.0) {
        Ok(pos) => col[pos].1 += extra,
        Err(pos) => col.insert(pos, (k as u32, extra)),
    }
}

/// Prune a CSC matrix column by column below `tol`, returning pruned charge to the diagonal and
/// rescaling each column's charge Σ_j C_j X_jk to `scale`·C_k (1 for P, h for h·φ₁(hA)).
fn prune_csc_conserving(p: &CsMatI<f64, u32, usize>, tol: f64, cap: &[f64], scale: f64) -> Csr {
    let cols = p.cols();
    let mut indptr = Vec::with_capacity(cols + 1);
    let mut indices = Vec::with_capacity(p.nnz());
    let mut data = Vec::with_capacity(p.nnz());
    indptr.push(0usize);
    let mut col: Vec<(u32, f64)> = Vec::new();
    for (k, c) in p.outer_iterator().enumerate() {
        col.clear();
        let mut pruned = 0.0;
        for (i, &v) in c.iter() {
            if v.abs() >= tol {
                col.push((i as u32, v));
            } else {
                pruned += cap[i] * v;
            }
        }
        return_to_diagonal(&mut col, k, pruned / cap[k]);
        // Repeated squaring accumulates rounding in the charge balance; the exact propagator
        // satisfies Σ_j C_j P_jk = C_k, so rescale the column to it.
        let charge: f64 = col.iter().map(|&(i, v)| cap[i as usize] * v).sum();
        let f = if charge > 0.0 {
            scale * cap[k] / charge
        } else {
            1.0
        };
        col.iter_mut().for_each(|e| e.1 *= f);
        for &(i, v) in &col {
            indices.push(i);
            data.push(v);
        }
        indptr.push(indices.len());
    }
    CsMatI::<f64, u32, usize>::new_csc((p.rows(), cols), indptr, indices, data).to_csr()
}

/// Drop stored entries with |value| < `tol`.
pub fn prune(p: &Csr, tol: f64) -> Csr {
    let rows = p.rows();
    let mut indptr = Vec::with_capacity(rows + 1);
    let mut indices = Vec::with_capacity(p.nnz());
    let mut data = Vec::with_capacity(p.nnz());
    indptr.push(0usize);
    for row in p.outer_iterator() {
        for (j, &v) in row.iter() {
            if v.abs() >= tol {
                indices.push(j as u32);
                data.push(v);
            }
        }
        indptr.push(indices.len());
    }
    Csr::new((rows, p.cols()), indptr, indices, data)
}

/// Build P = exp(h·A) for the axial system of `tree` over `h_ms` (ms), keeping entries ≥ `tol`
/// (use [`NEUWON_PRUNE`] for NEUWON's threshold). P is block-diagonal per cell, non-negative,
/// and conserves charge, Σ_j C_j P_jk = C_k, to rounding: unlike NEUWON, the charge of the
/// pruned entries of each column (each below `tol`) is added back to its diagonal entry, so
/// long runs do not leak charge at ~`tol` per step.
pub fn axial_propagator(tree: &CableTree, h_ms: f64, tol: f64) -> Result<Csr> {
    Ok(axial_propagators(tree, h_ms, tol, false)?.0)
}

/// Like [`axial_propagator`], and if `with_source` also W = h·φ₁(h·A) (ms), the exact
/// response to a constant source over the step: V(h) = P·V(0) + W·C⁻¹·I for C·V' = −K·V + I.
/// W is pruned below `tol`·h and conserves charge (Σ_j C_j W_jk = h·C_k).
pub fn axial_propagators(
    tree: &CableTree,
    h_ms: f64,
    tol: f64,
    with_source: bool,
) -> Result<(Csr, Option<Csr>)> {
    // The graph refuses zero capacitances (zero-area nodes must be eliminated first).
    graph_propagators(&CableGraph::from_tree(tree)?, h_ms, tol, with_source)
}

/// Like [`axial_propagators`] for a general [`CableGraph`] (for instance a tree whose
/// zero-area nodes were eliminated, see [`crate::graph::Elimination`]).
pub fn graph_propagators(
    graph: &CableGraph,
    h_ms: f64,
    tol: f64,
    with_source: bool,
) -> Result<(Csr, Option<Csr>)> {
    check_positive("h_ms", h_ms)?;
    check_positive("tol", tol)?;
    let n = graph.len();
    let c = graph.capacitance_nf();
    let mut rate = vec![0.0; n];
    for &(i, j, a) in graph.edges() {
        let (i, j) = (i as usize, j as usize);
        rate[i] += a / c[i];
        rate[j] += a / c[j];
    }
    let s_full = h_ms * rate.iter().cloned().fold(0.0, f64::max);
    let squarings = if s_full > S_MAX {
        (s_full / S_MAX).log2().ceil() as i32
    } else {
        0
    };
    let h = h_ms / 2f64.powi(squarings);
    let s = (h / h_ms * s_full).max(1e-300);
    let adj = adjacency(graph, h, s);
    let cmin = c.iter().cloned().fold(f64::INFINITY, f64::min);
    let cmax = c.iter().cloned().fold(0.0, f64::max);
    let ratio = if n == 0 { 1.0 } else { cmax / cmin };
    // Working-vector drop threshold and intermediate pruning: far below the final tolerance.
    let drop_tol = tol * 1e-4 / (1.0 + squarings as f64);
    let keep = if squarings == 0 { tol } else { drop_tol };
    let wts = poisson_weights(s, ratio, drop_tol);
    let cols: Vec<(Column, Column)> = (0..n)
        .into_par_iter()
        .map_init(
            || Work::new(n),
            |ws, k| column(&adj, c, &wts, k, drop_tol, keep, with_source, ws),
        )
        .collect();
    let assemble = |which: usize, scale: f64| -> Csr {
        let nnz: usize = cols
            .iter()
            .map(|c| if which == 0 { c.0.len() } else { c.1.len() })
            .sum();
        let mut indptr = Vec::with_capacity(n + 1);
        let mut indices = Vec::with_capacity(nnz);
        let mut data = Vec::with_capacity(nnz);
        indptr.push(0usize);
        for col in &cols {
            let col = if which == 0 { &col.0 } else { &col.1 };
            for &(i, v) in col {
                indices.push(i);
                data.push(v * scale);
            }
            indptr.push(indices.len());
        }
        CsMatI::<f64, u32, usize>::new_csc((n, n), indptr, indices, data).to_csr()
    };
    let mut p = assemble(0, 1.0);
    // φ₁(M) with M = h·A; W = h·φ₁(M).
    let mut w = if with_source {
        Some(assemble(1, h))
    } else {
        None
    };
    drop(cols);
    let mut hk = h;
    for sq in 0..squarings {
        let last = sq + 1 == squarings;
        if let Some(wk) = w.as_ref() {
            // W(2h) = W(h) + P(h)·W(h).
            let pw: Csr = &p * wk;
            let sum: Csr = wk + &pw;
            let t = if last {
                tol * 2.0 * hk
            } else {
                drop_tol * 2.0 * hk
            };
            w = Some(prune_csc_conserving(&sum.to_csc(), t, c, 2.0 * hk));
        }
        let prod: Csr = &p * &p;
        let t = if last { tol } else { drop_tol };
        p = prune_csc_conserving(&prod.to_csc(), t, c, 1.0);
        hk *= 2.0;
    }
    Ok((p, w))
}

/// y = P·x, sequential plain CSR sparse matrix–vector product (the performance baseline).
pub fn spmv(p: &Csr, x: &[f64], y: &mut [f64]) {
    let ip = p.indptr();
    let ip = ip.raw_storage();
    let idx = p.indices();
    let val = p.data();
    for (r, yr) in y.iter_mut().enumerate() {
        let (s, e) = (ip[r], ip[r + 1]);
        let mut acc = 0.0;
        for (j, v) in idx[s..e].iter().zip(&val[s..e]) {
            acc += v * x[*j as usize];
        }
        *yr = acc;
    }
}

/// y = P·x with rows split over the current rayon pool in chunks of `chunk` rows.
pub fn spmv_par(p: &Csr, x: &[f64], y: &mut [f64], chunk: usize) {
    let ip = p.indptr();
    let ip = ip.raw_storage();
    let idx = p.indices();
    let val = p.data();
    y.par_chunks_mut(chunk.max(1))
        .enumerate()
        .for_each(|(b, ys)| {
            let r0 = b * chunk.max(1);
            for (q, yr) in ys.iter_mut().enumerate() {
                let r = r0 + q;
                let (s, e) = (ip[r], ip[r + 1]);
                let mut acc = 0.0;
                for (j, v) in idx[s..e].iter().zip(&val[s..e]) {
                    acc += v * x[*j as usize];
                }
                *yr = acc;
            }
        });
}
