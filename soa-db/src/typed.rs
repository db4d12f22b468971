//! The typed layer: [`class!`](crate::class) declares a Rust type per class, with
//! compile-time checked accessors.

use crate::element::{Element, Scalar};
use crate::error::Result;
use crate::handle::{ClassId, Handle};
use crate::Database;

/// A class declared with [`class!`](crate::class): a `Copy` handle wrapper whose accessors
/// are checked at compile time (a handle of one class cannot be used with another).
pub trait TypedClass: Copy + 'static {
    /// The class name in the database.
    const NAME: &'static str;
    /// Adds the class's attributes and pointers to a freshly added class.
    #[doc(hidden)]
    fn declare_members(db: &mut Database, id: ClassId) -> Result<()>;
    /// The underlying handle.
    fn handle(&self) -> Handle;
    /// Wraps a handle. Accessors still check at run time that the handle's class is this one.
    #[doc(hidden)]
    fn from_handle(h: Handle) -> Self;
    /// A number unique to this type within the program (the address of a static), recorded
    /// in the database when the class is declared and compared on every typed access.
    #[doc(hidden)]
    fn type_tag() -> usize;
}

/// Resolves handles of one class to rows while that class's columns are borrowed (see
/// [`ColumnsMut::rows`](crate::ColumnsMut::rows)).
#[derive(Clone, Copy)]
pub struct RowLookup<'a> {
    pub(crate) class: ClassId,
    pub(crate) epoch: u32,
    pub(crate) name: &'a str,
    pub(crate) arena: &'a crate::handle::Arena,
}

impl RowLookup<'_> {
    /// The row of a live object of this class.
    #[inline(always)]
    pub fn row(&self, h: Handle) -> Result<usize> {
        if h.epoch == self.epoch {
            return Ok(h.row as usize);
        }
        match self.arena.row_fast(h.index, h.generation) {
            Some(r) if h.class == self.class && r != crate::NULL => Ok(r as usize),
            _ => Err(self.error(h)),
        }
    }

    #[cold]
    #[inline(never)]
    fn error(&self, h: Handle) -> crate::Error {
        if h.class != self.class {
            crate::Error::WrongClass {
                expected: self.name.into(),
                found: format!("class #{}", h.class.index()),
            }
        } else {
            crate::Error::StaleHandle {
                class: self.name.into(),
                handle: h,
            }
        }
    }
}

#[doc(hidden)]
pub fn to_f64s<T: Element>(v: &T) -> Vec<f64> {
    v.as_scalars().iter().map(|x| x.to_f64()).collect()
}

/// Declares a typed class: a `Copy` handle type with a constructor, a getter and a setter per
/// attribute, and a getter and setter per pointer.
///
/// Each attribute is `name: Type = initial`, preceded by doc comments and any of
/// `#[units = "mV"]`, `#[range = lo..=hi]`, `#[allow_nan = true]`,
/// `#[initial_distribution = Initial::Normal { .. }]`. Pointers follow in a `pointers { }`
/// block as `name: TargetType`, optionally `#[nullable = true]`. The class is declared in the
/// database on first use (`Type::new`, `Type::class_id`), with the attributes in the order
/// written.
///
/// ```
/// use soa_db::Database;
///
/// soa_db::class! {
///     /// A point neuron.
///     pub struct Neuron {
///         /// Membrane potential.
///         #[units = "mV"]
///         #[range = -200.0..=200.0]
///         voltage: f64 = -70.0,
///         /// Gate states m, h, n.
///         gates: [f32; 3] = [0.05, 0.6, 0.32],
///     }
///     pointers {
///         /// The neuron this one is coupled to.
///         #[nullable = true]
///         partner: Neuron,
///     }
/// }
///
/// let mut db = Database::new();
/// let a = Neuron::new(&mut db)?;
/// let b = Neuron::new(&mut db)?;
/// a.set_voltage(&mut db, -65.0)?;
/// a.set_partner(&mut db, Some(b))?;
/// assert_eq!(a.voltage(&db)?, -65.0);
/// assert_eq!(b.gates(&db)?, [0.05, 0.6, 0.32]);
/// assert_eq!(a.partner(&db)?, Some(b));
/// assert!(a.set_voltage(&mut db, 500.0).is_err()); // outside the valid range
/// # Ok::<(), soa_db::Error>(())
/// ```
#[macro_export]
macro_rules! class {
    (
        $(#[doc = $cdoc:expr])*
        $vis:vis struct $name:ident {
            $(
                $(#[$k:ident = $v:expr])*
                $field:ident : $ty:ty = $init:expr
            ),* $(,)?
        }
        $(pointers {
            $(
                $(#[$pk:ident = $pv:expr])*
                $pfield:ident : $pty:ty
            ),* $(,)?
        })?
    ) => {
        $(#[doc = $cdoc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        $vis struct $name($crate::Handle);

        $crate::__pastey::paste! {
            #[doc = concat!("Every value column of `", stringify!($name), "` borrowed at once, for loops and kernels: ")]
            #[doc = "plain slices in row order, plus handle accessors that resolve the row once per call."]
            #[doc = "Writes through this view are not checked: run `Database::check` afterwards."]
            #[allow(dead_code)]
            $vis struct [<$name Columns>]<'a> {
                rows: $crate::typed::RowLookup<'a>,
                $(
                    #[doc = concat!("The `", stringify!($field), "` column.")]
                    pub $field: &'a mut [$ty],
                )*
            }

            #[allow(dead_code)]
            impl<'a> [<$name Columns>]<'a> {
                /// The current row of an object.
                #[inline(always)]
                pub fn row(&self, h: $name) -> $crate::Result<usize> {
                    self.rows.row(h.0)
                }
                $(
                    #[doc = concat!("Reads `", stringify!($field), "` of one object.")]
                    #[inline(always)]
                    pub fn $field(&self, h: $name) -> $crate::Result<$ty> {
                        let r = self.rows.row(h.0)?;
                        Ok(self.$field[r])
                    }
                    #[doc = concat!("Writes `", stringify!($field), "` of one object (unchecked: see the type's doc).")]
                    #[inline(always)]
                    pub fn [<set_ $field>](&mut self, h: $name, value: $ty) -> $crate::Result<()> {
                        let r = self.rows.row(h.0)?;
                        self.$field[r] = value;
                        Ok(())
                    }
                )*
            }
        }

        const _: () = {
            #[allow(non_camel_case_types, dead_code)]
            enum __Field { $($field,)* $($($pfield,)*)? }

            impl $crate::TypedClass for $name {
                const NAME: &'static str = stringify!($name);
                fn declare_members(
                    db: &mut $crate::Database,
                    id: $crate::ClassId,
                ) -> $crate::Result<()> {
                    #[allow(unused_mut)]
                    let mut doc = ::std::string::String::new();
                    $(
                        if !doc.is_empty() { doc.push('\n'); }
                        doc.push_str(::std::string::ToString::to_string(&$cdoc).trim());
                    )*
                    #[allow(unused_mut)]
                    let mut class = db.class_mut(id)?.doc(doc);
                    $(
                        let init: $ty = $init;
                        class = class.add_attribute(
                            $crate::Attribute::new::<$ty>(stringify!($field))
                                .initial_array(&$crate::typed::to_f64s(&init))
                                $(.$k($v))*
                        )?;
                    )*
                    let _ = class;
                    $($(
                        let target = db.typed_class::<$pty>()?;
                        let target = db.class_name(target)?.to_string();
                        db.class_mut(id)?.add_attribute(
                            $crate::Attribute::pointer(stringify!($pfield), target)
                                $(.$pk($pv))*
                        )?;
                    )*)?
                    Ok(())
                }
                fn handle(&self) -> $crate::Handle {
                    self.0
                }
                fn from_handle(h: $crate::Handle) -> Self {
                    $name(h)
                }
                #[inline(always)]
                fn type_tag() -> usize {
                    static TAG: u8 = 0;
                    &TAG as *const u8 as usize
                }
            }

            $crate::__pastey::paste! {
                impl $name {
                    /// Creates an object (declaring the class in the database on first use).
                    #[allow(dead_code)]
                    pub fn new(db: &mut $crate::Database) -> $crate::Result<Self> {
                        let id = db.typed_class::<Self>()?;
                        db.create(id).map($name)
                    }
                    /// The class's id in `db` (declaring it on first use).
                    #[allow(dead_code)]
                    pub fn class_id(db: &mut $crate::Database) -> $crate::Result<$crate::ClassId> {
                        db.typed_class::<Self>()
                    }
                    /// Borrows every value column of the class at once (see the `…Columns` type).
                    #[allow(dead_code)]
                    pub fn columns(db: &mut $crate::Database) -> $crate::Result<[<$name Columns>]<'_>> {
                        let id = db.typed_class::<Self>()?;
                        let mut cols = db.columns_mut();
                        Ok([<$name Columns>] {
                            rows: cols.rows(id)?,
                            $($field: cols.take::<$ty>(id, stringify!($field))?,)*
                        })
                    }
                    /// The underlying handle.
                    #[allow(dead_code)]
                    pub fn handle(self) -> $crate::Handle {
                        self.0
                    }
                    /// Destroys the object (see `Database::destroy_many`); returns how many
                    /// objects were destroyed, cascades included.
                    #[allow(dead_code)]
                    pub fn destroy(self, db: &mut $crate::Database) -> $crate::Result<usize> {
                        db.destroy(self.0)
                    }
                    $(
                        #[doc = concat!("Reads `", stringify!($field), "`.")]
                        #[allow(dead_code)]
                        #[inline]
                        pub fn $field(&self, db: &$crate::Database) -> $crate::Result<$ty> {
                            db.typed_get::<Self, $ty>(self.0, __Field::$field as usize)
                        }
                        #[doc = concat!("Writes `", stringify!($field), "` (checked against its NaN policy and valid range).")]
                        #[allow(dead_code)]
                        #[inline]
                        pub fn [<set_ $field>](&self, db: &mut $crate::Database, value: $ty) -> $crate::Result<()> {
                            db.typed_set::<Self, $ty>(self.0, __Field::$field as usize, value)
                        }
                    )*
                    $($(
                        #[doc = concat!("Reads the pointer `", stringify!($pfield), "` (`None` when NULL).")]
                        #[allow(dead_code)]
                        pub fn $pfield(&self, db: &$crate::Database) -> $crate::Result<Option<$pty>> {
                            Ok(db
                                .get_pointer(self.0, stringify!($pfield))?
                                .map(<$pty as $crate::TypedClass>::from_handle))
                        }
                        #[doc = concat!("Sets the pointer `", stringify!($pfield), "`.")]
                        #[allow(dead_code)]
                        pub fn [<set_ $pfield>](&self, db: &mut $crate::Database, to: Option<$pty>) -> $crate::Result<()> {
                            db.set_pointer(
                                self.0,
                                stringify!($pfield),
                                to.map(|t| <$pty as $crate::TypedClass>::handle(&t)),
                            )
                        }
                    )*)?
                }
            }
        };
    };
}
