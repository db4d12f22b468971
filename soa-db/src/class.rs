//! Class (table) storage and the builder returned by [`Database::add_class`](crate::Database::add_class).

use std::collections::HashMap;

use crate::element::private::ColumnData;
use crate::error::{Error, Result};
use crate::handle::{Arena, ClassId};
use crate::matrix::{Matrix, MatrixKind};
use crate::meta::Attribute;
use crate::Database;

/// One column: its declaration and its data.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    pub(crate) meta: Attribute,
    pub(crate) data: ColumnData,
    /// Resolved target of a pointer column.
    pub(crate) target: Option<ClassId>,
}

/// What a name inside a class designates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Member {
    Column(usize),
    ClassAttr(usize),
    Matrix(usize),
}

/// A table: columns of equal length, one row per live object.
#[derive(Clone, Debug)]
pub(crate) struct Class {
    pub(crate) name: String,
    pub(crate) doc: String,
    pub(crate) columns: Vec<Column>,
    pub(crate) class_attrs: Vec<Column>,
    pub(crate) matrices: Vec<Matrix>,
    pub(crate) members: HashMap<String, Member>,
    /// Columns (by index) that make the sort key, most significant first.
    pub(crate) sort_key: Vec<usize>,
    pub(crate) arena: Arena,
    /// Row → slot index of the object in that row.
    pub(crate) row_slots: Vec<u32>,
    /// The [`TypedClass::type_tag`](crate::TypedClass) of the typed wrapper that declared the
    /// class (see [`class!`](crate::class)), or 0.
    pub(crate) type_tag: usize,
    /// Structure epoch: changes whenever rows move (sort, compaction); see [`Handle`](crate::Handle).
    pub(crate) epoch: u32,
}

impl Class {
    pub(crate) fn new(name: String) -> Self {
        Class {
            name,
            doc: String::new(),
            columns: Vec::new(),
            class_attrs: Vec::new(),
            matrices: Vec::new(),
            members: HashMap::new(),
            sort_key: Vec::new(),
            arena: Arena::default(),
            row_slots: Vec::new(),
            type_tag: 0,
            epoch: crate::handle::next_epoch(),
        }
    }

    /// Number of live objects.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.row_slots.len()
    }

    pub(crate) fn unknown(&self, name: &str) -> Error {
        Error::UnknownAttribute {
            class: self.name.clone(),
            attribute: name.to_string(),
        }
    }

    pub(crate) fn column_index(&self, name: &str) -> Result<usize> {
        match self.members.get(name) {
            Some(Member::Column(i)) => Ok(*i),
            _ => Err(self.unknown(name)),
        }
    }

    pub(crate) fn column(&self, name: &str) -> Result<&Column> {
        let i = self.column_index(name)?;
        Ok(&self.columns[i])
    }

    pub(crate) fn class_attr(&self, name: &str) -> Result<usize> {
        match self.members.get(name) {
            Some(Member::ClassAttr(i)) => Ok(*i),
            _ => Err(self.unknown(name)),
        }
    }

    pub(crate) fn matrix_index(&self, name: &str) -> Result<usize> {
        match self.members.get(name) {
            Some(Member::Matrix(i)) => Ok(*i),
            _ => Err(self.unknown(name)),
        }
    }
}

/// Adds attributes, class attributes, matrices and a sort key to a class. Returned by
/// [`Database::add_class`](crate::Database::add_class) and [`Database::class_mut`](crate::Database::class_mut);
/// every method consumes and returns the builder so declarations chain with `?`:
///
/// ```
/// use soa_db::{Attribute, Database};
/// let mut db = Database::new();
/// db.add_class("Neuron")?
///     .doc("A point neuron")
///     .add_attribute(Attribute::new::<f64>("voltage").initial(-70.0).units("mV"))?
///     .add_attribute(Attribute::new::<u32>("spikes"))?;
/// # Ok::<(), soa_db::Error>(())
/// ```
pub struct ClassMut<'a> {
    pub(crate) db: &'a mut Database,
    pub(crate) id: ClassId,
}

impl<'a> ClassMut<'a> {
    /// The class being declared.
    pub fn id(&self) -> ClassId {
        self.id
    }

    fn class(&mut self) -> &mut Class {
        &mut self.db.classes[self.id.index()]
    }

    /// Sets the class's doc string.
    pub fn doc(mut self, doc: impl Into<String>) -> Self {
        self.class().doc = doc.into();
        self
    }

    fn check_new_name(&self, attr: &Attribute) -> Result<()> {
        let class = &self.db.classes[self.id.index()];
        if class.members.contains_key(&attr.name) {
            return Err(Error::DuplicateAttribute {
                class: class.name.clone(),
                attribute: attr.name.clone(),
            });
        }
        attr.validate().map_err(|reason| Error::InvalidDeclaration {
            class: class.name.clone(),
            attribute: attr.name.clone(),
            reason,
        })
    }

    /// Adds a column. Existing objects get the attribute's initial value.
    pub fn add_attribute(mut self, attr: Attribute) -> Result<Self> {
        self.check_new_name(&attr)?;
        let target = match &attr.pointer {
            Some(p) => Some(self.db.class_id(&p.target)?),
            None => None,
        };
        let mut data = ColumnData::new(attr.ty);
        let n = self.db.classes[self.id.index()].len();
        for _ in 0..n {
            let values = self.db.initial_values(&attr);
            data.push_f64(&values);
        }
        let class = self.class();
        class
            .members
            .insert(attr.name.clone(), Member::Column(class.columns.len()));
        class.columns.push(Column {
            meta: attr,
            data,
            target,
        });
        Ok(self)
    }

    /// Adds a class attribute: one value for the whole class (pointers are not allowed).
    pub fn add_class_attribute(mut self, attr: Attribute) -> Result<Self> {
        self.check_new_name(&attr)?;
        if attr.pointer.is_some() {
            return Err(Error::InvalidDeclaration {
                class: self.class().name.clone(),
                attribute: attr.name.clone(),
                reason: "class attributes cannot be pointers".into(),
            });
        }
        let values = self.db.initial_values(&attr);
        let mut data = ColumnData::new(attr.ty);
        data.push_f64(&values);
        let class = self.class();
        class.members.insert(
            attr.name.clone(),
            Member::ClassAttr(class.class_attrs.len()),
        );
        class.class_attrs.push(Column {
            meta: attr,
            data,
            target: None,
        });
        Ok(self)
    }

    /// Adds a sparse matrix whose rows are this class's objects and whose columns are the
    /// objects of `target`. It starts empty.
    pub fn add_matrix(
        mut self,
        name: impl Into<String>,
        target: &str,
        kind: MatrixKind,
        units: impl Into<String>,
        doc: impl Into<String>,
    ) -> Result<Self> {
        let name = name.into();
        let target = self.db.class_id(target)?;
        let ncols = self.db.classes[target.index()].len();
        let class = self.class();
        if class.members.contains_key(&name) {
            return Err(Error::DuplicateAttribute {
                class: class.name.clone(),
                attribute: name,
            });
        }
        let nrows = class.len();
        class
            .members
            .insert(name.clone(), Member::Matrix(class.matrices.len()));
        class.matrices.push(Matrix {
            name,
            doc: doc.into(),
            units: units.into(),
            kind,
            target,
            ncols,
            indptr: vec![0; nrows + 1],
            indices: Vec::new(),
            data: Vec::new(),
        });
        Ok(self)
    }

    /// Declares the sort key: attribute or pointer names, most significant first. Attributes
    /// must be scalars; a pointer sorts by the row of its target, so the target class is
    /// sorted first (see [`Database::sort`](crate::Database::sort)).
    pub fn sort_key(mut self, names: &[&str]) -> Result<Self> {
        let class = self.class();
        let mut key = Vec::with_capacity(names.len());
        for &n in names {
            let i = class.column_index(n)?;
            if class.columns[i].meta.width != 1 {
                return Err(Error::InvalidDeclaration {
                    class: class.name.clone(),
                    attribute: n.to_string(),
                    reason: "a sort key must be a scalar attribute or a pointer".into(),
                });
            }
            key.push(i);
        }
        class.sort_key = key;
        Ok(self)
    }
}
