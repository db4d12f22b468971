//! The crate's error type.

use crate::handle::Handle;

/// Every way a database operation can fail. Nothing in this crate panics on bad input; it
/// returns one of these instead, naming the class and attribute involved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No class has this name.
    #[error("unknown class `{0}`")]
    UnknownClass(String),
    /// A class with this name already exists.
    #[error("class `{0}` already exists")]
    DuplicateClass(String),
    /// The class has no attribute, class attribute or matrix with this name.
    #[error("class `{class}` has no attribute `{attribute}`")]
    UnknownAttribute {
        /// Class name.
        class: String,
        /// The name that was asked for.
        attribute: String,
    },
    /// The class already has an attribute, class attribute or matrix with this name.
    #[error("class `{class}` already has an attribute or matrix named `{attribute}`")]
    DuplicateAttribute {
        /// Class name.
        class: String,
        /// The duplicated name.
        attribute: String,
    },
    /// The attribute's element type is not the one asked for.
    #[error("`{class}.{attribute}` holds {found}, not {expected}")]
    TypeMismatch {
        /// Class name.
        class: String,
        /// Attribute name.
        attribute: String,
        /// What the caller asked for.
        expected: String,
        /// What the attribute holds.
        found: String,
    },
    /// A value cannot be stored exactly in the attribute's element type.
    #[error("`{class}.{attribute}`: {value} is not representable as {ty}")]
    NotRepresentable {
        /// Class name.
        class: String,
        /// Attribute name.
        attribute: String,
        /// The value that was offered.
        value: f64,
        /// The element type of the attribute.
        ty: String,
    },
    /// A value lies outside the attribute's declared valid range.
    #[error("`{class}.{attribute}`: {value} {units} is outside the valid range [{lo}, {hi}]")]
    OutOfRange {
        /// Class name.
        class: String,
        /// Attribute name.
        attribute: String,
        /// The value that was offered.
        value: f64,
        /// Lower bound (inclusive).
        lo: f64,
        /// Upper bound (inclusive).
        hi: f64,
        /// Units of the attribute.
        units: String,
    },
    /// NaN was offered to an attribute whose policy forbids it.
    #[error("`{class}.{attribute}`: NaN is not allowed")]
    NanNotAllowed {
        /// Class name.
        class: String,
        /// Attribute name.
        attribute: String,
    },
    /// NULL was offered to a pointer that is required.
    #[error("`{class}.{attribute}`: this pointer is required and cannot be NULL")]
    NullNotAllowed {
        /// Class name.
        class: String,
        /// Attribute name.
        attribute: String,
    },
    /// The value was given in other units than the attribute's.
    #[error("`{class}.{attribute}` is in {expected}, but the value was given in {found}")]
    UnitMismatch {
        /// Class name.
        class: String,
        /// Attribute name.
        attribute: String,
        /// The attribute's units.
        expected: String,
        /// The units the caller used.
        found: String,
    },
    /// An array value has the wrong number of components.
    #[error("`{class}.{attribute}` has {expected} component(s), got {found}")]
    WidthMismatch {
        /// Class name.
        class: String,
        /// Attribute name.
        attribute: String,
        /// The attribute's width.
        expected: usize,
        /// The number given.
        found: usize,
    },
    /// The handle's object was destroyed (or the handle never belonged to this database).
    #[error("stale handle {handle} for class `{class}`: the object no longer exists")]
    StaleHandle {
        /// Class name.
        class: String,
        /// The handle.
        handle: Handle,
    },
    /// A handle of one class was used where another class was expected.
    #[error("expected an object of class `{expected}`, got one of `{found}`")]
    WrongClass {
        /// The class that was expected.
        expected: String,
        /// The class of the handle.
        found: String,
    },
    /// A row index is past the end of the class.
    #[error("row {row} is out of bounds for class `{class}` with {len} rows")]
    RowOutOfBounds {
        /// Class name.
        class: String,
        /// The row index.
        row: u32,
        /// Number of rows.
        len: usize,
    },
    /// The same column was asked for twice in one `ColumnsMut` borrow.
    #[error("`{class}.{attribute}` is already borrowed")]
    AlreadyBorrowed {
        /// Class name.
        class: String,
        /// Attribute name.
        attribute: String,
    },
    /// The operation needs a pointer attribute, or must not be used on one.
    #[error("`{class}.{attribute}`: {reason}")]
    PointerMisuse {
        /// Class name.
        class: String,
        /// Attribute name.
        attribute: String,
        /// What was wrong.
        reason: &'static str,
    },
    /// Sort keys that go through pointers form a cycle, so no class can be sorted first.
    #[error("sort keys form a cycle through pointers: {}", .0.join(" -> "))]
    SortCycle(Vec<String>),
    /// A declaration is inconsistent (e.g. a valid range with `lo > hi`).
    #[error("invalid declaration of `{class}.{attribute}`: {reason}")]
    InvalidDeclaration {
        /// Class name.
        class: String,
        /// Attribute name.
        attribute: String,
        /// What is wrong.
        reason: String,
    },
    /// A matrix does not have the shape its classes require, or is malformed.
    #[error("matrix `{class}.{matrix}`: {reason}")]
    InvalidMatrix {
        /// Class name.
        class: String,
        /// Matrix name.
        matrix: String,
        /// What is wrong.
        reason: String,
    },
    /// A time series for playback is malformed.
    #[error("playback into `{attribute}`: {reason}")]
    InvalidTimeSeries {
        /// Attribute name.
        attribute: String,
        /// What is wrong.
        reason: String,
    },
    /// The class is out of its capacity of 2³²−1 objects.
    #[error("class `{0}` is full (at most 4294967294 objects)")]
    ClassFull(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
