//! Time to reduce the Hay et al. 2011 L5PC (196 sections, 642 segments, 10 000 synapses) at
//! 0 and 8 Hz. Motivation: the target is under 0.5 s; neuron_reduce needs 4–6 s CPU.
//!
//! `cargo bench -p reduce --bench reduce_hay` (reads `$NEUWON_SHARED/reduce/hay_l5pc` in place;
//! prints a message and measures nothing when it is absent).

#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
#[allow(dead_code)]
#[path = "../tests/common/mod.rs"]
mod common;

fn bench(c: &mut Criterion) {
    let dir = common::data("hay_l5pc");
    let cell = common::load_cell(&dir);
    let syns = common::load_synapses(&dir, &cell);
    for f in [0.0, 8.0] {
        let opts = reduce::ReduceOptions {
            frequency_hz: f,
            ..Default::default()
        };
        c.bench_function(&format!("reduce hay_l5pc 10k synapses {f} Hz"), |b| {
            b.iter(|| reduce::reduce(&cell.tree, &syns, &opts).map(|r| r.synapses.len()))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
