//! The standard mechanisms NEURON users expect, as our own `.mod` sources (written from the
//! published equations and NEURON's documented parameters; see each file's COMMENT block),
//! embedded in the binary and compiled through `nmodl` at start.
//!
//! | name | kind | what |
//! | --- | --- | --- |
//! | `hh` | density | Hodgkin–Huxley 1952 Na, K, leak; TABLE on the rates |
//! | `pas` | density | passive leak |
//! | `IClamp` | point process | current pulse (electrode) |
//! | `SEClamp` | point process | three-level voltage clamp with series resistance (electrode) |
//! | `ExpSyn` | point process | single-exponential synapse |
//! | `Exp2Syn` | point process | dual-exponential synapse, peak normalised to the weight |

use nmodl::Mechanism;

use crate::error::{Error, Result};
use crate::exec::{CompileOptions, Compiled};

/// (name, NMODL source) of every shipped mechanism.
pub const SOURCES: &[(&str, &str)] = &[
    ("hh", include_str!("../mechanisms/hh.mod")),
    ("pas", include_str!("../mechanisms/pas.mod")),
    ("IClamp", include_str!("../mechanisms/IClamp.mod")),
    ("SEClamp", include_str!("../mechanisms/SEClamp.mod")),
    ("ExpSyn", include_str!("../mechanisms/ExpSyn.mod")),
    ("Exp2Syn", include_str!("../mechanisms/Exp2Syn.mod")),
];

/// The NMODL source of shipped mechanism `name`.
pub fn source(name: &str) -> Option<&'static str> {
    SOURCES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// Lowers NMODL `src` (named `file` in diagnostics) through `nmodl`; warnings are ignored,
/// errors are [`Error::Frontend`].
pub fn lower(file: &str, src: &str, use_tables: bool) -> Result<Mechanism> {
    let mut opts = nmodl::Options::default();
    opts.lower.use_tables = use_tables;
    let (sources, out) = nmodl::compile_str(file, src, &opts);
    match out.mechanism {
        Some(m) if out.error_count() == 0 => Ok(m),
        _ => Err(Error::Frontend {
            file: file.to_string(),
            diagnostics: sources.render_all(&out.diagnostics),
        }),
    }
}

/// The shipped mechanisms that have native kernels (the fast path's, and for `hh` and `pas`
/// the interpreter's stand-ins).
pub(crate) const NATIVE: [&str; 3] = ["hh", "pas", "IClamp"];

/// Shipped mechanism `name` (one of [`NATIVE`]), lowered once
/// with tables on; the engine recognises a compiled mechanism as one of them by its IR.
pub(crate) fn shipped(name: &str) -> Option<&'static Mechanism> {
    static CELL: std::sync::OnceLock<Vec<(&'static str, Option<Mechanism>)>> =
        std::sync::OnceLock::new();
    CELL.get_or_init(|| {
        NATIVE
            .into_iter()
            .map(|n| {
                let m = source(n).and_then(|src| lower(&format!("{n}.mod"), src, true).ok());
                (n, m)
            })
            .collect()
    })
    .iter()
    .find(|(n, _)| *n == name)
    .and_then(|(_, m)| m.as_ref())
}

/// Lowers and compiles shipped mechanism `name`.
pub fn compile(name: &str, opts: CompileOptions) -> Result<Compiled> {
    let src = source(name).ok_or_else(|| Error::NoSuchVariable {
        mechanism: "library".into(),
        name: name.to_string(),
    })?;
    let m = lower(&format!("{name}.mod"), src, opts.use_tables)?;
    Compiled::new(&m, opts)
}

/// Compiles every shipped mechanism (what the engine does at start).
pub fn compile_all(opts: CompileOptions) -> Result<Vec<(&'static str, Compiled)>> {
    SOURCES
        .iter()
        .map(|(n, _)| compile(n, opts).map(|c| (*n, c)))
        .collect()
}
