//! NEUWON's exact cable method: the axial system advanced by the sparse propagator P (see
//! [`crate::propagator`]), the membrane advanced by an exact local relaxation, combined by
//! operator splitting.
//!
//! Per compartment the membrane obeys C·V' = J − G·V (C nF, G µS, J nA, V mV, t ms), solved
//! exactly over h as V ← V + h·φ₁(−hG/C)·(J − G·V)/C, which needs no division by G.
//! Splits ([`Split`]):
//! * `NeuwonCompat`: relax toward E = (Σg·E)/G, add the injected current as an Euler kick
//!   h·I/C, then apply P — NEUWON's electric half-step, first order in h.
//! * `LieExact`: exact relaxation toward (J)/G including the injected current, then P; first
//!   order.
//! * `Strang`: half relaxation, P, half relaxation; second order, same cost.
//!
//! The time integral of V over the step (mV·ms) is the exact integral of the split trajectory:
//! the exact local relaxation integrals, with the axial jump (and, in compat mode, the current
//! kick) at the end (compat, Lie: first order) or in the middle (Strang: second order).

use crate::error::{check_len, check_positive, Error, Result};
use crate::expm::{phi1, phi2};
use crate::graph::CableGraph;
use crate::propagator::{graph_propagators, Csr, FillStats, NEUWON_PRUNE};
use crate::tree::CableTree;
use rayon::prelude::*;

/// Operator-splitting variant of [`ExactCable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// NEUWON-compatible: relaxation toward E, current as an Euler kick, then P. First order.
    NeuwonCompat,
    /// Lie split with the exact local relaxation toward E + I/G, then P. First order.
    LieExact,
    /// Strang split: half local step, P over the whole step, half local step. Second order.
    Strang,
}

/// Rows per rayon task in the parallel kernels.
const CHUNK: usize = 8192;

/// Exact cable integrator for a fixed step `dt`.
#[derive(Debug, Clone)]
pub struct ExactCable {
    p: Csr,
    /// W = h·φ₁(h·A) (ms) as CSC, present with [`ExactOptions::exact_sources`].
    w: Option<sprs::CsMatI<f64, u32, usize>>,
    src: Vec<f64>,
    cap: Vec<f64>,
    dt: f64,
    split: Split,
    scratch: Vec<f64>,
    scratch_int: Vec<f64>,
    /// G (µS) for which `coef` was computed, per compartment (NaN: not yet).
    cache_g: Vec<f64>,
    /// h_loc·φ₁(−h_loc·G/C)/C (ms/nF) of the local step.
    coef: Vec<f64>,
}

/// Options of [`ExactCable::with_options`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExactOptions {
    /// Absolute pruning tolerance of P (dimensionless; default [`NEUWON_PRUNE`]).
    pub tol: f64,
    /// Route the injected current `i_na` through the exact source propagator W = h·φ₁(h·A)
    /// (V ← P·V + W·C⁻¹·I) instead of the local relaxation (Lie, Strang; ignored by
    /// `NeuwonCompat`). Exact for constant currents into the passive cable, however small and
    /// stiff the receiving compartment; costs one scatter per non-zero current. Default false
    /// (the spec's split).
    pub exact_sources: bool,
}

impl Default for ExactOptions {
    fn default() -> Self {
        ExactOptions {
            tol: NEUWON_PRUNE,
            exact_sources: false,
        }
    }
}

/// Membrane inputs of one step, all per compartment and held constant over the step.
#[derive(Debug, Clone, Copy)]
pub struct Membrane<'a> {
    /// Total membrane conductance G, µS.
    pub g_us: &'a [f64],
    /// Conductance-driven source Σ g·E_rev, nA.
    pub ge_na: &'a [f64],
    /// Injected / current-source input I, nA, positive depolarising.
    pub i_na: &'a [f64],
}

/// Exact local relaxation of C·V' = J − G·V over h; returns (V(h), ∫₀^h V).
#[inline(always)]
fn relax(v: f64, g: f64, j: f64, c: f64, h: f64) -> (f64, f64) {
    let f = (j - g * v) / c;
    let z = -h * g / c;
    (v + h * phi1(z) * f, h * v + h * h * phi2(z) * f)
}

impl ExactCable {
    /// Build the propagator for `tree` and step `dt` (ms), pruning entries below `tol`
    /// ([`crate::propagator::NEUWON_PRUNE`] for NEUWON's behaviour).
    pub fn new(tree: &CableTree, dt: f64, split: Split, tol: f64) -> Result<Self> {
        Self::with_options(
            tree,
            dt,
            split,
            ExactOptions {
                tol,
                ..Default::default()
            },
        )
    }

    /// Build with explicit [`ExactOptions`].
    pub fn with_options(
        tree: &CableTree,
        dt: f64,
        split: Split,
        opts: ExactOptions,
    ) -> Result<Self> {
        Self::from_graph(&CableGraph::from_tree(tree)?, dt, split, opts)
    }

    /// Build for a general [`CableGraph`] (for instance a NEURON-layout tree whose zero-area
    /// nodes were eliminated by [`crate::graph::Elimination`]).
    pub fn from_graph(
        graph: &CableGraph,
        dt: f64,
        split: Split,
        opts: ExactOptions,
    ) -> Result<Self> {
        check_positive("dt", dt)?;
        let want_w = opts.exact_sources && split != Split::NeuwonCompat;
        let (p, w) = graph_propagators(graph, dt, opts.tol, want_w)?;
        Ok(Self::assemble(p, w, graph.capacitance_nf(), dt, split))
    }

    fn assemble(p: Csr, w: Option<Csr>, cap: &[f64], dt: f64, split: Split) -> Self {
        let n = cap.len();
        ExactCable {
            p,
            w: w.map(|w| w.to_csc()),
            src: vec![0.0; n],
            cap: cap.to_vec(),
            dt,
            split,
            scratch: vec![0.0; n],
            scratch_int: vec![0.0; n],
            cache_g: vec![f64::NAN; n],
            coef: vec![0.0; n],
        }
    }

    /// The propagator P (dimensionless, CSR).
    pub fn propagator(&self) -> &Csr {
        &self.p
    }

    /// Fill statistics of P.
    pub fn fill(&self) -> FillStats {
        FillStats::of(&self.p)
    }

    /// The step (ms) P was built for.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// The split in use.
    pub fn split(&self) -> Split {
        self.split
    }

    /// Number of compartments.
    pub fn len(&self) -> usize {
        self.cap.len()
    }

    /// True if there are no compartments.
    pub fn is_empty(&self) -> bool {
        self.cap.is_empty()
    }

    /// Advance `v` (mV) by one step `dt`. If `int_v` is given it receives ∫V dt over the step
    /// per compartment (mV·ms). Does not allocate; runs on the current rayon pool for large
    /// systems. Errors on length mismatches or non-finite inputs (detected after the step, in
    /// which case `v` may hold NaN).
    pub fn step(
        &mut self,
        v: &mut [f64],
        m: Membrane<'_>,
        mut int_v: Option<&mut [f64]>,
    ) -> Result<()> {
        let n = self.len();
        check_len("v", n, v.len())?;
        check_len("g_us", n, m.g_us.len())?;
        check_len("ge_na", n, m.ge_na.len())?;
        check_len("i_na", n, m.i_na.len())?;
        if let Some(iv) = int_v.as_deref() {
            check_len("int_v", n, iv.len())?;
        }
        let dt = self.dt;
        let cap = &self.cap;
        let split = self.split;
        let want_int = int_v.is_some();
        let par = n >= 2 * CHUNK;
        // Exact sources: scatter W·C⁻¹·I into `src`; the local relaxation then sees no current.
        let exact_src = self.w.is_some();
        if let Some(w) = self.w.as_ref() {
            self.src.iter_mut().for_each(|x| *x = 0.0);
            for (jcol, col) in w.outer_iterator().enumerate() {
                let ij = m.i_na[jcol];
                if ij != 0.0 {
                    let k = ij / cap[jcol];
                    for (r, &wv) in col.iter() {
                        self.src[r] += wv * k;
                    }
                }
            }
        }
        // Local step length, share of i_na in the relaxation source (σ) and as an Euler kick (κ).
        let h_loc = if split == Split::Strang { 0.5 * dt } else { dt };
        let sigma = if exact_src || split == Split::NeuwonCompat {
            0.0
        } else {
            1.0
        };
        let kappa = if split == Split::NeuwonCompat {
            dt
        } else {
            0.0
        };
        // Integral of the local step: the exact integral of the relaxation the step performs
        // (toward E only in compat mode, whose current kick and axial jump come at the end).
        let sigma_int = sigma;
        // Phase 1: local update into scratch; coefficients h·φ₁(−hG/C)/C cached while G is
        // unchanged (bitwise), so steady conductances cost no exponentials.
        let phase1 =
            |base: usize, out: &mut [f64], oint: &mut [f64], cg: &mut [f64], cf: &mut [f64]| {
                for q in 0..out.len() {
                    let i = base + q;
                    let (g, c) = (m.g_us[i], cap[i]);
                    if cg[q].to_bits() != g.to_bits() {
                        cf[q] = h_loc * phi1(-h_loc * g / c) / c;
                        cg[q] = g;
                    }
                    let vi = v[i];
                    let j = m.ge_na[i] + sigma * m.i_na[i];
                    out[q] = vi + cf[q] * (j - g * vi) + kappa * m.i_na[i] / c;
                    if want_int {
                        let ji = m.ge_na[i] + sigma_int * m.i_na[i];
                        oint[q] = relax(vi, g, ji, c, h_loc).1;
                    }
                }
            };
        if par {
            self.scratch
                .par_chunks_mut(CHUNK)
                .zip(self.scratch_int.par_chunks_mut(CHUNK))
                .zip(self.cache_g.par_chunks_mut(CHUNK))
                .zip(self.coef.par_chunks_mut(CHUNK))
                .enumerate()
                .for_each(|(b, (((o, oi), cg), cf))| phase1(b * CHUNK, o, oi, cg, cf));
        } else {
            phase1(
                0,
                &mut self.scratch,
                &mut self.scratch_int,
                &mut self.cache_g,
                &mut self.coef,
            );
        }
        // Phase 2: axial propagation, then (Strang) the second half local step.
        let ip = self.p.indptr();
        let ip = ip.raw_storage();
        let idx = self.p.indices();
        let val = self.p.data();
        let x = &self.scratch;
        let xi = &self.scratch_int;
        let src = &self.src;
        let coef = &self.coef;
        let phase2 = |base: usize, vs: &mut [f64], ivs: Option<&mut [f64]>| -> bool {
            let mut ivs = ivs;
            let mut check = 0.0;
            for (q, vr) in vs.iter_mut().enumerate() {
                let r = base + q;
                let (s, e) = (ip[r], ip[r + 1]);
                let mut acc = 0.0;
                for (j, p) in idx[s..e].iter().zip(&val[s..e]) {
                    acc += p * x[*j as usize];
                }
                if exact_src {
                    acc += src[r];
                }
                if split == Split::Strang {
                    let g = m.g_us[r];
                    let j = m.ge_na[r] + sigma * m.i_na[r];
                    *vr = acc + coef[r] * (j - g * acc);
                    if let Some(iv) = ivs.as_deref_mut() {
                        iv[q] = xi[r] + relax(acc, g, j, cap[r], h_loc).1;
                    }
                } else {
                    *vr = acc;
                    if let Some(iv) = ivs.as_deref_mut() {
                        iv[q] = xi[r];
                    }
                }
                check += *vr;
            }
            check.is_finite()
        };
        let ok = if par {
            match int_v.as_deref_mut() {
                Some(iv) => v
                    .par_chunks_mut(CHUNK)
                    .zip(iv.par_chunks_mut(CHUNK))
                    .enumerate()
                    .map(|(b, (vs, ivs))| phase2(b * CHUNK, vs, Some(ivs)))
                    .reduce(|| true, |a, b| a && b),
                None => v
                    .par_chunks_mut(CHUNK)
                    .enumerate()
                    .map(|(b, vs)| phase2(b * CHUNK, vs, None))
                    .reduce(|| true, |a, b| a && b),
            }
        } else {
            phase2(0, v, int_v)
        };
        if ok {
            Ok(())
        } else {
            Err(Error::NonFinite {
                what: "voltage after exact step (check g_us, ge_na, i_na)",
                index: v.iter().position(|x| !x.is_finite()).unwrap_or(0),
            })
        }
    }
}
