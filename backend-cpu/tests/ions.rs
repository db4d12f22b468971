//! Ion pools: NEURON's defaults, currents summed per ion, concentrations written back and
//! reversal potentials recomputed by Nernst.
#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use backend_cpu::{library, CompileOptions, Compiled, Env, EventLog, IonPools};

const CA_CURRENT: &str = r#"
NEURON { SUFFIX caleak USEION ca READ eca WRITE ica RANGE g }
PARAMETER { g = 2e-4 (S/cm2) }
ASSIGNED { v (mV) eca (mV) ica (mA/cm2) }
BREAKPOINT { ica = g*(v - eca) }
"#;

const CA_SHELL: &str = r#"
NEURON { SUFFIX cashell USEION ca READ ica WRITE cai RANGE tau, depth, cainf }
UNITS { FARADAY = (faraday) (coulomb) }
PARAMETER { tau = 20 (ms) depth = 0.1 (um) cainf = 1e-4 (mM) }
STATE { cai (mM) }
ASSIGNED { ica (mA/cm2) }
INITIAL { cai = cainf }
BREAKPOINT { SOLVE st METHOD cnexp }
DERIVATIVE st { cai' = -ica*10000/(2*FARADAY*depth) + (cainf - cai)/tau }
"#;

fn compile(name: &str, src: &str) -> Compiled {
    Compiled::new(
        &library::lower(name, src, true).unwrap(),
        CompileOptions::default(),
    )
    .unwrap()
}

#[test]
fn neuron_default_ions() {
    let ions = IonPools::new(2);
    let na = ions.get("na").unwrap();
    assert_eq!(
        (na.conc_in[1], na.conc_out[1], na.e[1], na.valence),
        (10.0, 140.0, 50.0, 1.0)
    );
    let k = ions.get("k").unwrap();
    assert_eq!((k.conc_in[0], k.conc_out[0], k.e[0]), (54.4, 2.5, -77.0));
    let ca = ions.get("ca").unwrap();
    assert_eq!(
        (ca.conc_in[0], ca.conc_out[0], ca.valence),
        (5e-5, 2.0, 2.0)
    );
    assert!((ca.e[0] - 132.4579341637009).abs() < 1e-9);
}

#[test]
fn currents_sum_per_ion_and_nernst_follows_written_concentration() {
    let celsius = 22.0;
    let leak = compile("caleak.mod", CA_CURRENT);
    let shell = compile("cashell.mod", CA_SHELL);
    let hh = library::compile("hh", CompileOptions::default()).unwrap();
    let mut ions = IonPools::new(2);
    // Two ca-current instances in compartment 1, one in 0; the shell in both.
    let mut li = leak.instantiate(&[0, 1, 1], &mut ions).unwrap();
    let mut si = shell.instantiate(&[0, 1], &mut ions).unwrap();
    let mut hi = hh.instantiate(&[1], &mut ions).unwrap();
    leak.column_mut(&mut li, "g", 0).unwrap()[2] = 5e-4;
    assert!(ions.get("ca").unwrap().conc_written);
    let (v, area, diam) = ([-20.0, 10.0], [100.0, 100.0], [5.0, 5.0]);
    let dt = 0.025;
    let env = Env {
        t: 0.0,
        dt,
        celsius,
        v: &v,
        area: &area,
        diam: &diam,
    };
    let mut log = EventLog::default();
    leak.init(&mut li, &env, &mut ions, &mut log).unwrap();
    shell.init(&mut si, &env, &mut ions, &mut log).unwrap();
    hh.init(&mut hi, &env, &mut ions, &mut log).unwrap();
    shell.write_ions(&mut si, &env, &mut ions).unwrap();
    ions.update_reversals(celsius);
    // Nernst with NEURON 9's constants, written out here.
    let nernst = |ci: f64, co: f64| {
        1000.0 * 8.31446261815324 * (celsius + 273.15) / (2.0 * 96485.33212331001) * (co / ci).ln()
    };
    let ca = ions.get("ca").unwrap();
    assert_eq!(ca.conc_in, vec![1e-4, 1e-4]);
    assert!((ca.e[0] - nernst(1e-4, 2.0)).abs() < 1e-10);
    // Not written: na keeps its parameter value.
    assert_eq!(ions.get("na").unwrap().e[1], 50.0);
    let mut cai = [1e-4f64, 1e-4];
    for step in 0..40 {
        let t = step as f64 * dt;
        let env = Env {
            t,
            dt,
            celsius,
            v: &v,
            area: &area,
            diam: &diam,
        };
        ions.reset_currents();
        leak.compute_currents(&mut li, &env, &mut ions).unwrap();
        hh.compute_currents(&mut hi, &env, &mut ions).unwrap();
        let eca = ions.get("ca").unwrap().e.clone();
        let want = [2e-4 * (v[0] - eca[0]), (2e-4 + 5e-4) * (v[1] - eca[1])];
        let pool = ions.get("ca").unwrap();
        for k in 0..2 {
            assert!((pool.current[k] - want[k]).abs() < 1e-15, "compartment {k}");
            let g = if k == 0 { 2e-4 } else { 7e-4 };
            assert!((pool.didv[k] - g).abs() < 1e-9);
        }
        // hh's sodium current lands in the na pool of compartment 1 only.
        let na = ions.get("na").unwrap();
        assert_eq!(na.current[0], 0.0);
        assert!((na.current[1] - hh.column(&hi, "ina", 0).unwrap()[0]).abs() < 1e-15);
        shell.advance_state(&mut si, &env, &mut ions).unwrap();
        shell.write_ions(&mut si, &env, &mut ions).unwrap();
        ions.update_reversals(celsius);
        // The shell's cnexp step, by hand: cai' = a + b cai.
        let faraday = 96485.33212331001;
        for k in 0..2 {
            let a = -want[k] * 10000.0 / (2.0 * faraday * 0.1) + 1e-4 / 20.0;
            let b = -1.0 / 20.0;
            cai[k] = -a / b + (cai[k] + a / b) * (b * dt).exp();
            let pool = ions.get("ca").unwrap();
            assert!((pool.conc_in[k] - cai[k]).abs() < 1e-15, "cai {k}");
            assert!((pool.e[k] - nernst(cai[k], 2.0)).abs() < 1e-9);
        }
    }
}

#[test]
fn nernst_limits_as_neuron() {
    use backend_cpu::ions::nernst;
    assert_eq!(nernst(6.3, 2.0, 0.0, 2.0), 1e6);
    assert_eq!(nernst(6.3, 2.0, 1e-4, 0.0), -1e6);
    assert_eq!(nernst(6.3, 0.0, 1e-4, 2.0), 0.0);
    // 58.17 mV per decade for z = 1 at 20 °C, written out.
    let e = nernst(20.0, 1.0, 1.0, 10.0);
    let want = 1000.0 * 8.31446261815324 * 293.15 / 96485.33212331001 * 10f64.ln();
    assert!((e - want).abs() < 1e-12 && (e - 58.17).abs() < 0.01);
}
