//! # nmodl — the NMODL frontend
#![allow(missing_docs)]
pub mod ast;
pub mod diagnostics;
pub mod lexer;
pub mod parser;
pub mod printer;
