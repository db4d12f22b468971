//! The engine refuses what it cannot do or what designates nothing, with an error that says
//! so; and a passive compartment relaxes as the closed form says.

#![allow(clippy::unwrap_used)]

use backend_cpu::{
    library, Cable, CompileOptions, Detector, Engine, Error, Method, Placement, Probe, Settings,
    SpikeTarget,
};

fn cable() -> Cable {
    // One 20 × 20 µm compartment.
    let area = std::f64::consts::PI * 400.0;
    Cable {
        parent: vec![None],
        capacitance_nf: vec![area * 1e-5],
        axial_us: vec![0.0],
        area_um2: vec![area],
        diam_um: vec![20.0],
    }
}

fn settings(method: Method) -> Settings {
    Settings {
        dt_ms: 0.025,
        celsius: 6.3,
        v_init_mv: -65.0,
        method,
    }
}

fn pas() -> Placement {
    Placement {
        mechanism: library::compile("pas", CompileOptions::default()).unwrap(),
        nodes: vec![0],
        parameters: vec![("g".into(), 1e-4), ("e".into(), -70.0)],
    }
}

#[test]
fn a_passive_compartment_relaxes_as_backward_euler_says() {
    let mut e = Engine::new(
        &cable(),
        vec![pas()],
        vec![],
        vec![Probe::Voltage { node: 0 }],
        settings(Method::BackwardEuler),
    )
    .unwrap();
    let rec = e.run(10.0, |_| {}).unwrap();
    // τ = cm/g = 10 ms; backward Euler: v_{n+1} − e = (v_n − e)/(1 + dt/τ).
    let k: f64 = 1.0 / (1.0 + 0.025 / 10.0);
    for (n, v) in rec.series[0].iter().enumerate() {
        let want = -70.0 + 5.0 * k.powi(n as i32);
        assert!((v - want).abs() < 1e-12, "step {n}: {v} vs {want}");
    }
    assert_eq!(rec.t_ms.len(), 401);
}

#[test]
fn a_passive_compartment_relaxes_exactly_with_the_exact_method() {
    let mut e = Engine::new(
        &cable(),
        vec![pas()],
        vec![],
        vec![Probe::Voltage { node: 0 }],
        settings(Method::Exact),
    )
    .unwrap();
    let rec = e.run(10.0, |_| {}).unwrap();
    // τ = cm/g = 10 ms: v(t) − e = 5·e^{−t/τ}, to rounding.
    for (t, v) in rec.t_ms.iter().zip(&rec.series[0]) {
        let want = -70.0 + 5.0 * (-t / 10.0).exp();
        assert!((v - want).abs() < 1e-12, "t = {t}: {v} vs {want}");
    }
}

#[test]
fn dangling_references_are_errors() {
    let mut p = pas();
    p.nodes = vec![3];
    assert!(matches!(
        Engine::new(
            &cable(),
            vec![p],
            vec![],
            vec![],
            settings(Method::BackwardEuler)
        ),
        Err(Error::Engine(_))
    ));
    let det = Detector {
        node: 0,
        threshold_mv: 0.0,
        targets: vec![SpikeTarget {
            block: 0,
            placement: 0,
            instance: 0,
            weight: 0.1,
            delay_ms: 0.0,
        }],
    };
    let e = Engine::new(
        &cable(),
        vec![pas()],
        vec![det],
        vec![],
        settings(Method::BackwardEuler),
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("delay"), "{e}");
    let probe = Probe::Variable {
        placement: 0,
        instance: 0,
        name: "nope".into(),
        elem: 0,
    };
    assert!(Engine::new(
        &cable(),
        vec![pas()],
        vec![],
        vec![probe],
        settings(Method::BackwardEuler)
    )
    .is_err());
    let mut e = Engine::new(
        &cable(),
        vec![pas()],
        vec![],
        vec![],
        settings(Method::BackwardEuler),
    )
    .unwrap();
    assert!(e.add_event(0, 5, 1.0, 0.1).is_err());
    assert!(e.add_event(0, 0, f64::NAN, 0.1).is_err());
}
