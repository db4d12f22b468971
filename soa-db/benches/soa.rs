//! soa-db benchmarks (figures for the closing note of the soa-db issue).
//!
//! 1. `column/*`: sum and axpy over a 1,000,000-row f64 column through the database against a
//!    plain `Vec<f64>` — raw column access must cost nothing (target ratio ≤ 1.05).
//! 2. `typed/*`: get + set through typed handles in a loop against `Vec<struct>` field access
//!    (target ratio ≤ 1.5).
//! 3. `lifecycle/*`: create 1,000,000 objects; destroy a random half in one batch.
//! 4. `sort/*`: sort 1,000,000 A by a key plus 1,000,000 B by their pointer into A
//!    (target < 0.5 s on the 2-core reference machine).
//!
//! Run: `cargo bench -p soa-db --bench soa`.

#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use soa_db::{Attribute, Database, Handle};

const N: usize = 1_000_000;

mod common;
use common::{Particle, ParticleAos};

fn column(c: &mut Criterion) {
    let (mut db, cls) = common::xy_columns(N);
    let x_vec = vec![1.5f64; N];
    let mut y_vec = vec![0.5f64; N];
    let mut g = c.benchmark_group("column");
    g.bench_function("sum_db", |b| {
        b.iter(|| black_box(db.column::<f64>(cls, "x").unwrap().iter().sum::<f64>()))
    });
    g.bench_function("sum_vec", |b| {
        b.iter(|| black_box(black_box(&x_vec).iter().sum::<f64>()))
    });
    g.bench_function("axpy_db", |b| {
        b.iter(|| {
            let mut cols = db.columns_mut();
            let x = cols.take_ref::<f64>(cls, "x").unwrap();
            let y = cols.take::<f64>(cls, "y").unwrap();
            for (y, x) in y.iter_mut().zip(x) {
                *y += 1e-9 * x;
            }
        })
    });
    g.bench_function("axpy_vec", |b| {
        b.iter(|| {
            for (y, x) in black_box(&mut y_vec).iter_mut().zip(black_box(&x_vec)) {
                *y += 1e-9 * x;
            }
        })
    });
    g.finish();
}

fn typed(c: &mut Criterion) {
    for (n, label) in [(N, "typed"), (N / 50, "typed_in_cache_2e4")] {
        typed_n(c, n, label);
    }
}

fn typed_n(c: &mut Criterion, n: usize, label: &str) {
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
    let mut g = c.benchmark_group(label);
    g.bench_function("get_set_handles", |b| {
        b.iter(|| {
            for p in &handles {
                let x = p.x(&db).unwrap();
                let v = p.v(&db).unwrap();
                p.set_x(&mut db, x + 0.01 * v).unwrap();
            }
        })
    });
    g.bench_function("get_set_handles_columns_view", |b| {
        b.iter(|| {
            let mut cols = Particle::columns(&mut db).unwrap();
            for &p in &handles {
                let x = cols.x(p).unwrap();
                let v = cols.v(p).unwrap();
                cols.set_x(p, x + 0.01 * v).unwrap();
            }
        })
    });
    g.bench_function("get_set_handles_columns_view_one_lookup", |b| {
        b.iter(|| {
            let cols = Particle::columns(&mut db).unwrap();
            for &p in &handles {
                let r = cols.row(p).unwrap();
                cols.x[r] += 0.01 * cols.v[r];
            }
        })
    });
    g.bench_function("get_set_vec_struct", |b| {
        b.iter(|| {
            let aos = black_box(&mut aos);
            for &i in black_box(&idx) {
                let p = aos[i];
                aos[i].x = p.x + 0.01 * p.v;
            }
        })
    });
    g.finish();
}

fn lifecycle(c: &mut Criterion) {
    let mut g = c.benchmark_group("lifecycle");
    g.sample_size(10);
    let fresh = || {
        let mut db = Database::new();
        let cls = db
            .add_class("C")
            .unwrap()
            .add_attribute(Attribute::new::<f64>("x"))
            .unwrap()
            .add_attribute(Attribute::new::<u32>("n"))
            .unwrap()
            .id();
        (db, cls)
    };
    g.bench_function("create_1e6", |b| {
        b.iter_batched(
            fresh,
            |(mut db, cls)| {
                for _ in 0..N {
                    db.create(cls).unwrap();
                }
                db
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("destroy_random_half_of_1e6", |b| {
        b.iter_batched(
            || {
                let (mut db, cls) = fresh();
                let mut h = db.create_many(cls, N).unwrap();
                h.shuffle(&mut rand::rngs::StdRng::seed_from_u64(1));
                h.truncate(N / 2);
                (db, h)
            },
            |(mut db, h): (Database, Vec<Handle>)| {
                db.destroy_many(&h).unwrap();
                db
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn sort(c: &mut Criterion) {
    let mut g = c.benchmark_group("sort");
    g.sample_size(10);
    g.bench_function("1e6_A_by_key_plus_1e6_B_by_pointer", |b| {
        b.iter_batched(
            || {
                let mut rng = rand::rngs::StdRng::seed_from_u64(7);
                let mut db = Database::new();
                let a = db
                    .add_class("A")
                    .unwrap()
                    .add_attribute(Attribute::new::<f64>("key"))
                    .unwrap()
                    .add_attribute(Attribute::new::<f64>("payload"))
                    .unwrap()
                    .sort_key(&["key"])
                    .unwrap()
                    .id();
                let bcls = db
                    .add_class("B")
                    .unwrap()
                    .add_attribute(Attribute::pointer("a", "A"))
                    .unwrap()
                    .add_attribute(Attribute::new::<f64>("payload"))
                    .unwrap()
                    .sort_key(&["a"])
                    .unwrap()
                    .id();
                db.create_many(a, N).unwrap();
                for k in db.column_mut::<f64>(a, "key").unwrap() {
                    *k = rng.gen();
                }
                let ah = db.handles(a).unwrap();
                for _ in 0..N {
                    let h = db.create(bcls).unwrap();
                    db.set_pointer(h, "a", Some(ah[rng.gen_range(0..N)]))
                        .unwrap();
                }
                db
            },
            |mut db| {
                let r = db.sort().unwrap();
                assert_eq!(r.permutations.len(), 2);
                db
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, column, typed, lifecycle, sort);
criterion_main!(benches);
