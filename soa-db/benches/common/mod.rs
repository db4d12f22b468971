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
