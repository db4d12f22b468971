//! # benches — macro benchmarks of neuwon, side by side with NEURON and Arbor
//!
//! The scenarios compared with the peer simulators (`../shared/peers`), with results kept under
//! `bench-results/<date>/` beside the machine they came from. Per-crate micro-benchmarks live
//! in each crate's own `benches/` folder.
//!
//! Goals, in order: mirror the peers' scenario exactly (same model, same integration method,
//! same spike count as NEURON, so a fast wrong answer cannot pass unseen); measure the way the
//! peers do (wall time and process CPU time of the integration only, peak RSS); say where the
//! time goes (per phase) and how far the engine is from a floor (the same arithmetic written as
//! one fused loop over raw arrays).
//!
//! | item | what |
//! | --- | --- |
//! | [`tree`] | the balanced-binary-tree HH benchmark of `bench_tree.py` (sizes N1e3, N1e4, N1e5, 100x1e3) |
//! | [`floor`] | the floor: HH (TABLE rates, cnexp, currents with the numeric dI/dv) and the Hines solve fused over raw arrays |
//! | [`measure`] | process CPU time, peak and current RSS |
//! | `tree_bench` (binary) | `cargo run --release -p benches --bin tree_bench -- SIZE [--threads N] [--profile] [--floor]`: one JSON line |
//! | `side_by_side.py` | interleaved runs of `tree_bench` and the peers' `bench_tree.py`, ratios per size, raw results and machine in `bench-results/<date>/tree/` (Python only there) |
//!
//! ```no_run
//! use benches::tree::{build, root_spikes_cell0, Layout, Size};
//! let mut t = build(Size::N1e3, Layout { blocks: 1, exact_rates: false }, false).unwrap();
//! t.network.run(100.0, |_| {}).unwrap();
//! assert_eq!(root_spikes_cell0(&t).len(), 1);
//! ```

pub mod floor;
pub mod measure;
pub mod tree;

/// What can go wrong building or running a benchmark.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command-line arguments.
    #[error("{0}")]
    Usage(String),
    /// The geometry was refused.
    #[error("morphology: {0}")]
    Morphology(#[from] morpho_grow::MorphoError),
    /// The engine refused the model or failed while running.
    #[error("engine: {0}")]
    Engine(#[from] backend_cpu::Error),
}
