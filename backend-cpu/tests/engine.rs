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

fn test_mechanism(file: &str) -> backend_cpu::Compiled {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let src = std::fs::read_to_string(&path).unwrap();
    let m = library::lower(file, &src, true).unwrap();
    backend_cpu::Compiled::new(&m, CompileOptions::default()).unwrap()
}

#[test]
fn artificial_cell_outputs_reach_their_targets_and_connections_keep_their_arguments() {
    let ticker = Placement {
        mechanism: test_mechanism("ticker.mod"),
        nodes: vec![0],
        parameters: vec![],
    };
    let counters = Placement {
        mechanism: test_mechanism("counter.mod"),
        nodes: vec![0, 0],
        parameters: vec![],
    };
    let var = |instance: usize, name: &str| Probe::Variable {
        placement: 2,
        instance,
        name: name.into(),
        elem: 0,
    };
    let probes = vec![
        var(0, "last_count"),
        var(0, "total"),
        var(0, "events"),
        var(1, "last_count"),
        var(1, "total"),
    ];
    let mut e = Engine::new(
        &cable(),
        vec![pas(), ticker, counters],
        vec![],
        probes,
        settings(Method::BackwardEuler),
    )
    .unwrap();
    let target = |instance: usize, weight: f64, delay_ms: f64| SpikeTarget {
        block: 0,
        placement: 2,
        instance,
        weight,
        delay_ms,
    };
    let index = e
        .connect_output(1, 0, vec![target(0, 0.5, 1.0), target(1, 1.0, 2.0)])
        .unwrap();
    assert_eq!(
        index, 0,
        "no detectors: the first output source is spike index 0"
    );
    e.add_events(2, 0, &[20.0, 21.0], 2.0).unwrap();
    assert!(e.connect_output(1, 5, vec![]).is_err());
    assert!(e.connect_output(1, 0, vec![target(7, 1.0, 1.0)]).is_err());
    let rec = e.run(30.0, |_| {}).unwrap();
    // The ticker fires at 1, 6 and 11 ms (3 events, every 5 ms from 1 ms).
    let times: Vec<f64> = rec.spikes.iter().map(|s| s.1).collect();
    assert_eq!(
        rec.spikes.iter().map(|s| s.0).collect::<Vec<_>>(),
        [0, 0, 0]
    );
    for (t, want) in times.iter().zip([1.0, 6.0, 11.0]) {
        assert!((t - want).abs() < 1e-9, "{times:?}");
    }
    let last = |p: usize| *rec.series[p].last().unwrap();
    // Counter 0: three ticker events (w 0.5) on one connection, then two stream events (w 2)
    // on another, whose count restarts from its NET_RECEIVE INITIAL (n = 10): 11, 12.
    assert_eq!(last(2), 5.0);
    assert_eq!(last(1), 3.0 * 0.5 + 2.0 * 2.0);
    assert_eq!(last(0), 12.0);
    // Counter 1: three ticker events on its own connection: n = 11, 12, 13.
    assert_eq!(last(3), 13.0);
    assert_eq!(last(4), 3.0);
    // Delivery times: the first event reaches counter 0 at 1 + 1 ms and counter 1 at 1 + 2 ms.
    let first = |p: usize| {
        let k = rec.series[p].iter().position(|&x| x > 0.0).unwrap();
        rec.t_ms[k]
    };
    assert!((first(2) - 2.0).abs() < 0.03, "{}", first(2));
    assert!((first(4) - 3.0).abs() < 0.03, "{}", first(4));
}
