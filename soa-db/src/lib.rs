//! # soa-db — a structure-of-arrays database with object-like handles
//!
//! Data lives in contiguous columns, one per attribute, so kernels run over plain slices;
//! users see objects through stable handles. Nothing here knows about neurons: the crate is as
//! much at home in a game, an agent simulation or Conway's Game of Life
//! (`cargo run -p soa-db --example life`).
//!
//! Goals, in priority order:
//! 1. **Correctness by construction**: stable [`Handle`]s (32-bit slot + generation) survive
//!    sorting and the destruction of other objects; pointer columns are rewritten by every
//!    structural change; bad input is an [`Error`], never a panic.
//! 2. **Zero-overhead kernels**: [`Database::column`] / [`Database::column_mut`] /
//!    [`ColumnsMut`] give `&[T]` / `&mut [T]`, and [`Database::column_bytes`] a byte view for
//!    device upload.
//! 3. **Metadata is data**: every [`Attribute`] carries doc, units, valid range, initial value
//!    or distribution and NaN / NULL policy, which drive [`Database::check`], recording
//!    headers, CSV export and [`Database::schema_markdown`].
//!
//! ## Concepts
//! - **Classes** (tables) and **attributes** (columns of `f32`, `f64`, `i32`, `u32`, `u8`,
//!   `bool` or fixed-size arrays of them), declared at run time with [`Database::add_class`],
//!   or as Rust types with the [`class!`] macro.
//! - **Class attributes**: one value per class. **Matrices**: sparse (CSR, `sprs`) real or
//!   connectivity matrices between the objects of two classes.
//! - **Pointers**: 32-bit row indices into a target class, [`NULL`] when empty. Destroying an
//!   object NULLs nullable pointers to it and destroys the objects whose required pointer
//!   designates it, in one batch ([`Database::destroy_many`]).
//! - **Rows** ([`Row`]) are transient: [`Database::sort`] orders classes by their declared
//!   sort keys (dependency order through pointers) and returns the [`Permutation`]s.
//! - **Recording**: [`Recorder`] samples attributes into time series and writes CSV with
//!   units in the header; [`Playback`] plays a series into an attribute.
//!
//! ## Example
//! ```
//! use soa_db::Database;
//!
//! soa_db::class! {
//!     /// A compartment of a cable.
//!     pub struct Segment {
//!         /// Membrane potential.
//!         #[units = "mV"]
//!         voltage: f64 = -70.0,
//!     }
//!     pointers {
//!         /// The parent compartment (NULL at the root).
//!         #[nullable = true]
//!         parent: Segment,
//!     }
//! }
//!
//! let mut db = Database::new();
//! let root = Segment::new(&mut db)?;
//! let child = Segment::new(&mut db)?;
//! child.set_parent(&mut db, Some(root))?;
//! child.set_voltage(&mut db, -65.0)?;
//!
//! // Kernels see plain columns.
//! let seg = Segment::class_id(&mut db)?;
//! for v in db.column_mut::<f64>(seg, "voltage")? {
//!     *v += 1.0;
//! }
//! assert_eq!(child.voltage(&db)?, -64.0);
//!
//! // Destroying the root NULLs the child's (nullable) parent pointer.
//! root.destroy(&mut db)?;
//! assert_eq!(child.parent(&db)?, None);
//! assert!(db.check().is_empty());
//! # Ok::<(), soa_db::Error>(())
//! ```

mod check;
mod class;
mod columns;
mod database;
mod element;
mod error;
mod handle;
mod matrix;
mod meta;
mod record;
mod schema;
mod sort;
#[doc(hidden)]
pub mod typed;

pub use check::{Reason, Violation};
pub use class::ClassMut;
pub use columns::ColumnsMut;
pub use database::Database;
pub use element::{Element, Scalar, ScalarType};
pub use error::{Error, Result};
pub use handle::{ClassId, Handle, Row, NULL};
pub use matrix::MatrixKind;
pub use meta::{Attribute, Initial, PointerSpec};
pub use record::{Interpolation, Playback, Recorder};
pub use sort::{Permutation, SortReport};
pub use typed::TypedClass;

#[doc(hidden)]
pub use element::private;
#[doc(hidden)]
pub use pastey as __pastey;
