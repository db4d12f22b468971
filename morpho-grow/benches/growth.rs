//! Growth benchmarks (`shared/specs/morpho-grow.md` §9 V11): single thread, bf = 0.5,
//! carrier points uniform in a 200 µm-radius sphere, root at the centre, unconstrained.
//!
//! * `grow/lazy/N` for N = 10⁴ and 10⁵ — targets < 0.2 s and < 3 s;
//! * `grow/lazy/N` against `grow/naive/N` for N = 1 000 and 2 000: the crate's lazy ring
//!   expansion against a straightforward O(N²) implementation of the same greedy rule
//!   (NEUWON's algorithm: every new node enqueues every free point; `tests/common/naive.rs`).
//!
//! Run: `cargo bench -p morpho-grow --bench growth`. 10⁶ points are not run here (about
//! 20 s per run); time them with
//! `cargo run --release -p morpho-grow --example grow_timing -- 1000000`, which also prints
//! the peak resident memory. Results and machine: `morpho-grow/GROW.md`.

#![allow(missing_docs)]

#[path = "../tests/common/naive.rs"]
mod naive;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use morpho_grow::region::{sample_points, Region, Vec3};
use morpho_grow::{grow, Forest, GrowthParams, SegmentSpec};
use naive::{naive_grow, NaiveNode, NaiveParams};
use rand::SeedableRng;

fn points(n: usize) -> Vec<Vec3> {
    let r = 200.0;
    let density = n as f64 / (4.0 / 3.0 * std::f64::consts::PI * r * r * r);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    sample_points(&Region::sphere([0.0; 3], r), density, &mut rng).unwrap_or_default()
}

fn lazy(pts: &[Vec3]) -> f64 {
    let mut f = Forest::new();
    let root = f.add_root([0.0; 3], 10.0, 0, 1);
    let seg = SegmentSpec {
        kind: 3,
        diameter: 1.0,
    };
    let _ = grow(&mut f, &[root], pts, &GrowthParams::default(), seg, None);
    f.total_length_um()
}

fn quadratic(pts: &[Vec3]) -> usize {
    let mut nodes = vec![NaiveNode {
        at: [0.0; 3],
        parent: None,
        neuron: 0,
        path: 0.0,
        children: 0,
    }];
    let _ = naive_grow(&mut nodes, pts, &NaiveParams::default(), None);
    nodes.len()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("grow");
    g.sample_size(10);
    for n in [1_000usize, 2_000] {
        let pts = points(n);
        g.bench_with_input(BenchmarkId::new("lazy", n), &pts, |b, p| b.iter(|| lazy(p)));
        g.bench_with_input(BenchmarkId::new("naive", n), &pts, |b, p| {
            b.iter(|| quadratic(p))
        });
    }
    for n in [10_000usize, 100_000] {
        let pts = points(n);
        g.bench_with_input(BenchmarkId::new("lazy", n), &pts, |b, p| b.iter(|| lazy(p)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
