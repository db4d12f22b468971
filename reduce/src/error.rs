//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong while validating or reducing a cable tree.
///
/// Section and synapse fields are named by index (and section name where one exists) so that a
/// caller can point at the offending input record.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ReduceError {
    /// The tree has no section.
    #[error("the cable tree has no section")]
    Empty,
    /// A section names a parent index outside the tree.
    #[error("section {section} (`{name}`): parent index {parent} is out of range (tree has {len} sections)")]
    MissingParent {
        /// Section index.
        section: usize,
        /// Section name.
        name: String,
        /// The parent index given.
        parent: usize,
        /// Number of sections.
        len: usize,
    },
    /// Following parents from a section comes back to it.
    #[error("section {section} (`{name}`): its parent chain contains a cycle")]
    Cycle {
        /// Section index.
        section: usize,
        /// Section name.
        name: String,
    },
    /// Not exactly one section without a parent, or the root is not a soma.
    #[error("expected exactly one root section of kind soma: {0}")]
    Root(String),
    /// A numeric field is NaN, infinite or outside its valid range.
    #[error(
        "section {section} (`{name}`): field `{field}` = {value} is invalid, expected {expected}"
    )]
    InvalidField {
        /// Section index.
        section: usize,
        /// Section name.
        name: String,
        /// Field name (with the segment or point index where relevant).
        field: String,
        /// The value found.
        value: f64,
        /// What was expected.
        expected: &'static str,
    },
    /// A section has no segment.
    #[error("section {section} (`{name}`): it has no segment (nseg must be >= 1)")]
    NoSegments {
        /// Section index.
        section: usize,
        /// Section name.
        name: String,
    },
    /// A synapse refers to a missing section or has an invalid position or parameter.
    #[error("synapse {synapse}: {message}")]
    InvalidSynapse {
        /// Synapse index in the input list.
        synapse: usize,
        /// What is wrong.
        message: String,
    },
    /// A reduction option is invalid.
    #[error("option `{field}` = {value} is invalid, expected {expected}")]
    InvalidOption {
        /// Option name.
        field: &'static str,
        /// The value found.
        value: f64,
        /// What was expected.
        expected: &'static str,
    },
    /// The input is valid but uses something the reduction does not handle.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The cable equations have no usable solution for a stem (e.g. `|Z_min| >= |Z_in|`).
    #[error("stem rooted at section {section} (`{name}`): {message}")]
    Degenerate {
        /// Root section index.
        section: usize,
        /// Root section name.
        name: String,
        /// What went wrong.
        message: String,
    },
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, ReduceError>;
