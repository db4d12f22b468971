//! The floor: the benchmark's arithmetic with no engine around it.
//!
//! Raw arrays, compartments stored by increasing height (the longest path down to a leaf), so
//! children precede parents and compartments of one height are independent. One step:
//! 1. `hh` currents at `v` and `v + 0.001` mV (NEURON's numeric dI/dv) and the backward-Euler
//!    matrix in one dense pass (vectorised; the zero-area nodes carry a zero area factor), then
//!    the IClamp;
//! 2. Hines elimination, one height at a time (the pivots of a height inverted together), and
//!    3. substitution, in storage order;
//! 4. the states: NEURON's `hh` TABLE lookup (−100…100 mV, 200 intervals, linear), then
//!    `cnexp`, with the kernel the engine uses (`backend_cpu::kernels::hh_states`; with
//!    AVX-512 eight compartments at a time, their rates kept in registers).
//!
//! This is the engine's fast path without the engine (no placements, probes, events, ion
//! pools, parameter checks or error paths): the assembly, substitution and detection are
//! written here separately; the state kernel and the elimination are the engine's own
//! (`backend_cpu::kernels`), so the engine's ratio to the floor is the cost of the engine
//! around the same arithmetic. Its answers agree with the engine's to 1e-9 relative
//! (`tests/tree.rs`). Compiled for AVX-512, AVX2 + FMA and the baseline, chosen at run time
//! (`backend_cpu::simd`). Cells are independent; with more than one group they are split into
//! contiguous groups handled by rayon (one task per group per step).

use backend_cpu::kernels::{eliminate, hh_states, HhTable};
use backend_cpu::simd::{simd, Simd};
use integrate::HeightOrder;
use rayon::prelude::*;

use crate::tree::{
    cell_geometry, Size, AMP_NA, CELSIUS, DELAY_MS, DT_MS, DUR_MS, THRESHOLD_MV, V_INIT_MV,
};
use crate::Error;

const NONE: u32 = integrate::ROOT;
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
    /// First position of each height, then the length.
    levels: Vec<u32>,
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
    /// `hh`'s TABLE.
    table: HhTable,
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

impl Group {
    // Index loops: each pass walks several parallel arrays and a parent index at once.
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    fn step_body(&mut self, level: Simd, table: &HhTable, t: f64, dt: f64) {
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
        // 2. Elimination, one height at a time: the pivots of a height are inverted together,
        // then folded into the parents (higher heights).
        let (parent, a) = (&self.parent[..len], &self.a[..len]);
        let (d, rhs, v) = (&mut self.d[..len], &mut self.rhs[..len], &mut self.v[..len]);
        eliminate(level, &self.levels, parent, a, d, rhs);
        // 3. Substitution, straight into v.
        for i in (0..len).rev() {
            let p = parent[i];
            v[i] = if p == NONE {
                rhs[i] / d[i]
            } else {
                (rhs[i] + a[i] * v[p as usize]) * d[i]
            };
        }
        // 4. States: the shared kernel (AVX-512: eight compartments at a time, rates in
        // registers).
        hh_states(level, table, dt, v, &mut self.m, &mut self.h, &mut self.n);
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
    unsafe fn step_avx512(&mut self, table: &HhTable, t: f64, dt: f64) {
        self.step_body(Simd::Avx512, table, t, dt)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn step_avx2(&mut self, table: &HhTable, t: f64, dt: f64) {
        self.step_body(Simd::Avx2, table, t, dt)
    }

    fn step(&mut self, table: &HhTable, t: f64, dt: f64) {
        #[cfg(target_arch = "x86_64")]
        match simd() {
            // SAFETY: the CPU supports AVX-512F and DQ (`simd` checks).
            Simd::Avx512 => return unsafe { self.step_avx512(table, t, dt) },
            // SAFETY: the CPU supports AVX2 and FMA (`simd` checks).
            Simd::Avx2 => return unsafe { self.step_avx2(table, t, dt) },
            Simd::Baseline => {}
        }
        self.step_body(Simd::Baseline, table, t, dt)
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
        let cols: [Vec<f64>; 6] = std::array::from_fn(|j| table.iter().map(|r| r[j]).collect());
        let hh_table = HhTable::new(T_FROM, T_TO, std::array::from_fn(|j| cols[j].as_slice()))
            .ok_or_else(|| Error::Usage("the hh table could not be built".into()))?;
        let init = lookup(&table, V_INIT_MV);
        let ngroups = groups.clamp(1, ncells);
        let mut out = Vec::with_capacity(ngroups);
        let mut first = 0;
        for g in 0..ngroups {
            let end = (g + 1) * ncells / ngroups;
            let cells = end - first;
            let nn = per * cells;
            let node = |i: usize| &nodes[i % per];
            let parent_of = |i: usize| node(i).parent.map(|p| p as usize + (i / per) * per);
            // Positions: by (height, index) over the whole group.
            let parents: Vec<Option<usize>> = (0..nn).map(parent_of).collect();
            let h = HeightOrder::new(&parents)
                .ok_or_else(|| Error::Usage("the tree is not in parent-first order".into()))?;
            let order = &h.order;
            let pos = |i: usize| h.pos[i] as usize;
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
                a: order
                    .iter()
                    .map(|&i| node(i as usize).g_axial_us())
                    .collect(),
                sa: h.permute(&sa),
                cap: order
                    .iter()
                    .map(|&i| node(i as usize).capacitance_nf())
                    .collect(),
                scale: order.iter().map(|&i| hh_scale(i as usize)).collect(),
                m: vec![init[0]; nn],
                h: vec![init[2]; nn],
                n: vec![init[4]; nn],
                v: vec![V_INIT_MV; nn],
                d: vec![0.0; nn],
                rhs: vec![0.0; nn],
                stim: (0..cells).map(|c| pos(c * per + geo.root_mid)).collect(),
                det: (0..cells).map(|c| pos(c * per + geo.root_mid)).collect(),
                last: vec![V_INIT_MV; cells],
                spikes: vec![Vec::new(); cells],
                parent: h.parent,
                levels: h.levels,
            });
            first = end;
        }
        Ok(Floor {
            groups: out,
            table: hh_table,
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
