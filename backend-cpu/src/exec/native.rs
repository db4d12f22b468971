//! Native kernels that stand in for the interpreter on mechanisms recognised as shipped ones by
//! their IR ([`super::Compiled::set_native`]). Each performs the floating-point operations of
//! the mechanism's compiled program in the same order, so it gives the interpreter's bits
//! (`backend-cpu/tests/native.rs` compares them), only without the dispatch, the 64-lane
//! blocks and the register copies.

use super::{interp, refresh_table, Compiled, Env, Home, Instances, IonPools, Result, DV};

/// Columns of `pas`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PasCols {
    pub g: usize,
    pub e: usize,
    pub i: usize,
}

/// Columns and ions of `hh` (with its TABLE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct HhCols {
    pub gnabar: usize,
    pub gkbar: usize,
    pub gl: usize,
    pub el: usize,
    pub m: usize,
    pub h: usize,
    pub n: usize,
    pub ena: usize,
    pub ek: usize,
    pub gna: usize,
    pub gk: usize,
    pub ina: usize,
    pub ik: usize,
    pub il: usize,
    pub minf: usize,
    pub hinf: usize,
    pub ninf: usize,
    pub mtau: usize,
    pub htau: usize,
    pub ntau: usize,
    /// The mechanism's ion indices of na and k.
    pub na: usize,
    pub k: usize,
    /// For each output of the TABLE in its order, its index among minf, mtau, hinf, htau,
    /// ninf, ntau.
    pub table_slot: [usize; 6],
}

impl HhCols {
    pub(super) fn of(c: &Compiled) -> Option<HhCols> {
        let col = |name: &str| c.col_index(name);
        let ion = |name: &str| {
            c.mech
                .variables
                .iter()
                .find(|v| v.name == name)
                .and_then(|v| match v.role {
                    nmodl::ir::Role::Ion(i, _) => Some(i),
                    _ => None,
                })
        };
        let cols = HhCols {
            gnabar: col("gnabar")?,
            gkbar: col("gkbar")?,
            gl: col("gl")?,
            el: col("el")?,
            m: col("m")?,
            h: col("h")?,
            n: col("n")?,
            ena: col("ena")?,
            ek: col("ek")?,
            gna: col("gna")?,
            gk: col("gk")?,
            ina: col("ina")?,
            ik: col("ik")?,
            il: col("il")?,
            minf: col("minf")?,
            hinf: col("hinf")?,
            ninf: col("ninf")?,
            mtau: col("mtau")?,
            htau: col("htau")?,
            ntau: col("ntau")?,
            na: ion("ena")?,
            k: ion("ek")?,
            table_slot: [0; 6],
        };
        // The one TABLE's outputs must be the six rate columns, each once.
        let [def] = c.tables.as_slice() else {
            return None;
        };
        let rates = [
            cols.minf, cols.mtau, cols.hinf, cols.htau, cols.ninf, cols.ntau,
        ];
        if def.outputs.len() != 6 || def.out_cols.iter().any(|(_, n_el)| *n_el != 1) {
            return None;
        }
        let mut table_slot = [0; 6];
        for (slot, o) in table_slot.iter_mut().zip(&def.outputs) {
            let Some(Home::Col { first, .. }) = o.and_then(|v| c.layout.homes.get(v)) else {
                return None;
            };
            *slot = rates.iter().position(|r| r == first)?;
        }
        let mut seen = table_slot;
        seen.sort_unstable();
        (seen == [0, 1, 2, 3, 4, 5]).then_some(HhCols { table_slot, ..cols })
    }
}

/// `pas`'s currents as the interpreter computes them: `i = g*(v − e)` at v + DV, then at v
/// (v + 0.0, as the VM adds its offset), the column `i` left at v; the instance's total
/// current `0 + 1·i` and conductance `0 + 1·(i(v + DV) − i(v))/DV`.
pub(super) fn pas_currents(inst: &mut Instances, env: &Env, c: PasCols) {
    let n = inst.n;
    let ncols = inst.cols.len();
    if c.g >= ncols || c.e >= ncols || c.i >= ncols || c.i == c.g || c.i == c.e {
        return;
    }
    let mut icol = std::mem::take(&mut inst.cols[c.i]);
    let (gc, ec) = (&inst.cols[c.g], &inst.cols[c.e]);
    let lanes = inst
        .node
        .iter()
        .zip(gc)
        .zip(ec)
        .zip(icol.iter_mut())
        .zip(inst.i.iter_mut().zip(inst.g.iter_mut()))
        .take(n);
    for ((((&node, &gk), &ek), icol), (itot, gtot)) in lanes {
        let v = env.v.get(node).copied().unwrap_or(f64::NAN);
        let i_dv = gk * ((v + DV) - ek);
        let i_at = gk * ((v + 0.0) - ek);
        *icol = i_at;
        let sign = 1.0;
        *itot = 0.0 + sign * i_at;
        *gtot = 0.0 + sign * ((i_dv - i_at) / DV);
    }
    inst.cols[c.i] = icol;
}

/// Takes columns `out` out of `cols` (to write them while reading others); `None` unless
/// every index is in range and they are distinct.
fn take_cols<const N: usize>(cols: &mut [Vec<f64>], out: [usize; N]) -> Option<[Vec<f64>; N]> {
    for (a, &x) in out.iter().enumerate() {
        if x >= cols.len() || out[..a].contains(&x) {
            return None;
        }
    }
    Some(out.map(|k| std::mem::take(&mut cols[k])))
}

fn put_back<const N: usize>(cols: &mut [Vec<f64>], out: [usize; N], taken: [Vec<f64>; N]) {
    for (k, c) in out.into_iter().zip(taken) {
        cols[k] = c;
    }
}

/// The reversal potential of pool `p` at `node` (NaN where missing, as the VM's LoadIon).
#[inline(always)]
fn reversal(ions: &IonPools, p: usize, node: usize) -> f64 {
    ions.pool(p)
        .and_then(|pool| pool.e.get(node))
        .copied()
        .unwrap_or(f64::NAN)
}

/// `hh`'s currents as the interpreter computes them: the BREAKPOINT at v + DV, then at v
/// (ena, ek stored; gna = gnabar·m·m·m·h, ina = gna·(v − ena), gk = gkbar·n·n·n·n,
/// ik = gk·(v − ek), il = gl·(v − el), each stored, the values at v left); per current
/// (ina → na, ik → k, il) in that order, the total `+= 1·i(v)` and `+= 1·dI/dv`, and the ion
/// pools' current and conductance.
pub(super) fn hh_currents(
    inst: &mut Instances,
    env: &Env,
    ions: &mut IonPools,
    c: &HhCols,
) -> Result<()> {
    let n = inst.n.min(inst.node.len());
    let out = [c.ena, c.ek, c.gna, c.gk, c.ina, c.ik, c.il];
    let inputs = [c.gnabar, c.gkbar, c.gl, c.el, c.m, c.h, c.n];
    if inputs
        .iter()
        .any(|k| *k >= inst.cols.len() || out.contains(k))
        || inst.cols.iter().any(|col| col.len() < n)
    {
        return Err(super::unsupported_native("hh columns"));
    }
    let Some(mut taken) = take_cols(&mut inst.cols, out) else {
        return Err(super::unsupported_native("hh columns"));
    };
    let [ena_c, ek_c, gna_c, gk_c, ina_c, ik_c, il_c] = &mut taken;
    let cols = &inst.cols;
    let (gnabar, gkbar, gl, el) = (&cols[c.gnabar], &cols[c.gkbar], &cols[c.gl], &cols[c.el]);
    let (m, h, nn) = (&cols[c.m], &cols[c.h], &cols[c.n]);
    let pool_na = inst.ion_pool.get(c.na).copied().unwrap_or(usize::MAX);
    let pool_k = inst.ion_pool.get(c.k).copied().unwrap_or(usize::MAX);
    for k in 0..n {
        let node = inst.node[k];
        let v = env.v.get(node).copied().unwrap_or(f64::NAN);
        let (ena, ek) = (reversal(ions, pool_na, node), reversal(ions, pool_k, node));
        ena_c[k] = ena;
        ek_c[k] = ek;
        let gna = gnabar[k] * m[k] * m[k] * m[k] * h[k];
        let gk = gkbar[k] * nn[k] * nn[k] * nn[k] * nn[k];
        gna_c[k] = gna;
        gk_c[k] = gk;
        let (vd, v0) = (v + DV, v + 0.0);
        let dv = [gna * (vd - ena), gk * (vd - ek), gl[k] * (vd - el[k])];
        let at = [gna * (v0 - ena), gk * (v0 - ek), gl[k] * (v0 - el[k])];
        ina_c[k] = at[0];
        ik_c[k] = at[1];
        il_c[k] = at[2];
        let sign = 1.0;
        let (mut itot, mut gtot) = (0.0, 0.0);
        for (j, pool) in [Some(pool_na), Some(pool_k), None].into_iter().enumerate() {
            let g = (dv[j] - at[j]) / DV;
            itot += sign * at[j];
            gtot += sign * g;
            if let Some(p) = pool.and_then(|p| ions.pool_mut(p)) {
                // A density mechanism: its currents are already per area.
                let scale = 1.0;
                if let Some(x) = p.current.get_mut(node) {
                    *x += scale * at[j];
                }
                if let Some(x) = p.didv.get_mut(node) {
                    *x += scale * g;
                }
            }
        }
        if let Some(x) = inst.i.get_mut(k) {
            *x = itot;
        }
        if let Some(x) = inst.g.get_mut(k) {
            *x = gtot;
        }
    }
    put_back(&mut inst.cols, out, taken);
    Ok(())
}

/// `hh`'s state update as the interpreter computes it: ena, ek stored; the TABLE (rebuilt
/// first when a DEPEND value changed) interpolated at v into minf … ntau; then cnexp for m, h,
/// n in the lowered form x + (1 − e^{(−1/τ)·dt})·(−((x∞/τ)/(−1/τ)) − x).
pub(super) fn hh_states(
    comp: &Compiled,
    inst: &mut Instances,
    env: &Env,
    ions: &mut IonPools,
    c: &HhCols,
) -> Result<()> {
    refresh_table(comp, 0, &mut inst.tables, &mut inst.globals, env)?;
    let n = inst.n.min(inst.node.len());
    let out = [
        c.ena, c.ek, c.m, c.h, c.n, c.minf, c.mtau, c.hinf, c.htau, c.ninf, c.ntau,
    ];
    if inst.cols.iter().any(|col| col.len() < n) {
        return Err(super::unsupported_native("hh columns"));
    }
    let Some(mut taken) = take_cols(&mut inst.cols, out) else {
        return Err(super::unsupported_native("hh columns"));
    };
    let pool_na = inst.ion_pool.get(c.na).copied().unwrap_or(usize::MAX);
    let pool_k = inst.ion_pool.get(c.k).copied().unwrap_or(usize::MAX);
    let dt = env.dt;
    let data = inst.tables.first();
    for k in 0..n {
        let node = inst.node[k];
        let v = env.v.get(node).copied().unwrap_or(f64::NAN) + 0.0;
        taken[0][k] = reversal(ions, pool_na, node);
        taken[1][k] = reversal(ions, pool_k, node);
        if let Some(data) = data {
            let xi = (v - data.from) * (data.with as f64 / (data.to - data.from));
            // The rates are taken columns 5.. (minf, mtau, …).
            for (vals, &s) in data.values.iter().zip(&c.table_slot) {
                taken[5 + s][k] = interp(vals, xi, data.with);
            }
        }
        // (state, x∞, τ) among the taken columns: m 2, h 3, n 4; minf 5, mtau 6, …
        for (x, inf, tau) in [(2, 5, 6), (3, 7, 8), (4, 9, 10)] {
            let x0 = taken[x][k];
            let one = 1.0;
            let neg_one = -one;
            let tau_v = taken[tau][k];
            let a = one - ((neg_one / tau_v) * dt).exp();
            let b = -((taken[inf][k] / tau_v) / (neg_one / tau_v));
            taken[x][k] = x0 + a * (b - x0);
        }
    }
    put_back(&mut inst.cols, out, taken);
    Ok(())
}
