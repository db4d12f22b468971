//! The floor: the benchmark's arithmetic with no engine around it.
//!
//! Raw arrays, compartments stored by increasing height (the longest path down to a leaf), so
//! children precede parents and compartments of one height are independent. One step:
//! 1. `hh` currents at `v` and `v + 0.001` mV (NEURON's numeric dI/dv) and the backward-Euler
//!    matrix in one dense pass (vectorised; the zero-area nodes carry a zero area factor), then
//!    the IClamp;
//! 2. Hines elimination and 3. substitution, in storage order (the divisions of independent
//!    compartments overlap);
//! 4. the states: NEURON's `hh` TABLE lookup (−100…100 mV, 200 intervals, linear), then
//!    `cnexp` (vectorised, with a branch-free `exp`).
//!
//! This is the engine's fast path without the engine (no placements, probes, events, ion
//! pools or copies between orders), written separately from it; its answers agree with the
//! engine's to 1e-9 relative (`tests/tree.rs`). Compiled for AVX-512, AVX2 + FMA and the
//! baseline, chosen at run time. Cells are independent; with more than one group they are
//! split into contiguous groups handled by rayon (one task per group per step).

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

/// e^x, branch-free (so loops over it vectorise), about 1 ulp for |x| ≤ 700 (clamped there):
/// Cody–Waite reduction by ln 2, degree-13 Taylor polynomial, 2^k from its bits. The engine's
/// fast path uses the same method (written separately there: the floor has no engine code).
#[inline(always)]
fn exp(x: f64) -> f64 {
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let x = x.clamp(-700.0, 700.0);
    let t = x * std::f64::consts::LOG2_E + SHIFT;
    let k = t - SHIFT;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0;
    p = p * r + 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    let bits = (t.to_bits().wrapping_sub(SHIFT.to_bits()) as i64 + 1023) << 52;
    p * f64::from_bits(bits as u64)
}

/// One cell group's arrays, compartments by increasing height (longest path down to a leaf)
/// then index, so children precede parents and compartments of one height are independent.
struct Group {
    /// Position of the parent, `NONE` for roots.
    parent: Vec<u32>,
    /// Axial conductance to the parent, µS.
    a: Vec<f64>,
    /// Σ axial conductances at the node, µS.
    sa: Vec<f64>,
    /// Capacitance, nF.
    cap: Vec<f64>,
    /// area · 10⁻² (mA/cm² → nA) where `hh` is, 0 on the zero-area nodes.
    scale: Vec<f64>,
    /// States per position (values on the zero-area nodes are unused: `scale` cancels them).
    m: Vec<f64>,
    h: Vec<f64>,
    n: Vec<f64>,
    /// Membrane potential, mV; elimination scratch.
    v: Vec<f64>,
    d: Vec<f64>,
    rhs: Vec<f64>,
    /// Rates of one chunk (minf, mtau, hinf, htau, ninf, ntau).
    rates: [Vec<f64>; 6],
    /// Stimulated positions.
    stim: Vec<usize>,
    /// Detector position of each cell, its previous v, its spike times.
    det: Vec<usize>,
    last: Vec<f64>,
    spikes: Vec<Vec<f64>>,
}

/// The floor model of one benchmark size.
pub struct Floor {
    groups: Vec<Group>,
    /// Row k: the six rates at table point k, then their differences to point k + 1.
    rows: Vec<[f64; 12]>,
    t: f64,
    ncomp: usize,
}

/// Compartments per chunk of the state pass.
const CHUNK: usize = 256;

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

/// Currents and assembly (hh at v and v + DV, dI/dv by difference). Slices as arguments, so
/// LLVM knows they do not overlap and vectorises.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn assemble(
    v: &[f64],
    m: &[f64],
    h: &[f64],
    n: &[f64],
    scale: &[f64],
    cap: &[f64],
    sa: &[f64],
    inv_h: f64,
    d: &mut [f64],
    rhs: &mut [f64],
) {
    let len = v.len();
    let (m, h, n, scale, cap, sa) = (
        &m[..len],
        &h[..len],
        &n[..len],
        &scale[..len],
        &cap[..len],
        &sa[..len],
    );
    let (d, rhs) = (&mut d[..len], &mut rhs[..len]);
    for i in 0..len {
        let vi = v[i];
        let gna = GNABAR * m[i] * m[i] * m[i] * h[i];
        let gk = GKBAR * n[i] * n[i] * n[i] * n[i];
        let vd = vi + DV;
        let (na1, k1, l1) = (gna * (vd - ENA), gk * (vd - EK), GL * (vd - EL));
        let (na0, k0, l0) = (gna * (vi - ENA), gk * (vi - EK), GL * (vi - EL));
        let c = na0 + k0 + l0;
        let g = ((na1 - na0) + (k1 - k0) + (l1 - l0)) * (1.0 / DV);
        let (ii, gi) = (c * scale[i], g * scale[i]);
        let ch = cap[i] * inv_h;
        d[i] = ch + gi + sa[i];
        rhs[i] = ch * vi + (gi * vi - ii);
    }
}

/// cnexp: x + (1 − e^{−dt/τ})(x∞ − x).
#[inline(always)]
fn cnexp(x: &mut [f64], inf: &[f64], tau: &[f64], dt: f64) {
    let len = x.len();
    let (inf, tau) = (&inf[..len], &tau[..len]);
    for i in 0..len {
        x[i] += (1.0 - exp(-dt / tau[i])) * (inf[i] - x[i]);
    }
}

impl Group {
    // Index loops: each pass walks several parallel arrays and a parent index at once.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    fn step_body(&mut self, rows: &[[f64; 12]], t: f64, dt: f64) {
        let inv_h = 1.0 / dt;
        let tm = t + dt / 2.0;
        let i_stim = if (DELAY_MS..DELAY_MS + DUR_MS).contains(&tm) {
            AMP_NA
        } else {
            0.0
        };
        let len = self.v.len();
        // 1. Currents and assembly, then the clamps.
        assemble(
            &self.v,
            &self.m,
            &self.h,
            &self.n,
            &self.scale,
            &self.cap,
            &self.sa,
            inv_h,
            &mut self.d,
            &mut self.rhs,
        );
        for &k in &self.stim {
            self.rhs[k] += i_stim;
        }
        // 2. Elimination (d becomes 1/d once final).
        let (parent, a) = (&self.parent[..len], &self.a[..len]);
        let (d, rhs, v) = (&mut self.d[..len], &mut self.rhs[..len], &mut self.v[..len]);
        for i in 0..len {
            let p = parent[i];
            if p == NONE {
                continue;
            }
            let p = p as usize;
            let inv = 1.0 / d[i];
            d[i] = inv;
            let f = a[i] * inv;
            d[p] -= f * a[i];
            rhs[p] += f * rhs[i];
        }
        // 3. Substitution.
        for i in (0..len).rev() {
            let p = parent[i];
            let x = if p == NONE {
                rhs[i] / d[i]
            } else {
                (rhs[i] + a[i] * rhs[p as usize]) * d[i]
            };
            rhs[i] = x;
            v[i] = x;
        }
        // 4. States, chunk by chunk: table lookups (scalar), then cnexp (vectorised).
        let last = rows.len() - 1;
        let top = T_WITH as f64;
        let scale_t = T_WITH as f64 / (T_TO - T_FROM);
        let mut lo = 0;
        while lo < len {
            let hi = (lo + CHUNK).min(len);
            let nn = hi - lo;
            let [r0, r1, r2, r3, r4, r5] = &mut self.rates;
            for (q, &vi) in v[lo..hi].iter().enumerate() {
                let xi = ((vi - T_FROM) * scale_t).max(0.0).min(top);
                let k = (xi as usize).min(last);
                let th = xi - k as f64;
                let row = &rows[k];
                r0[q] = row[0] + th * row[6];
                r1[q] = row[1] + th * row[7];
                r2[q] = row[2] + th * row[8];
                r3[q] = row[3] + th * row[9];
                r4[q] = row[4] + th * row[10];
                r5[q] = row[5] + th * row[11];
            }
            cnexp(&mut self.m[lo..hi], &r0[..nn], &r1[..nn], dt);
            cnexp(&mut self.h[lo..hi], &r2[..nn], &r3[..nn], dt);
            cnexp(&mut self.n[lo..hi], &r4[..nn], &r5[..nn], dt);
            lo = hi;
        }
        for (c, &k) in self.det.iter().enumerate() {
            let (v0, v1) = (self.last[c], self.v[k]);
            if v0 < THRESHOLD_MV && v1 >= THRESHOLD_MV {
                self.spikes[c].push(t + dt * (THRESHOLD_MV - v0) / (v1 - v0));
            }
            self.last[c] = v1;
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq,avx2,fma")]
    unsafe fn step_avx512(&mut self, rows: &[[f64; 12]], t: f64, dt: f64) {
        self.step_body(rows, t, dt)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn step_avx2(&mut self, rows: &[[f64; 12]], t: f64, dt: f64) {
        self.step_body(rows, t, dt)
    }

    fn step(&mut self, rows: &[[f64; 12]], t: f64, dt: f64) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512dq")
            {
                // SAFETY: the CPU supports AVX-512F and DQ (checked just above).
                return unsafe { self.step_avx512(rows, t, dt) };
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                // SAFETY: the CPU supports AVX2 and FMA (checked just above).
                return unsafe { self.step_avx2(rows, t, dt) };
            }
        }
        self.step_body(rows, t, dt)
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
        let rows: Vec<[f64; 12]> = (0..T_WITH)
            .map(|k| {
                let mut r = [0.0; 12];
                for j in 0..6 {
                    r[j] = table[k][j];
                    r[j + 6] = table[k + 1][j] - table[k][j];
                }
                r
            })
            .collect();
        let init = lookup(&table, V_INIT_MV);
        // One cell's heights (children have larger indices: one backward sweep).
        let mut height = vec![0u32; per];
        for i in (0..per).rev() {
            if let Some(p) = nodes[i].parent {
                let p = p as usize;
                height[p] = height[p].max(height[i] + 1);
            }
        }
        let ngroups = groups.clamp(1, ncells);
        let mut out = Vec::with_capacity(ngroups);
        let mut first = 0;
        for g in 0..ngroups {
            let end = (g + 1) * ncells / ngroups;
            let cells = end - first;
            let nn = per * cells;
            // Positions: by (height, index) over the whole group.
            let mut order: Vec<usize> = (0..nn).collect();
            order.sort_by_key(|&i| (height[i % per], i));
            let mut pos = vec![0usize; nn];
            for (q, &i) in order.iter().enumerate() {
                pos[i] = q;
            }
            let node = |i: usize| &nodes[i % per];
            let parent_of = |i: usize| node(i).parent.map(|p| p as usize + (i / per) * per);
            let mut sa = vec![0.0; nn];
            for i in 0..nn {
                if let Some(p) = parent_of(i) {
                    sa[i] += node(i).g_axial_us();
                    sa[p] += node(i).g_axial_us();
                }
            }
            let hh_scale = |i: usize| {
                if node(i).is_end_node() {
                    0.0
                } else {
                    node(i).area_um2 * 1e-2
                }
            };
            out.push(Group {
                parent: order
                    .iter()
                    .map(|&i| parent_of(i).map_or(NONE, |p| pos[p] as u32))
                    .collect(),
                a: order.iter().map(|&i| node(i).g_axial_us()).collect(),
                sa: order.iter().map(|&i| sa[i]).collect(),
                cap: order.iter().map(|&i| node(i).capacitance_nf()).collect(),
                scale: order.iter().map(|&i| hh_scale(i)).collect(),
                m: vec![init[0]; nn],
                h: vec![init[2]; nn],
                n: vec![init[4]; nn],
                v: vec![V_INIT_MV; nn],
                d: vec![0.0; nn],
                rhs: vec![0.0; nn],
                rates: std::array::from_fn(|_| vec![0.0; CHUNK]),
                stim: (0..cells).map(|c| pos[c * per + geo.root_mid]).collect(),
                det: (0..cells).map(|c| pos[c * per + geo.root_mid]).collect(),
                last: vec![V_INIT_MV; cells],
                spikes: vec![Vec::new(); cells],
            });
            first = end;
        }
        Ok(Floor {
            groups: out,
            rows,
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
        let (t, rows) = (self.t, &self.rows);
        if self.groups.len() == 1 {
            self.groups[0].step(rows, t, DT_MS);
        } else {
            self.groups
                .par_iter_mut()
                .for_each(|g| g.step(rows, t, DT_MS));
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
