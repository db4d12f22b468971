//! Attribute declarations: type, doc string, units, valid range, initial value or distribution,
//! NaN / NULL policy. The same record drives creation, `set` checks, `check()`, recording
//! headers, CSV export and the generated schema documentation.

use std::ops::RangeInclusive;

use crate::element::{Element, Scalar, ScalarType};

/// How a new object's value is chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum Initial {
    /// The same value for every component (`[v]`) or one value per component.
    Value(Vec<f64>),
    /// Uniformly distributed in `[lo, hi)`, independently per component.
    Uniform {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    /// Normally distributed, independently per component.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (≥ 0).
        std_dev: f64,
    },
}

/// A pointer attribute's target and policy.
#[derive(Clone, Debug, PartialEq)]
pub struct PointerSpec {
    /// Name of the class pointed to.
    pub target: String,
    /// May the pointer be NULL? If not, destroying the target destroys the object holding the
    /// pointer (NEUWON's semantics); if so, the pointer is set to NULL.
    pub nullable: bool,
}

/// The declaration of one attribute (column), class attribute or pointer.
///
/// Built with [`Attribute::new`] or [`Attribute::pointer`] and the chained setters:
///
/// ```
/// use soa_db::Attribute;
/// let v = Attribute::new::<f64>("voltage")
///     .doc("Membrane potential")
///     .units("mV")
///     .initial(-70.0)
///     .range(-200.0..=200.0);
/// assert_eq!(v.units_str(), "mV");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub(crate) name: String,
    pub(crate) doc: String,
    pub(crate) units: String,
    pub(crate) ty: ScalarType,
    pub(crate) width: usize,
    pub(crate) initial: Initial,
    pub(crate) range: Option<(f64, f64)>,
    pub(crate) allow_nan: bool,
    pub(crate) pointer: Option<PointerSpec>,
}

impl Attribute {
    /// Declares an attribute of element type `T` (a scalar or `[scalar; N]`), initial value 0,
    /// no units, no range, NaN not allowed.
    pub fn new<T: Element>(name: impl Into<String>) -> Self {
        Attribute {
            name: name.into(),
            doc: String::new(),
            units: String::new(),
            ty: <T::Scalar as Scalar>::TYPE,
            width: T::WIDTH,
            initial: Initial::Value(vec![0.0]),
            range: None,
            allow_nan: false,
            pointer: None,
        }
    }

    /// Declares a pointer to an object of class `target`. It is stored as a 32-bit row index
    /// with [`NULL`](crate::NULL) as sentinel, starts NULL, and is required (not nullable)
    /// unless [`nullable`](Self::nullable) is called.
    pub fn pointer(name: impl Into<String>, target: impl Into<String>) -> Self {
        Attribute {
            pointer: Some(PointerSpec {
                target: target.into(),
                nullable: false,
            }),
            ..Attribute::new::<u32>(name)
        }
    }

    /// Adds a line to the doc string (surrounding whitespace trimmed).
    pub fn doc(mut self, doc: impl Into<String>) -> Self {
        let line: String = doc.into();
        if !self.doc.is_empty() {
            self.doc.push('\n');
        }
        self.doc.push_str(line.trim());
        self
    }
    /// Sets the units (NEURON's conventions in neuwon: mV, ms, µm, nA, …).
    pub fn units(mut self, units: impl Into<String>) -> Self {
        self.units = units.into();
        self
    }
    /// Sets one initial value for every component.
    pub fn initial(mut self, value: f64) -> Self {
        self.initial = Initial::Value(vec![value]);
        self
    }
    /// Sets an initial value per component (for array attributes).
    pub fn initial_array(mut self, values: &[f64]) -> Self {
        self.initial = Initial::Value(values.to_vec());
        self
    }
    /// Draws initial values from a distribution.
    pub fn initial_distribution(mut self, dist: Initial) -> Self {
        self.initial = dist;
        self
    }
    /// Sets the valid range (inclusive) for every component.
    pub fn range(mut self, range: RangeInclusive<f64>) -> Self {
        self.range = Some((*range.start(), *range.end()));
        self
    }
    /// Allows NaN values (by default `check()` and `set` refuse them).
    pub fn allow_nan(mut self, allow: bool) -> Self {
        self.allow_nan = allow;
        self
    }
    /// For pointers: allow NULL (see [`PointerSpec::nullable`]).
    pub fn nullable(mut self, nullable: bool) -> Self {
        if let Some(p) = &mut self.pointer {
            p.nullable = nullable;
        }
        self
    }

    /// The attribute's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The doc string.
    pub fn doc_str(&self) -> &str {
        &self.doc
    }
    /// The units (empty when dimensionless or unspecified).
    pub fn units_str(&self) -> &str {
        &self.units
    }
    /// The scalar type.
    pub fn scalar_type(&self) -> ScalarType {
        self.ty
    }
    /// Components per object (1 for scalars).
    pub fn width(&self) -> usize {
        self.width
    }
    /// The initial value or distribution.
    pub fn initial_value(&self) -> &Initial {
        &self.initial
    }
    /// The valid range, if any.
    pub fn valid_range(&self) -> Option<(f64, f64)> {
        self.range
    }
    /// Whether NaN is allowed.
    pub fn nan_allowed(&self) -> bool {
        self.allow_nan
    }
    /// The pointer target and policy, for pointer attributes.
    pub fn pointer_spec(&self) -> Option<&PointerSpec> {
        self.pointer.as_ref()
    }

    /// Why `v` may not be stored, if it may not (NaN policy, range).
    pub(crate) fn value_problem(&self, v: f64) -> Option<Problem> {
        if v.is_nan() {
            return (!self.allow_nan).then_some(Problem::Nan);
        }
        match self.range {
            Some((lo, hi)) if !(lo..=hi).contains(&v) => Some(Problem::OutOfRange(lo, hi)),
            _ => None,
        }
    }

    /// Checks the declaration itself.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.name.is_empty() {
            return Err("the name is empty".into());
        }
        if self.width == 0 {
            return Err("arrays must have at least one component".into());
        }
        if let Some((lo, hi)) = self.range {
            if lo.is_nan() || hi.is_nan() || lo > hi {
                return Err(format!("valid range [{lo}, {hi}] is empty or NaN"));
            }
        }
        match &self.initial {
            Initial::Value(v) => {
                if v.len() != 1 && v.len() != self.width {
                    return Err(format!(
                        "{} initial values given for {} component(s)",
                        v.len(),
                        self.width
                    ));
                }
                for &x in v {
                    if self.pointer.is_none() && !self.ty.represents(x) {
                        return Err(format!(
                            "initial value {x} is not representable as {}",
                            self.ty
                        ));
                    }
                    if let Some(p) = self.value_problem(x) {
                        return Err(format!("initial value {x}: {p}"));
                    }
                }
            }
            Initial::Uniform { lo, hi } => {
                if !self.ty.is_float() {
                    return Err("random initial values need a float type".into());
                }
                if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                    return Err(format!("uniform distribution on [{lo}, {hi}) is empty"));
                }
            }
            Initial::Normal { mean, std_dev } => {
                if !self.ty.is_float() {
                    return Err("random initial values need a float type".into());
                }
                if !(mean.is_finite() && std_dev.is_finite() && *std_dev >= 0.0) {
                    return Err(format!(
                        "normal distribution ({mean}, {std_dev}) is invalid"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Why a value is not acceptable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Problem {
    Nan,
    OutOfRange(f64, f64),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Nan => f.write_str("NaN is not allowed"),
            Problem::OutOfRange(lo, hi) => write!(f, "outside the valid range [{lo}, {hi}]"),
        }
    }
}
