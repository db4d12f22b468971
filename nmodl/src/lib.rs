//! # nmodl — the NMODL frontend
//!
//! Reads the `.mod` files NEURON users write (ion channels, pumps, buffers, synapses) and turns
//! them into a [`Mechanism`]: an executable IR of variables and phase-named kernels (`init`,
//! `compute_currents`, `advance_state`, `net_receive`, `write_ions`) that a backend runs
//! without a C compiler.
//!
//! Goals, in priority order:
//! 1. never panic on any input; every refusal is a [`Diagnostic`] with `file:line:col`, a code
//!    and, where we know one, the rewrite to make;
//! 2. accept what NEURON 9 accepts, with NEURON's semantics and units;
//! 3. let people look inside: `--emit ast|ir`, a printer that writes NMODL back.
//!
//! The pipeline, one module per pass: [`lexer`] → [`parser`] (→ [`ast`], printed by
//! [`printer`]) → [`compat`] → [`analysis`] (symbols, using [`units`]) → [`lower`] → [`ir`].
//! `nmodl` emits IR and never touches a backend.
//!
//! What is accepted and how it is interpreted: `DIALECT.md`; per-file results on the NMODL
//! corpus: `COMPATIBILITY.md` (both next to this crate's `Cargo.toml`).
//!
//! ```
//! let src = "NEURON { SUFFIX leak RANGE g, e NONSPECIFIC_CURRENT i }
//! PARAMETER { g = 0.001 (S/cm2) e = -70 (mV) }
//! ASSIGNED { v (mV) i (mA/cm2) }
//! BREAKPOINT { i = g*(v - e) }";
//! let (sources, out) = nmodl::compile_str("leak.mod", src, &Default::default());
//! assert!(out.diagnostics.is_empty(), "{}", sources.render_all(&out.diagnostics));
//! let mech = out.mechanism.expect("lowered");
//! assert_eq!(mech.name, "leak");
//! assert_eq!(mech.currents.len(), 1);
//! ```

pub mod analysis;
pub mod ast;
pub mod compat;
pub mod diagnostics;
mod error;
pub mod ir;
pub mod lexer;
pub mod lower;
pub mod parser;
mod pipeline;
pub mod printer;
pub mod units;

pub use diagnostics::{Diagnostic, Severity, SourceMap, Span};
pub use error::Error;
pub use ir::Mechanism;
pub use lower::LowerOptions;
pub use parser::parse;
pub use pipeline::{compile, compile_file, compile_str, Options, Output};
pub use printer::print_module;
