//! The crate's single error type.

/// Everything that can go wrong in `integrate`. Bad user input is reported here, never by panic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Two inputs that must have the same length (or a square matrix) do not.
    #[error("dimension mismatch for {what}: expected {expected}, got {got}")]
    DimensionMismatch {
        /// Which argument is wrong.
        what: &'static str,
        /// The expected length.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A value is NaN or infinite where a finite number is required.
    #[error("non-finite value in {what} at index {index}")]
    NonFinite {
        /// Which argument.
        what: &'static str,
        /// Position of the first offending entry.
        index: usize,
    },
    /// A value is out of its valid range (e.g. a negative diameter or a non-positive time step).
    #[error("invalid value for {what}: {value} ({reason})")]
    InvalidValue {
        /// Which argument.
        what: &'static str,
        /// The offending value.
        value: f64,
        /// What was required.
        reason: &'static str,
    },
    /// A compartment's parent does not precede it, or cells are not contiguous.
    #[error("compartment {index} has parent {parent}: parents must precede children within one contiguous cell")]
    NotParentOrdered {
        /// The child compartment.
        index: usize,
        /// Its (invalid) parent.
        parent: usize,
    },
    /// A section refers to a parent section that does not exist.
    #[error("unknown section {0}")]
    UnknownSection(usize),
    /// A linear solve met a (numerically) singular matrix.
    #[error("singular matrix in {0}")]
    Singular(&'static str),
    /// A kinetic scheme's derivative is not linear in the state.
    #[error("non-linear system: f(u, 2x) differs from 2 f(u, x) by {deviation:e}")]
    NonLinear {
        /// The largest absolute deviation seen.
        deviation: f64,
    },
    /// The kinetic table optimiser could not meet the error target.
    #[error(
        "kinetic table could not reach max entry error {target:e} (best {achieved:e}): {reason}"
    )]
    TableTargetNotMet {
        /// Requested maximum entry error.
        target: f64,
        /// Best error achieved.
        achieved: f64,
        /// Why the search stopped.
        reason: &'static str,
    },
}

/// Shorthand for results in this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Return `Err(NonFinite)` for the first non-finite entry of `x`.
pub(crate) fn check_finite(what: &'static str, x: &[f64]) -> Result<()> {
    match x.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NonFinite { what, index }),
        None => Ok(()),
    }
}

/// Return `Err(DimensionMismatch)` unless `got == expected`.
pub(crate) fn check_len(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::DimensionMismatch {
            what,
            expected,
            got,
        })
    }
}

/// `Err(InvalidValue)` unless `x` is finite and strictly positive.
pub(crate) fn check_positive(what: &'static str, x: f64) -> Result<()> {
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidValue {
            what,
            value: x,
            reason: "must be finite and > 0",
        })
    }
}
