//! Interleaved ratio benchmark for the soa-db issue's targets: each round times the database
//! path and its baseline back to back, so load from other processes hits both alike; the
//! figure is the median over rounds of the per-round ratio.
//!
//! Run: `cargo bench -p soa-db --bench ratios` (prints one line per comparison).

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use soa_db::Database;

const N: usize = 1_000_000;
const ROUNDS: usize = 41;

mod common;
use common::{Particle, ParticleAos};

fn time(mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn compare(name: &str, mut subject: impl FnMut(), mut baseline: impl FnMut()) {
    subject();
    baseline();
    let (mut s, mut b, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let ts = time(&mut subject);
        let tb = time(&mut baseline);
        s.push(ts);
        b.push(tb);
        r.push(ts / tb);
    }
    println!(
        "{name}: subject median {:.1} µs, baseline median {:.1} µs, median ratio {:.3} ({ROUNDS} interleaved rounds)",
        median(s) * 1e6,
        median(b) * 1e6,
        median(r)
    );
}

fn main() {
    // 1. sum and axpy over a 1e6-row f64 column vs Vec<f64>.
    let (db, cls) = common::xy_columns(N);
    let x_vec = vec![1.5f64; N];
    let mut y_vec = vec![0.5f64; N];
    let db_ref = &db;
    compare(
        "sum over 1e6 f64: database column / Vec<f64>",
        || {
            black_box(db_ref.column::<f64>(cls, "x").unwrap().iter().sum::<f64>());
        },
        || {
            black_box(black_box(&x_vec).iter().sum::<f64>());
        },
    );
    let mut db2 = db.clone();
    compare(
        "axpy over 1e6 f64: database columns / Vec<f64>",
        || {
            let mut cols = db2.columns_mut();
            let x = cols.take_ref::<f64>(cls, "x").unwrap();
            let y = cols.take::<f64>(cls, "y").unwrap();
            for (y, x) in y.iter_mut().zip(x) {
                *y += 1e-9 * x;
            }
        },
        || {
            for (y, x) in black_box(&mut y_vec).iter_mut().zip(black_box(&x_vec)) {
                *y += 1e-9 * x;
            }
        },
    );

    // 2. typed handle get/set in a loop vs Vec<struct> field access.
    for n in [N, N / 50] {
        let mut db = Database::new();
        let handles: Vec<Particle> = (0..n).map(|_| Particle::new(&mut db).unwrap()).collect();
        let mut aos = vec![
            ParticleAos {
                x: 0.0,
                v: 1.0,
                m: 1.0
            };
            n
        ];
        let idx: Vec<usize> = (0..n).collect();
        let aos_ptr = &mut aos;
        let mut baseline = || {
            let aos = black_box(&mut *aos_ptr);
            for &i in black_box(&idx) {
                let p = aos[i];
                aos[i].x = p.x + 0.01 * p.v;
            }
        };
        let mut subject = || {
            for p in &handles {
                let x = p.x(&db).unwrap();
                let v = p.v(&db).unwrap();
                p.set_x(&mut db, x + 0.01 * v).unwrap();
            }
        };
        compare(
            &format!("typed get/set via Database, {n} objects: handles / Vec<struct>"),
            &mut subject,
            &mut baseline,
        );
        let mut db3 = Database::new();
        let handles3: Vec<Particle> = (0..n).map(|_| Particle::new(&mut db3).unwrap()).collect();
        compare(
            &format!("typed get/set via ParticleColumns, {n} objects: handles / Vec<struct>"),
            || {
                let mut cols = Particle::columns(&mut db3).unwrap();
                for &p in &handles3 {
                    let x = cols.x(p).unwrap();
                    let v = cols.v(p).unwrap();
                    cols.set_x(p, x + 0.01 * v).unwrap();
                }
            },
            &mut baseline,
        );
        compare(
            &format!("typed get/set via ParticleColumns, row resolved once per object, {n} objects: handles / Vec<struct>"),
            || {
                let cols = Particle::columns(&mut db3).unwrap();
                for &p in &handles3 {
                    let r = cols.row(p).unwrap();
                    cols.x[r] += 0.01 * cols.v[r];
                }
            },
            &mut baseline,
        );
    }
}
