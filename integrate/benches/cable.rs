//! Cable kernels: ns per compartment per step for Hines BE/CN and for the exact propagator
//! (Strang step) against a plain CSR SpMV with the same matrix, on an unbranched cable and a
//! balanced binary tree, 10³–10⁶ compartments, 1 cell and 100 cells, 1 and 2 threads.
//!
//! Motivation: the targets — Hines ≥ 50 M compartment-solves/s/core (≤ 20 ns per
//! compartment-step) and the exact step within 1.5× of a SpMV with the same nnz.
//! Compartments: 1 µm × 10 µm, Ra 100 Ω·cm, cm 1 µF/cm², pas 1e-4 S/cm²; dt 0.025 ms.
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use integrate::tree::{binary_tree, cylinder_compartment, uniform_chain};
use integrate::*;

const DT: f64 = 0.025;
/// Largest propagator (non-zeros) built for the exact benchmarks (memory on a shared machine).
const MAX_NNZ: usize = 80_000_000;

fn forest(topo: &str, n: usize, cells: usize) -> CableTree {
    let (c, g, a) = cylinder_compartment(10.0, 1.0, 100.0, 1.0).unwrap();
    let per = n / cells;
    let one = match topo {
        "cable" => uniform_chain(per, c, g, a).unwrap(),
        _ => binary_tree(per, c, g, a).unwrap(),
    };
    let refs: Vec<&CableTree> = (0..cells).map(|_| &one).collect();
    CableTree::concat(&refs)
}

fn pools() -> Vec<(usize, rayon::ThreadPool)> {
    [1usize, 2]
        .iter()
        .map(|&t| {
            (
                t,
                rayon::ThreadPoolBuilder::new()
                    .num_threads(t)
                    .build()
                    .unwrap(),
            )
        })
        .collect()
}

fn sizes() -> Vec<usize> {
    match std::env::var("INTEGRATE_BENCH_MAX") {
        Ok(s) => {
            let max: usize = s.parse().unwrap_or(1_000_000);
            [1_000, 10_000, 100_000, 1_000_000]
                .into_iter()
                .filter(|&n| n <= max)
                .collect()
        }
        Err(_) => vec![1_000, 10_000, 100_000, 1_000_000],
    }
}

fn hines(cr: &mut Criterion) {
    let pools = pools();
    let mut group = cr.benchmark_group("hines");
    group.sample_size(10);
    for topo in ["cable", "bintree"] {
        for n in sizes() {
            for cells in [1usize, 100] {
                let tree = forest(topo, n, cells);
                let len = tree.len();
                let g = tree.membrane_conductance_us(1e-4);
                let j: Vec<f64> = g.iter().map(|g| g * -65.0).collect();
                group.throughput(Throughput::Elements(len as u64));
                for (threads, pool) in &pools {
                    for (name, scheme) in
                        [("be", Scheme::BackwardEuler), ("cn", Scheme::CrankNicolson)]
                    {
                        let mut h = Hines::new(&tree);
                        let mut v = vec![-70.0; len];
                        let id = format!("{name}/{topo}/n{n}/c{cells}/t{threads}");
                        group.bench_function(BenchmarkId::from_parameter(id), |b| {
                            pool.install(|| b.iter(|| h.step(scheme, DT, &mut v, &g, &j).unwrap()))
                        });
                    }
                }
            }
        }
    }
    group.finish();
}

fn exact(cr: &mut Criterion) {
    let pools = pools();
    let mut group = cr.benchmark_group("exact");
    group.sample_size(10);
    for topo in ["cable", "bintree"] {
        for n in sizes() {
            for cells in [1usize, 100] {
                let per = n / cells;
                // A binary tree's propagator is dense within each cell (see the report).
                if topo == "bintree" && per * n > MAX_NNZ {
                    continue;
                }
                let tree = forest(topo, n, cells);
                let len = tree.len();
                let mut ex = ExactCable::new(&tree, DT, Split::Strang, NEUWON_PRUNE).unwrap();
                let nnz = ex.propagator().nnz();
                if nnz > MAX_NNZ {
                    continue;
                }
                eprintln!(
                    "exact {topo} n {n} cells {cells}: nnz {nnz} ({:.1}/row)",
                    nnz as f64 / len as f64
                );
                let g = tree.membrane_conductance_us(1e-4);
                let ge: Vec<f64> = g.iter().map(|g| g * -65.0).collect();
                let zero = vec![0.0; len];
                let p = ex.propagator().clone();
                group.throughput(Throughput::Elements(len as u64));
                for (threads, pool) in &pools {
                    let mut v = vec![-70.0; len];
                    let id = format!("strang/{topo}/n{n}/c{cells}/t{threads}");
                    group.bench_function(BenchmarkId::from_parameter(id), |b| {
                        pool.install(|| {
                            b.iter(|| {
                                let m = Membrane {
                                    g_us: &g,
                                    ge_na: &ge,
                                    i_na: &zero,
                                };
                                ex.step(&mut v, m, None).unwrap()
                            })
                        })
                    });
                    let x = vec![-70.0; len];
                    let mut y = vec![0.0; len];
                    let id = format!("spmv/{topo}/n{n}/c{cells}/t{threads}");
                    group.bench_function(BenchmarkId::from_parameter(id), |b| {
                        pool.install(|| {
                            b.iter(|| {
                                if *threads == 1 {
                                    spmv(&p, &x, &mut y)
                                } else {
                                    spmv_par(&p, &x, &mut y, 8192)
                                }
                            })
                        })
                    });
                }
            }
        }
    }
    group.finish();
}

criterion_group!(benches, hines, exact);
criterion_main!(benches);
