//! (b) pas, IClamp, SEClamp currents against closed forms; (c) ExpSyn / Exp2Syn conductances
//! after events against closed-form exponentials.
#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use backend_cpu::{library, CompileOptions, Compiled, Env, EventLog, Instances, IonPools};

macro_rules! env {
    ($c:expr, $t:expr, $dt:expr) => {
        Env {
            t: $t,
            dt: $dt,
            celsius: 6.3,
            v: &$c.v,
            area: &$c.area,
            diam: &$c.diam,
        }
    };
}

struct Cell {
    v: Vec<f64>,
    area: Vec<f64>,
    diam: Vec<f64>,
    ions: IonPools,
}

impl Cell {
    fn new(v: &[f64]) -> Cell {
        Cell {
            v: v.to_vec(),
            area: vec![314.159; v.len()],
            diam: vec![10.0; v.len()],
            ions: IonPools::new(v.len()),
        }
    }
}

fn setup(name: &str, nodes: &[usize], cell: &mut Cell) -> (Compiled, Instances) {
    let c = library::compile(name, CompileOptions::default()).unwrap();
    let inst = c.instantiate(nodes, &mut cell.ions).unwrap();
    (c, inst)
}

fn set(c: &Compiled, inst: &mut Instances, name: &str, k: usize, x: f64) {
    c.column_mut(inst, name, 0).unwrap()[k] = x;
}

fn get(c: &Compiled, inst: &Instances, name: &str, k: usize) -> f64 {
    c.column(inst, name, 0).unwrap()[k]
}

#[test]
fn every_shipped_mechanism_compiles() {
    let all = library::compile_all(CompileOptions::default()).unwrap();
    assert_eq!(all.len(), 6);
    let exact = library::compile_all(CompileOptions { use_tables: false }).unwrap();
    assert_eq!(exact.len(), 6);
}

#[test]
fn pas_current_is_g_times_driving_force() {
    let vs = [-90.0, -70.0, -12.5, 33.0];
    let mut cell = Cell::new(&vs);
    let (pas, mut inst) = setup("pas", &[0, 1, 2, 3], &mut cell);
    set(&pas, &mut inst, "g", 2, 2.5e-4);
    set(&pas, &mut inst, "e", 3, -50.0);
    let env = env!(cell, 0.0, 0.025);
    pas.init(&mut inst, &env, &mut cell.ions, &mut EventLog::default())
        .unwrap();
    pas.compute_currents(&mut inst, &env, &mut cell.ions)
        .unwrap();
    let g = [0.001, 0.001, 2.5e-4, 0.001];
    let e = [-70.0, -70.0, -70.0, -50.0];
    for k in 0..4 {
        let want = g[k] * (vs[k] - e[k]);
        assert!(
            (inst.i()[k] - want).abs() <= 1e-15,
            "{k}: {} vs {want}",
            inst.i()[k]
        );
        assert!(
            (inst.g()[k] - g[k]).abs() <= 1e-10,
            "{k}: {} vs {}",
            inst.g()[k],
            g[k]
        );
    }
}

#[test]
fn iclamp_is_a_pulse_with_electrode_sign() {
    let mut cell = Cell::new(&[-65.0]);
    let (ic, mut inst) = setup("IClamp", &[0], &mut cell);
    set(&ic, &mut inst, "del", 0, 1.0);
    set(&ic, &mut inst, "dur", 0, 2.0);
    set(&ic, &mut inst, "amp", 0, 0.5);
    let dt = 0.025;
    ic.init(
        &mut inst,
        &env!(cell, 0.0, dt),
        &mut cell.ions,
        &mut EventLog::default(),
    )
    .unwrap();
    for step in 0..200 {
        let t = step as f64 * dt;
        ic.compute_currents(&mut inst, &env!(cell, t, dt), &mut cell.ions)
            .unwrap();
        let want = if (1.0..3.0).contains(&t) { 0.5 } else { 0.0 };
        assert_eq!(get(&ic, &inst, "i", 0), want, "t = {t}");
        // Electrode current: a positive amp depolarises, i.e. a negative membrane current.
        assert_eq!(inst.i()[0], -want, "t = {t}");
        assert_eq!(inst.g()[0], 0.0);
    }
}

#[test]
fn seclamp_levels_series_resistance_and_off() {
    let vm = -65.0;
    let mut cell = Cell::new(&[vm]);
    let (se, mut inst) = setup("SEClamp", &[0], &mut cell);
    for (name, x) in [
        ("dur1", 1.0),
        ("amp1", -50.0),
        ("dur2", 1.0),
        ("amp2", 10.0),
        ("dur3", 1.0),
        ("amp3", -70.0),
        ("rs", 0.01),
    ] {
        set(&se, &mut inst, name, 0, x);
    }
    let dt = 0.025;
    se.init(
        &mut inst,
        &env!(cell, 0.0, dt),
        &mut cell.ions,
        &mut EventLog::default(),
    )
    .unwrap();
    for step in 0..160 {
        let t = step as f64 * dt;
        se.compute_currents(&mut inst, &env!(cell, t, dt), &mut cell.ions)
            .unwrap();
        let vc = match t {
            t if t < 1.0 => Some(-50.0),
            t if t < 2.0 => Some(10.0),
            t if t < 3.0 => Some(-70.0),
            _ => None,
        };
        let (want_i, want_g) = match vc {
            Some(vc) => ((vc - vm) / 0.01, 1.0 / 0.01),
            None => (0.0, 0.0),
        };
        let i = get(&se, &inst, "i", 0);
        assert!(
            (i - want_i).abs() <= 1e-9 * want_i.abs().max(1.0),
            "t = {t}: {i} vs {want_i}"
        );
        assert!((inst.i()[0] + want_i).abs() <= 1e-9 * want_i.abs().max(1.0));
        assert!(
            (inst.g()[0] - want_g).abs() <= 1e-6 * want_g.max(1.0),
            "t = {t}: g {}",
            inst.g()[0]
        );
    }
}

#[test]
fn expsyn_jumps_by_weight_and_decays_exponentially() {
    let vs = [-65.0, -40.0, -80.0];
    let mut cell = Cell::new(&vs);
    let (syn, mut inst) = setup("ExpSyn", &[0, 1, 2], &mut cell);
    for k in 0..3 {
        set(&syn, &mut inst, "tau", k, 2.0);
    }
    set(&syn, &mut inst, "e", 1, -10.0);
    let dt = 0.025;
    let mut log = EventLog::default();
    syn.init(&mut inst, &env!(cell, 0.0, dt), &mut cell.ions, &mut log)
        .unwrap();
    // Events: instance 1 gets 0.01 uS at t = 0 and 0.005 uS at t = 1 ms; the others none.
    let mut w = [0.01];
    syn.net_receive(
        &mut inst,
        1,
        &mut w,
        0.0,
        &env!(cell, 0.0, dt),
        &mut cell.ions,
        &mut log,
    )
    .unwrap();
    let mut max_err = 0.0f64;
    for step in 1..=200 {
        let t = step as f64 * dt;
        syn.advance_state(&mut inst, &env!(cell, t, dt), &mut cell.ions)
            .unwrap();
        if step == 40 {
            let mut w = [0.005];
            syn.net_receive(
                &mut inst,
                1,
                &mut w,
                0.0,
                &env!(cell, t, dt),
                &mut cell.ions,
                &mut log,
            )
            .unwrap();
        }
        let mut want = 0.01 * (-t / 2.0).exp();
        if step >= 40 {
            want += 0.005 * (-(t - 1.0) / 2.0).exp();
        }
        max_err = max_err.max((get(&syn, &inst, "g", 1) - want).abs() / want);
        assert_eq!(get(&syn, &inst, "g", 0), 0.0);
        assert_eq!(get(&syn, &inst, "g", 2), 0.0);
        syn.compute_currents(&mut inst, &env!(cell, t, dt), &mut cell.ions)
            .unwrap();
        let g = get(&syn, &inst, "g", 1);
        assert!((inst.i()[1] - g * (-40.0 + 10.0)).abs() <= 1e-15);
        assert!((inst.g()[1] - g).abs() <= 1e-9 * g);
    }
    eprintln!("ExpSyn max relative error vs closed form: {max_err:.3e}");
    assert!(max_err < 1e-12, "{max_err}");
    assert!(log.sent.is_empty() && log.spikes.is_empty());
}

#[test]
fn exp2syn_is_a_normalised_difference_of_exponentials() {
    let mut cell = Cell::new(&[-65.0]);
    let (syn, mut inst) = setup("Exp2Syn", &[0], &mut cell);
    let (t1, t2) = (0.5f64, 5.0f64);
    set(&syn, &mut inst, "tau1", 0, t1);
    set(&syn, &mut inst, "tau2", 0, t2);
    let dt = 0.001;
    syn.init(
        &mut inst,
        &env!(cell, 0.0, dt),
        &mut cell.ions,
        &mut EventLog::default(),
    )
    .unwrap();
    let tp = t1 * t2 / (t2 - t1) * (t2 / t1).ln();
    let factor = 1.0 / ((-tp / t2).exp() - (-tp / t1).exp());
    assert!((get(&syn, &inst, "factor", 0) - factor).abs() <= 1e-12 * factor);
    let w = 0.02;
    let mut wv = [w];
    syn.net_receive(
        &mut inst,
        0,
        &mut wv,
        0.0,
        &env!(cell, 0.0, dt),
        &mut cell.ions,
        &mut EventLog::default(),
    )
    .unwrap();
    let (mut peak, mut max_err) = (0.0f64, 0.0f64);
    for step in 1..=6000 {
        let t = step as f64 * dt;
        syn.advance_state(&mut inst, &env!(cell, t, dt), &mut cell.ions)
            .unwrap();
        syn.compute_currents(&mut inst, &env!(cell, t, dt), &mut cell.ions)
            .unwrap();
        let want = w * factor * ((-t / t2).exp() - (-t / t1).exp());
        let g = get(&syn, &inst, "g", 0);
        max_err = max_err.max((g - want).abs() / w);
        peak = peak.max(g);
    }
    eprintln!(
        "Exp2Syn max error / weight {max_err:.3e}, peak / weight {:.12}",
        peak / w
    );
    assert!(max_err < 1e-12, "{max_err}");
    // The sampled peak (dt = 1 µs) is the weight to within the curvature at the peak.
    assert!((peak / w - 1.0).abs() < 1e-6, "peak {peak}");
}

#[test]
fn exp2syn_equal_time_constants_are_kept_apart() {
    let mut cell = Cell::new(&[-65.0]);
    let (syn, mut inst) = setup("Exp2Syn", &[0], &mut cell);
    set(&syn, &mut inst, "tau1", 0, 3.0);
    set(&syn, &mut inst, "tau2", 0, 3.0);
    syn.init(
        &mut inst,
        &env!(cell, 0.0, 0.025),
        &mut cell.ions,
        &mut EventLog::default(),
    )
    .unwrap();
    assert!((get(&syn, &inst, "tau1", 0) - 0.9999 * 3.0).abs() < 1e-15);
    assert!(get(&syn, &inst, "factor", 0).is_finite());
}

#[test]
fn compiled_is_shareable_and_instances_movable() {
    fn shareable<T: Send + Sync>() {}
    fn movable<T: Send>() {}
    shareable::<Compiled>();
    movable::<Instances>();
    movable::<IonPools>();
}
