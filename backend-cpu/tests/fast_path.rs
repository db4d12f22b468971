//! The engine's fast path (native `hh`, `pas`, `IClamp` fused with the cable solve) gives the
//! generic interpreter path's answers within 1e-9 relative, and is not taken where it could not.

#![allow(clippy::unwrap_used)]

use backend_cpu::{
    library, set_simd_limit, simd, Cable, CompileOptions, Detector, Engine, Method, Placement,
    Probe, Settings, Simd,
};

/// A branched cable: a zero-area root node, a 10-compartment trunk, two 10-compartment
/// branches (from compartments 5 and 10). 31 compartments: the 8-wide kernels and their
/// scalar tail both run.
fn cable() -> Cable {
    let n = 31;
    let mut parent = vec![None];
    for i in 1..n {
        parent.push(Some(match i {
            11 => 5,
            21 => 10,
            _ => i - 1,
        }));
    }
    let area = |i: usize| {
        if i == 0 {
            0.0
        } else {
            std::f64::consts::PI * 2.0 * 20.0 * (1.0 + 0.01 * i as f64)
        }
    };
    Cable {
        parent,
        capacitance_nf: (0..n).map(|i| area(i) * 1e-5).collect(),
        axial_us: (0..n)
            .map(|i| if i == 0 { 0.0 } else { 0.8 + 0.01 * i as f64 })
            .collect(),
        area_um2: (0..n).map(area).collect(),
        diam_um: vec![2.0; n],
    }
}

fn placements(extra: Option<&str>) -> Vec<Placement> {
    let opts = CompileOptions::default();
    let mut p = vec![
        Placement {
            mechanism: library::compile("hh", opts).unwrap(),
            nodes: (1..=15).collect(),
            parameters: vec![("gnabar".into(), 0.15), ("gl".into(), 0.0004)],
        },
        Placement {
            mechanism: library::compile("pas", opts).unwrap(),
            nodes: (12..31).collect(),
            parameters: vec![("g".into(), 2e-4), ("e".into(), -68.0)],
        },
    ];
    if let Some(name) = extra {
        p.push(Placement {
            mechanism: library::compile(name, opts).unwrap(),
            nodes: vec![20],
            parameters: vec![],
        });
    }
    // Two clamps on one compartment (summed in placement order) and one elsewhere.
    for (node, amp, del) in [(3, 0.3, 1.0), (3, 0.1, 5.0), (25, 0.03, 2.0)] {
        p.push(Placement {
            mechanism: library::compile("IClamp", opts).unwrap(),
            nodes: vec![node],
            parameters: vec![
                ("del".into(), del),
                ("dur".into(), 30.0),
                ("amp".into(), amp),
            ],
        });
    }
    p
}

fn probes() -> Vec<Probe> {
    let mut p: Vec<Probe> = [0, 3, 10, 15, 20, 30]
        .into_iter()
        .map(|node| Probe::Voltage { node })
        .collect();
    for name in ["m", "h", "n"] {
        p.push(Probe::Variable {
            placement: 0,
            instance: 2,
            name: name.into(),
            elem: 0,
        });
    }
    p.push(Probe::Variable {
        placement: 2,
        instance: 0,
        name: "i".into(),
        elem: 0,
    });
    p
}

/// Whether a backward-Euler engine with placements `pl` (no detectors, no probes) takes the
/// fast path.
fn takes_fast_path(pl: Vec<Placement>) -> bool {
    let settings = Settings {
        dt_ms: 0.025,
        celsius: 6.3,
        v_init_mv: -65.0,
        method: Method::BackwardEuler,
    };
    Engine::new(&cable(), pl, vec![], vec![], settings)
        .unwrap()
        .fast_path_active()
}

fn engine(method: Method, extra: Option<&str>, probes: Vec<Probe>) -> Engine {
    Engine::new(
        &cable(),
        placements(extra),
        vec![Detector {
            node: 3,
            threshold_mv: -20.0,
            targets: vec![],
        }],
        probes,
        Settings {
            dt_ms: 0.025,
            celsius: 16.3,
            v_init_mv: -65.0,
            method,
        },
    )
    .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Every kernel level this CPU has (AVX-512, AVX2 + FMA, baseline), one after the other. The
/// cap is process-wide; other tests of this file running meanwhile do not depend on it.
#[test]
fn fast_path_gives_the_generic_answers() {
    let best = simd::detected();
    for level in [Simd::Avx512, Simd::Avx2, Simd::Baseline] {
        if level > best {
            eprintln!("fast_path: this CPU has no {level:?}; that kernel is not checked here");
            continue;
        }
        set_simd_limit(Some(level));
        assert_eq!(simd::simd(), level);
        same_answers(level);
    }
    set_simd_limit(None);
}

fn same_answers(level: Simd) {
    for method in [Method::BackwardEuler, Method::CrankNicolson] {
        let method_name = format!("{method:?} with {level:?}");
        let mut fast = engine(method, None, probes());
        let mut slow = engine(method, None, probes());
        slow.set_fast_path(false).unwrap();
        assert!(fast.fast_path_active(), "{method_name}");
        assert!(!slow.fast_path_active());
        let a = fast.run(40.0, |_| {}).unwrap();
        let b = slow.run(40.0, |_| {}).unwrap();
        assert!(b.spikes.len() >= 2, "the test should spike: {:?}", b.spikes);
        assert_eq!(a.spikes.len(), b.spikes.len(), "{method_name}");
        for (x, y) in a.spikes.iter().zip(&b.spikes) {
            assert!(
                x.0 == y.0 && close(x.1, y.1),
                "{method_name}: {x:?} vs {y:?}"
            );
        }
        for (k, (sa, sb)) in a.series.iter().zip(&b.series).enumerate() {
            for (n, (x, y)) in sa.iter().zip(sb).enumerate() {
                assert!(
                    close(*x, *y),
                    "{method_name} probe {k} sample {n}: {x} vs {y}"
                );
            }
        }
        // Every compartment's v, from the fast path's own order.
        for (x, y) in fast.voltages().iter().zip(slow.voltages().iter()) {
            assert!(close(*x, *y), "{method_name} voltages: {x} vs {y}");
        }
        // Switching paths mid-run keeps the state.
        fast.set_fast_path(false).unwrap();
        slow.set_fast_path(true).unwrap();
        for _ in 0..200 {
            fast.step().unwrap();
            slow.step().unwrap();
        }
        for (x, y) in fast.voltages().iter().zip(slow.voltages().iter()) {
            assert!(close(*x, *y), "{method_name} after switching: {x} vs {y}");
        }
    }
}

#[test]
fn fast_path_is_not_taken_where_it_would_change_answers() {
    // A mechanism without a native kernel.
    let e = engine(Method::BackwardEuler, Some("ExpSyn"), probes());
    assert!(!e.fast_path_active());
    // A probe on a variable the native kernel does not keep.
    let mut p = probes();
    p.push(Probe::Variable {
        placement: 0,
        instance: 0,
        name: "ina".into(),
        elem: 0,
    });
    assert!(!engine(Method::BackwardEuler, None, p).fast_path_active());
    // No hh: pas and IClamps alone stay on the generic path (bit for bit as before).
    let pl: Vec<Placement> = placements(None).into_iter().skip(1).collect();
    assert!(!takes_fast_path(pl));
    // hh with exact rates (no TABLE).
    let mut pl = placements(None);
    pl[0].mechanism = library::compile("hh", CompileOptions { use_tables: false }).unwrap();
    assert!(!takes_fast_path(pl));
}
