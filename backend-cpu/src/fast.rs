//! The engine's fast path: native kernels for the shipped `hh`, `pas` and `IClamp`, fused with
//! the Hines solve, over dense arrays in a solver-friendly order.
//!
//! One step:
//! 1. `hh` currents and the matrix in one dense pass (vectorised): each current at `v` and
//!    `v + 0.001` mV, dI/dv by difference (NEURON's numeric conductance, as the interpreter),
//!    then the diagonal and right-hand side of backward Euler (or Crank–Nicolson's half step);
//!    `pas` and the IClamps are added on their own compartments;
//! 2. Hines elimination and 3. substitution, compartments in order of height (see
//!    [`FastPath`]), so independent compartments follow each other and the divisions overlap;
//! 4. `hh`'s states at the new `v`: NEURON's TABLE lookup of the six rates, then `cnexp`
//!    (vectorised, with a branch-free `exp` of about 1 ulp); with AVX-512, eight compartments
//!    at a time with the rates kept in registers (`crate::kernels`, shared with the
//!    `benches` floor).
//!
//! `v` stays in the fast path's order: the engine reads the compartments it needs each step
//! (spike detectors, probes) and copies the whole of it back only when asked
//! ([`crate::Engine::voltages`], events, switching to the generic path).
//!
//! The kernels are compiled for AVX-512, AVX2 + FMA and the baseline, chosen at run time. Rust
//! does not contract `a·b + c` into FMA, so all three give the same numbers.
//!
//! **Same answers.** The arithmetic is the interpreter's up to rounding: algebraically equal
//! rewrites (`cnexp`'s `−((x∞/τ)/(−1/τ))` is `x∞`; the three dI/dv summed before one
//! multiplication by 1/0.001), our `exp` instead of the C library's, and the elimination of a
//! branch point's children in another order. `backend-cpu/tests/fast_path.rs` and
//! `benches/tests/tree.rs` check every recorded value against the generic path to 1e-9
//! relative (the differences seen are about 1e-13).
//!
//! **When.** The path is taken only where it holds, checked once when the engine is built
//! ([`FastPath::new`] returns `None` otherwise and the engine runs the generic path): every
//! placement is the shipped `hh` (with its TABLE), `pas` or `IClamp` (compared by their lowered
//! IR), exactly one `hh` placement and at most one `pas` placement, on ascending compartments,
//! with uniform parameters, density placements before point processes; no ion concentration
//! or reversal potential written by anyone; probes read only what the fast path keeps up to
//! date (`v`, `hh`'s `m h n` and parameters, `pas`'s parameters, every `IClamp` variable).
//! Not maintained:
//! the ion pools' summed currents (nothing reads them in such a model), `hh`'s assigned
//! variables (`gna`, `ina`, `minf`, …) and [`crate::Instances::i`]/[`crate::Instances::g`].
//! `hh`'s states live in the fast path's dense arrays while it runs; switching to the generic
//! path ([`crate::Engine::set_fast_path`]) copies them back.

use crate::engine::{Cable, Lap, Method, PhaseTimes, Placed, Probe, Settings};
use crate::error::{Error, Result};
use crate::exec::{Compiled, Instances};
use crate::ions::IonPools;
use crate::library;

use crate::kernels::{self as shared, HhTable, NO_PARENT as NONE};
/// The interpreter's dI/dv step, mV.
const DV: f64 = 0.001;

fn native_kind(c: &Compiled) -> Option<&'static str> {
    library::NATIVE
        .into_iter()
        .find(|name| library::shipped(name) == Some(c.mechanism()))
}

/// `hh` on ascending compartments, its parameters uniform; its states are kept dense, one per
/// compartment (compartments without `hh` carry unused values and a zero area factor).
struct Hh {
    placement: usize,
    /// Position of each instance's compartment.
    nodes: Vec<u32>,
    /// Columns of m, h, n in the placement's instances.
    cols: [usize; 3],
    gnabar: f64,
    gkbar: f64,
    gl: f64,
    el: f64,
    ena: f64,
    ek: f64,
    /// Per compartment: area · 10⁻² where `hh` is, else 0.
    scale: Vec<f64>,
    /// States per compartment.
    m: Vec<f64>,
    h: Vec<f64>,
    n: Vec<f64>,
    /// The TABLE (interpolation t_k + θ·(t_{k+1} − t_k), as NEURON's).
    table: HhTable,
}

/// `pas` on ascending compartments, its parameters uniform.
struct Pas {
    /// Positions, and area · 10⁻² of each.
    nodes: Vec<u32>,
    scale: Vec<f64>,
    g: f64,
    e: f64,
}

/// The IClamps, in (compartment, placement order) order.
struct Stim {
    /// (placement, instance, node), sorted by node (stable).
    at: Vec<(usize, usize, u32)>,
    /// Columns del, dur, amp, i per placement (indexed like `placed`).
    cols: Vec<Option<[usize; 4]>>,
}

/// The fast path of one engine (see the module documentation).
///
/// Its compartments are stored in their own order, by increasing height (the longest path
/// down to a leaf) then index: children come before their parent, and compartments of one
/// height are independent, so the elimination and substitution walk the arrays in order and
/// their divisions overlap instead of waiting on each other along the sections. Every array
/// below is in that order ("position"); `v` is copied back to the engine's order after each
/// step.
pub(crate) struct FastPath {
    /// Compartment at each position, and position of each compartment.
    node_of: Vec<u32>,
    pos_of: Vec<u32>,
    /// Position of the parent (always after its children), `NONE` for roots.
    parent: Vec<u32>,
    /// First position of each height, and `n` at the end: compartments of one height are
    /// independent, so their pivots are inverted together (vectorised).
    levels: Vec<u32>,
    a: Vec<f64>,
    sa: Vec<f64>,
    cap: Vec<f64>,
    v: Vec<f64>,
    d: Vec<f64>,
    rhs: Vec<f64>,
    hh: Option<Hh>,
    pas: Option<Pas>,
    stim: Stim,
    cn: bool,
    /// Whether the dense states and `v` hold the current values (else the instances' columns
    /// and the engine's `v` do).
    loaded: bool,
}

/// The cable part of the fast path, built before the mechanisms so the engine can drop its
/// own copy of the cable early: compartments by height (see [`FastPath`]).
pub(crate) struct FastCable {
    node_of: Vec<u32>,
    pos_of: Vec<u32>,
    parent: Vec<u32>,
    levels: Vec<u32>,
    a: Vec<f64>,
    sa: Vec<f64>,
    cap: Vec<f64>,
}

impl FastCable {
    /// The cable in height order, or `None` for a cable not in parent-first order.
    pub(crate) fn new(cable: &Cable) -> Option<FastCable> {
        let n = cable.parent.len();
        if cable.axial_us.len() != n || cable.capacitance_nf.len() != n {
            return None;
        }
        let mut sa = vec![0.0; n];
        for (i, p) in cable.parent.iter().enumerate() {
            match p {
                Some(p) if *p < i => {
                    sa[i] += cable.axial_us[i];
                    sa[*p] += cable.axial_us[i];
                }
                Some(_) => return None,
                None => {}
            }
        }
        // Positions by height (children first; one height independent).
        let h = integrate::HeightOrder::new(&cable.parent)?;
        Some(FastCable {
            a: h.permute(&cable.axial_us),
            sa: h.permute(&sa),
            cap: h.permute(&cable.capacitance_nf),
            parent: h.parent,
            levels: h.levels,
            node_of: h.order,
            pos_of: h.pos,
        })
    }

    /// The cable in the engine's order (`area_um2` and `diam_um` are the engine's).
    pub(crate) fn cable(&self, area_um2: &[f64], diam_um: &[f64]) -> Cable {
        unpermute(
            &self.node_of,
            &self.parent,
            &self.cap,
            &self.a,
            area_um2,
            diam_um,
        )
    }
}

fn unpermute(
    node_of: &[u32],
    parent_q: &[u32],
    cap_q: &[f64],
    a_q: &[f64],
    area_um2: &[f64],
    diam_um: &[f64],
) -> Cable {
    let n = node_of.len();
    let mut parent = vec![None; n];
    let mut cap = vec![0.0; n];
    let mut axial = vec![0.0; n];
    for (q, &i) in node_of.iter().enumerate() {
        let i = i as usize;
        parent[i] = match parent_q[q] {
            NONE => None,
            p => Some(node_of[p as usize] as usize),
        };
        cap[i] = cap_q[q];
        axial[i] = a_q[q];
    }
    Cable {
        parent,
        capacitance_nf: cap,
        axial_us: axial,
        area_um2: area_um2.to_vec(),
        diam_um: diam_um.to_vec(),
    }
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
        fc: FastCable,
        area_um2: &[f64],
        placed: &[Placed],
        ions: &IonPools,
        probes: &[Probe],
        settings: &Settings,
    ) -> std::result::Result<FastPath, Box<FastCable>> {
        match Self::plan(&fc, area_um2, placed, ions, probes, settings) {
            Some((hh, pas, stim, cn)) => {
                let n = fc.node_of.len();
                Ok(FastPath {
                    parent: fc.parent,
                    levels: fc.levels,
                    a: fc.a,
                    sa: fc.sa,
                    cap: fc.cap,
                    v: vec![0.0; n],
                    d: vec![0.0; n],
                    rhs: vec![0.0; n],
                    node_of: fc.node_of,
                    pos_of: fc.pos_of,
                    hh,
                    pas,
                    stim,
                    cn,
                    loaded: false,
                })
            }
            None => Err(Box::new(fc)),
        }
    }

    /// The native kernels for these placements (positions from `fc`), or `None`.
    fn plan(
        fc: &FastCable,
        area_um2: &[f64],
        placed: &[Placed],
        ions: &IonPools,
        probes: &[Probe],
        settings: &Settings,
    ) -> Option<(Option<Hh>, Option<Pas>, Stim, bool)> {
        let cn = match settings.method {
            Method::BackwardEuler => false,
            Method::CrankNicolson => true,
            Method::Exact => return None,
        };
        if ions.pools().iter().any(|p| p.conc_written || p.e_written) {
            return None;
        }
        let n = fc.node_of.len();
        if area_um2.len() != n {
            return None;
        }
        let mut hh: Option<Hh> = None;
        let mut pas: Option<Pas> = None;
        let mut stim = Stim {
            at: Vec::new(),
            cols: vec![None; placed.len()],
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
                    hh = Some(Self::hh(k, c, inst, ions, area_um2)?);
                }
                "pas" => {
                    if pas.is_some() || seen_point {
                        return None;
                    }
                    let nodes = ascending(inst.nodes())?;
                    pas = Some(Pas {
                        scale: nodes
                            .iter()
                            .map(|&k| area_um2.get(k as usize).map(|a| a * 1e-2))
                            .collect::<Option<Vec<f64>>>()?,
                        nodes,
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
        if let Some(p) = &pas {
            if p.nodes.last().is_some_and(|&k| k as usize >= n) {
                return None;
            }
        }
        if stim.at.iter().any(|s| s.2 as usize >= n) {
            return None;
        }
        // Without hh there is little to gain, and the generic path's answers stay bit for bit
        // (a user's copy of `pas` gives exactly the shipped one's, as `neuwon`'s tests expect).
        hh.as_ref()?;
        let (node_of, pos_of) = (&fc.node_of, &fc.pos_of);
        if let Some(h) = hh.as_mut() {
            h.scale = node_of.iter().map(|&i| h.scale[i as usize]).collect();
            for k in &mut h.nodes {
                *k = pos_of[*k as usize];
            }
        }
        if let Some(p) = pas.as_mut() {
            for k in &mut p.nodes {
                *k = pos_of[*k as usize];
            }
        }
        for s in &mut stim.at {
            s.2 = pos_of[s.2 as usize];
        }
        Some((hh, pas, stim, cn))
    }

    fn hh(
        placement: usize,
        c: &Compiled,
        inst: &Instances,
        ions: &IonPools,
        area_um2: &[f64],
    ) -> Option<Hh> {
        let n = area_um2.len();
        let nodes = ascending(inst.nodes())?;
        if nodes.last().is_some_and(|&k| k as usize >= n) {
            return None;
        }
        let (from, to, with, values) = inst.table(0)?;
        if !(with >= 1 && with < i32::MAX as usize && to > from) {
            return None;
        }
        let outputs = c.table_outputs(0)?;
        let mut cols: [&[f64]; 6] = [&[]; 6];
        for (slot, name) in ["minf", "mtau", "hinf", "htau", "ninf", "ntau"]
            .iter()
            .enumerate()
        {
            let k = outputs.iter().position(|o| o == &Some(*name))?;
            cols[slot] = values.get(k)?.as_slice();
            if cols[slot].len() != with + 1 {
                return None;
            }
        }
        let table = HhTable::new(from, to, cols)?;
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
        let mut scale = vec![0.0; n];
        for &k in &nodes {
            scale[k as usize] = area_um2[k as usize] * 1e-2;
        }
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
            scale,
            // Unused compartments keep the resting values of a cell at rest: finite, so
            // their zero area factor cancels them exactly.
            m: vec![0.05; n],
            h: vec![0.6; n],
            n: vec![0.3; n],
            table,
        })
    }

    /// Copies `v` and `hh`'s states from the engine and the instances into the dense arrays
    /// (before fast steps).
    fn load(&mut self, v: &[f64], placed: &[Placed]) -> Result<()> {
        for (x, &i) in self.v.iter_mut().zip(&self.node_of) {
            *x = *v.get(i as usize).ok_or_else(missing)?;
        }
        if let Some(h) = self.hh.as_mut() {
            let cols = placed
                .get(h.placement)
                .map(|p| p.inst.columns())
                .ok_or_else(missing)?;
            for (dense, col) in [&mut h.m, &mut h.h, &mut h.n].into_iter().zip(h.cols) {
                let col = cols.get(col).ok_or_else(missing)?;
                for (&node, x) in h.nodes.iter().zip(col) {
                    dense[node as usize] = *x;
                }
            }
        }
        self.loaded = true;
        Ok(())
    }

    /// Copies `hh`'s states back into the instances (before generic steps).
    pub(crate) fn store(&mut self, placed: &mut [Placed]) -> Result<()> {
        if !self.loaded {
            return Ok(());
        }
        if let Some(h) = self.hh.as_ref() {
            let cols = placed
                .get_mut(h.placement)
                .map(|p| p.inst.cols_mut())
                .ok_or_else(missing)?;
            for (dense, col) in [&h.m, &h.h, &h.n].into_iter().zip(h.cols) {
                let col = cols.get_mut(col).ok_or_else(missing)?;
                for (&node, x) in h.nodes.iter().zip(col.iter_mut()) {
                    *x = dense[node as usize];
                }
            }
        }
        self.loaded = false;
        Ok(())
    }

    /// The cable in the engine's order, from the fast path's copy (for a generic solver built
    /// after fast steps); `area_um2` and `diam_um` are the engine's.
    pub(crate) fn cable(&self, area_um2: &[f64], diam_um: &[f64]) -> Cable {
        unpermute(
            &self.node_of,
            &self.parent,
            &self.cap,
            &self.a,
            area_um2,
            diam_um,
        )
    }

    /// The current value of `hh` state `name` of `instance` of `placement`, when the dense
    /// arrays hold it.
    pub(crate) fn state(&self, placement: usize, instance: usize, name: &str) -> Option<f64> {
        let h = self
            .hh
            .as_ref()
            .filter(|h| self.loaded && h.placement == placement)?;
        let node = *h.nodes.get(instance)? as usize;
        match name {
            "m" => h.m.get(node).copied(),
            "h" => h.h.get(node).copied(),
            "n" => h.n.get(node).copied(),
            _ => None,
        }
    }

    /// The membrane potential of compartment `node` (mV), when the fast path holds `v`.
    pub(crate) fn v_at(&self, node: usize) -> Option<f64> {
        if !self.loaded {
            return None;
        }
        self.v.get(*self.pos_of.get(node)? as usize).copied()
    }

    /// Copies the fast path's `v` into `v` (the engine's order), when it holds `v`.
    pub(crate) fn copy_v(&self, v: &mut [f64]) {
        if !self.loaded {
            return;
        }
        for (x, &i) in self.v.iter().zip(&self.node_of) {
            if let Some(y) = v.get_mut(i as usize) {
                *y = *x;
            }
        }
    }

    /// One step from `t` (ms) to `t + dt`: currents, solve, states. `v` (mV, the engine's)
    /// is read before the first fast step and not written: the fast path keeps `v` in its
    /// own order ([`FastPath::v_at`], [`FastPath::copy_v`]). `placed` are the engine's
    /// placements (IClamps' `i` is written).
    pub(crate) fn step(
        &mut self,
        t: f64,
        dt: f64,
        v: &[f64],
        placed: &mut [Placed],
        mut prof: Option<&mut PhaseTimes>,
    ) -> Result<()> {
        let mut lap = Lap::start(prof.is_some());
        if !self.loaded {
            self.load(v, placed)?;
        }
        let n = v.len();
        if self.d.len() != n {
            return Err(missing());
        }
        let vq = &mut self.v;
        let level = crate::simd::simd();
        // As integrate's Hines: h = dt (backward Euler) or dt/2 (Crank–Nicolson).
        let inv_h = if self.cn { 1.0 / (dt / 2.0) } else { 1.0 / dt };
        // 1. hh currents and the matrix, one dense pass.
        kernels::assemble(
            level,
            self.hh.as_ref(),
            &self.cap,
            &self.sa,
            inv_h,
            vq,
            &mut self.d,
            &mut self.rhs,
        );
        // pas and IClamps, on their compartments.
        if let Some(p) = &self.pas {
            for (&node, &sc) in p.nodes.iter().zip(&p.scale) {
                let k = node as usize;
                let vi = vq[k];
                let i0 = p.g * (vi - p.e);
                let i1 = p.g * ((vi + DV) - p.e);
                let (ii, g) = (i0 * sc, (i1 - i0) / DV * sc);
                self.d[k] += g;
                self.rhs[k] += g * vi - ii;
            }
        }
        // IClamps at t + dt/2, as the interpreter: i = amp while del ≤ t < del + dur; an
        // ELECTRODE_CURRENT depolarises.
        let tm = t + dt / 2.0;
        for &(p, i, node) in &self.stim.at {
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
            self.rhs[node as usize] += i_at;
        }
        lap.lap(prof.as_deref_mut().map(|p| &mut p.currents_ns));
        // 2. Elimination, leaves to roots, one height at a time: the pivots of a height are
        // final once the lower heights are eliminated, so they are inverted together
        // (vectorised; roots keep theirs), then folded into their parents (higher heights).
        let (parent, a) = (&self.parent[..n], &self.a[..n]);
        let (d, rhs) = (&mut self.d[..n], &mut self.rhs[..n]);
        shared::eliminate(level, &self.levels, parent, a, d, rhs);
        // 3. Substitution, roots to leaves: backward Euler's solution is the new v;
        // Crank–Nicolson's is v at t + dt/2, extrapolated to t + dt.
        let vq = &mut vq[..n];
        if self.cn {
            for i in (0..n).rev() {
                let p = parent[i];
                let x = if p == NONE {
                    rhs[i] / d[i]
                } else {
                    (rhs[i] + a[i] * rhs[p as usize]) * d[i]
                };
                rhs[i] = x;
            }
            for (v, &x) in vq.iter_mut().zip(rhs.iter()) {
                *v = 2.0 * x - *v;
            }
        } else {
            for i in (0..n).rev() {
                let p = parent[i];
                vq[i] = if p == NONE {
                    rhs[i] / d[i]
                } else {
                    (rhs[i] + a[i] * vq[p as usize]) * d[i]
                };
            }
        }
        let vsum = kernels::sum(vq);
        lap.lap(prof.as_deref_mut().map(|p| &mut p.solve_ns));
        // 4. hh's states with the new v, chunk by chunk (the rates scratch stays in L1).
        if let Some(h) = self.hh.as_mut() {
            shared::hh_states(level, &h.table, dt, vq, &mut h.m, &mut h.h, &mut h.n);
        }
        lap.lap(prof.map(|p| &mut p.states_ns));
        if !vsum.is_finite() {
            let q = vq.iter().position(|x| !x.is_finite()).unwrap_or(0);
            return Err(Error::Cable(integrate::Error::NonFinite {
                what: "v after the cable solve",
                index: self.node_of.get(q).map_or(0, |&i| i as usize),
            }));
        }
        Ok(())
    }
}

fn missing() -> Error {
    Error::Engine("fast path: the placements changed shape".into())
}

/// The dense kernels, written so that LLVM vectorises them (no bounds checks in the loops,
/// no calls: `exp` is [`exp`] below), compiled once per instruction set and picked at run
/// time (AVX-512, AVX2 + FMA, or the baseline).
mod kernels {
    use super::Hh;
    use crate::simd::Simd;

    /// The numeric dI/dv step, mV, and its inverse.
    const DV: f64 = 0.001;
    const INV_DV: f64 = 1.0 / DV;

    /// Fills the diagonal `d` and right-hand side `rhs` (backward Euler with 1/h = `inv_h`)
    /// with `hh`'s currents at `v` (a non-finite value shows in the solution, which the caller
    /// checks).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn assemble(
        level: Simd,
        hh: Option<&Hh>,
        cap: &[f64],
        sa: &[f64],
        inv_h: f64,
        v: &[f64],
        d: &mut [f64],
        rhs: &mut [f64],
    ) {
        #[cfg(target_arch = "x86_64")]
        {
            match level {
                // SAFETY: the CPU supports AVX-512F (`crate::simd::simd` checks).
                Simd::Avx512 => return unsafe { assemble_avx512(hh, cap, sa, inv_h, v, d, rhs) },
                // SAFETY: the CPU supports AVX2 and FMA (`crate::simd::simd` checks).
                Simd::Avx2 => return unsafe { assemble_avx2(hh, cap, sa, inv_h, v, d, rhs) },
                Simd::Baseline => {}
            }
        }
        assemble_body(hh, cap, sa, inv_h, v, d, rhs)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq,avx2,fma")]
    unsafe fn assemble_avx512(
        hh: Option<&Hh>,
        cap: &[f64],
        sa: &[f64],
        inv_h: f64,
        v: &[f64],
        d: &mut [f64],
        rhs: &mut [f64],
    ) {
        assemble_body(hh, cap, sa, inv_h, v, d, rhs)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn assemble_avx2(
        hh: Option<&Hh>,
        cap: &[f64],
        sa: &[f64],
        inv_h: f64,
        v: &[f64],
        d: &mut [f64],
        rhs: &mut [f64],
    ) {
        assemble_body(hh, cap, sa, inv_h, v, d, rhs)
    }

    #[inline(always)]
    fn assemble_body(
        hh: Option<&Hh>,
        cap: &[f64],
        sa: &[f64],
        inv_h: f64,
        v: &[f64],
        d: &mut [f64],
        rhs: &mut [f64],
    ) {
        let n = v.len();
        let (cap, sa, d, rhs) = (&cap[..n], &sa[..n], &mut d[..n], &mut rhs[..n]);
        match hh {
            Some(h) => {
                let (m, hs, ns, sc) = (&h.m[..n], &h.h[..n], &h.n[..n], &h.scale[..n]);
                let (gnabar, gkbar, gl) = (h.gnabar, h.gkbar, h.gl);
                let (ena, ek, el) = (h.ena, h.ek, h.el);
                for i in 0..n {
                    let vi = v[i];
                    let (mi, hi, ni) = (m[i], hs[i], ns[i]);
                    let gna = gnabar * mi * mi * mi * hi;
                    let gk = gkbar * ni * ni * ni * ni;
                    let vd = vi + DV;
                    // Each current at v + DV and at v, dI/dv by difference (NEURON's way).
                    let (na1, k1, l1) = (gna * (vd - ena), gk * (vd - ek), gl * (vd - el));
                    let (na0, k0, l0) = (gna * (vi - ena), gk * (vi - ek), gl * (vi - el));
                    let c = na0 + k0 + l0;
                    let g = ((na1 - na0) + (k1 - k0) + (l1 - l0)) * INV_DV;
                    let ii = c * sc[i];
                    let gi = g * sc[i];
                    let ch = cap[i] * inv_h;
                    let j = gi * vi - ii;
                    d[i] = ch + gi + sa[i];
                    rhs[i] = ch * vi + j;
                }
            }
            None => {
                for i in 0..n {
                    let ch = cap[i] * inv_h;
                    d[i] = ch + sa[i];
                    rhs[i] = ch * v[i];
                }
            }
        }
    }

    /// The sum of `x` (eight partial sums, so it vectorises; only its finiteness is used).
    pub(super) fn sum(x: &[f64]) -> f64 {
        let mut acc = [0.0; 8];
        let mut chunks = x.chunks_exact(8);
        for c in &mut chunks {
            for k in 0..8 {
                acc[k] += c[k];
            }
        }
        acc.iter().sum::<f64>() + chunks.remainder().iter().sum::<f64>()
    }
}
