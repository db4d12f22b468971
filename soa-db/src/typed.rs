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
