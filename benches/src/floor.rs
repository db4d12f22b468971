//! The floor: the benchmark's arithmetic with no engine around it.
//!
//! One step is three passes over raw arrays in node order (parents before children):
//! 1. currents and matrix assembly fused: `hh` at `v` and `v + 0.001` mV (the numeric dI/dv
//!    NEURON uses), the IClamp, then the diagonal and right-hand side of backward Euler;
//! 2. Hines elimination, leaves to roots;
//! 3. back-substitution fused with the state update: as soon as a node's new `v` is known,
//!    its `m`, `h`, `n` advance by `cnexp` with the rates from NEURON's `hh` TABLE
//!    (−100…100 mV, 200 intervals, linear interpolation).
//!
//! The arithmetic is the engine's, operation for operation (same order, same `exp`), so the
//! floor's answers are the engine's: `tests/tree.rs` checks the spike times agree. Cells are
//! independent; with more than one thread they are split into contiguous groups handled by
//! rayon (one task per group per step, no other synchronisation).

use rayon::prelude::*;

use crate::tree::{
    cell_geometry, Size, AMP_NA, CELSIUS, DELAY_MS, DT_MS, DUR_MS, THRESHOLD_MV, V_INIT_MV,
};
use crate::Error;

const NONE: u32 = u32::MAX;
/// The numeric dI/dv step NEURON uses, mV.
const DV: f64 = 0.001;
/// `hh` defaults: gnabar, gkbar, gl (S/cm²), el (mV); ena, ek (mV) from the ion defaults.
const GNABAR: f64 = 0.12;
const GKBAR: f64 = 0.036;
const GL: f64 = 0.0003;
const EL: f64 = -54.3;
const ENA: f64 = 50.0;
const EK: f64 = -77.0;
/// TABLE bounds of `hh`'s rates.
const T_FROM: f64 = -100.0;
const T_TO: f64 = 100.0;
const T_WITH: usize = 200;

/// `x/(exp(x/y) − 1)` with its limit near 0, as `hh.mod`'s `linoid`.
fn linoid(x: f64, y: f64) -> f64 {
    if (x / y).abs() < 1e-6 {
        y * (1.0 - ((x / y) / 2.0))
    } else {
        x / ((x / y).exp() - 1.0)
    }
}

/// `hh`'s rates at `v` (mV): [minf, mtau, hinf, htau, ninf, ntau] (tau in ms).
pub fn hh_rates(v: f64, celsius: f64) -> [f64; 6] {
    let q10 = 3f64.powf((celsius - 6.3) / 10.0);
    let a = 0.1 * linoid(-(v + 40.0), 10.0);
    let b = 4.0 * (-(v + 65.0) / 18.0).exp();
    let (minf, mtau) = (a / (a + b), 1.0 / (q10 * (a + b)));
    let a = 0.07 * (-(v + 65.0) / 20.0).exp();
    let b = 1.0 / (1.0 + (-(v + 35.0) / 10.0).exp());
    let (hinf, htau) = (a / (a + b), 1.0 / (q10 * (a + b)));
    let a = 0.01 * linoid(-(v + 55.0), 10.0);
    let b = 0.125 * (-(v + 65.0) / 80.0).exp();
    let (ninf, ntau) = (a / (a + b), 1.0 / (q10 * (a + b)));
    [minf, mtau, hinf, htau, ninf, ntau]
}

/// One cell group's arrays (a contiguous run of whole cells, local node numbering).
struct Group {
    /// Parent of each node (local), `NONE` for roots.
    parent: Vec<u32>,
    /// Axial conductance to the parent, µS.
    a: Vec<f64>,
    /// Σ axial conductances at the node, µS.
    sa: Vec<f64>,
    /// Capacitance, nF.
    cap: Vec<f64>,
    /// area · 10⁻² (mA/cm² → nA), per node.
    scale: Vec<f64>,
    /// `hh` instance of each node, `NONE` for the zero-area nodes.
    inst: Vec<u32>,
    /// States per instance.
    m: Vec<f64>,
    h: Vec<f64>,
    n: Vec<f64>,
    /// Membrane potential, mV; elimination scratch.
    v: Vec<f64>,
    d: Vec<f64>,
    rhs: Vec<f64>,
    /// Stimulated nodes, ascending.
    stim: Vec<usize>,
    /// Detector node of each cell, its previous v, its spike times.
    det: Vec<usize>,
    last: Vec<f64>,
    spikes: Vec<Vec<f64>>,
}

/// The floor model of one benchmark size.
pub struct Floor {
    groups: Vec<Group>,
    /// [minf, mtau, hinf, htau, ninf, ntau] at each of the 201 table points.
    table: Vec<[f64; 6]>,
    t: f64,
    ncomp: usize,
}

#[inline(always)]
#[allow(clippy::needless_range_loop)]
fn lookup(table: &[[f64; 6]], v: f64) -> [f64; 6] {
    let xi = (v - T_FROM) * (T_WITH as f64 / (T_TO - T_FROM));
    if xi <= 0.0 {
        return table[0];
    }
    if xi >= T_WITH as f64 {
        return table[T_WITH];
    }
    let i = xi as usize;
    let th = xi - i as f64;
    let (a, b) = (&table[i], &table[i + 1]);
    let mut out = [0.0; 6];
    for k in 0..6 {
        out[k] = a[k] + th * (b[k] - a[k]);
    }
    out
}

/// `x + (1 − e^{−dt/τ})(x∞ − x)` written as `hh`'s lowered cnexp update.
#[inline(always)]
fn cnexp(x: f64, inf: f64, tau: f64, dt: f64) -> f64 {
    let a = -1.0 / tau;
    x + ((1.0 - (a * dt).exp()) * (-((inf / tau) / a) - x))
}

/// (i, dI/dv) of `hh` (mA/cm², S/cm²) at `v` with states m, h, n, as the engine sums them.
#[inline(always)]
fn hh_current(v: f64, m: f64, h: f64, n: f64) -> (f64, f64) {
    let gna = (((GNABAR * m) * m) * m) * h;
    let gk = (((GKBAR * n) * n) * n) * n;
    let vd = v + DV;
    let (na1, k1, l1) = (gna * (vd - ENA), gk * (vd - EK), GL * (vd - EL));
    let (na0, k0, l0) = (gna * (v - ENA), gk * (v - EK), GL * (v - EL));
    let i = ((0.0 + na0) + k0) + l0;
    let g = ((0.0 + (na1 - na0) / DV) + (k1 - k0) / DV) + (l1 - l0) / DV;
    (i, g)
}

impl Group {
    // Index loops: each pass walks several parallel arrays and a parent index at once.
    #[allow(clippy::needless_range_loop)]
    fn step(&mut self, table: &[[f64; 6]], t: f64, dt: f64) {
        let inv_h = 1.0 / dt;
        let tm = t + dt / 2.0;
        let i_stim = if (DELAY_MS..DELAY_MS + DUR_MS).contains(&tm) {
            AMP_NA
        } else {
            0.0
        };
        let n = self.v.len();
        // 1. Currents and assembly.
        let mut next_stim = 0;
        for i in 0..n {
            let vi = self.v[i];
            let (mut gi, mut ii) = (0.0, 0.0);
            let k = self.inst[i];
            if k != NONE {
                let k = k as usize;
                let (c, g) = hh_current(vi, self.m[k], self.h[k], self.n[k]);
                ii = c * self.scale[i];
                gi = g * self.scale[i];
            }
            if self.stim.get(next_stim) == Some(&i) {
                ii += -i_stim;
                gi += -0.0;
                next_stim += 1;
            }
            let ch = self.cap[i] * inv_h;
            self.d[i] = ch + gi + self.sa[i];
            self.rhs[i] = ch * vi + (gi * vi - ii);
        }
        // 2. Elimination (as integrate's Hines: d becomes 1/d once final).
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
        // 3. Substitution and states.
        for i in 0..n {
            let p = self.parent[i];
            let x = if p == NONE {
                self.rhs[i] / self.d[i]
            } else {
                (self.rhs[i] + self.a[i] * self.rhs[p as usize]) * self.d[i]
            };
            self.rhs[i] = x;
            self.v[i] = x;
            let k = self.inst[i];
            if k != NONE {
                let k = k as usize;
                let r = lookup(table, x);
                self.m[k] = cnexp(self.m[k], r[0], r[1], dt);
                self.h[k] = cnexp(self.h[k], r[2], r[3], dt);
                self.n[k] = cnexp(self.n[k], r[4], r[5], dt);
            }
        }
        for (c, &node) in self.det.iter().enumerate() {
            let (v0, v1) = (self.last[c], self.v[node]);
            if v0 < THRESHOLD_MV && v1 >= THRESHOLD_MV {
                self.spikes[c].push(t + dt * (THRESHOLD_MV - v0) / (v1 - v0));
            }
            self.last[c] = v1;
        }
    }
}

impl Floor {
    /// Builds the floor model of `size` split into `groups` groups of whole cells, initialised
    /// at v_init with the states at their steady state.
    pub fn new(size: Size, groups: usize) -> Result<Floor, Error> {
        let (depth, nseg, ncells) = size.shape();
        let geo = cell_geometry(depth, nseg)?;
        let nodes = geo.disc.nodes();
        let per = nodes.len();
        let table: Vec<[f64; 6]> = (0..=T_WITH)
            .map(|i| hh_rates(T_FROM + (T_TO - T_FROM) * i as f64 / T_WITH as f64, CELSIUS))
            .collect();
        let ngroups = groups.clamp(1, ncells);
        let mut out = Vec::with_capacity(ngroups);
        let mut first = 0;
        let init = lookup(&table, V_INIT_MV);
        for g in 0..ngroups {
            let end = (g + 1) * ncells / ngroups;
            let cells = end - first;
            let nn = per * cells;
            let mut gr = Group {
                parent: Vec::with_capacity(nn),
                a: Vec::with_capacity(nn),
                sa: vec![0.0; nn],
                cap: Vec::with_capacity(nn),
                scale: Vec::with_capacity(nn),
                inst: Vec::with_capacity(nn),
                m: Vec::new(),
                h: Vec::new(),
                n: Vec::new(),
                v: vec![V_INIT_MV; nn],
                d: vec![0.0; nn],
                rhs: vec![0.0; nn],
                stim: Vec::new(),
                det: Vec::new(),
                last: vec![V_INIT_MV; cells],
                spikes: vec![Vec::new(); cells],
            };
            for c in 0..cells {
                let off = c * per;
                for node in nodes {
                    let p = node.parent.map_or(NONE, |p| p + off as u32);
                    gr.parent.push(p);
                    gr.a.push(node.g_axial_us());
                    gr.cap.push(node.capacitance_nf());
                    gr.scale.push(node.area_um2 * 1e-2);
                    if node.is_end_node() {
                        gr.inst.push(NONE);
                    } else {
                        gr.inst.push(gr.m.len() as u32);
                        gr.m.push(init[0]);
                        gr.h.push(init[2]);
                        gr.n.push(init[4]);
                    }
                }
                gr.stim.push(off + geo.root_mid);
                gr.det.push(off + geo.root_mid);
            }
            for i in 0..nn {
                if gr.parent[i] != NONE {
                    let p = gr.parent[i] as usize;
                    gr.sa[i] += gr.a[i];
                    gr.sa[p] += gr.a[i];
                }
            }
            out.push(gr);
            first = end;
        }
        Ok(Floor {
            groups: out,
            table,
            t: 0.0,
            ncomp: size.compartments(),
        })
    }

    /// Compartments as the peers count them.
    pub fn compartments(&self) -> usize {
        self.ncomp
    }

    /// One step of dt = 0.025 ms, groups in parallel on the current rayon pool.
    pub fn step(&mut self) {
        let (t, table) = (self.t, &self.table);
        if self.groups.len() == 1 {
            self.groups[0].step(table, t, DT_MS);
        } else {
            self.groups
                .par_iter_mut()
                .for_each(|g| g.step(table, t, DT_MS));
        }
        self.t = t + DT_MS;
    }

    /// Runs `steps` steps.
    pub fn run(&mut self, steps: usize) {
        for _ in 0..steps {
            self.step();
        }
    }

    /// Spike times of the root middle of cell 0, ms.
    pub fn root_spikes_cell0(&self) -> &[f64] {
        self.groups
            .first()
            .and_then(|g| g.spikes.first())
            .map_or(&[], |s| s.as_slice())
    }

    /// Membrane potential of the root middle of cell 0, mV.
    pub fn root_v_cell0(&self) -> f64 {
        self.groups
            .first()
            .and_then(|g| g.det.first().map(|&n| g.v[n]))
            .unwrap_or(f64::NAN)
    }
}
