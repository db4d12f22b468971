//! `hh` per step (compute_currents + advance_state) for many instances: the block interpreter
//! (exact rates and TABLE) against a hand-written Rust kernel on the same SoA data.
#![allow(clippy::unwrap_used, clippy::needless_range_loop, missing_docs)]

use backend_cpu::{library, CompileOptions, Env, EventLog, IonPools};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const N: usize = 10_000;

struct Hand {
    m: Vec<f64>,
    h: Vec<f64>,
    n: Vec<f64>,
    i: Vec<f64>,
    g: Vec<f64>,
    ina: Vec<f64>,
    ik: Vec<f64>,
}

#[inline]
fn lin(x: f64, y: f64) -> f64 {
    if (x / y).abs() < 1e-6 {
        y * (1.0 - x / y / 2.0)
    } else {
        x / ((x / y).exp() - 1.0)
    }
}

impl Hand {
    fn step(&mut self, v: &[f64], dt: f64, celsius: f64) {
        let (ena, ek) = (50.0, -77.0);
        for k in 0..v.len() {
            let (m, h, n) = (self.m[k], self.h[k], self.n[k]);
            let cur = |vv: f64| {
                let ina = 0.12 * m * m * m * h * (vv - ena);
                let ik = 0.036 * n * n * n * n * (vv - ek);
                (ina, ik, 0.0003 * (vv + 54.3))
            };
            let (a1, b1, c1) = cur(v[k] + 0.001);
            let (a0, b0, c0) = cur(v[k]);
            self.i[k] = a0 + b0 + c0;
            self.g[k] = ((a1 + b1 + c1) - self.i[k]) / 0.001;
            self.ina[k] += a0;
            self.ik[k] += b0;
        }
        let q10 = 3f64.powf((celsius - 6.3) / 10.0);
        for k in 0..v.len() {
            let vv = v[k];
            let upd = |x: f64, a: f64, b: f64| {
                let (inf, tau) = (a / (a + b), 1.0 / (q10 * (a + b)));
                inf + (x - inf) * (-dt / tau).exp()
            };
            self.m[k] = upd(
                self.m[k],
                0.1 * lin(-(vv + 40.0), 10.0),
                4.0 * (-(vv + 65.0) / 18.0).exp(),
            );
            self.h[k] = upd(
                self.h[k],
                0.07 * (-(vv + 65.0) / 20.0).exp(),
                1.0 / (1.0 + (-(vv + 35.0) / 10.0).exp()),
            );
            self.n[k] = upd(
                self.n[k],
                0.01 * lin(-(vv + 55.0), 10.0),
                0.125 * (-(vv + 65.0) / 80.0).exp(),
            );
        }
    }
}

fn bench(c: &mut Criterion) {
    let v: Vec<f64> = (0..N)
        .map(|k| -80.0 + 60.0 * (k as f64 / N as f64))
        .collect();
    let (area, diam) = (vec![500.0; N], vec![10.0; N]);
    let nodes: Vec<usize> = (0..N).collect();
    let env = Env {
        t: 0.0,
        dt: 0.025,
        celsius: 6.3,
        v: &v,
        area: &area,
        diam: &diam,
    };
    let mut group = c.benchmark_group("hh_step");
    group.throughput(Throughput::Elements(N as u64));
    for tables in [false, true] {
        let hh = library::compile("hh", CompileOptions { use_tables: tables }).unwrap();
        let mut ions = IonPools::new(N);
        let mut inst = hh.instantiate(&nodes, &mut ions).unwrap();
        hh.init(&mut inst, &env, &mut ions, &mut EventLog::default())
            .unwrap();
        let label = if tables {
            "interpreter_tables"
        } else {
            "interpreter_exact"
        };
        group.bench_function(BenchmarkId::new(label, N), |b| {
            b.iter(|| {
                hh.compute_currents(&mut inst, &env, &mut ions).unwrap();
                hh.advance_state(&mut inst, &env, &mut ions).unwrap();
            })
        });
    }
    let mut hand = Hand {
        m: vec![0.05; N],
        h: vec![0.6; N],
        n: vec![0.3; N],
        i: vec![0.0; N],
        g: vec![0.0; N],
        ina: vec![0.0; N],
        ik: vec![0.0; N],
    };
    group.bench_function(BenchmarkId::new("hand_written_exact", N), |b| {
        b.iter(|| hand.step(&v, 0.025, 6.3))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
