//! The typed layer at run time: declarations, accessors, checks, pointers, cross-database use.

#![allow(clippy::unwrap_used)]

use soa_db::{Database, Error, TypedClass};

soa_db::class! {
    /// A cable compartment.
    pub struct Segment {
        /// Membrane potential.
        #[units = "mV"]
        #[range = -150.0..=100.0]
        v: f64 = -65.0,
        /// Gating variables.
        gates: [f64; 2] = [0.0, 1.0],
        /// Spike count.
        spikes: u32 = 0,
        /// May hold NaN.
        #[allow_nan = true]
        scratch: f32 = 0.0,
    }
    pointers {
        /// The parent (NULL at the root).
        #[nullable = true]
        parent: Segment,
        /// The owning cell.
        cell: Soma,
    }
}

soa_db::class! {
    /// A soma.
    pub struct Soma {
        /// Diameter.
        #[units = "um"]
        diam: f64 = 20.0,
    }
}

#[test]
fn typed_objects_read_write_and_validate() {
    let mut db = Database::new();
    let soma = Soma::new(&mut db).unwrap();
    let a = Segment::new(&mut db).unwrap();
    let b = Segment::new(&mut db).unwrap();
    assert_eq!(a.v(&db).unwrap(), -65.0);
    assert_eq!(a.gates(&db).unwrap(), [0.0, 1.0]);
    b.set_gates(&mut db, [0.25, 0.5]).unwrap();
    b.set_spikes(&mut db, 4).unwrap();
    assert_eq!(b.gates(&db).unwrap(), [0.25, 0.5]);
    assert_eq!(b.spikes(&db).unwrap(), 4);
    assert!(matches!(
        a.set_v(&mut db, 101.0),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        a.set_v(&mut db, f64::NAN),
        Err(Error::NanNotAllowed { .. })
    ));
    a.set_scratch(&mut db, f32::NAN).unwrap();
    b.set_parent(&mut db, Some(a)).unwrap();
    b.set_cell(&mut db, Some(soma)).unwrap();
    assert!(matches!(
        a.set_cell(&mut db, None),
        Err(Error::NullNotAllowed { .. })
    ));
    assert_eq!(b.parent(&db).unwrap(), Some(a));
    assert_eq!(b.cell(&db).unwrap(), Some(soma));
    // The dynamic API sees the same class, with the declared metadata.
    let seg = Segment::class_id(&mut db).unwrap();
    assert_eq!(db.class_name(seg).unwrap(), "Segment");
    assert_eq!(db.class_doc(seg).unwrap(), "A cable compartment.");
    let meta = db.attribute(seg, "v").unwrap();
    assert_eq!(
        (meta.units_str(), meta.doc_str()),
        ("mV", "Membrane potential.")
    );
    assert_eq!(db.column::<f64>(seg, "v").unwrap(), &[-65.0, -65.0]);
    // a's required cell pointer was never set: check() says so.
    let problems: Vec<String> = db.check().iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        vec![format!(
            "Segment.cell[{}] = NULL: required pointer is NULL",
            a.handle()
        )]
    );
    // Destroying the soma destroys b (required pointer) and not a.
    assert_eq!(soma.destroy(&mut db).unwrap(), 2);
    assert!(matches!(b.v(&db), Err(Error::StaleHandle { .. })));
    assert_eq!(a.v(&db).unwrap(), -65.0);
}

#[test]
fn typed_handles_are_checked_against_the_database_they_are_used_with() {
    let mut db1 = Database::new();
    let s = Soma::new(&mut db1).unwrap();
    let mut db2 = Database::new();
    Segment::new(&mut db2).unwrap(); // class 0 of db2 is Segment, class 1 is Soma
                                     // A Soma handle whose class index means Segment in db2 is refused, not misread.
    let fake = Soma::from_handle(s.handle());
    assert!(matches!(fake.diam(&db2), Err(Error::WrongClass { .. })));
    // A name clash with a dynamically declared class is an error.
    let mut db3 = Database::new();
    db3.add_class("Soma").unwrap();
    assert!(matches!(Soma::new(&mut db3), Err(Error::DuplicateClass(_))));
}
