//! The IR is executable: a small reference interpreter (test-only, scalar variables, cnexp and
//! procedure solves) runs the kernels of our own mechanisms and the results are compared with
//! closed-form solutions of the published equations.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use nmodl::ir::*;

/// Interpreter state for one instance.
struct Machine<'m> {
    m: &'m Mechanism,
    vars: Vec<f64>,
    builtins: HashMap<String, f64>,
    ions: HashMap<(IonId, String), f64>,
}

fn key(b: Builtin) -> String {
    format!("{b:?}")
}

fn ion_key(k: IonVarKind) -> String {
    format!("{k:?}")
}

impl<'m> Machine<'m> {
    fn new(m: &'m Mechanism, v: f64, dt: f64, celsius: f64) -> Self {
        let vars = m.variables.iter().map(|x| x.default).collect();
        let mut builtins = HashMap::new();
        builtins.insert(key(Builtin::V), v);
        builtins.insert(key(Builtin::Dt), dt);
        builtins.insert(key(Builtin::T), 0.0);
        builtins.insert(key(Builtin::Celsius), celsius);
        builtins.insert(key(Builtin::Pi), std::f64::consts::PI);
        Machine {
            m,
            vars,
            builtins,
            ions: HashMap::new(),
        }
    }

    fn var(&self, name: &str) -> f64 {
        let i = self
            .m
            .variables
            .iter()
            .position(|v| v.name == name)
            .unwrap();
        self.vars[i]
    }

    fn load(&self, p: &Place, locals: &[f64]) -> f64 {
        match p {
            Place::Var(i) => self.vars[*i],
            Place::Local(i) => locals[*i],
            Place::Builtin(b) => *self.builtins.get(&key(*b)).unwrap_or(&0.0),
            Place::IonPool(i, k) => *self.ions.get(&(*i, ion_key(*k))).unwrap_or(&0.0),
        }
    }

    fn store(&mut self, t: &Target, x: f64, locals: &mut [f64]) {
        assert!(t.index.is_none(), "arrays are not needed here");
        match &t.place {
            Place::Var(i) => self.vars[*i] = x,
            Place::Local(i) => locals[*i] = x,
            Place::Builtin(b) => {
                self.builtins.insert(key(*b), x);
            }
            Place::IonPool(i, k) => {
                self.ions.insert((*i, ion_key(*k)), x);
            }
        }
    }

    fn eval(&mut self, e: &Expr, locals: &mut [f64]) -> f64 {
        match e {
            Expr::Num(x) => *x,
            Expr::Load(p, None) => self.load(p, locals),
            Expr::Load(_, Some(_)) => panic!("arrays are not needed here"),
            Expr::Unary(UnOp::Neg, x) => -self.eval(x, locals),
            Expr::Unary(UnOp::Not, x) => f64::from(self.eval(x, locals) == 0.0),
            Expr::Binary(op, a, b) => {
                let (a, b) = (self.eval(a, locals), self.eval(b, locals));
                match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => a / b,
                    BinOp::Pow => a.powf(b),
                    BinOp::Lt => f64::from(a < b),
                    BinOp::Le => f64::from(a <= b),
                    BinOp::Gt => f64::from(a > b),
                    BinOp::Ge => f64::from(a >= b),
                    BinOp::Eq => f64::from(a == b),
                    BinOp::Ne => f64::from(a != b),
                    BinOp::And => f64::from(a != 0.0 && b != 0.0),
                    BinOp::Or => f64::from(a != 0.0 || b != 0.0),
                }
            }
            Expr::Call(c, args) => {
                let a: Vec<f64> = args.iter().map(|x| self.eval(x, locals)).collect();
                self.call(c, &a)
            }
        }
    }

    fn call(&mut self, c: &Callee, a: &[f64]) -> f64 {
        match c {
            Callee::Math(MathFn::Exp) => a[0].exp(),
            Callee::Math(MathFn::Log) => a[0].ln(),
            Callee::Math(MathFn::Fabs) => a[0].abs(),
            Callee::Math(f) => panic!("{f:?} is not needed here"),
            Callee::Func(i) => {
                let f = &self.m.functions[*i];
                let mut locals = vec![0.0; f.kernel.locals.len()];
                locals[..a.len()].copy_from_slice(a);
                self.run(&f.kernel.body, &mut locals);
                f.ret.map(|r| locals[r]).unwrap_or(0.0)
            }
        }
    }

    fn run(&mut self, body: &[Stmt], locals: &mut [f64]) {
        for s in body {
            match s {
                Stmt::Assign(t, e) => {
                    let x = self.eval(e, locals);
                    self.store(t, x, locals);
                }
                Stmt::If(c, a, b) => {
                    if self.eval(c, locals) != 0.0 {
                        self.run(a, locals)
                    } else {
                        self.run(b, locals)
                    }
                }
                Stmt::Call(c, args) => {
                    let a: Vec<f64> = args.iter().map(|x| self.eval(x, locals)).collect();
                    self.call(c, &a);
                }
                Stmt::Solve(id) => {
                    let solve = &self.m.solves[*id];
                    assert!(matches!(solve.system, System::Cnexp(_) | System::Procedure));
                    let mut l = vec![0.0; solve.kernel.locals.len()];
                    self.run(&solve.kernel.body, &mut l);
                }
                other => panic!("{other:?} is not needed here"),
            }
        }
    }

    fn kernel(&mut self, k: &Kernel, args: &[f64]) {
        let mut locals = vec![0.0; k.locals.len()];
        locals[..args.len()].copy_from_slice(args);
        self.run(&k.body, &mut locals);
    }
}

fn lower(file: &str) -> Mechanism {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let (_, out) = nmodl::compile_file(&path, &Default::default()).unwrap();
    out.mechanism.unwrap()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1e-300)
}

#[test]
fn hh_init_and_currents_match_the_1952_rate_functions() {
    let m = lower("hh.mod");
    let (v, celsius) = (-65.0, 6.3);
    let mut mc = Machine::new(&m, v, 0.025, celsius);
    mc.ions.insert((0, ion_key(IonVarKind::Reversal)), 50.0);
    mc.ions.insert((1, ion_key(IonVarKind::Reversal)), -77.0);
    mc.kernel(&m.init, &[]);
    let vt = |x: f64, y: f64| x / ((x / y).exp() - 1.0);
    let (am, bm) = (
        0.1 * vt(-(v + 40.0), 10.0),
        4.0 * (-(v + 65.0) / 18.0).exp(),
    );
    let (ah, bh) = (
        0.07 * (-(v + 65.0) / 20.0).exp(),
        1.0 / ((-(v + 35.0) / 10.0).exp() + 1.0),
    );
    let (an, bn) = (
        0.01 * vt(-(v + 55.0), 10.0),
        0.125 * (-(v + 65.0) / 80.0).exp(),
    );
    assert!(close(mc.var("m"), am / (am + bm), 1e-12));
    assert!(close(mc.var("h"), ah / (ah + bh), 1e-12));
    assert!(close(mc.var("n"), an / (an + bn), 1e-12));
    mc.kernel(&m.compute_currents, &[]);
    let (mm, hh, nn) = (mc.var("m"), mc.var("h"), mc.var("n"));
    assert!(close(
        mc.var("ina"),
        0.12 * mm.powi(3) * hh * (v - 50.0),
        1e-12
    ));
    assert!(close(mc.var("ik"), 0.036 * nn.powi(4) * (v + 77.0), 1e-12));
    assert!(close(mc.var("il"), 0.0003 * (v + 54.3), 1e-12));
    // One cnexp step after a jump to 0 mV is the exact exponential relaxation.
    mc.builtins.insert(key(Builtin::V), 0.0);
    let m0 = mc.var("m");
    mc.kernel(&m.advance_state, &[]);
    let (am, bm) = (0.1 * vt(-40.0, 10.0), 4.0 * (-65.0f64 / 18.0).exp());
    let (minf, mtau) = (am / (am + bm), 1.0 / (am + bm));
    assert!(close(
        mc.var("m"),
        minf + (m0 - minf) * (-0.025 / mtau).exp(),
        1e-12
    ));
}

#[test]
fn dual_exponential_synapse_events_and_decay() {
    let m = lower("expsyn2.mod");
    let mut mc = Machine::new(&m, -65.0, 0.025, 6.3);
    mc.kernel(&m.init, &[]);
    let (t1, t2) = (0.5f64, 5.0f64);
    let tp = t1 * t2 / (t2 - t1) * (t2 / t1).ln();
    let factor = 1.0 / (-(-tp / t1).exp() + (-tp / t2).exp());
    assert!(close(mc.var("factor"), factor, 1e-12));
    let nr = m.net_receive.as_ref().unwrap();
    mc.kernel(&nr.kernel, &[0.01]);
    assert!(close(mc.var("A"), 0.01 * factor, 1e-12));
    mc.kernel(&m.advance_state, &[]);
    assert!(close(
        mc.var("A"),
        0.01 * factor * (-0.025 / t1).exp(),
        1e-12
    ));
    assert!(close(
        mc.var("B"),
        0.01 * factor * (-0.025 / t2).exp(),
        1e-12
    ));
    mc.kernel(&m.compute_currents, &[]);
    let g = mc.var("B") - mc.var("A");
    assert!(close(mc.var("i"), g * (-65.0 - 0.0), 1e-12));
}

#[test]
fn calcium_shell_relaxes_exactly_and_writes_the_ion() {
    let m = lower("cadecay.mod");
    let mut mc = Machine::new(&m, -65.0, 0.025, 6.3);
    let ica = -0.001; // mA/cm2, inward
    mc.ions.insert((0, ion_key(IonVarKind::Current)), ica);
    mc.ions.insert((0, ion_key(IonVarKind::Inside)), 5e-5);
    mc.kernel(&m.init, &[]);
    assert!(
        close(mc.var("cai"), 1e-4, 1e-12),
        "INITIAL sets cai = cainf"
    );
    mc.kernel(&m.write_ions, &[]);
    mc.kernel(&m.advance_state, &[]);
    let faraday = 96485.33212331001;
    let influx = -ica * 1e4 / (2.0 * faraday * 0.1);
    let c_inf = 1e-4 + 200.0 * influx;
    let want = c_inf + (1e-4 - c_inf) * (-0.025f64 / 200.0).exp();
    assert!(
        close(mc.var("cai"), want, 1e-12),
        "{} vs {want}",
        mc.var("cai")
    );
    mc.kernel(&m.write_ions, &[]);
    assert_eq!(mc.ions[&(0, ion_key(IonVarKind::Inside))], mc.var("cai"));
}
