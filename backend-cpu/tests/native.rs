//! The native kernels that stand in for the interpreter (`Compiled::set_native`) give the
//! interpreter's bits.

#![allow(clippy::unwrap_used)]

use backend_cpu::{library, CompileOptions, Env, EventLog, IonPools};

#[test]
fn native_pas_gives_the_interpreters_bits() {
    let native = library::compile("pas", CompileOptions::default()).unwrap();
    let mut interp = native.clone();
    interp.set_native(false);
    assert!(native.is_native() && !interp.is_native());
    // 150 instances (more than two blocks of the interpreter's 64 lanes) on 40 compartments,
    // some sharing one, with varied g and e, and odd voltages (−0, huge, NaN).
    let n = 150;
    let nodes: Vec<usize> = (0..n).map(|k| (k * 7) % 40).collect();
    let mut v: Vec<f64> = (0..40)
        .map(|i| -90.0 + 3.7 * i as f64 + 1e-3 * (i * i) as f64)
        .collect();
    v[3] = -0.0;
    v[5] = 1e300;
    v[7] = f64::NAN;
    let (area, diam) = (vec![500.0; 40], vec![2.0; 40]);
    let env = Env {
        t: 0.0,
        dt: 0.025,
        celsius: 6.3,
        v: &v,
        area: &area,
        diam: &diam,
    };
    let mut out = Vec::new();
    for c in [&native, &interp] {
        let mut ions = IonPools::new(40);
        let mut inst = c.instantiate(&nodes, &mut ions).unwrap();
        c.init(&mut inst, &env, &mut ions, &mut EventLog::default())
            .unwrap();
        for (k, x) in c
            .column_mut(&mut inst, "g", 0)
            .unwrap()
            .iter_mut()
            .enumerate()
        {
            *x = 1e-4 * (1 + k % 13) as f64;
        }
        for (k, x) in c
            .column_mut(&mut inst, "e", 0)
            .unwrap()
            .iter_mut()
            .enumerate()
        {
            *x = -75.0 + (k % 11) as f64;
        }
        c.compute_currents(&mut inst, &env, &mut ions).unwrap();
        c.advance_state(&mut inst, &env, &mut ions).unwrap();
        let col: Vec<f64> = c.column(&inst, "i", 0).unwrap().to_vec();
        out.push((inst.i().to_vec(), inst.g().to_vec(), col));
    }
    let bits = |x: &[f64]| x.iter().map(|y| y.to_bits()).collect::<Vec<_>>();
    for (what, a, b) in [
        ("i", &out[0].0, &out[1].0),
        ("g", &out[0].1, &out[1].1),
        ("column i", &out[0].2, &out[1].2),
    ] {
        assert_eq!(a.len(), n, "{what}");
        assert_eq!(bits(a), bits(b), "{what}");
    }
}

/// `hh` (with its TABLE): currents, ion pools, every column and the states over a few steps,
/// with a temperature change between steps (the table is rebuilt), at odd voltages.
#[test]
fn native_hh_gives_the_interpreters_bits() {
    let native = library::compile("hh", CompileOptions::default()).unwrap();
    let mut interp = native.clone();
    interp.set_native(false);
    assert!(native.is_native() && !interp.is_native());
    let n = 70;
    let nodes: Vec<usize> = (0..n).collect();
    let (area, diam) = (vec![500.0; n], vec![2.0; n]);
    let mut results = Vec::new();
    for c in [&native, &interp] {
        let mut ions = IonPools::new(n);
        let mut inst = c.instantiate(&nodes, &mut ions).unwrap();
        let v0: Vec<f64> = (0..n).map(|i| -80.0 + 1.9 * i as f64).collect();
        let env = Env {
            t: 0.0,
            dt: 0.025,
            celsius: 6.3,
            v: &v0,
            area: &area,
            diam: &diam,
        };
        c.init(&mut inst, &env, &mut ions, &mut EventLog::default())
            .unwrap();
        for (k, x) in c
            .column_mut(&mut inst, "gnabar", 0)
            .unwrap()
            .iter_mut()
            .enumerate()
        {
            *x = 0.12 + 0.001 * k as f64;
        }
        let mut trace = Vec::new();
        for step in 0..6 {
            let mut v: Vec<f64> = (0..n)
                .map(|i| -95.0 + 2.9 * i as f64 + 7.3 * step as f64)
                .collect();
            if step == 2 {
                v[1] = -0.0;
                v[2] = 250.0;
                v[3] = -250.0;
            }
            let celsius = if step < 3 { 6.3 } else { 18.5 };
            let env = Env {
                t: 0.025 * step as f64,
                dt: 0.025,
                celsius,
                v: &v,
                area: &area,
                diam: &diam,
            };
            ions.reset_currents();
            c.compute_currents(&mut inst, &env, &mut ions).unwrap();
            c.advance_state(&mut inst, &env, &mut ions).unwrap();
            let mut snap: Vec<f64> = inst.i().to_vec();
            snap.extend(inst.g());
            for col in inst.columns() {
                snap.extend(col);
            }
            for p in ions.pools() {
                snap.extend(&p.current);
                snap.extend(&p.didv);
            }
            trace.push(snap);
        }
        results.push(trace);
    }
    for (step, (a, b)) in results[0].iter().zip(&results[1]).enumerate() {
        assert_eq!(a.len(), b.len());
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            assert_eq!(
                x.to_bits(),
                y.to_bits(),
                "step {step} value {k}: {x} vs {y}"
            );
        }
    }
}
