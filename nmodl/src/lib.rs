//! # nmodl — the NMODL frontend
//!
//! *Being built (issue: the `nmodl` crate).* Lexer, recursive-descent parser with spans and
//! diagnostics, analysis (symbols, units, ions) and lowering to an executable mechanism IR.
