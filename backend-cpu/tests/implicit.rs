//! (d) derivimplicit and KINETIC (sparse) against hand-computed implicit-Euler solutions.
#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use backend_cpu::{library, CompileOptions, Compiled, Env, EventLog, Instances, IonPools};

fn build(name: &str, src: &str) -> (Compiled, Instances, IonPools) {
    let m = library::lower(name, src, true).unwrap();
    let c = Compiled::new(&m, CompileOptions::default()).unwrap();
    let mut ions = IonPools::new(1);
    let inst = c.instantiate(&[0], &mut ions).unwrap();
    (c, inst, ions)
}

fn env(dt: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>, f64) {
    (vec![-65.0], vec![100.0], vec![10.0], dt)
}

fn get(c: &Compiled, i: &Instances, n: &str) -> f64 {
    c.column(i, n, 0).unwrap()[0]
}

const RICCATI: &str = r#"
NEURON { SUFFIX ric RANGE k, s }
PARAMETER { k = 3  s = 0.5 }
STATE { x }
INITIAL { x = 1 }
BREAKPOINT { SOLVE st METHOD derivimplicit }
DERIVATIVE st { x' = -k*x*x + s }
"#;

#[test]
fn derivimplicit_solves_the_implicit_euler_equation() {
    let (c, mut inst, mut ions) = build("ric.mod", RICCATI);
    let (v, a, d, dt) = env(0.1);
    let e = Env {
        t: 0.0,
        dt,
        celsius: 6.3,
        v: &v,
        area: &a,
        diam: &d,
    };
    c.init(&mut inst, &e, &mut ions, &mut EventLog::default())
        .unwrap();
    let (k, s) = (3.0, 0.5);
    let mut x: f64 = 1.0;
    let mut max_err = 0.0f64;
    for _ in 0..300 {
        c.advance_state(&mut inst, &e, &mut ions).unwrap();
        // k dt x1² + x1 − (x0 + dt s) = 0, positive root.
        let q = x + dt * s;
        x = (-1.0 + (1.0 + 4.0 * k * dt * q).sqrt()) / (2.0 * k * dt);
        max_err = max_err.max((get(&c, &inst, "x") - x).abs());
    }
    eprintln!("derivimplicit Riccati: max |x − implicit Euler| {max_err:.3e}");
    assert!(max_err < 1e-12, "{max_err}");
    assert!((x - (s / k).sqrt()).abs() < 1e-6, "reaches the fixed point");
}

const PREDATOR: &str = r#"
NEURON { SUFFIX lv RANGE a, b, c }
PARAMETER { a = 2  b = 1  c = 0.3 }
STATE { x y }
ASSIGNED { prod }
INITIAL { x = 1  y = 0.5 }
BREAKPOINT { SOLVE st METHOD derivimplicit }
DERIVATIVE st {
    prod = a*x*y
    x' = c - prod
    y' = prod - b*y
}
"#;

#[test]
fn derivimplicit_two_coupled_nonlinear_states() {
    let (c, mut inst, mut ions) = build("lv.mod", PREDATOR);
    let (v, ar, d, dt) = env(0.05);
    let e = Env {
        t: 0.0,
        dt,
        celsius: 6.3,
        v: &v,
        area: &ar,
        diam: &d,
    };
    c.init(&mut inst, &e, &mut ions, &mut EventLog::default())
        .unwrap();
    let (a, b, cc) = (2.0, 1.0, 0.3);
    let (mut x, mut y) = (1.0f64, 0.5f64);
    let mut max_err = 0.0f64;
    for _ in 0..100 {
        c.advance_state(&mut inst, &e, &mut ions).unwrap();
        // Newton with the analytic Jacobian on G(x, y) = (x − x0 − dt f1, y − y0 − dt f2).
        let (x0, y0) = (x, y);
        for _ in 0..50 {
            let g1 = x - x0 - dt * (cc - a * x * y);
            let g2 = y - y0 - dt * (a * x * y - b * y);
            let (j11, j12) = (1.0 + dt * a * y, dt * a * x);
            let (j21, j22) = (-dt * a * y, 1.0 - dt * (a * x - b));
            let det = j11 * j22 - j12 * j21;
            let dx = -(g1 * j22 - j12 * g2) / det;
            let dy = -(j11 * g2 - j21 * g1) / det;
            x += dx;
            y += dy;
            if dx.abs().max(dy.abs()) < 1e-16 {
                break;
            }
        }
        max_err = max_err
            .max((get(&c, &inst, "x") - x).abs())
            .max((get(&c, &inst, "y") - y).abs());
    }
    // The ASSIGNED computed in the block matches the converged states.
    let prod = get(&c, &inst, "prod");
    assert!((prod - a * x * y).abs() < 1e-12);
    eprintln!("derivimplicit 2 states: max error {max_err:.3e}");
    assert!(max_err < 1e-12, "{max_err}");
}

const TWO_STATE: &str = r#"
NEURON { SUFFIX two RANGE a, b }
PARAMETER { a = 0.7  b = 0.2 }
STATE { C O }
INITIAL { C = 1  O = 0 }
BREAKPOINT { SOLVE kin METHOD sparse }
KINETIC kin {
    ~ C <-> O (a, b)
    CONSERVE C + O = 1
}
"#;

#[test]
fn kinetic_two_state_is_implicit_euler_and_conserves() {
    let (c, mut inst, mut ions) = build("two.mod", TWO_STATE);
    let (v, ar, d, dt) = env(0.1);
    let e = Env {
        t: 0.0,
        dt,
        celsius: 6.3,
        v: &v,
        area: &ar,
        diam: &d,
    };
    c.init(&mut inst, &e, &mut ions, &mut EventLog::default())
        .unwrap();
    let (a, b) = (0.7, 0.2);
    let mut o = 0.0f64;
    let (mut max_err, mut max_cons, mut max_exact) = (0.0f64, 0.0f64, 0.0f64);
    for step in 1..=100 {
        c.advance_state(&mut inst, &e, &mut ions).unwrap();
        o = (o + dt * a) / (1.0 + dt * (a + b));
        let (got_c, got_o) = (get(&c, &inst, "C"), get(&c, &inst, "O"));
        max_err = max_err.max((got_o - o).abs());
        max_cons = max_cons.max((got_c + got_o - 1.0).abs());
        // The matrix exponential (exact solution) differs by the O(dt) implicit-Euler error.
        let t = step as f64 * dt;
        let exact = a / (a + b) * (1.0 - (-(a + b) * t).exp());
        max_exact = max_exact.max((got_o - exact).abs());
    }
    eprintln!(
        "kinetic 2-state: max |O − implicit Euler| {max_err:.3e}, conservation {max_cons:.3e}, \
         vs matrix exponential {max_exact:.3e}"
    );
    assert!(max_err < 1e-12 && max_cons < 1e-12);
    assert!(max_exact < 0.05 && max_exact > 1e-4);
}

const THREE_STATE: &str = r#"
NEURON { SUFFIX three RANGE k1, k2, k3, k4 }
PARAMETER { k1 = 2  k2 = 0.5  k3 = 1.5  k4 = 0.25 }
STATE { C1 C2 O }
INITIAL { SOLVE kin STEADYSTATE sparse }
BREAKPOINT { SOLVE kin METHOD sparse }
KINETIC kin {
    ~ C1 <-> C2 (k1, k2)
    ~ C2 <-> O (k3, k4)
    CONSERVE C1 + C2 + O = 1
}
"#;

/// Solves the 3×3 system by Cramer's rule (independent of the crate's elimination).
fn cramer(m: [[f64; 3]; 3], r: [f64; 3]) -> [f64; 3] {
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(m);
    let mut out = [0.0; 3];
    for (c, o) in out.iter_mut().enumerate() {
        let mut mc = m;
        for row in 0..3 {
            mc[row][c] = r[row];
        }
        *o = det(mc) / d;
    }
    out
}

#[test]
fn kinetic_three_state_steady_state_and_steps() {
    let (c, mut inst, mut ions) = build("three.mod", THREE_STATE);
    let (k1, k2, k3, k4) = (2.0, 0.5, 1.5, 0.25);
    // Steady state: C2 = C1 k1/k2, O = C2 k3/k4, sum 1.
    let (r1, r2) = (k1 / k2, k1 / k2 * k3 / k4);
    let c1 = 1.0 / (1.0 + r1 + r2);
    let ss = [c1, c1 * r1, c1 * r2];
    let (v, ar, d, dt) = env(0.05);
    let e = Env {
        t: 0.0,
        dt,
        celsius: 6.3,
        v: &v,
        area: &ar,
        diam: &d,
    };
    c.init(&mut inst, &e, &mut ions, &mut EventLog::default())
        .unwrap();
    // STEADYSTATE is NEURON's one backward-Euler step of 1e9 ms: within ~1/(1e9 ms · rate) of
    // the exact steady state for these O(1/ms) rates; the sum is exact.
    for (k, n) in ["C1", "C2", "O"].iter().enumerate() {
        assert!((get(&c, &inst, n) - ss[k]).abs() < 1e-8, "{n}");
    }
    let sum: f64 = ["C1", "C2", "O"].iter().map(|n| get(&c, &inst, n)).sum();
    assert!((sum - 1.0).abs() < 1e-14);
    // Start away from equilibrium and step: (I − dt K) x1 = x0.
    for (n, x) in [("C1", 1.0), ("C2", 0.0), ("O", 0.0)] {
        c.column_mut(&mut inst, n, 0).unwrap()[0] = x;
    }
    let kmat = [[-k1, k2, 0.0], [k1, -k2 - k3, k4], [0.0, k3, -k4]];
    let mut x = [1.0, 0.0, 0.0];
    let (mut max_err, mut max_cons) = (0.0f64, 0.0f64);
    for _ in 0..200 {
        c.advance_state(&mut inst, &e, &mut ions).unwrap();
        let mut m = [[0.0; 3]; 3];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] = if i == j { 1.0 } else { 0.0 } - dt * kmat[i][j];
            }
        }
        x = cramer(m, x);
        let got = ["C1", "C2", "O"].map(|n| get(&c, &inst, n));
        for k in 0..3 {
            max_err = max_err.max((got[k] - x[k]).abs());
        }
        max_cons = max_cons.max((got.iter().sum::<f64>() - 1.0).abs());
    }
    eprintln!("kinetic 3-state: max error {max_err:.3e}, conservation {max_cons:.3e}");
    assert!(max_err < 1e-12 && max_cons < 1e-12);
}

const BINDING: &str = r#"
NEURON { SUFFIX bind RANGE kon, koff, va, vb }
PARAMETER { kon = 4  koff = 0.5  va = 2  vb = 0.5 }
STATE { A B C }
INITIAL { A = 1  B = 0.6  C = 0 }
BREAKPOINT { SOLVE kin METHOD sparse }
KINETIC kin {
    COMPARTMENT va {A C}
    COMPARTMENT vb {B}
    ~ A + B <-> C (kon, koff)
}
"#;

#[test]
fn kinetic_second_order_with_compartments() {
    let (c, mut inst, mut ions) = build("bind.mod", BINDING);
    let (v, ar, d, dt) = env(0.05);
    let e = Env {
        t: 0.0,
        dt,
        celsius: 6.3,
        v: &v,
        area: &ar,
        diam: &d,
    };
    c.init(&mut inst, &e, &mut ions, &mut EventLog::default())
        .unwrap();
    let (kon, koff, va, vb) = (4.0, 0.5, 2.0, 0.5);
    let (mut a, mut b, mut cc) = (1.0f64, 0.6f64, 0.0f64);
    let mut max_err = 0.0f64;
    for _ in 0..100 {
        c.advance_state(&mut inst, &e, &mut ions).unwrap();
        // va(A1−A0) = −dt r, vb(B1−B0) = −dt r, va(C1−C0) = dt r, r = kon A1 B1 − koff C1.
        // Eliminate with the extent z = dt r: A1 = A0 − z/va, B1 = B0 − z/vb, C1 = C0 + z/va.
        let (a0, b0, c0) = (a, b, cc);
        let mut z = 0.0f64;
        for _ in 0..100 {
            let (x, y, w) = (a0 - z / va, b0 - z / vb, c0 + z / va);
            let g = z - dt * (kon * x * y - koff * w);
            let dg = 1.0 - dt * (kon * (-y / va - x / vb) - koff / va);
            let dz = -g / dg;
            z += dz;
            if dz.abs() < 1e-17 {
                break;
            }
        }
        a = a0 - z / va;
        b = b0 - z / vb;
        cc = c0 + z / va;
        max_err = max_err
            .max((get(&c, &inst, "A") - a).abs())
            .max((get(&c, &inst, "B") - b).abs())
            .max((get(&c, &inst, "C") - cc).abs());
    }
    eprintln!("kinetic A + B <-> C with COMPARTMENT: max error {max_err:.3e}");
    assert!(max_err < 1e-12, "{max_err}");
    // Volume-weighted mass is conserved: va·A + va·C is constant.
    assert!((va * get(&c, &inst, "A") + va * get(&c, &inst, "C") - va * 1.0).abs() < 1e-12);
}

const EULER: &str = r#"
NEURON { SUFFIX eul RANGE k }
PARAMETER { k = 0.8 }
STATE { x }
INITIAL { x = 2 }
BREAKPOINT { SOLVE st METHOD euler }
DERIVATIVE st { x' = -k*x*x }
"#;

#[test]
fn euler_is_forward_euler() {
    let (c, mut inst, mut ions) = build("eul.mod", EULER);
    let (v, ar, d, dt) = env(0.01);
    let e = Env {
        t: 0.0,
        dt,
        celsius: 6.3,
        v: &v,
        area: &ar,
        diam: &d,
    };
    c.init(&mut inst, &e, &mut ions, &mut EventLog::default())
        .unwrap();
    let mut x = 2.0f64;
    for _ in 0..100 {
        c.advance_state(&mut inst, &e, &mut ions).unwrap();
        x += dt * (-0.8 * x * x);
        assert!((get(&c, &inst, "x") - x).abs() < 1e-14);
    }
}

const NONLINEAR: &str = r#"
NEURON { SUFFIX nl RANGE a, b, c }
PARAMETER { a = 1.5  b = -0.5  c = 2 }
STATE { x y z }
INITIAL {
    x = 1.4  y = -0.4  z = 2.1
    SOLVE eqs
}
NONLINEAR eqs {
    ~ x + y*z = a + b*c
    ~ y + z*x = b + c*a
    ~ z + x*y = c + a*b
}
"#;

#[test]
fn nonlinear_block_is_solved_by_newton() {
    let (c, mut inst, mut ions) = build("nl.mod", NONLINEAR);
    let (v, ar, d, dt) = env(0.025);
    let e = Env {
        t: 0.0,
        dt,
        celsius: 6.3,
        v: &v,
        area: &ar,
        diam: &d,
    };
    c.init(&mut inst, &e, &mut ions, &mut EventLog::default())
        .unwrap();
    // The root next to the starting point is (a, b, c).
    for (n, want) in [("x", 1.5), ("y", -0.5), ("z", 2.0)] {
        assert!(
            (get(&c, &inst, n) - want).abs() < 1e-12,
            "{n} = {}",
            get(&c, &inst, n)
        );
    }
}

const LINEAR: &str = r#"
NEURON { SUFFIX lin RANGE s }
PARAMETER { s = 3 }
STATE { p q }
INITIAL { SOLVE eqs }
LINEAR eqs {
    ~ 2*p + q = s
    ~ p - 4*q = 1
}
"#;

#[test]
fn linear_block_is_solved() {
    let (c, mut inst, mut ions) = build("lin.mod", LINEAR);
    let (v, ar, d, dt) = env(0.025);
    let e = Env {
        t: 0.0,
        dt,
        celsius: 6.3,
        v: &v,
        area: &ar,
        diam: &d,
    };
    c.init(&mut inst, &e, &mut ions, &mut EventLog::default())
        .unwrap();
    // 2p + q = 3, p − 4q = 1  ⇒  p = 13/9, q = 1/9.
    assert!((get(&c, &inst, "p") - 13.0 / 9.0).abs() < 1e-12);
    assert!((get(&c, &inst, "q") - 1.0 / 9.0).abs() < 1e-12);
}

const HOOKS: &str = r#"
NEURON { SUFFIX hooks RANGE nb, na, vseen }
ASSIGNED { v (mV) nb na vseen }
INITIAL { nb = 0  na = 0 }
BEFORE BREAKPOINT { nb = nb + 1  vseen = v }
AFTER SOLVE { na = na + 2 }
"#;

#[test]
fn before_after_blocks_run_as_hooks() {
    let (c, mut inst, mut ions) = build("hooks.mod", HOOKS);
    let labels: Vec<&str> = c.hook_labels().collect();
    assert_eq!(labels, ["before BREAKPOINT", "after SOLVE"]);
    let (v, ar, d, dt) = env(0.025);
    let e = Env {
        t: 0.0,
        dt,
        celsius: 6.3,
        v: &v,
        area: &ar,
        diam: &d,
    };
    let mut log = EventLog::default();
    c.init(&mut inst, &e, &mut ions, &mut log).unwrap();
    for _ in 0..3 {
        assert!(c
            .run_hook("before BREAKPOINT", &mut inst, &e, &mut ions, &mut log)
            .unwrap());
        assert!(c
            .run_hook("after SOLVE", &mut inst, &e, &mut ions, &mut log)
            .unwrap());
    }
    assert!(!c
        .run_hook("before STEP", &mut inst, &e, &mut ions, &mut log)
        .unwrap());
    assert_eq!((get(&c, &inst, "nb"), get(&c, &inst, "na")), (3.0, 6.0));
    assert_eq!(get(&c, &inst, "vseen"), -65.0);
}

const WATCHER: &str = r#"
NEURON { POINT_PROCESS watcher RANGE thr, count }
PARAMETER { thr = -50 (mV) }
ASSIGNED { v (mV) count }
INITIAL { count = 0  net_send(0, 1) }
NET_RECEIVE(w) {
    if (flag == 1) {
        WATCH (v > thr) 2
    } else if (flag == 2) {
        count = count + 1
        WATCH (v < thr - 10) 3
    } else if (flag == 3) {
        WATCH (v > thr) 2
    }
}
"#;

#[test]
fn watch_fires_on_rising_edges_and_rearms() {
    let (c, mut inst, mut ions) = build("watcher.mod", WATCHER);
    assert_eq!(c.n_watches(), 2);
    let (ar, d) = (vec![100.0], vec![10.0]);
    let mut log = EventLog::default();
    let v0 = [-65.0];
    let e0 = Env {
        t: 0.0,
        dt: 0.025,
        celsius: 6.3,
        v: &v0,
        area: &ar,
        diam: &d,
    };
    c.init(&mut inst, &e0, &mut ions, &mut log).unwrap();
    assert_eq!(log.sent, vec![(0, 0.0, 1.0)]);
    c.net_receive(&mut inst, 0, &mut [0.0], 1.0, &e0, &mut ions, &mut log)
        .unwrap();
    let trace = [-65.0, -40.0, -40.0, -55.0, -70.0, -65.0, -45.0, -30.0];
    let mut fired = Vec::new();
    for (k, vv) in trace.iter().enumerate() {
        let v = [*vv];
        let t = k as f64;
        let e = Env {
            t,
            dt: 0.025,
            celsius: 6.3,
            v: &v,
            area: &ar,
            diam: &d,
        };
        let mut step_log = EventLog::default();
        c.check_watches(&mut inst, &e, &mut ions, &mut step_log)
            .unwrap();
        for (i, te, flag) in step_log.sent {
            fired.push((te, flag));
            c.net_receive(&mut inst, i, &mut [0.0], flag, &e, &mut ions, &mut log)
                .unwrap();
        }
    }
    // Crossings: up at t = 1 (flag 2), down below −60 at t = 4 (flag 3), up at t = 6 (flag 2).
    assert_eq!(fired, vec![(1.0, 2.0), (4.0, 3.0), (6.0, 2.0)]);
    assert_eq!(c.column(&inst, "count", 0).unwrap()[0], 2.0);
}

const RANDOMS: &str = r#"
NEURON { SUFFIX rnd RANDOM r RANGE x, seq }
ASSIGNED { x seq }
INITIAL { seq = 0 }
BREAKPOINT { SOLVE draw }
PROCEDURE draw() {
    random_setseq(r, seq)
    x = random_uniform(r, 2, 4)
    seq = seq + 1
}
"#;

#[test]
fn random_streams_are_per_instance_counter_based() {
    let m = library::lower("rnd.mod", RANDOMS, true).unwrap();
    let c = Compiled::new(&m, CompileOptions::default()).unwrap();
    let n = 3;
    let mut ions = IonPools::new(1);
    let mut inst = c.instantiate(&vec![0; n], &mut ions).unwrap();
    let (v, ar, d) = (vec![-65.0], vec![100.0], vec![10.0]);
    let e = Env {
        t: 0.0,
        dt: 0.025,
        celsius: 6.3,
        v: &v,
        area: &ar,
        diam: &d,
    };
    c.init(&mut inst, &e, &mut ions, &mut EventLog::default())
        .unwrap();
    let mut draws = vec![Vec::new(); n];
    for _ in 0..4000 {
        c.advance_state(&mut inst, &e, &mut ions).unwrap();
        for (k, dk) in draws.iter_mut().enumerate() {
            dk.push(c.column(&inst, "x", 0).unwrap()[k]);
        }
    }
    for dk in &draws {
        assert!(dk.iter().all(|x| (2.0..4.0).contains(x)));
        let mean = dk.iter().sum::<f64>() / dk.len() as f64;
        let var = dk.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / dk.len() as f64;
        // Uniform on [2, 4): mean 3, variance 1/3; 4000 draws: sd of the mean ≈ 0.009.
        assert!((mean - 3.0).abs() < 0.05, "mean {mean}");
        assert!((var - 1.0 / 3.0).abs() < 0.03, "variance {var}");
    }
    assert_ne!(
        draws[0][..10],
        draws[1][..10],
        "instances have their own streams"
    );
    // Positioning the stream again reproduces the draws.
    for x in c.column_mut(&mut inst, "seq", 0).unwrap() {
        *x = 0.0;
    }
    c.advance_state(&mut inst, &e, &mut ions).unwrap();
    assert_eq!(c.column(&inst, "x", 0).unwrap()[1], draws[1][0]);
}
