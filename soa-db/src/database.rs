//! The [`Database`]: classes, objects, values, pointers, destruction.

use std::any::TypeId;
use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal, Uniform};
use sprs::CsMatView;

use crate::class::{Class, ClassMut, Column};
use crate::element::{Element, Scalar};
use crate::error::{Error, Result};
use crate::handle::{ClassId, Handle, Row, NULL};
use crate::matrix::MatrixKind;
use crate::meta::{Attribute, Initial, Problem};

/// A structure-of-arrays database: classes (tables) of objects whose attributes live in
/// contiguous columns, addressed through stable [`Handle`]s.
///
/// ```
/// use soa_db::{Attribute, Database};
/// let mut db = Database::new();
/// let neuron = db
///     .add_class("Neuron")?
///     .add_attribute(Attribute::new::<f64>("voltage").initial(-70.0).units("mV"))?
///     .id();
/// let n = db.create(neuron)?;
/// db.set(n, "voltage", -65.0)?;
/// assert_eq!(db.get(n, "voltage")?, -65.0);
/// assert_eq!(db.column::<f64>(neuron, "voltage")?, &[-65.0]);
/// # Ok::<(), soa_db::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Database {
    pub(crate) classes: Vec<Class>,
    pub(crate) by_name: HashMap<String, ClassId>,
    pub(crate) by_type: HashMap<TypeId, ClassId>,
    pub(crate) rng: StdRng,
}

impl Default for Database {
    fn default() -> Self {
        Self::new()
    }
}

pub(crate) fn type_name(a: &Attribute) -> String {
    if a.pointer.is_some() {
        format!(
            "pointer to {}",
            a.pointer.as_ref().map_or("?", |p| p.target.as_str())
        )
    } else if a.width == 1 {
        a.ty.to_string()
    } else {
        format!("[{}; {}]", a.ty, a.width)
    }
}

pub(crate) fn element_name<T: Element>() -> String {
    if T::WIDTH == 1 {
        <T::Scalar as Scalar>::TYPE.to_string()
    } else {
        format!("[{}; {}]", <T::Scalar as Scalar>::TYPE, T::WIDTH)
    }
}

impl Database {
    /// An empty database whose random initial values come from a fixed seed (0).
    pub fn new() -> Self {
        Self::with_seed(0)
    }

    /// An empty database whose random initial values come from `seed`.
    pub fn with_seed(seed: u64) -> Self {
        Database {
            classes: Vec::new(),
            by_name: HashMap::new(),
            by_type: HashMap::new(),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    // ----- classes -------------------------------------------------------------------------

    /// Declares a new class and returns its builder.
    pub fn add_class(&mut self, name: &str) -> Result<ClassMut<'_>> {
        if self.by_name.contains_key(name) {
            return Err(Error::DuplicateClass(name.to_string()));
        }
        if name.is_empty() {
            return Err(Error::UnknownClass(String::new()));
        }
        let id = ClassId(self.classes.len() as u32);
        self.classes.push(Class::new(name.to_string()));
        self.by_name.insert(name.to_string(), id);
        Ok(ClassMut { db: self, id })
    }

    /// The builder of an existing class, to add more attributes.
    pub fn class_mut(&mut self, class: ClassId) -> Result<ClassMut<'_>> {
        self.class(class)?;
        Ok(ClassMut {
            db: self,
            id: class,
        })
    }

    /// The id of the class with this name.
    pub fn class_id(&self, name: &str) -> Result<ClassId> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| Error::UnknownClass(name.to_string()))
    }

    /// Every class, in declaration order.
    pub fn class_ids(&self) -> impl Iterator<Item = ClassId> + '_ {
        (0..self.classes.len() as u32).map(ClassId)
    }

    pub(crate) fn class(&self, id: ClassId) -> Result<&Class> {
        self.classes
            .get(id.index())
            .ok_or_else(|| Error::UnknownClass(format!("#{}", id.0)))
    }

    /// The class's name, or `?` for an id this database does not have (for error messages).
    fn class_label(&self, id: ClassId) -> String {
        self.classes
            .get(id.index())
            .map_or_else(|| "?".into(), |c| c.name.clone())
    }

    /// [`Error::WrongClass`] for handle `h` where an object of `expected` was required.
    fn wrong_class(&self, expected: String, h: Handle) -> Error {
        Error::WrongClass {
            expected,
            found: self.class_label(h.class),
        }
    }

    /// The class's name.
    pub fn class_name(&self, id: ClassId) -> Result<&str> {
        Ok(&self.class(id)?.name)
    }

    /// The class's doc string.
    pub fn class_doc(&self, id: ClassId) -> Result<&str> {
        Ok(&self.class(id)?.doc)
    }

    /// Number of live objects in the class.
    pub fn len(&self, class: ClassId) -> Result<usize> {
        Ok(self.class(class)?.len())
    }

    /// Does the class have no objects?
    pub fn is_empty(&self, class: ClassId) -> Result<bool> {
        Ok(self.len(class)? == 0)
    }

    /// The declarations of the class's per-object attributes (pointers included), in order.
    pub fn attributes(&self, class: ClassId) -> Result<impl Iterator<Item = &Attribute>> {
        Ok(self.class(class)?.columns.iter().map(|c| &c.meta))
    }

    /// The declarations of the class's class attributes, in order.
    pub fn class_attributes(&self, class: ClassId) -> Result<impl Iterator<Item = &Attribute>> {
        Ok(self.class(class)?.class_attrs.iter().map(|c| &c.meta))
    }

    /// The declaration of one attribute or class attribute.
    pub fn attribute(&self, class: ClassId, name: &str) -> Result<&Attribute> {
        let c = self.class(class)?;
        match c.members.get(name) {
            Some(crate::class::Member::Column(i)) => Ok(&c.columns[*i].meta),
            Some(crate::class::Member::ClassAttr(i)) => Ok(&c.class_attrs[*i].meta),
            _ => Err(c.unknown(name)),
        }
    }

    // ----- objects -------------------------------------------------------------------------

    pub(crate) fn initial_values(&mut self, attr: &Attribute) -> Vec<f64> {
        if attr.pointer.is_some() {
            return vec![NULL as f64; attr.width];
        }
        match &attr.initial {
            Initial::Value(v) if v.len() == attr.width => v.clone(),
            Initial::Value(v) => vec![v.first().copied().unwrap_or(0.0); attr.width],
            Initial::Uniform { lo, hi } => {
                let d = Uniform::new(*lo, *hi);
                (0..attr.width)
                    .map(|_| narrow(attr, d.sample(&mut self.rng)))
                    .collect()
            }
            Initial::Normal { mean, std_dev } => match Normal::new(*mean, *std_dev) {
                Ok(d) => (0..attr.width)
                    .map(|_| narrow(attr, d.sample(&mut self.rng)))
                    .collect(),
                Err(_) => vec![*mean; attr.width],
            },
        }
    }

    /// Creates an object with every attribute at its initial value (pointers NULL) and
    /// returns its handle. It takes the last row of the class.
    pub fn create(&mut self, class: ClassId) -> Result<Handle> {
        self.class(class)?;
        let ci = class.index();
        let row = self.classes[ci].len();
        let row32 = u32::try_from(row)
            .ok()
            .filter(|&r| r != NULL)
            .ok_or_else(|| Error::ClassFull(self.classes[ci].name.clone()))?;
        let (index, generation) = self.classes[ci]
            .arena
            .insert(row32)
            .ok_or_else(|| Error::ClassFull(self.classes[ci].name.clone()))?;
        let mut columns = std::mem::take(&mut self.classes[ci].columns);
        for col in &mut columns {
            let values = self.initial_values(&col.meta);
            col.data.push_f64(&values);
        }
        let c = &mut self.classes[ci];
        c.columns = columns;
        c.row_slots.push(index);
        for m in &mut c.matrices {
            let last = m.indptr.last().copied().unwrap_or(0);
            m.indptr.push(last);
        }
        for other in &mut self.classes {
            for m in &mut other.matrices {
                if m.target == class {
                    m.ncols += 1;
                }
            }
        }
        Ok(Handle {
            class,
            index,
            generation,
            row: row32,
            epoch: self.classes[ci].epoch,
        })
    }

    /// Creates `n` objects (see [`create`](Self::create)).
    pub fn create_many(&mut self, class: ClassId, n: usize) -> Result<Vec<Handle>> {
        (0..n).map(|_| self.create(class)).collect()
    }

    /// Is the handle's object alive in this database?
    pub fn is_live(&self, h: Handle) -> bool {
        self.classes
            .get(h.class.index())
            .and_then(|c| c.arena.row(h.index, h.generation))
            .is_some()
    }

    /// The current row of the handle's object (valid until the next sort or destruction).
    #[inline]
    pub fn row(&self, h: Handle) -> Result<Row> {
        let c = self.class(h.class)?;
        if h.epoch == c.epoch {
            return Ok(Row(h.row));
        }
        match c.arena.row(h.index, h.generation) {
            Some(r) => Ok(Row(r)),
            None => Err(Error::StaleHandle {
                class: c.name.clone(),
                handle: h,
            }),
        }
    }

    /// The handle of the object in a row.
    pub fn handle_at(&self, class: ClassId, row: Row) -> Result<Handle> {
        let c = self.class(class)?;
        let index = *c.row_slots.get(row.index()).ok_or(Error::RowOutOfBounds {
            class: c.name.clone(),
            row: row.0,
            len: c.len(),
        })?;
        Ok(Handle {
            class,
            index,
            generation: c.arena.generation(index),
            row: row.0,
            epoch: c.epoch,
        })
    }

    /// Handles of every live object of the class, in row order.
    pub fn handles(&self, class: ClassId) -> Result<Vec<Handle>> {
        let c = self.class(class)?;
        Ok(c.row_slots
            .iter()
            .enumerate()
            .map(|(row, &index)| Handle {
                class,
                index,
                generation: c.arena.generation(index),
                row: row as u32,
                epoch: c.epoch,
            })
            .collect())
    }

    fn locate(&self, h: Handle) -> Result<(&Class, usize)> {
        let row = self.row(h)?;
        Ok((&self.classes[h.class.index()], row.index()))
    }

    // ----- values --------------------------------------------------------------------------

    fn value_column<'c>(c: &'c Class, name: &str) -> Result<&'c Column> {
        let col = c.column(name)?;
        if col.meta.pointer.is_some() {
            return Err(Error::PointerMisuse {
                class: c.name.clone(),
                attribute: name.into(),
                reason: "this is a pointer: use get_pointer / set_pointer",
            });
        }
        Ok(col)
    }

    /// Reads a scalar attribute, widened to `f64` (exact for every element type).
    pub fn get(&self, h: Handle, attr: &str) -> Result<f64> {
        let (c, row) = self.locate(h)?;
        let col = Self::value_column(c, attr)?;
        if col.meta.width != 1 {
            return Err(width_error(c, &col.meta, 1));
        }
        Ok(col.data.get_f64(row).unwrap_or(f64::NAN))
    }

    /// Reads every component of an attribute.
    pub fn get_array(&self, h: Handle, attr: &str) -> Result<Vec<f64>> {
        let (c, row) = self.locate(h)?;
        let col = Self::value_column(c, attr)?;
        let w = col.meta.width;
        Ok((row * w..row * w + w)
            .map(|i| col.data.get_f64(i).unwrap_or(f64::NAN))
            .collect())
    }

    /// Writes a scalar attribute. Refused (with nothing written) when the value is not
    /// representable in the element type, is NaN under a no-NaN policy, or lies outside the
    /// valid range.
    pub fn set(&mut self, h: Handle, attr: &str, value: f64) -> Result<()> {
        self.set_array(h, attr, &[value])
    }

    /// Like [`set`](Self::set), but first checks that `units` are the attribute's units.
    pub fn set_with_units(&mut self, h: Handle, attr: &str, value: f64, units: &str) -> Result<()> {
        let (c, _) = self.locate(h)?;
        let col = c.column(attr)?;
        if col.meta.units != units {
            return Err(Error::UnitMismatch {
                class: c.name.clone(),
                attribute: attr.into(),
                expected: col.meta.units.clone(),
                found: units.into(),
            });
        }
        self.set(h, attr, value)
    }

    /// Writes every component of an attribute (same checks as [`set`](Self::set)).
    pub fn set_array(&mut self, h: Handle, attr: &str, values: &[f64]) -> Result<()> {
        let row = self.row(h)?.index();
        let c = &mut self.classes[h.class.index()];
        let i = c.column_index(attr)?;
        let meta = &c.columns[i].meta;
        if meta.pointer.is_some() {
            return Err(Error::PointerMisuse {
                class: c.name.clone(),
                attribute: attr.into(),
                reason: "this is a pointer: use set_pointer",
            });
        }
        check_values(&c.name, meta, values)?;
        let w = meta.width;
        for (k, &v) in values.iter().enumerate() {
            c.columns[i].data.set_f64(row * w + k, v);
        }
        Ok(())
    }

    /// Reads a pointer: `None` when NULL.
    pub fn get_pointer(&self, h: Handle, attr: &str) -> Result<Option<Handle>> {
        let (c, row) = self.locate(h)?;
        let col = c.column(attr)?;
        let target = col.target.ok_or_else(|| Error::PointerMisuse {
            class: c.name.clone(),
            attribute: attr.into(),
            reason: "this is not a pointer",
        })?;
        let r = col.data.get_f64(row).unwrap_or(NULL as f64) as u32;
        if r == NULL {
            return Ok(None);
        }
        self.handle_at(target, Row(r)).map(Some)
    }

    /// Points `h.attr` at `to` (or NULL). `to` must be a live object of the pointer's target
    /// class; NULL is refused for required pointers.
    pub fn set_pointer(&mut self, h: Handle, attr: &str, to: Option<Handle>) -> Result<()> {
        let row = self.row(h)?.index();
        let c = &self.classes[h.class.index()];
        let i = c.column_index(attr)?;
        let col = &c.columns[i];
        let target = col.target.ok_or_else(|| Error::PointerMisuse {
            class: c.name.clone(),
            attribute: attr.into(),
            reason: "this is not a pointer",
        })?;
        let value = match to {
            None => {
                if !col.meta.pointer.as_ref().is_some_and(|p| p.nullable) {
                    return Err(Error::NullNotAllowed {
                        class: c.name.clone(),
                        attribute: attr.into(),
                    });
                }
                NULL
            }
            Some(t) => {
                if t.class != target {
                    return Err(self.wrong_class(self.class_label(target), t));
                }
                self.row(t)?.0
            }
        };
        self.classes[h.class.index()].columns[i]
            .data
            .set_f64(row, value as f64);
        Ok(())
    }

    /// Reads a scalar class attribute.
    pub fn get_class_attr(&self, class: ClassId, attr: &str) -> Result<f64> {
        let c = self.class(class)?;
        let col = &c.class_attrs[c.class_attr(attr)?];
        if col.meta.width != 1 {
            return Err(width_error(c, &col.meta, 1));
        }
        Ok(col.data.get_f64(0).unwrap_or(f64::NAN))
    }

    /// Reads every component of a class attribute.
    pub fn get_class_attr_array(&self, class: ClassId, attr: &str) -> Result<Vec<f64>> {
        let c = self.class(class)?;
        let col = &c.class_attrs[c.class_attr(attr)?];
        Ok((0..col.meta.width)
            .map(|i| col.data.get_f64(i).unwrap_or(f64::NAN))
            .collect())
    }

    /// Writes a scalar class attribute (same checks as [`set`](Self::set)).
    pub fn set_class_attr(&mut self, class: ClassId, attr: &str, value: f64) -> Result<()> {
        self.set_class_attr_array(class, attr, &[value])
    }

    /// Writes every component of a class attribute.
    pub fn set_class_attr_array(
        &mut self,
        class: ClassId,
        attr: &str,
        values: &[f64],
    ) -> Result<()> {
        self.class(class)?;
        let c = &mut self.classes[class.index()];
        let i = c.class_attr(attr)?;
        check_values(&c.name, &c.class_attrs[i].meta, values)?;
        for (k, &v) in values.iter().enumerate() {
            c.class_attrs[i].data.set_f64(k, v);
        }
        Ok(())
    }

    // ----- raw column access ---------------------------------------------------------------

    fn typed_column<'c, T: Element>(c: &'c Class, name: &str) -> Result<&'c Column> {
        let col = c.column(name)?;
        if col.meta.ty != <T::Scalar as Scalar>::TYPE || col.meta.width != T::WIDTH {
            return Err(Error::TypeMismatch {
                class: c.name.clone(),
                attribute: name.into(),
                expected: element_name::<T>(),
                found: type_name(&col.meta),
            });
        }
        Ok(col)
    }

    /// The whole column, one element per row. Pointer columns read as `u32` row indices with
    /// [`NULL`](crate::NULL) for NULL.
    pub fn column<T: Element>(&self, class: ClassId, attr: &str) -> Result<&[T]> {
        let c = self.class(class)?;
        let col = Self::typed_column::<T>(c, attr)?;
        Ok(T::from_scalars(T::Scalar::slice(&col.data).unwrap_or(&[])))
    }

    /// The whole column, mutably. Not available for pointer columns (use
    /// [`set_pointer`](Self::set_pointer)), whose integrity the database maintains. Values
    /// written here are not checked: run [`check`](Self::check) to find NaN or out-of-range
    /// values.
    pub fn column_mut<T: Element>(&mut self, class: ClassId, attr: &str) -> Result<&mut [T]> {
        self.class(class)?;
        let c = &mut self.classes[class.index()];
        let i = Self::typed_column::<T>(c, attr).map(|_| c.column_index(attr))??;
        if c.columns[i].target.is_some() {
            return Err(Error::PointerMisuse {
                class: c.name.clone(),
                attribute: attr.into(),
                reason: "pointer columns cannot be borrowed mutably",
            });
        }
        Ok(T::from_scalars_mut(
            T::Scalar::slice_mut(&mut c.columns[i].data).unwrap_or(&mut []),
        ))
    }

    /// Borrows several columns, of any classes, mutably at once (see [`ColumnsMut`](crate::ColumnsMut)).
    pub fn columns_mut(&mut self) -> crate::ColumnsMut<'_> {
        crate::ColumnsMut::new(self)
    }

    /// The column's bytes, for upload to a device (zero-copy).
    pub fn column_bytes(&self, class: ClassId, attr: &str) -> Result<&[u8]> {
        Ok(self.class(class)?.column(attr)?.data.bytes())
    }

    /// The column's bytes, mutably, for download from a device. Refused for pointer and
    /// `bool` columns, which not every byte pattern keeps valid.
    pub fn column_bytes_mut(&mut self, class: ClassId, attr: &str) -> Result<&mut [u8]> {
        self.class(class)?;
        let c = &mut self.classes[class.index()];
        let i = c.column_index(attr)?;
        if c.columns[i].target.is_some() {
            return Err(Error::PointerMisuse {
                class: c.name.clone(),
                attribute: attr.into(),
                reason: "pointer columns have no mutable byte view",
            });
        }
        let name = c.name.clone();
        c.columns[i]
            .data
            .bytes_mut()
            .ok_or_else(|| Error::TypeMismatch {
                class: name,
                attribute: attr.into(),
                expected: "a plain-old-data type".into(),
                found: "bool (declare u8 for a writable byte view)".into(),
            })
    }

    // ----- matrices ------------------------------------------------------------------------

    /// A CSR view of a matrix: rows are the class's objects and columns the target's, both in
    /// current row order.
    pub fn matrix(&self, class: ClassId, name: &str) -> Result<CsMatView<'_, f64>> {
        let c = self.class(class)?;
        let m = &c.matrices[c.matrix_index(name)?];
        m.view().ok_or_else(|| Error::InvalidMatrix {
            class: c.name.clone(),
            matrix: name.into(),
            reason: "internal structure is inconsistent".into(),
        })
    }

    /// Replaces a matrix's entries with `(row object, column object, value)` triplets.
    /// Duplicates are summed (a connectivity matrix keeps them once, with value 1).
    pub fn set_matrix_entries(
        &mut self,
        class: ClassId,
        name: &str,
        entries: &[(Handle, Handle, f64)],
    ) -> Result<()> {
        let c = self.class(class)?;
        let mi = c.matrix_index(name)?;
        let target = c.matrices[mi].target;
        let mut t = Vec::with_capacity(entries.len());
        for &(a, b, v) in entries {
            for (h, want) in [(a, class), (b, target)] {
                if h.class != want {
                    return Err(self.wrong_class(self.class_label(want), h));
                }
            }
            if !v.is_finite() {
                return Err(Error::InvalidMatrix {
                    class: c.name.clone(),
                    matrix: name.into(),
                    reason: format!("entry value {v} is not finite"),
                });
            }
            t.push((self.row(a)?.index(), self.row(b)?.index(), v));
        }
        let nrows = c.len();
        self.classes[class.index()].matrices[mi].set_triplets(nrows, t);
        Ok(())
    }

    /// Replaces a matrix with a CSR matrix in row order (shape: class length × target length).
    pub fn set_matrix(&mut self, class: ClassId, name: &str, m: CsMatView<'_, f64>) -> Result<()> {
        let c = self.class(class)?;
        let mi = c.matrix_index(name)?;
        let mat = &c.matrices[mi];
        let want = (c.len(), mat.ncols);
        let bad = |reason: String| Error::InvalidMatrix {
            class: c.name.clone(),
            matrix: name.into(),
            reason,
        };
        if m.shape() != want {
            return Err(bad(format!(
                "shape is {:?}, the classes need {:?}",
                m.shape(),
                want
            )));
        }
        let mut t = Vec::with_capacity(m.nnz());
        for (v, (r, col)) in m.iter() {
            if !v.is_finite() {
                return Err(bad(format!("entry ({r}, {col}) = {v} is not finite")));
            }
            if mat.kind == MatrixKind::Connectivity && *v != 1.0 {
                return Err(bad(format!(
                    "connectivity entries must be 1, entry ({r}, {col}) is {v}"
                )));
            }
            t.push((r, col, *v));
        }
        let nrows = c.len();
        self.classes[class.index()].matrices[mi].set_triplets(nrows, t);
        Ok(())
    }

    // ----- destruction ---------------------------------------------------------------------

    /// Destroys one object (see [`destroy_many`](Self::destroy_many)).
    pub fn destroy(&mut self, h: Handle) -> Result<usize> {
        self.destroy_many(&[h])
    }

    /// Destroys a batch of objects in one pass, and returns how many objects were destroyed in
    /// all. Nullable pointers to a destroyed object become NULL; objects whose *required*
    /// pointer designates a destroyed object are destroyed too, transitively. Each class is
    /// compacted once, keeping the order of the remaining rows (a sorted class stays sorted);
    /// pointer columns and matrices are rewritten. Stale handles in the batch are an error and
    /// nothing is destroyed.
    pub fn destroy_many(&mut self, handles: &[Handle]) -> Result<usize> {
        let mut dead: Vec<Vec<bool>> = self.classes.iter().map(|c| vec![false; c.len()]).collect();
        let mut pending: Vec<bool> = vec![false; self.classes.len()];
        for &h in handles {
            let row = self.row(h)?.index();
            dead[h.class.index()][row] = true;
            pending[h.class.index()] = true;
        }
        // Cascade through required pointers until nothing changes.
        while let Some(x) = pending.iter().position(|&p| p) {
            pending[x] = false;
            for (ci, c) in self.classes.iter().enumerate() {
                for col in &c.columns {
                    let required = col.meta.pointer.as_ref().is_some_and(|p| !p.nullable);
                    if col.target != Some(ClassId(x as u32)) || !required {
                        continue;
                    }
                    let Some(ptrs) = u32::slice(&col.data) else {
                        continue;
                    };
                    for (r, &p) in ptrs.iter().enumerate() {
                        if p != NULL && !dead[ci][r] && dead[x].get(p as usize) == Some(&true) {
                            dead[ci][r] = true;
                            pending[ci] = true;
                        }
                    }
                }
            }
        }
        let mut total = 0;
        for (ci, d) in dead.iter().enumerate() {
            let n_dead = d.iter().filter(|&&x| x).count();
            if n_dead == 0 {
                continue;
            }
            total += n_dead;
            let c = &mut self.classes[ci];
            let mut new_to_old = Vec::with_capacity(d.len() - n_dead);
            let mut old_to_new = vec![NULL; d.len()];
            for (r, &is_dead) in d.iter().enumerate() {
                if is_dead {
                    c.arena.remove(c.row_slots[r]);
                } else {
                    old_to_new[r] = new_to_old.len() as u32;
                    new_to_old.push(r as u32);
                }
            }
            self.remap(ClassId(ci as u32), &new_to_old, &old_to_new);
        }
        Ok(total)
    }

    /// Moves the rows of `class` so that new row `i` holds old row `new_to_old[i]` (rows not
    /// listed are dropped; their slots must already be freed), and rewrites every pointer and
    /// matrix that refers to the class.
    pub(crate) fn remap(&mut self, class: ClassId, new_to_old: &[u32], old_to_new: &[u32]) {
        let ci = class.index();
        {
            let c = &mut self.classes[ci];
            c.epoch = crate::handle::next_epoch();
            for col in &mut c.columns {
                col.data.gather(new_to_old, col.meta.width);
            }
            c.row_slots = new_to_old
                .iter()
                .map(|&o| c.row_slots[o as usize])
                .collect();
            for (r, &slot) in c.row_slots.iter().enumerate() {
                c.arena.set_row(slot, r as u32);
            }
            for m in &mut c.matrices {
                m.gather_rows(new_to_old);
            }
        }
        let n = new_to_old.len();
        for c in &mut self.classes {
            for col in &mut c.columns {
                if col.target == Some(class) {
                    if let Some(p) = u32::slice_mut(&mut col.data) {
                        for v in p.iter_mut().filter(|v| **v != NULL) {
                            *v = old_to_new.get(*v as usize).copied().unwrap_or(NULL);
                        }
                    }
                }
            }
            for m in &mut c.matrices {
                if m.target == class {
                    m.remap_cols(old_to_new, n);
                }
            }
        }
    }

    // ----- typed layer hooks ---------------------------------------------------------------

    /// The class registered for a typed wrapper, declaring it on first use.
    #[doc(hidden)]
    pub fn typed_class<C: crate::TypedClass>(&mut self) -> Result<ClassId> {
        if let Some(&id) = self.by_type.get(&TypeId::of::<C>()) {
            return Ok(id);
        }
        if self.by_name.contains_key(C::NAME) {
            return Err(Error::DuplicateClass(C::NAME.to_string()));
        }
        let id = self.add_class(C::NAME)?.id();
        self.classes[id.index()].type_tag = C::type_tag();
        self.by_type.insert(TypeId::of::<C>(), id);
        C::declare_members(self, id)?;
        Ok(id)
    }

    #[inline(always)]
    fn typed_locate<C: crate::TypedClass, T: Element>(
        &self,
        h: Handle,
        col: usize,
    ) -> Result<(usize, usize)> {
        let ci = h.class.index();
        match self.classes.get(ci) {
            Some(c) if c.type_tag == C::type_tag() => {
                let row = if h.epoch == c.epoch {
                    Some(h.row)
                } else {
                    c.arena.row_fast(h.index, h.generation)
                };
                match (row, c.columns.get(col)) {
                    (Some(row), Some(column)) if column.meta.width == T::WIDTH => {
                        Ok((ci, row as usize))
                    }
                    _ => Err(self.typed_error::<C, T>(h, col)),
                }
            }
            _ => Err(self.typed_error::<C, T>(h, col)),
        }
    }

    #[cold]
    #[inline(never)]
    fn typed_error<C: crate::TypedClass, T: Element>(&self, h: Handle, col: usize) -> Error {
        let Some(c) = self
            .classes
            .get(h.class.index())
            .filter(|c| c.type_tag == C::type_tag())
        else {
            return self.wrong_class(std::any::type_name::<C>().into(), h);
        };
        if c.arena.row(h.index, h.generation).is_none() {
            return Error::StaleHandle {
                class: c.name.clone(),
                handle: h,
            };
        }
        Error::TypeMismatch {
            class: c.name.clone(),
            attribute: c
                .columns
                .get(col)
                .map_or_else(|| format!("#{col}"), |c| c.meta.name.clone()),
            expected: element_name::<T>(),
            found: c
                .columns
                .get(col)
                .map_or_else(|| "nothing".into(), |c| type_name(&c.meta)),
        }
    }

    /// Typed read of column `col` of a typed class (used by [`class!`](crate::class)).
    #[doc(hidden)]
    #[inline(always)]
    pub fn typed_get<C: crate::TypedClass, T: Element>(&self, h: Handle, col: usize) -> Result<T> {
        let (ci, row) = self.typed_locate::<C, T>(h, col)?;
        match T::Scalar::slice(&self.classes[ci].columns[col].data)
            .and_then(|s| T::from_scalars(s).get(row))
        {
            Some(v) => Ok(*v),
            None => Err(self.typed_error::<C, T>(h, col)),
        }
    }

    /// Typed write of column `col` of a typed class (used by [`class!`](crate::class)).
    #[doc(hidden)]
    #[inline(always)]
    pub fn typed_set<C: crate::TypedClass, T: Element>(
        &mut self,
        h: Handle,
        col: usize,
        value: T,
    ) -> Result<()> {
        let (ci, row) = self.typed_locate::<C, T>(h, col)?;
        let column = &mut self.classes[ci].columns[col];
        let meta = &column.meta;
        if meta.range.is_some() || (meta.ty.is_float() && !meta.allow_nan) {
            for &s in T::as_scalars(&value) {
                let v = s.to_f64();
                if v.is_nan() || meta.range.is_some() {
                    if let Some(p) = meta.value_problem(v) {
                        return Err(problem_error(
                            &self.classes[ci].name,
                            &self.classes[ci].columns[col].meta,
                            v,
                            p,
                        ));
                    }
                }
            }
        }
        match T::Scalar::slice_mut(&mut column.data)
            .and_then(|s| T::from_scalars_mut(s).get_mut(row))
        {
            Some(slot) => {
                *slot = value;
                Ok(())
            }
            None => Err(self.typed_error::<C, T>(h, col)),
        }
    }
}

fn narrow(attr: &Attribute, v: f64) -> f64 {
    if attr.ty == crate::ScalarType::F32 {
        v as f32 as f64
    } else {
        v
    }
}

fn width_error(c: &Class, meta: &Attribute, found: usize) -> Error {
    Error::WidthMismatch {
        class: c.name.clone(),
        attribute: meta.name.clone(),
        expected: meta.width,
        found,
    }
}

pub(crate) fn problem_error(class: &str, meta: &Attribute, v: f64, p: Problem) -> Error {
    match p {
        Problem::Nan => Error::NanNotAllowed {
            class: class.into(),
            attribute: meta.name.clone(),
        },
        Problem::OutOfRange(lo, hi) => Error::OutOfRange {
            class: class.into(),
            attribute: meta.name.clone(),
            value: v,
            lo,
            hi,
            units: meta.units.clone(),
        },
    }
}

fn check_values(class: &str, meta: &Attribute, values: &[f64]) -> Result<()> {
    if values.len() != meta.width {
        return Err(Error::WidthMismatch {
            class: class.into(),
            attribute: meta.name.clone(),
            expected: meta.width,
            found: values.len(),
        });
    }
    for &v in values {
        if !meta.ty.represents(v) {
            return Err(Error::NotRepresentable {
                class: class.into(),
                attribute: meta.name.clone(),
                value: v,
                ty: meta.ty.to_string(),
            });
        }
        if let Some(p) = meta.value_problem(v) {
            return Err(problem_error(class, meta, v, p));
        }
    }
    Ok(())
}
