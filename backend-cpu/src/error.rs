//! The crate's error type.

/// Everything that can go wrong when compiling or running a mechanism.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The IR uses a construct this executor does not implement.
    #[error("mechanism `{mechanism}`: unsupported construct: {construct}")]
    Unsupported {
        /// Mechanism name.
        mechanism: String,
        /// What is not supported, named as in NMODL.
        construct: String,
    },
    /// The IR is inconsistent (an index out of range, a missing local, …).
    #[error("mechanism `{mechanism}`: malformed IR: {what}")]
    MalformedIr {
        /// Mechanism name.
        mechanism: String,
        /// What is wrong.
        what: String,
    },
    /// An embedded or user `.mod` source did not compile through `nmodl`.
    #[error("`{file}` did not compile:\n{diagnostics}")]
    Frontend {
        /// File name.
        file: String,
        /// Rendered diagnostics.
        diagnostics: String,
    },
    /// A caller-supplied array has the wrong length, or an instance index is out of range.
    #[error("{what}: expected {expected}, got {got}")]
    Shape {
        /// Which argument.
        what: &'static str,
        /// Expected length / bound.
        expected: usize,
        /// Actual length / index.
        got: usize,
    },
    /// A variable name that the mechanism does not have.
    #[error("mechanism `{mechanism}` has no variable `{name}`")]
    NoSuchVariable {
        /// Mechanism name.
        mechanism: String,
        /// Requested name.
        name: String,
    },
    /// The cable solver refused the model or a step (see [`integrate::Error`]).
    #[error("cable: {0}")]
    Cable(#[from] integrate::Error),
    /// The engine was given an inconsistent model (a node, instance or mechanism that does
    /// not exist, a negative delay, …) or asked for something it does not do yet.
    #[error("engine: {0}")]
    Engine(String),
    /// A conformance protocol (`conform`) is malformed: `field` is its JSON path
    /// (`clamp.command_mV[2].v_mV`), `what` what was expected.
    #[error("protocol field `{field}`: {what}")]
    Protocol {
        /// JSON path of the offending field.
        field: String,
        /// What was expected.
        what: String,
    },
    /// Run-time failure inside a kernel (array index out of range, runaway `while` loop,
    /// a singular Newton matrix).
    #[error("mechanism `{mechanism}`: {what}")]
    Runtime {
        /// Mechanism name.
        mechanism: String,
        /// What happened.
        what: String,
    },
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;
