//! Kinetic propagators: ns per instance per step of the tabulated propagator (10⁴ instances,
//! inputs spread over the axis) for the HH m gate, Nav1.3 and AMPA13 at dt 0.1 ms, target 1e-4.
//!
//! Motivation: NEUWON reports 30–75 ns (Nav1.1), 125–290 ns (AMPA) per instance-step.
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use integrate::testing::models;
use integrate::*;

fn kinetic(cr: &mut Criterion) {
    let v_axis = InputAxis::Linear {
        min: -100.0,
        max: 100.0,
    };
    let cases = vec![
        ("hh_m_gate", models::hh_m_gate().unwrap(), v_axis),
        ("nav13", models::nav13(37.0).unwrap(), v_axis),
        (
            "ampa13",
            models::ampa13(37.0).unwrap(),
            InputAxis::Log { max: 1000.0 },
        ),
    ];
    let mut group = cr.benchmark_group("kinetic_table");
    group.sample_size(20);
    let inst = 10_000;
    for (name, s, axis) in cases {
        let (t, _) = KineticTable::build(&s, 0.1, &[axis], 1e-4).unwrap();
        let n = s.n_states();
        let u: Vec<f64> = (0..inst)
            .map(|i| {
                let f = (i as f64 * 0.618_033_988_7).fract();
                match axis {
                    InputAxis::Linear { min, max } => min + f * (max - min),
                    InputAxis::Log { max } => (max + 1.0).powf(f) - 1.0,
                }
            })
            .collect();
        let mut x = vec![1.0 / n as f64; n * inst];
        group.throughput(Throughput::Elements(inst as u64));
        group.bench_function(name, |b| b.iter(|| t.advance(&u, &mut x).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, kinetic);
criterion_main!(benches);
