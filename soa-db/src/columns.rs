//! Borrowing several columns mutably at once, with no `unsafe` on the caller's side.

use crate::class::{Column, Member};
use crate::element::{Element, Scalar};
use crate::error::{Error, Result};
use crate::handle::Arena;
use crate::handle::ClassId;
use crate::matrix::Matrix;
use crate::typed::RowLookup;
use crate::Database;

/// Several columns of one database borrowed at once: each column can be taken once, mutably
/// or shared, for the lifetime of the borrow. Taking the same column twice is an
/// [`Error::AlreadyBorrowed`].
///
/// ```
/// use soa_db::{Attribute, Database};
/// let mut db = Database::new();
/// let cell = db
///     .add_class("Cell")?
///     .add_attribute(Attribute::new::<f64>("v").initial(1.0))?
///     .add_attribute(Attribute::new::<f64>("dv").initial(0.5))?
///     .id();
/// db.create_many(cell, 3)?;
/// let mut cols = db.columns_mut();
/// let v = cols.take::<f64>(cell, "v")?;
/// let dv = cols.take_ref::<f64>(cell, "dv")?;
/// for (v, dv) in v.iter_mut().zip(dv) {
///     *v += dv;
/// }
/// assert!(cols.take::<f64>(cell, "v").is_err()); // already taken
/// # drop(cols);
/// assert_eq!(db.column::<f64>(cell, "v")?, &[1.5, 1.5, 1.5]);
/// # Ok::<(), soa_db::Error>(())
/// ```
pub struct ColumnsMut<'a> {
    classes: Vec<ClassSlots<'a>>,
}

struct ClassSlots<'a> {
    name: &'a str,
    members: &'a std::collections::HashMap<String, Member>,
    matrices: &'a [Matrix],
    arena: &'a Arena,
    epoch: u32,
    columns: Vec<Option<&'a mut Column>>,
}

impl<'a> ColumnsMut<'a> {
    pub(crate) fn new(db: &'a mut Database) -> Self {
        ColumnsMut {
            classes: db
                .classes
                .iter_mut()
                .map(|c| ClassSlots {
                    name: &c.name,
                    members: &c.members,
                    matrices: &c.matrices,
                    arena: &c.arena,
                    epoch: c.epoch,
                    columns: c.columns.iter_mut().map(Some).collect(),
                })
                .collect(),
        }
    }

    fn take_column(&mut self, class: ClassId, attr: &str) -> Result<&'a mut Column> {
        let slots = self
            .classes
            .get_mut(class.index())
            .ok_or_else(|| Error::UnknownClass(format!("#{}", class.index())))?;
        let i = match slots.members.get(attr) {
            Some(Member::Column(i)) => *i,
            _ => {
                return Err(Error::UnknownAttribute {
                    class: slots.name.into(),
                    attribute: attr.into(),
                })
            }
        };
        slots.columns[i]
            .take()
            .ok_or_else(|| Error::AlreadyBorrowed {
                class: slots.name.into(),
                attribute: attr.into(),
            })
    }

    fn check_type<T: Element>(&self, class: ClassId, col: &Column) -> Result<()> {
        if col.meta.ty != <T::Scalar as Scalar>::TYPE || col.meta.width != T::WIDTH {
            return Err(Error::TypeMismatch {
                class: self
                    .classes
                    .get(class.index())
                    .map_or_else(String::new, |c| c.name.to_string()),
                attribute: col.meta.name.clone(),
                expected: crate::database::element_name::<T>(),
                found: crate::database::type_name(&col.meta),
            });
        }
        Ok(())
    }

    /// Takes a value column mutably (not a pointer column).
    pub fn take<T: Element>(&mut self, class: ClassId, attr: &str) -> Result<&'a mut [T]> {
        let col = self.take_column(class, attr)?;
        self.check_type::<T>(class, col)?;
        if col.target.is_some() {
            return Err(Error::PointerMisuse {
                class: self.classes[class.index()].name.into(),
                attribute: attr.into(),
                reason: "pointer columns cannot be borrowed mutably",
            });
        }
        Ok(T::from_scalars_mut(
            T::Scalar::slice_mut(&mut col.data).unwrap_or(&mut []),
        ))
    }

    /// Takes any column (pointer columns too, as `u32` rows) for reading.
    pub fn take_ref<T: Element>(&mut self, class: ClassId, attr: &str) -> Result<&'a [T]> {
        let col: &'a Column = self.take_column(class, attr)?;
        self.check_type::<T>(class, col)?;
        Ok(T::from_scalars(T::Scalar::slice(&col.data).unwrap_or(&[])))
    }

    /// Reads a matrix of a class while columns are borrowed.
    pub fn matrix(&self, class: ClassId, name: &str) -> Result<sprs::CsMatView<'a, f64>> {
        let slots = self
            .classes
            .get(class.index())
            .ok_or_else(|| Error::UnknownClass(format!("#{}", class.index())))?;
        let bad = || Error::UnknownAttribute {
            class: slots.name.into(),
            attribute: name.into(),
        };
        let m: &'a Matrix = match slots.members.get(name) {
            Some(Member::Matrix(i)) => slots.matrices.get(*i).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        m.view().ok_or_else(bad)
    }

    /// Resolves handles of a class to rows while its columns are borrowed.
    pub fn rows(&self, class: ClassId) -> Result<RowLookup<'a>> {
        let slots = self
            .classes
            .get(class.index())
            .ok_or_else(|| Error::UnknownClass(format!("#{}", class.index())))?;
        Ok(RowLookup {
            class,
            epoch: slots.epoch,
            name: slots.name,
            arena: slots.arena,
        })
    }
}
