//! `check()`: every NaN, NULL, dangling pointer and out-of-range value, by name.

use std::fmt;

use crate::class::{Class, Column};
use crate::handle::{Handle, NULL};
use crate::meta::Problem;
use crate::Database;

/// Why a stored value violates its attribute's declaration.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// NaN where the policy forbids it.
    Nan,
    /// Outside the declared valid range.
    OutOfRange {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    /// NULL in a required pointer.
    Null,
    /// A pointer to a row past the end of its target class.
    Dangling {
        /// Length of the target class.
        target_len: usize,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Nan => f.write_str("NaN is not allowed"),
            Reason::OutOfRange { lo, hi } => write!(f, "outside the valid range [{lo}, {hi}]"),
            Reason::Null => f.write_str("required pointer is NULL"),
            Reason::Dangling { target_len } => {
                write!(
                    f,
                    "pointer past the end of its target class ({target_len} rows)"
                )
            }
        }
    }
}

/// One violation found by [`Database::check`]. Displays as
/// `Class.attribute[handle] = value: reason` (class attributes have no `[handle]`; array
/// components add `[k]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// Class name.
    pub class: String,
    /// Attribute name.
    pub attribute: String,
    /// The object, or `None` for a class attribute.
    pub handle: Option<Handle>,
    /// Component of an array attribute.
    pub component: Option<usize>,
    /// The stored value (a pointer shows its row, or `NULL`).
    pub value: String,
    /// What is wrong with it.
    pub reason: Reason,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.class, self.attribute)?;
        if let Some(h) = self.handle {
            write!(f, "[{h}]")?;
        }
        if let Some(k) = self.component {
            write!(f, "[{k}]")?;
        }
        write!(f, " = {}: {}", self.value, self.reason)
    }
}

impl Database {
    /// Checks every stored value against its declaration and returns every violation: NaN
    /// under a no-NaN policy, values outside the valid range, NULL in required pointers and
    /// pointers past the end of their target. An empty vector means the database is clean.
    pub fn check(&self) -> Vec<Violation> {
        let mut out = Vec::new();
        for (ci, c) in self.classes.iter().enumerate() {
            for col in &c.columns {
                self.check_column(ci, c, col, false, &mut out);
            }
            for col in &c.class_attrs {
                self.check_column(ci, c, col, true, &mut out);
            }
        }
        out
    }

    fn check_column(
        &self,
        ci: usize,
        c: &Class,
        col: &Column,
        class_attr: bool,
        out: &mut Vec<Violation>,
    ) {
        let meta = &col.meta;
        let w = meta.width;
        let handle = |row: usize| {
            if class_attr {
                None
            } else {
                self.handle_at(crate::ClassId(ci as u32), crate::Row(row as u32))
                    .ok()
            }
        };
        let mut push = |i: usize, value: String, reason: Reason| {
            out.push(Violation {
                class: c.name.clone(),
                attribute: meta.name.clone(),
                handle: handle(i / w),
                component: (w > 1).then_some(i % w),
                value,
                reason,
            })
        };
        if let Some(target) = col.target {
            let target_len = self.classes[target.index()].len();
            let nullable = meta.pointer.as_ref().is_some_and(|p| p.nullable);
            for i in 0..col.data.len() {
                let p = col.data.get_f64(i).unwrap_or(f64::NAN) as u32;
                if p == NULL {
                    if !nullable {
                        push(i, "NULL".into(), Reason::Null);
                    }
                } else if p as usize >= target_len {
                    push(i, format!("row {p}"), Reason::Dangling { target_len });
                }
            }
            return;
        }
        let needs_nan = meta.ty.is_float() && !meta.allow_nan;
        if !needs_nan && meta.range.is_none() {
            return;
        }
        for i in 0..col.data.len() {
            let v = col.data.get_f64(i).unwrap_or(f64::NAN);
            match meta.value_problem(v) {
                Some(Problem::Nan) => push(i, "NaN".into(), Reason::Nan),
                Some(Problem::OutOfRange(lo, hi)) => push(
                    i,
                    format!("{v} {}", meta.units).trim_end().to_string(),
                    Reason::OutOfRange { lo, hi },
                ),
                None => {}
            }
        }
    }
}
