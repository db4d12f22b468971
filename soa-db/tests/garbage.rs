//! Bad input never panics and never corrupts state: random calls with wrong names, wrong
//! types, NaN / infinite / huge values, stale handles and handles from another database all
//! end in `Err`, and checked writes never leave a value that `check()` would flag.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use soa_db::{Attribute, Database, Handle, Interpolation, MatrixKind, Playback, Recorder};

const NAMES: &[&str] = &[
    "A", "B", "x", "n", "flag", "arr", "p", "q", "m", "", "nope", "A.x",
];

fn build() -> Database {
    let mut db = Database::new();
    db.add_class("A")
        .unwrap()
        .add_attribute(Attribute::new::<f64>("x").range(-10.0..=10.0))
        .unwrap()
        .add_attribute(Attribute::new::<u8>("n"))
        .unwrap()
        .add_attribute(Attribute::new::<bool>("flag"))
        .unwrap()
        .add_attribute(Attribute::new::<[f32; 2]>("arr"))
        .unwrap()
        .add_class_attribute(Attribute::new::<i32>("q").range(0.0..=5.0))
        .unwrap();
    db.add_class("B")
        .unwrap()
        .add_attribute(Attribute::pointer("p", "A"))
        .unwrap()
        .add_attribute(Attribute::pointer("q", "B").nullable(true))
        .unwrap()
        .add_matrix("m", "A", MatrixKind::Connectivity, "", "")
        .unwrap()
        .sort_key(&["p"])
        .unwrap();
    db
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-f64::INFINITY),
        Just(1e300),
        Just(0.5),
        Just(256.0),
        -20.0..20.0f64,
        (-3..300i32).prop_map(|i| i as f64),
    ]
}

#[derive(Clone, Debug)]
enum Call {
    Create(usize),
    Destroy(usize),
    Set(usize, usize, f64),
    SetArray(usize, usize, Vec<f64>),
    SetPointer(usize, usize, Option<usize>),
    SetClassAttr(usize, usize, f64),
    Column(usize, usize),
    Matrix(usize, Vec<(usize, usize, f64)>),
    Record(usize, usize, usize),
    Play(usize, usize, Vec<f64>),
    Sort,
}

fn call() -> impl Strategy<Value = Call> {
    let i = || 0..64usize;
    prop_oneof![
        i().prop_map(Call::Create),
        i().prop_map(Call::Destroy),
        (i(), i(), value()).prop_map(|(h, a, v)| Call::Set(h, a, v)),
        (i(), i(), proptest::collection::vec(value(), 0..4))
            .prop_map(|(h, a, v)| Call::SetArray(h, a, v)),
        (i(), i(), proptest::option::of(i())).prop_map(|(h, a, t)| Call::SetPointer(h, a, t)),
        (i(), i(), value()).prop_map(|(c, a, v)| Call::SetClassAttr(c, a, v)),
        (i(), i()).prop_map(|(c, a)| Call::Column(c, a)),
        (i(), proptest::collection::vec((i(), i(), value()), 0..4))
            .prop_map(|(c, e)| Call::Matrix(c, e)),
        (i(), i(), i()).prop_map(|(h, a, k)| Call::Record(h, a, k)),
        (i(), i(), proptest::collection::vec(value(), 0..4))
            .prop_map(|(h, a, t)| Call::Play(h, a, t)),
        Just(Call::Sort),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bad_calls_never_panic_or_corrupt(calls in proptest::collection::vec(call(), 1..80)) {
        let mut db = build();
        // Handles from another database (more classes, more slots) are foreign here.
        let mut other = build();
        other.add_class("C").unwrap();
        let c = other.class_id("C").unwrap();
        let mut pool: Vec<Handle> = other.create_many(c, 3).unwrap();
        let a = other.class_id("A").unwrap();
        pool.extend(other.create_many(a, 20).unwrap());
        let classes: Vec<_> = db.class_ids().collect();
        let mut rec = Recorder::new("t", "ms");
        let pick = |pool: &Vec<Handle>, i: usize| pool[i % pool.len()];
        for (step, call) in calls.into_iter().enumerate() {
            match call {
                Call::Create(c) => {
                    if let Ok(h) = db.create(classes[c % classes.len()]) {
                        pool.push(h);
                    }
                }
                Call::Destroy(h) => {
                    let _ = db.destroy(pick(&pool, h));
                }
                Call::Set(h, a, v) => {
                    let _ = db.set(pick(&pool, h), NAMES[a % NAMES.len()], v);
                }
                Call::SetArray(h, a, v) => {
                    let _ = db.set_array(pick(&pool, h), NAMES[a % NAMES.len()], &v);
                }
                Call::SetPointer(h, a, t) => {
                    let t = t.map(|t| pick(&pool, t));
                    let _ = db.set_pointer(pick(&pool, h), NAMES[a % NAMES.len()], t);
                }
                Call::SetClassAttr(c, a, v) => {
                    let _ = db.set_class_attr(classes[c % classes.len()], NAMES[a % NAMES.len()], v);
                }
                Call::Column(c, a) => {
                    let (c, a) = (classes[c % classes.len()], NAMES[a % NAMES.len()]);
                    let _ = db.column::<f64>(c, a);
                    let _ = db.column::<[f32; 2]>(c, a);
                    let _ = db.column_bytes(c, a);
                    let _ = db.column_bytes_mut(c, a).map(|b| b.len());
                    let _ = db.column_mut::<u32>(c, a).map(|s| s.len());
                }
                Call::Matrix(c, e) => {
                    let e: Vec<_> = e.iter().map(|&(r, k, v)| (pick(&pool, r), pick(&pool, k), v)).collect();
                    let _ = db.set_matrix_entries(classes[c % classes.len()], NAMES[(c / 2) % NAMES.len()], &e);
                }
                Call::Record(h, a, k) => {
                    let _ = rec.add_component(&db, pick(&pool, h), NAMES[a % NAMES.len()], k % 3);
                    rec.tick(&db, step as f64);
                }
                Call::Play(h, a, t) => {
                    let n = t.len();
                    if let Ok(p) = Playback::new(pick(&pool, h), NAMES[a % NAMES.len()], t, vec![1.0; n], Interpolation::Linear) {
                        let _ = p.apply(&mut db, 0.5);
                    }
                }
                Call::Sort => {
                    db.sort().unwrap();
                }
            }
        }
        // Only checked writes happened: the only possible violations are required pointers
        // that were never set (B.p starts NULL).
        for v in db.check() {
            prop_assert_eq!((v.class.as_str(), v.attribute.as_str()), ("B", "p"), "{}", v);
        }
        let _ = rec.to_csv_string();
        let _ = db.schema_markdown();
    }
}
