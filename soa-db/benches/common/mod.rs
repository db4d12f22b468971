//! Types shared by the soa-db benchmarks.

#![allow(dead_code)]

soa_db::class! {
    /// Benchmark object.
    pub struct Particle {
        /// Position.
        x: f64 = 0.0,
        /// Velocity.
        v: f64 = 1.0,
        /// Mass.
        m: f64 = 1.0,
    }
}

/// The same object as a plain struct, for the `Vec<struct>` baseline.
#[derive(Clone, Copy)]
pub struct ParticleAos {
    /// Position.
    pub x: f64,
    /// Velocity.
    pub v: f64,
    /// Mass.
    pub m: f64,
}

/// A class `C` of `n` objects with f64 columns `x` (1.5) and `y` (0.5), for the column
/// benchmarks.
#[allow(clippy::unwrap_used)]
pub fn xy_columns(n: usize) -> (soa_db::Database, soa_db::ClassId) {
    let mut db = soa_db::Database::new();
    let cls = db
        .add_class("C")
        .unwrap()
        .add_attribute(soa_db::Attribute::new::<f64>("x").initial(1.5))
        .unwrap()
        .add_attribute(soa_db::Attribute::new::<f64>("y").initial(0.5))
        .unwrap()
        .id();
    db.create_many(cls, n).unwrap();
    (db, cls)
}
