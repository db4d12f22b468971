//! Model-based properties: after any random sequence of create / destroy / set / sort /
//! matrix updates, every live handle reads what was written through it, every pointer
//! designates the same logical object as before, matrices follow their objects, and `check()`
//! finds exactly the planted NaN, NULL and out-of-range values.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use soa_db::{Attribute, ClassId, Database, Handle, MatrixKind, Row};

/// A: sorted by `key`. B: `owner` (required, cascade) and `link` (nullable) into A, sorted
/// by `link` then `val`. C: `parent` (required) into B. B × A coupling matrix.
struct Fixture {
    db: Database,
    a: ClassId,
    b: ClassId,
    c: ClassId,
}

fn fixture() -> Fixture {
    let mut db = Database::new();
    let a = db
        .add_class("A")
        .unwrap()
        .add_attribute(Attribute::new::<f64>("key").range(-1000.0..=1000.0))
        .unwrap()
        .sort_key(&["key"])
        .unwrap()
        .id();
    let b = db
        .add_class("B")
        .unwrap()
        .add_attribute(Attribute::new::<i32>("val"))
        .unwrap()
        .add_attribute(Attribute::pointer("owner", "A"))
        .unwrap()
        .add_attribute(Attribute::pointer("link", "A").nullable(true))
        .unwrap()
        .add_matrix("coupling", "A", MatrixKind::Real, "uS", "")
        .unwrap()
        .sort_key(&["link", "val"])
        .unwrap()
        .id();
    let c = db
        .add_class("C")
        .unwrap()
        .add_attribute(Attribute::new::<f32>("w").range(0.0..=1.0))
        .unwrap()
        .add_attribute(Attribute::pointer("parent", "B"))
        .unwrap()
        .id();
    Fixture { db, a, b, c }
}

#[derive(Clone, Debug)]
enum Op {
    CreateA(f64),
    CreateB {
        owner: usize,
        link: Option<usize>,
        val: i32,
    },
    CreateC {
        parent: usize,
        w: f32,
    },
    SetKey(usize, f64),
    SetLink(usize, Option<usize>),
    Destroy(Vec<(u8, usize)>),
    SetMatrix(Vec<(usize, usize, f64)>),
    Sort,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (-100.0..100.0f64).prop_map(Op::CreateA),
        3 => (any::<usize>(), proptest::option::of(any::<usize>()), -50..50i32)
            .prop_map(|(owner, link, val)| Op::CreateB { owner, link, val }),
        2 => (any::<usize>(), 0.0..1.0f32).prop_map(|(parent, w)| Op::CreateC { parent, w }),
        2 => (any::<usize>(), -100.0..100.0f64).prop_map(|(i, k)| Op::SetKey(i, k)),
        2 => (any::<usize>(), proptest::option::of(any::<usize>())).prop_map(|(i, l)| Op::SetLink(i, l)),
        2 => proptest::collection::vec((0..3u8, any::<usize>()), 1..4).prop_map(Op::Destroy),
        1 => proptest::collection::vec((any::<usize>(), any::<usize>(), -5.0..5.0f64), 0..6)
            .prop_map(Op::SetMatrix),
        2 => Just(Op::Sort),
    ]
}

/// What the database should hold, by handle.
#[derive(Default)]
struct Model {
    a: BTreeMap<Handle, f64>,
    b: BTreeMap<Handle, (i32, Handle, Option<Handle>)>,
    c: BTreeMap<Handle, (f32, Handle)>,
    coupling: BTreeMap<(Handle, Handle), f64>,
    dead: Vec<Handle>,
}

fn pick<T: Copy>(m: &BTreeMap<Handle, T>, i: usize) -> Option<Handle> {
    (!m.is_empty()).then(|| *m.keys().nth(i % m.len()).unwrap())
}

impl Model {
    fn destroy(&mut self, mut kill: BTreeSet<Handle>) {
        // Cascade: B whose owner dies, C whose parent dies; links into dead A become None.
        loop {
            let before = kill.len();
            for (&h, &(_, owner, _)) in &self.b {
                if kill.contains(&owner) {
                    kill.insert(h);
                }
            }
            for (&h, &(_, parent)) in &self.c {
                if kill.contains(&parent) {
                    kill.insert(h);
                }
            }
            if kill.len() == before {
                break;
            }
        }
        for h in &kill {
            self.a.remove(h);
            self.b.remove(h);
            self.c.remove(h);
        }
        for v in self.b.values_mut() {
            if v.2.is_some_and(|l| kill.contains(&l)) {
                v.2 = None;
            }
        }
        self.coupling
            .retain(|(r, c), _| !kill.contains(r) && !kill.contains(c));
        self.dead.extend(kill);
    }
}

fn apply(f: &mut Fixture, m: &mut Model, op: &Op) {
    let db = &mut f.db;
    match op {
        Op::CreateA(k) => {
            let h = db.create(f.a).unwrap();
            db.set(h, "key", *k).unwrap();
            m.a.insert(h, *k);
        }
        Op::CreateB { owner, link, val } => {
            let Some(owner) = pick(&m.a, *owner) else {
                return;
            };
            let link = link.and_then(|l| pick(&m.a, l));
            let h = db.create(f.b).unwrap();
            db.set(h, "val", *val as f64).unwrap();
            db.set_pointer(h, "owner", Some(owner)).unwrap();
            db.set_pointer(h, "link", link).unwrap();
            m.b.insert(h, (*val, owner, link));
        }
        Op::CreateC { parent, w } => {
            let Some(parent) = pick(&m.b, *parent) else {
                return;
            };
            let h = db.create(f.c).unwrap();
            db.set(h, "w", *w as f64).unwrap();
            db.set_pointer(h, "parent", Some(parent)).unwrap();
            m.c.insert(h, (*w, parent));
        }
        Op::SetKey(i, k) => {
            let Some(h) = pick(&m.a, *i) else { return };
            db.set(h, "key", *k).unwrap();
            m.a.insert(h, *k);
        }
        Op::SetLink(i, l) => {
            let Some(h) = pick(&m.b, *i) else { return };
            let link = l.and_then(|l| pick(&m.a, l));
            db.set_pointer(h, "link", link).unwrap();
            m.b.get_mut(&h).unwrap().2 = link;
        }
        Op::Destroy(list) => {
            let kill: BTreeSet<Handle> = list
                .iter()
                .filter_map(|&(class, i)| match class {
                    0 => pick(&m.a, i),
                    1 => pick(&m.b, i),
                    _ => pick(&m.c, i),
                })
                .collect();
            let handles: Vec<Handle> = kill.iter().copied().collect();
            let before = m.a.len() + m.b.len() + m.c.len();
            m.destroy(kill);
            let n = db.destroy_many(&handles).unwrap();
            assert_eq!(n, before - (m.a.len() + m.b.len() + m.c.len()));
        }
        Op::SetMatrix(entries) => {
            let mut triplets = Vec::new();
            m.coupling.clear();
            for &(r, c, v) in entries {
                if let (Some(r), Some(c)) = (pick(&m.b, r), pick(&m.a, c)) {
                    triplets.push((r, c, v));
                    *m.coupling.entry((r, c)).or_insert(0.0) += v;
                }
            }
            db.set_matrix_entries(f.b, "coupling", &triplets).unwrap();
        }
        Op::Sort => {
            db.sort().unwrap();
            // Sorted, and a second sort moves nothing.
            let keys = db.column::<f64>(f.a, "key").unwrap();
            assert!(keys.windows(2).all(|w| w[0] <= w[1]));
            let link = db.column::<u32>(f.b, "link").unwrap();
            let val = db.column::<i32>(f.b, "val").unwrap();
            assert!((1..link.len()).all(|i| (link[i - 1], val[i - 1]) <= (link[i], val[i])));
            assert!(db.sort().unwrap().is_noop());
        }
    }
}

fn verify(f: &Fixture, m: &Model) {
    let db = &f.db;
    assert_eq!(db.len(f.a).unwrap(), m.a.len());
    assert_eq!(db.len(f.b).unwrap(), m.b.len());
    assert_eq!(db.len(f.c).unwrap(), m.c.len());
    for (&h, &k) in &m.a {
        assert_eq!(db.get(h, "key").unwrap(), k);
    }
    for (&h, &(val, owner, link)) in &m.b {
        assert_eq!(db.get(h, "val").unwrap(), val as f64);
        assert_eq!(db.get_pointer(h, "owner").unwrap(), Some(owner));
        assert_eq!(db.get_pointer(h, "link").unwrap(), link);
    }
    for (&h, &(w, parent)) in &m.c {
        assert_eq!(db.get(h, "w").unwrap(), w as f64);
        assert_eq!(db.get_pointer(h, "parent").unwrap(), Some(parent));
    }
    for h in &m.dead {
        assert!(!db.is_live(*h));
    }
    let mat = db.matrix(f.b, "coupling").unwrap();
    assert_eq!(mat.shape(), (m.b.len(), m.a.len()));
    let mut got = BTreeMap::new();
    for (v, (r, c)) in mat.iter() {
        let r = db.handle_at(f.b, Row(r as u32)).unwrap();
        let c = db.handle_at(f.a, Row(c as u32)).unwrap();
        got.insert((r, c), *v);
    }
    assert_eq!(got, m.coupling);
    assert!(db.check().is_empty(), "{:?}", db.check());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn handles_values_pointers_and_matrices_survive_any_sequence(ops in proptest::collection::vec(op(), 1..60)) {
        let mut f = fixture();
        let mut m = Model::default();
        for op in &ops {
            apply(&mut f, &mut m, op);
            verify(&f, &m);
        }
    }

    #[test]
    fn check_finds_exactly_the_planted_problems(
        ops in proptest::collection::vec(op(), 1..40),
        plants in proptest::collection::vec((0..4u8, any::<usize>()), 0..8),
    ) {
        let mut f = fixture();
        let mut m = Model::default();
        for op in &ops {
            apply(&mut f, &mut m, op);
        }
        let mut want = BTreeSet::new();
        for (kind, i) in plants {
            match kind {
                0 | 1 if !m.a.is_empty() => {
                    let row = i % m.a.len();
                    let h = f.db.handle_at(f.a, Row(row as u32)).unwrap();
                    let value = if kind == 0 { f64::NAN } else { 5000.0 };
                    f.db.column_mut::<f64>(f.a, "key").unwrap()[row] = value;
                    want.insert(("A".to_string(), "key".to_string(), h));
                }
                2 if !m.c.is_empty() => {
                    let row = i % m.c.len();
                    let h = f.db.handle_at(f.c, Row(row as u32)).unwrap();
                    f.db.column_mut::<f32>(f.c, "w").unwrap()[row] = -0.5;
                    want.insert(("C".to_string(), "w".to_string(), h));
                }
                3 => {
                    // A new C whose required parent is never set: a planted NULL.
                    let h = f.db.create(f.c).unwrap();
                    want.insert(("C".to_string(), "parent".to_string(), h));
                }
                _ => {}
            }
        }
        let got: BTreeSet<(String, String, Handle)> = f
            .db
            .check()
            .into_iter()
            .map(|v| (v.class, v.attribute, v.handle.unwrap()))
            .collect();
        prop_assert_eq!(got, want);
    }
}
