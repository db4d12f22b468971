//! Behaviour of the dynamic API: declarations, values, errors, pointers, destruction, sorting,
//! matrices, checks, recording, raw access.

#![allow(clippy::unwrap_used)]

use soa_db::{
    Attribute, ClassId, Database, Error, Initial, Interpolation, MatrixKind, Playback, Reason,
    Recorder, Row, NULL,
};

fn neuron_db() -> (Database, ClassId) {
    let mut db = Database::new();
    let id = db
        .add_class("Neuron")
        .unwrap()
        .add_attribute(
            Attribute::new::<f64>("voltage")
                .initial(-70.0)
                .units("mV")
                .doc("Membrane potential")
                .range(-200.0..=200.0),
        )
        .unwrap()
        .add_attribute(Attribute::new::<u32>("spikes"))
        .unwrap()
        .add_attribute(Attribute::new::<[f32; 3]>("gates").initial_array(&[0.1, 0.2, 0.3]))
        .unwrap()
        .add_attribute(Attribute::new::<bool>("refractory"))
        .unwrap()
        .id();
    (db, id)
}

#[test]
fn objects_start_at_initial_values_and_read_back_what_was_written() {
    let (mut db, n) = neuron_db();
    let a = db.create(n).unwrap();
    let b = db.create(n).unwrap();
    assert_eq!(db.get(a, "voltage").unwrap(), -70.0);
    assert_eq!(
        db.get_array(a, "gates").unwrap(),
        vec![0.1f32 as f64, 0.2f32 as f64, 0.3f32 as f64]
    );
    db.set(b, "voltage", -65.5).unwrap();
    db.set(b, "spikes", 3.0).unwrap();
    db.set(b, "refractory", 1.0).unwrap();
    db.set_array(b, "gates", &[0.5, 0.25, 0.125]).unwrap();
    assert_eq!(db.get(a, "voltage").unwrap(), -70.0);
    assert_eq!(db.get(b, "voltage").unwrap(), -65.5);
    assert_eq!(db.column::<f64>(n, "voltage").unwrap(), &[-70.0, -65.5]);
    assert_eq!(db.column::<u32>(n, "spikes").unwrap(), &[0, 3]);
    assert_eq!(db.column::<bool>(n, "refractory").unwrap(), &[false, true]);
    assert_eq!(
        db.column::<[f32; 3]>(n, "gates").unwrap()[1],
        [0.5, 0.25, 0.125]
    );
    assert_eq!(db.len(n).unwrap(), 2);
}

#[test]
fn bad_names_types_values_and_units_are_errors() {
    let (mut db, n) = neuron_db();
    let a = db.create(n).unwrap();
    assert!(matches!(db.class_id("Glia"), Err(Error::UnknownClass(_))));
    assert!(matches!(
        db.get(a, "volts"),
        Err(Error::UnknownAttribute { .. })
    ));
    assert!(matches!(
        db.column::<f32>(n, "voltage"),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        db.column::<[f32; 2]>(n, "gates"),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        db.set(a, "spikes", 1.5),
        Err(Error::NotRepresentable { .. })
    ));
    assert!(matches!(
        db.set(a, "spikes", -1.0),
        Err(Error::NotRepresentable { .. })
    ));
    assert!(matches!(
        db.set(a, "refractory", 2.0),
        Err(Error::NotRepresentable { .. })
    ));
    let e = db.set(a, "voltage", 250.0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`Neuron.voltage`: 250 mV is outside the valid range [-200, 200]"
    );
    assert!(matches!(
        db.set(a, "voltage", f64::NAN),
        Err(Error::NanNotAllowed { .. })
    ));
    assert!(matches!(
        db.set_with_units(a, "voltage", -0.07, "V"),
        Err(Error::UnitMismatch { .. })
    ));
    db.set_with_units(a, "voltage", -60.0, "mV").unwrap();
    assert!(matches!(
        db.get(a, "gates"),
        Err(Error::WidthMismatch { .. })
    ));
    assert!(matches!(
        db.set_array(a, "gates", &[1.0]),
        Err(Error::WidthMismatch { .. })
    ));
    // Refused writes leave the value alone.
    assert_eq!(db.get(a, "voltage").unwrap(), -60.0);
    assert!(matches!(
        db.add_class("Neuron"),
        Err(Error::DuplicateClass(_))
    ));
    let dup = db
        .class_mut(n)
        .unwrap()
        .add_attribute(Attribute::new::<f64>("voltage"));
    assert!(matches!(dup, Err(Error::DuplicateAttribute { .. })));
    let bad = db
        .class_mut(n)
        .unwrap()
        .add_attribute(Attribute::new::<f64>("x").range(1.0..=0.0));
    assert!(matches!(bad, Err(Error::InvalidDeclaration { .. })));
    let bad = db
        .class_mut(n)
        .unwrap()
        .add_attribute(Attribute::new::<f64>("x").initial(5.0).range(0.0..=1.0));
    assert!(matches!(bad, Err(Error::InvalidDeclaration { .. })));
}

#[test]
fn new_attributes_fill_existing_objects_and_distributions_are_seeded() {
    let (mut db, n) = neuron_db();
    db.create_many(n, 4000).unwrap();
    db.class_mut(n)
        .unwrap()
        .add_attribute(
            Attribute::new::<f64>("noise").initial_distribution(Initial::Normal {
                mean: 2.0,
                std_dev: 0.5,
            }),
        )
        .unwrap()
        .add_attribute(
            Attribute::new::<f32>("u").initial_distribution(Initial::Uniform { lo: -1.0, hi: 1.0 }),
        )
        .unwrap();
    let x = db.column::<f64>(n, "noise").unwrap();
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (x.len() - 1) as f64;
    // 4000 samples: standard error of the mean 0.008, of the std ~0.006.
    assert!((mean - 2.0).abs() < 0.04, "mean {mean}");
    assert!((var.sqrt() - 0.5).abs() < 0.03, "std {}", var.sqrt());
    let u = db.column::<f32>(n, "u").unwrap();
    assert!(u.iter().all(|&v| (-1.0..1.0).contains(&v)));
    // Same seed, same values.
    let (mut db2, n2) = neuron_db();
    db2.create_many(n2, 4000).unwrap();
    db2.class_mut(n2)
        .unwrap()
        .add_attribute(
            Attribute::new::<f64>("noise").initial_distribution(Initial::Normal {
                mean: 2.0,
                std_dev: 0.5,
            }),
        )
        .unwrap();
    assert_eq!(db2.column::<f64>(n2, "noise").unwrap(), x);
}

/// Compartments belong to a cell (required) and may have a parent (nullable); synapses sit on
/// a compartment (required).
fn tree_db() -> (Database, ClassId, ClassId, ClassId) {
    let mut db = Database::new();
    let cell = db
        .add_class("Cell")
        .unwrap()
        .add_attribute(Attribute::new::<f64>("size").units("um"))
        .unwrap()
        .sort_key(&["size"])
        .unwrap()
        .id();
    let comp = db
        .add_class("Compartment")
        .unwrap()
        .add_attribute(Attribute::new::<f64>("v").units("mV"))
        .unwrap()
        .add_attribute(Attribute::pointer("cell", "Cell"))
        .unwrap()
        .add_attribute(Attribute::pointer("parent", "Compartment").nullable(true))
        .unwrap()
        .sort_key(&["cell", "v"])
        .unwrap()
        .id();
    let syn = db
        .add_class("Synapse")
        .unwrap()
        .add_attribute(Attribute::pointer("at", "Compartment"))
        .unwrap()
        .add_attribute(Attribute::new::<f64>("weight").units("uS"))
        .unwrap()
        .id();
    (db, cell, comp, syn)
}

#[test]
fn pointers_check_class_and_nullability() {
    let (mut db, cell, comp, syn) = tree_db();
    let c = db.create(cell).unwrap();
    let x = db.create(comp).unwrap();
    let s = db.create(syn).unwrap();
    assert_eq!(db.get_pointer(x, "cell").unwrap(), None);
    assert!(matches!(
        db.set_pointer(x, "cell", Some(s)),
        Err(Error::WrongClass { .. })
    ));
    assert!(matches!(
        db.set_pointer(x, "cell", None),
        Err(Error::NullNotAllowed { .. })
    ));
    db.set_pointer(x, "cell", Some(c)).unwrap();
    db.set_pointer(x, "parent", None).unwrap();
    assert_eq!(db.get_pointer(x, "cell").unwrap(), Some(c));
    assert!(matches!(
        db.get(x, "cell"),
        Err(Error::PointerMisuse { .. })
    ));
    assert!(matches!(
        db.column_mut::<u32>(comp, "cell"),
        Err(Error::PointerMisuse { .. })
    ));
    assert_eq!(db.column::<u32>(comp, "cell").unwrap(), &[0]);
    assert_eq!(db.column::<u32>(comp, "parent").unwrap(), &[NULL]);
}

#[test]
fn destroying_nulls_nullable_pointers_and_cascades_through_required_ones() {
    let (mut db, cell, comp, syn) = tree_db();
    let c1 = db.create(cell).unwrap();
    let c2 = db.create(cell).unwrap();
    let mut comps = Vec::new();
    for i in 0..6 {
        let x = db.create(comp).unwrap();
        db.set_pointer(x, "cell", Some(if i < 3 { c1 } else { c2 }))
            .unwrap();
        comps.push(x);
    }
    // Parent chain across cells: comp 3's parent is comp 2 (in the other cell).
    db.set_pointer(comps[3], "parent", Some(comps[2])).unwrap();
    db.set_pointer(comps[4], "parent", Some(comps[3])).unwrap();
    let s_on_1 = db.create(syn).unwrap();
    db.set_pointer(s_on_1, "at", Some(comps[1])).unwrap();
    let s_on_4 = db.create(syn).unwrap();
    db.set_pointer(s_on_4, "at", Some(comps[4])).unwrap();
    db.set(s_on_4, "weight", 0.5).unwrap();

    // Destroying cell 1 destroys its 3 compartments and the synapse on one of them.
    assert_eq!(db.destroy(c1).unwrap(), 1 + 3 + 1);
    assert!(!db.is_live(c1) && !db.is_live(s_on_1));
    assert!(comps[..3].iter().all(|&x| !db.is_live(x)));
    assert!(matches!(
        db.get(comps[0], "v"),
        Err(Error::StaleHandle { .. })
    ));
    // Survivors keep values and pointers; the parent into cell 1 became NULL.
    assert_eq!(db.get_pointer(comps[3], "cell").unwrap(), Some(c2));
    assert_eq!(db.get_pointer(comps[3], "parent").unwrap(), None);
    assert_eq!(db.get_pointer(comps[4], "parent").unwrap(), Some(comps[3]));
    assert_eq!(db.get_pointer(s_on_4, "at").unwrap(), Some(comps[4]));
    assert_eq!(db.get(s_on_4, "weight").unwrap(), 0.5);
    assert_eq!(
        (
            db.len(cell).unwrap(),
            db.len(comp).unwrap(),
            db.len(syn).unwrap()
        ),
        (1, 3, 1)
    );
    assert!(db.check().is_empty(), "{:?}", db.check());
    // Compaction keeps the survivors' order.
    assert_eq!(db.handles(comp).unwrap(), comps[3..].to_vec());
    // A stale handle in a batch destroys nothing.
    assert!(db.destroy_many(&[comps[4], comps[0]]).is_err());
    assert!(db.is_live(comps[4]));
}

#[test]
fn sort_orders_by_key_through_pointers_and_keeps_every_reference() {
    let (mut db, cell, comp, syn) = tree_db();
    let sizes = [3.0, 1.0, 2.0];
    let cells: Vec<_> = sizes
        .iter()
        .map(|&s| {
            let c = db.create(cell).unwrap();
            db.set(c, "size", s).unwrap();
            c
        })
        .collect();
    let mut comps = Vec::new();
    for i in 0..9 {
        let x = db.create(comp).unwrap();
        db.set_pointer(x, "cell", Some(cells[i % 3])).unwrap();
        db.set(x, "v", -(i as f64)).unwrap();
        if i > 0 {
            db.set_pointer(x, "parent", Some(comps[i - 1])).unwrap();
        }
        comps.push(x);
    }
    let syns: Vec<_> = comps
        .iter()
        .map(|&x| {
            let s = db.create(syn).unwrap();
            db.set_pointer(s, "at", Some(x)).unwrap();
            s
        })
        .collect();
    db.class_mut(syn)
        .unwrap()
        .add_matrix("coupling", "Compartment", MatrixKind::Real, "uS", "")
        .unwrap();
    let entries: Vec<_> = (0..9)
        .map(|i| (syns[i], comps[(i + 4) % 9], i as f64 + 0.5))
        .collect();
    db.set_matrix_entries(syn, "coupling", &entries).unwrap();

    let report = db.sort().unwrap();
    // Cells by size; compartments by (cell row, v).
    assert_eq!(db.column::<f64>(cell, "size").unwrap(), &[1.0, 2.0, 3.0]);
    let cell_rows = db.column::<u32>(comp, "cell").unwrap();
    assert_eq!(cell_rows, &[0, 0, 0, 1, 1, 1, 2, 2, 2]);
    let v = db.column::<f64>(comp, "v").unwrap();
    assert_eq!(v, &[-7.0, -4.0, -1.0, -8.0, -5.0, -2.0, -6.0, -3.0, 0.0]);
    // Handles and every pointer still designate the same objects.
    for (i, &x) in comps.iter().enumerate() {
        assert_eq!(db.get(x, "v").unwrap(), -(i as f64));
        assert_eq!(db.get_pointer(x, "cell").unwrap(), Some(cells[i % 3]));
        assert_eq!(
            db.get_pointer(x, "parent").unwrap(),
            i.checked_sub(1).map(|p| comps[p])
        );
        assert_eq!(db.get_pointer(syns[i], "at").unwrap(), Some(x));
    }
    // The matrix's columns were permuted with the compartments.
    let m = db.matrix(syn, "coupling").unwrap();
    for (value, (r, c)) in m.iter() {
        let s = db.handle_at(syn, Row(r as u32)).unwrap();
        let x = db.handle_at(comp, Row(c as u32)).unwrap();
        let i = syns.iter().position(|&h| h == s).unwrap();
        assert_eq!(x, comps[(i + 4) % 9]);
        assert_eq!(*value, i as f64 + 0.5);
    }
    // Permutations report the moves.
    let p = report.get(comp).unwrap();
    assert_eq!(p.new_to_old()[0], 7);
    assert!(report.get(syn).is_none());
    // Sorting again moves nothing.
    assert!(db.sort().unwrap().is_noop());
}

#[test]
fn sort_key_cycles_are_errors() {
    let mut db = Database::new();
    db.add_class("A").unwrap();
    db.add_class("B")
        .unwrap()
        .add_attribute(Attribute::pointer("a", "A").nullable(true))
        .unwrap()
        .sort_key(&["a"])
        .unwrap();
    let a = db.class_id("A").unwrap();
    db.class_mut(a)
        .unwrap()
        .add_attribute(Attribute::pointer("b", "B").nullable(true))
        .unwrap()
        .sort_key(&["b"])
        .unwrap();
    let e = db.sort().unwrap_err();
    assert!(matches!(&e, Error::SortCycle(c) if c.len() == 3), "{e}");
    let mut db = Database::new();
    db.add_class("T")
        .unwrap()
        .add_attribute(Attribute::pointer("parent", "T").nullable(true))
        .unwrap()
        .sort_key(&["parent"])
        .unwrap();
    assert!(matches!(db.sort(), Err(Error::SortCycle(_))));
}

#[test]
fn check_reports_every_violation_by_name() {
    let (mut db, n) = neuron_db();
    let (_, _, _, _) = tree_db();
    db.create_many(n, 3).unwrap();
    db.add_class("Syn")
        .unwrap()
        .add_attribute(Attribute::pointer("target", "Neuron"))
        .unwrap()
        .add_class_attribute(
            Attribute::new::<f64>("tau")
                .units("ms")
                .initial(2.0)
                .range(0.0..=100.0),
        )
        .unwrap();
    let syn = db.class_id("Syn").unwrap();
    let s = db.create(syn).unwrap();
    let h1 = db.handle_at(n, Row(1)).unwrap();
    db.column_mut::<f64>(n, "voltage").unwrap()[1] = f64::NAN;
    db.column_mut::<f64>(n, "voltage").unwrap()[2] = 1e4;
    db.column_mut::<[f32; 3]>(n, "gates").unwrap()[0][2] = f32::NAN;
    let mut got: Vec<String> = db.check().iter().map(|v| v.to_string()).collect();
    got.sort();
    let h0 = db.handle_at(n, Row(0)).unwrap();
    let h2 = db.handle_at(n, Row(2)).unwrap();
    let mut want = vec![
        format!("Neuron.voltage[{h1}] = NaN: NaN is not allowed"),
        format!("Neuron.voltage[{h2}] = 10000 mV: outside the valid range [-200, 200]"),
        format!("Neuron.gates[{h0}][2] = NaN: NaN is not allowed"),
        format!("Syn.target[{s}] = NULL: required pointer is NULL"),
    ];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(db.get_class_attr(syn, "tau").unwrap(), 2.0);
    assert!(db.set_class_attr(syn, "tau", -1.0).is_err());
    assert_eq!(
        db.check()
            .iter()
            .filter(|v| v.reason == Reason::Null)
            .count(),
        1
    );
}

#[test]
fn recorder_follows_objects_through_sorts_and_writes_units() {
    let (mut db, _, comp, _) = tree_db();
    let cell = db.class_id("Cell").unwrap();
    let c = db.create(cell).unwrap();
    let a = db.create(comp).unwrap();
    let b = db.create(comp).unwrap();
    for x in [a, b] {
        db.set_pointer(x, "cell", Some(c)).unwrap();
    }
    db.set(a, "v", 5.0).unwrap();
    let mut rec = Recorder::new("t", "ms");
    rec.add(&db, a, "v").unwrap();
    rec.add(&db, b, "v").unwrap();
    rec.tick(&db, 0.0);
    db.sort().unwrap(); // a moves after b
    assert_eq!(db.row(a).unwrap(), Row(1));
    db.set(a, "v", 6.0).unwrap();
    rec.tick(&db, 0.025);
    db.destroy(b).unwrap();
    rec.tick(&db, 0.05);
    assert_eq!(rec.series(0).unwrap(), &[5.0, 6.0, 6.0]);
    assert_eq!(rec.series(1).unwrap()[..2], [0.0, 0.0]);
    assert!(rec.series(1).unwrap()[2].is_nan());
    let csv = rec.to_csv_string();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        format!("t (ms),Compartment.v[{a}] (mV),Compartment.v[{b}] (mV)")
    );
    assert_eq!(lines.next().unwrap(), "0,5,0");
    assert_eq!(lines.next().unwrap(), "0.025,6,0");
    assert_eq!(lines.next().unwrap(), "0.05,6,NaN");
}

#[test]
fn playback_steps_or_interpolates_and_respects_checks() {
    let (mut db, n) = neuron_db();
    let a = db.create(n).unwrap();
    let p = Playback::new(
        a,
        "voltage",
        vec![0.0, 1.0, 2.0],
        vec![-70.0, -60.0, -80.0],
        Interpolation::Linear,
    )
    .unwrap();
    for (t, want) in [(-1.0, -70.0), (0.5, -65.0), (1.5, -70.0), (9.0, -80.0)] {
        p.apply(&mut db, t).unwrap();
        assert_eq!(db.get(a, "voltage").unwrap(), want);
    }
    let s = Playback::new(
        a,
        "voltage",
        vec![0.0, 1.0],
        vec![-70.0, 500.0],
        Interpolation::Step,
    )
    .unwrap();
    assert_eq!(s.value_at(0.99), -70.0);
    assert!(matches!(
        s.apply(&mut db, 1.0),
        Err(Error::OutOfRange { .. })
    ));
    assert!(Playback::new(
        a,
        "voltage",
        vec![1.0, 1.0],
        vec![0.0, 0.0],
        Interpolation::Step
    )
    .is_err());
    assert!(Playback::new(a, "voltage", vec![], vec![], Interpolation::Step).is_err());
}

#[test]
fn several_columns_mutably_and_byte_views() {
    let (mut db, n) = neuron_db();
    db.create_many(n, 4).unwrap();
    {
        let mut cols = db.columns_mut();
        let v = cols.take::<f64>(n, "voltage").unwrap();
        let s = cols.take::<u32>(n, "spikes").unwrap();
        assert!(matches!(
            cols.take::<f64>(n, "voltage"),
            Err(Error::AlreadyBorrowed { .. })
        ));
        for (i, (v, s)) in v.iter_mut().zip(s.iter_mut()).enumerate() {
            *v = i as f64;
            *s = 2 * i as u32;
        }
    }
    assert_eq!(db.column::<u32>(n, "spikes").unwrap(), &[0, 2, 4, 6]);
    let bytes = db.column_bytes(n, "voltage").unwrap();
    assert_eq!(bytes.len(), 32);
    assert_eq!(&bytes[8..16], &1.0f64.to_ne_bytes());
    db.column_bytes_mut(n, "spikes").unwrap()[..4].copy_from_slice(&7u32.to_ne_bytes());
    assert_eq!(db.column::<u32>(n, "spikes").unwrap()[0], 7);
    assert!(db.column_bytes_mut(n, "refractory").is_err());
    assert_eq!(db.column_bytes(n, "refractory").unwrap(), &[0, 0, 0, 0]);
}

#[test]
fn connectivity_matrices_hold_ones_and_check_shapes() {
    let mut db = Database::new();
    let a = db.add_class("A").unwrap().id();
    db.class_mut(a)
        .unwrap()
        .add_matrix("next", "A", MatrixKind::Connectivity, "", "")
        .unwrap();
    let hs = db.create_many(a, 3).unwrap();
    db.set_matrix_entries(
        a,
        "next",
        &[
            (hs[0], hs[1], 5.0),
            (hs[0], hs[1], 2.0),
            (hs[2], hs[0], 1.0),
        ],
    )
    .unwrap();
    let m = db.matrix(a, "next").unwrap();
    assert_eq!(m.shape(), (3, 3));
    assert_eq!(m.to_dense()[[0, 1]], 1.0);
    assert_eq!(m.nnz(), 2);
    // Objects created later add empty rows and columns.
    db.create(a).unwrap();
    assert_eq!(db.matrix(a, "next").unwrap().shape(), (4, 4));
    let wrong = sprs::CsMat::<f64>::eye(3);
    assert!(matches!(
        db.set_matrix(a, "next", wrong.view()),
        Err(Error::InvalidMatrix { .. })
    ));
    let mut twos = sprs::CsMat::<f64>::eye(4);
    twos.scale(2.0);
    assert!(matches!(
        db.set_matrix(a, "next", twos.view()),
        Err(Error::InvalidMatrix { .. })
    ));
    db.set_matrix(a, "next", sprs::CsMat::<f64>::eye(4).view())
        .unwrap();
    db.destroy(hs[1]).unwrap();
    let m = db.matrix(a, "next").unwrap();
    assert_eq!(m.shape(), (3, 3));
    assert_eq!(m.nnz(), 3);
}

#[test]
fn schema_documents_the_metadata() {
    let (db, _) = neuron_db();
    let md = db.schema_markdown();
    assert!(
        md.contains("| voltage | f64 | mV | -70 | [-200, 200] | no NaN | Membrane potential |"),
        "{md}"
    );
    assert!(md.contains("| gates | [f32; 3] |"), "{md}");
}
