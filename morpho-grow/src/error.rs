//! The crate's one error type.

use thiserror::Error;

/// What went wrong in an SWC file (the machine-readable part of [`MorphoError::Swc`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwcErrorKind {
    /// A data line does not have the 7 columns `id type x y z radius parent`.
    ColumnCount,
    /// A column is not a number of the expected kind (integer id/type/parent, finite real).
    MalformedNumber,
    /// A sample id is negative.
    BadId,
    /// A type code is negative.
    BadType,
    /// A radius is zero or negative.
    NonPositiveRadius,
    /// The same id appears on two lines.
    DuplicateId,
    /// The parent id is not defined anywhere in the file.
    MissingParent,
    /// A parent is defined after its child and the options forbid it.
    ParentAfterChild,
    /// Following parents from this sample never reaches a root.
    Cycle,
    /// More than one root (parent −1) and the options forbid it.
    MultipleRoots,
    /// The file holds no sample at all.
    Empty,
    /// A section has zero length and cannot be dropped (it has children).
    ZeroLengthSection,
}

/// Every error of the crate.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MorphoError {
    /// A length, diameter, coordinate or parameter is NaN, infinite or not positive.
    #[error("invalid {what}: {value} (must be finite and > 0)")]
    BadValue {
        /// Which quantity, with its unit.
        what: &'static str,
        /// The offending value.
        value: f64,
    },
    /// An attachment or lookup position is outside [0, 1].
    #[error("position x = {x} is outside [0, 1]")]
    BadX {
        /// The offending position.
        x: f64,
    },
    /// A section id does not name a section of this morphology.
    #[error("unknown section {index} (the morphology has {count} sections)")]
    UnknownSection {
        /// The index that was asked for.
        index: usize,
        /// How many sections exist.
        count: usize,
    },
    /// A cell index does not name a cell of this discretisation.
    #[error("unknown cell {index} (the discretisation has {count} cells)")]
    UnknownCell {
        /// The index that was asked for.
        index: u32,
        /// How many cells exist.
        count: usize,
    },
    /// A section given as 3-D points has fewer than 2 points or zero length.
    #[error("a section needs at least 2 points and a length > 0 (got {points} points, length {length_um} µm)")]
    DegenerateSection {
        /// Number of points given.
        points: usize,
        /// Total path length in µm.
        length_um: f64,
    },
    /// Two sections would get the same name.
    #[error("section name {0:?} is already used")]
    DuplicateName(String),
    /// A per-section list has the wrong length.
    #[error("{what} has {got} entries but the morphology has {expected} sections")]
    LengthMismatch {
        /// Which list.
        what: &'static str,
        /// Entries given.
        got: usize,
        /// Sections in the morphology.
        expected: usize,
    },
    /// nseg of a section is zero.
    #[error("nseg of section {section} must be at least 1")]
    ZeroNseg {
        /// The section's index.
        section: usize,
    },
    /// A located problem in an SWC file.
    #[error("{file}:{line}: {message}")]
    Swc {
        /// File name as given to the reader.
        file: String,
        /// 1-based line number (0 when the problem concerns the whole file).
        line: usize,
        /// Machine-readable category.
        kind: SwcErrorKind,
        /// What was found and what was expected.
        message: String,
    },
    /// A growth, region or growth-spec problem; the message names the field and what was
    /// expected.
    #[error("{0}")]
    Growth(String),
    /// The file could not be read.
    #[error("{file}: {message}")]
    Io {
        /// File name.
        file: String,
        /// The operating system's message.
        message: String,
    },
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, MorphoError>;
