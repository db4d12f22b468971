//! The engine's fast path: native kernels for the shipped `hh`, `pas` and `IClamp`, fused with
//! the Hines solve into three passes over the compartments per step.
//!
//! 1. currents and assembly: each compartment's `hh`/`pas` currents at `v` and `v + 0.001` mV
//!    (NEURON's numeric dI/dv, as the interpreter computes it) and the IClamps, summed in the
//!    interpreter's order, straight into the diagonal and right-hand side of the cable system;
//! 2. Hines elimination, leaves to roots;
//! 3. back-substitution fused with `hh`'s state update (TABLE rates, `cnexp`) at the new `v`.
//!
//! Every operation is the interpreter's and the solver's, in the same order and with the same
//! `exp`, so the answers equal the generic path's (tested to 1e-9 relative; in practice they
//! are bit for bit). The path is taken only where that holds, checked once when the engine is
//! built ([`FastPath::new`] returns `None` otherwise and the engine runs the generic path):
//! every placement is the shipped `hh` (with its TABLE), `pas` or `IClamp` (compared by their
//! lowered IR), at most one `hh` and one `pas` placement, on ascending compartments, with
//! uniform parameters, density placements before point processes; no ion concentration or
//! reversal potential written by anyone; probes read only what the native kernels keep up to
//! date (`v`, `hh`'s `m h n` and parameters, `pas`'s parameters, every `IClamp` variable).
//! What the native kernels do not maintain: the ion pools' summed currents (nothing reads them
//! in such a model), `hh`'s assigned variables (`gna`, `ina`, `minf`, …) and
//! [`crate::Instances::i`]/[`crate::Instances::g`].

use std::sync::OnceLock;

use nmodl::Mechanism;

use crate::engine::{Cable, Method, Placed, Probe, Settings};
use crate::error::{Error, Result};
use crate::exec::{Compiled, Instances};
use crate::ions::IonPools;
use crate::library;

const NONE: u32 = u32::MAX;
/// The interpreter's dI/dv step, mV.
const DV: f64 = 0.001;

/// The shipped mechanisms with native kernels, lowered once (with tables on).
fn shipped() -> &'static [(&'static str, Option<Mechanism>)] {
    static CELL: OnceLock<Vec<(&'static str, Option<Mechanism>)>> = OnceLock::new();
    CELL.get_or_init(|| {
        ["hh", "pas", "IClamp"]
            .into_iter()
            .map(|name| {
                let m = library::source(name)
                    .and_then(|src| library::lower(&format!("{name}.mod"), src, true).ok());
                (name, m)
            })
            .collect()
    })
}

fn native_kind(c: &Compiled) -> Option<&'static str> {
    shipped()
        .iter()
        .find(|(_, m)| m.as_ref() == Some(c.mechanism()))
        .map(|(n, _)| *n)
}

/// `hh` on ascending compartments, its parameters uniform.
struct Hh {
    placement: usize,
    nodes: Vec<u32>,
    /// Columns of m, h, n.
    cols: [usize; 3],
    gnabar: f64,
    gkbar: f64,
    gl: f64,
    el: f64,
    ena: f64,
    ek: f64,
    /// [minf, mtau, hinf, htau, ninf, ntau] at each table point.
    table: Vec<[f64; 6]>,
    from: f64,
    /// with / (to − from).
    tscale: f64,
    with: usize,
}

/// `pas` on ascending compartments, its parameters uniform.
struct Pas {
    nodes: Vec<u32>,
    g: f64,
    e: f64,
}

/// The IClamps, in (compartment, placement order) order.
struct Stim {
    /// (placement, instance, node), sorted by node (stable).
    at: Vec<(usize, usize, u32)>,
    /// Columns del, dur, amp, i per placement (indexed like `placed`).
    cols: Vec<Option<[usize; 4]>>,
    /// The current of each entry of `at` this step (nA, outward positive).
    now: Vec<f64>,
}

/// The fast path of one engine (see the module documentation).
pub(crate) struct FastPath {
    parent: Vec<u32>,
    a: Vec<f64>,
    sa: Vec<f64>,
    cap: Vec<f64>,
    /// area · 10⁻², density currents to nA.
    scale: Vec<f64>,
    d: Vec<f64>,
    rhs: Vec<f64>,
    hh: Option<Hh>,
    pas: Option<Pas>,
    stim: Stim,
    cn: bool,
}

/// The one value of column `col` of `inst`, if every instance has it.
fn uniform(inst: &Instances, col: Option<usize>) -> Option<f64> {
    let c = inst.columns().get(col?)?;
    let x = *c.first()?;
    c.iter().all(|y| y.to_bits() == x.to_bits()).then_some(x)
}

fn ascending(nodes: &[usize]) -> Option<Vec<u32>> {
    let ok = nodes.windows(2).all(|w| w[0] < w[1]) && nodes.iter().all(|&n| n < NONE as usize);
    ok.then(|| nodes.iter().map(|&n| n as u32).collect())
}

impl FastPath {
    /// The fast path for this model, or `None` where it does not apply (see the module docs).
    pub(crate) fn new(
        cable: &Cable,
        placed: &[Placed],
        ions: &IonPools,
        probes: &[Probe],
        settings: &Settings,
    ) -> Option<FastPath> {
        let cn = match settings.method {
            Method::BackwardEuler => false,
            Method::CrankNicolson => true,
            Method::Exact => return None,
        };
        if ions.pools().iter().any(|p| p.conc_written || p.e_written) {
            return None;
        }
        let n = cable.parent.len();
        let mut hh = None;
        let mut pas = None;
        let mut stim = Stim {
            at: Vec::new(),
            cols: vec![None; placed.len()],
            now: Vec::new(),
        };
        let mut seen_point = false;
        for (k, pl) in placed.iter().enumerate() {
            let (c, inst) = (&pl.mechanism, &pl.inst);
            let kind = native_kind(c)?;
            let probed: Vec<&str> = probes
                .iter()
                .filter_map(|p| match p {
                    Probe::Variable {
                        placement, name, ..
                    } if *placement == k => Some(Some(name.as_str())),
                    Probe::Current { placement, .. } if *placement == k => Some(None),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()?;
            let allowed: &[&str] = match kind {
                "hh" => &["m", "h", "n", "gnabar", "gkbar", "gl", "el"],
                "pas" => &["g", "e"],
                _ => &["del", "dur", "amp", "i"],
            };
            if probed.iter().any(|p| !allowed.contains(p)) {
                return None;
            }
            match kind {
                "hh" => {
                    if hh.is_some() || seen_point || c.n_tables() != 1 {
                        return None;
                    }
                    hh = Some(Self::hh(k, c, inst, ions)?);
                }
                "pas" => {
                    if pas.is_some() || seen_point {
                        return None;
                    }
                    pas = Some(Pas {
                        nodes: ascending(inst.nodes())?,
                        g: uniform(inst, c.col_index("g"))?,
                        e: uniform(inst, c.col_index("e"))?,
                    });
                }
                _ => {
                    seen_point = true;
                    let cols = [
                        c.col_index("del")?,
                        c.col_index("dur")?,
                        c.col_index("amp")?,
                        c.col_index("i")?,
                    ];
                    stim.cols[k] = Some(cols);
                    for (i, &node) in inst.nodes().iter().enumerate() {
                        stim.at.push((k, i, u32::try_from(node).ok()?));
                    }
                }
            }
        }
        // Stable: at one node, placement order (the order the generic path sums them in).
        stim.at.sort_by_key(|&(_, _, node)| node);
        stim.now = vec![0.0; stim.at.len()];
        let mut parent = Vec::with_capacity(n);
        let mut sa = vec![0.0; n];
        for (i, p) in cable.parent.iter().enumerate() {
            match p {
                Some(p) if *p < i => {
                    parent.push(*p as u32);
                    sa[i] += cable.axial_us[i];
                    sa[*p] += cable.axial_us[i];
                }
                Some(_) => return None,
                None => parent.push(NONE),
            }
        }
        Some(FastPath {
            parent,
            a: cable.axial_us.clone(),
            sa,
            cap: cable.capacitance_nf.clone(),
            scale: cable.area_um2.iter().map(|a| a * 1e-2).collect(),
            d: vec![0.0; n],
            rhs: vec![0.0; n],
            hh,
            pas,
            stim,
            cn,
        })
    }

    fn hh(placement: usize, c: &Compiled, inst: &Instances, ions: &IonPools) -> Option<Hh> {
        let nodes = ascending(inst.nodes())?;
        let (from, to, with, values) = inst.table(0)?;
        let outputs = c.table_outputs(0)?;
        let mut table = vec![[0.0; 6]; with + 1];
        for (slot, name) in ["minf", "mtau", "hinf", "htau", "ninf", "ntau"]
            .iter()
            .enumerate()
        {
            let k = outputs.iter().position(|o| o == &Some(*name))?;
            let vals = values.get(k)?;
            if vals.len() != with + 1 {
                return None;
            }
            for (row, v) in table.iter_mut().zip(vals) {
                row[slot] = *v;
            }
        }
        let ion_e = |name: &str| -> Option<f64> {
            let e = &ions.get(name)?.e;
            let x = *e.get(*nodes.first()? as usize)?;
            nodes
                .iter()
                .all(|&k| {
                    e.get(k as usize)
                        .is_some_and(|y| y.to_bits() == x.to_bits())
                })
                .then_some(x)
        };
        Some(Hh {
            placement,
            cols: [c.col_index("m")?, c.col_index("h")?, c.col_index("n")?],
            gnabar: uniform(inst, c.col_index("gnabar"))?,
            gkbar: uniform(inst, c.col_index("gkbar"))?,
            gl: uniform(inst, c.col_index("gl"))?,
            el: uniform(inst, c.col_index("el"))?,
            ena: ion_e("na")?,
            ek: ion_e("k")?,
            nodes,
            table,
            from,
            tscale: with as f64 / (to - from),
            with,
        })
    }

    /// One step from `t` (ms) to `t + dt`: currents, solve, states. `v` (mV) is updated in
    /// place; `placed` are the engine's placements (their state columns are advanced).
    // Index loops: each pass walks several parallel arrays and a parent index at once.
    #[allow(clippy::needless_range_loop)]
    pub(crate) fn step(
        &mut self,
        t: f64,
        dt: f64,
        v: &mut [f64],
        placed: &mut [Placed],
    ) -> Result<()> {
        let missing = || Error::Engine("fast path: a placement changed shape".into());
        // IClamps at t + dt/2, as the interpreter: i = amp while del ≤ t < del + dur.
        let tm = t + dt / 2.0;
        for (slot, &(p, i, _)) in self.stim.at.iter().enumerate() {
            let Some([del, dur, amp, icol]) = self.stim.cols.get(p).copied().flatten() else {
                continue;
            };
            let Some(pl) = placed.get_mut(p) else {
                continue;
            };
            let cols = pl.inst.cols_mut();
            let get = |c: usize| cols.get(c).and_then(|x| x.get(i)).copied();
            let (Some(del), Some(dur), Some(amp)) = (get(del), get(dur), get(amp)) else {
                continue;
            };
            let i_at = if tm >= del && tm < del + dur {
                amp
            } else {
                0.0
            };
            if let Some(x) = cols.get_mut(icol).and_then(|x| x.get_mut(i)) {
                *x = i_at;
            }
            // An ELECTRODE_CURRENT enters with the opposite sign.
            self.stim.now[slot] = 0.0 + -i_at;
        }
        let n = v.len();
        // As integrate's Hines: h = dt (backward Euler) or dt/2 (Crank–Nicolson).
        let inv_h = if self.cn { 1.0 / (dt / 2.0) } else { 1.0 / dt };
        let mut check = 0.0;
        // 1. Currents and assembly.
        {
            let (hh_nodes, hh_cols): (&[u32], _) = match &self.hh {
                Some(h) => (&h.nodes, Some(h)),
                None => (&[], None),
            };
            let mut states: Option<(&[f64], &[f64], &[f64])> = None;
            if let Some(h) = hh_cols {
                let cols = placed
                    .get(h.placement)
                    .map(|p| p.inst.columns())
                    .ok_or_else(missing)?;
                let col = |k: usize| {
                    cols.get(h.cols[k])
                        .map(|c| c.as_slice())
                        .ok_or_else(missing)
                };
                let (m, hs, ns) = (col(0)?, col(1)?, col(2)?);
                if m.len() < h.nodes.len() || hs.len() < h.nodes.len() || ns.len() < h.nodes.len() {
                    return Err(missing());
                }
                states = Some((m, hs, ns));
            }
            let pas_nodes: &[u32] = self.pas.as_ref().map_or(&[], |p| &p.nodes);
            let (mut kh, mut kp, mut ks) = (0usize, 0usize, 0usize);
            let stim_at = &self.stim.at;
            for i in 0..n {
                let vi = v[i];
                let sc = self.scale[i];
                let (mut gi, mut ii) = (0.0, 0.0);
                // hh and pas: two terms, so their order does not matter.
                if hh_nodes.get(kh) == Some(&(i as u32)) {
                    if let (Some(h), Some((m, hs, ns))) = (hh_cols, states) {
                        let (c, g) = hh_current(h, vi, m[kh], hs[kh], ns[kh]);
                        ii += c * sc;
                        gi += g * sc;
                    }
                    kh += 1;
                }
                if pas_nodes.get(kp) == Some(&(i as u32)) {
                    if let Some(p) = &self.pas {
                        let i0 = p.g * (vi - p.e);
                        let i1 = p.g * ((vi + DV) - p.e);
                        ii += (0.0 + i0) * sc;
                        gi += (0.0 + (i1 - i0) / DV) * sc;
                    }
                    kp += 1;
                }
                while stim_at.get(ks).is_some_and(|s| s.2 == i as u32) {
                    ii += self.stim.now[ks];
                    gi += 0.0;
                    ks += 1;
                }
                let ch = self.cap[i] * inv_h;
                let j = gi * vi - ii;
                check += gi + j;
                self.d[i] = ch + gi + self.sa[i];
                self.rhs[i] = ch * vi + j;
            }
        }
        if !check.is_finite() {
            return Err(Error::Cable(integrate::Error::NonFinite {
                what: "g_us / j_na",
                index: 0,
            }));
        }
        // 2. Elimination, leaves to roots; d becomes 1/d once final.
        for i in (0..n).rev() {
            let p = self.parent[i];
            if p == NONE {
                continue;
            }
            let p = p as usize;
            let inv = 1.0 / self.d[i];
            self.d[i] = inv;
            let f = self.a[i] * inv;
            self.d[p] -= f * self.a[i];
            self.rhs[p] += f * self.rhs[i];
        }
        // 3. Substitution, and hh's states with the new v.
        let mut hh = match &self.hh {
            Some(h) => {
                let cols = placed
                    .get_mut(h.placement)
                    .map(|p| p.inst.cols_mut())
                    .ok_or_else(missing)?;
                let [m, hs, ns] = cols.get_disjoint_mut(h.cols).map_err(|_| missing())?;
                if m.len() < h.nodes.len() || hs.len() < h.nodes.len() || ns.len() < h.nodes.len() {
                    return Err(missing());
                }
                Some((h, m.as_mut_slice(), hs.as_mut_slice(), ns.as_mut_slice()))
            }
            None => None,
        };
        let hh_nodes: &[u32] = self.hh.as_ref().map_or(&[], |h| &h.nodes);
        let mut kh = 0usize;
        for i in 0..n {
            let p = self.parent[i];
            let x = if p == NONE {
                self.rhs[i] / self.d[i]
            } else {
                (self.rhs[i] + self.a[i] * self.rhs[p as usize]) * self.d[i]
            };
            self.rhs[i] = x;
            let vn = if self.cn { 2.0 * x - v[i] } else { x };
            v[i] = vn;
            if hh_nodes.get(kh) == Some(&(i as u32)) {
                if let Some((h, m, hs, ns)) = hh.as_mut() {
                    let r = lookup(h, vn);
                    m[kh] = cnexp(m[kh], r[0], r[1], dt);
                    hs[kh] = cnexp(hs[kh], r[2], r[3], dt);
                    ns[kh] = cnexp(ns[kh], r[4], r[5], dt);
                }
                kh += 1;
            }
        }
        Ok(())
    }
}

/// (i mA/cm², dI/dv S/cm²) of `hh` at `v` as the interpreter sums them: each current at
/// `v + DV` and at `v`, dI/dv by difference, totals in declaration order (ina, ik, il).
#[inline(always)]
fn hh_current(h: &Hh, v: f64, m: f64, hs: f64, n: f64) -> (f64, f64) {
    let gna = (((h.gnabar * m) * m) * m) * hs;
    let gk = (((h.gkbar * n) * n) * n) * n;
    let vd = v + DV;
    let (na1, k1, l1) = (gna * (vd - h.ena), gk * (vd - h.ek), h.gl * (vd - h.el));
    let (na0, k0, l0) = (gna * (v - h.ena), gk * (v - h.ek), h.gl * (v - h.el));
    let i = ((0.0 + na0) + k0) + l0;
    let g = ((0.0 + (na1 - na0) / DV) + (k1 - k0) / DV) + (l1 - l0) / DV;
    (0.0 + i, 0.0 + g)
}

/// NEURON's table lookup, as the interpreter's: first / last point outside, else linear.
#[inline(always)]
#[allow(clippy::needless_range_loop)]
fn lookup(h: &Hh, x: f64) -> [f64; 6] {
    let xi = (x - h.from) * h.tscale;
    if xi.is_nan() {
        return [f64::NAN; 6];
    }
    let last = h.table.len() - 1;
    if xi <= 0.0 {
        return h.table[0];
    }
    if xi >= h.with as f64 {
        return h.table[last];
    }
    let i = xi as usize;
    let th = xi - i as f64;
    let (a, b) = (&h.table[i], &h.table[(i + 1).min(last)]);
    let mut out = [0.0; 6];
    for k in 0..6 {
        out[k] = a[k] + th * (b[k] - a[k]);
    }
    out
}

/// `hh`'s lowered cnexp update: x + (1 − exp((−1/τ)·dt))·(−((x∞/τ)/(−1/τ)) − x).
#[inline(always)]
fn cnexp(x: f64, inf: f64, tau: f64, dt: f64) -> f64 {
    let a = -1.0 / tau;
    x + ((1.0 - (a * dt).exp()) * (-((inf / tau) / a) - x))
}
