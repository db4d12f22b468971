//! Column element types: `bytemuck::Pod` scalars (and `bool`) and fixed-size arrays of them.

use std::fmt;

/// The scalar kinds a column can store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScalarType {
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `i32`
    I32,
    /// `u32`
    U32,
    /// `u8`
    U8,
    /// `bool`
    Bool,
}

impl ScalarType {
    /// Is this a floating-point type (the only kinds that can hold NaN)?
    pub fn is_float(self) -> bool {
        matches!(self, ScalarType::F32 | ScalarType::F64)
    }

    /// Can `v` be stored in this type? Integer and boolean types need the exact value; `f32`
    /// rounds to nearest, and refuses only finite values beyond its range.
    pub fn represents(self, v: f64) -> bool {
        match self {
            ScalarType::F64 => true,
            ScalarType::F32 => !v.is_finite() || (v as f32).is_finite(),
            ScalarType::I32 => v.fract() == 0.0 && v >= i32::MIN as f64 && v <= i32::MAX as f64,
            ScalarType::U32 => v.fract() == 0.0 && v >= 0.0 && v <= u32::MAX as f64,
            ScalarType::U8 => v.fract() == 0.0 && (0.0..=255.0).contains(&v),
            ScalarType::Bool => v == 0.0 || v == 1.0,
        }
    }
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScalarType::F32 => "f32",
            ScalarType::F64 => "f64",
            ScalarType::I32 => "i32",
            ScalarType::U32 => "u32",
            ScalarType::U8 => "u8",
            ScalarType::Bool => "bool",
        })
    }
}

#[doc(hidden)]
pub mod private {
    /// Typed storage of one column: `rows × width` scalars, row-major.
    #[derive(Clone, Debug)]
    pub enum ColumnData {
        /// `f32` storage.
        F32(Vec<f32>),
        /// `f64` storage.
        F64(Vec<f64>),
        /// `i32` storage.
        I32(Vec<i32>),
        /// `u32` storage.
        U32(Vec<u32>),
        /// `u8` storage.
        U8(Vec<u8>),
        /// `bool` storage.
        Bool(Vec<bool>),
    }

    /// Seals [`Scalar`](super::Scalar): only the types of this module implement it.
    pub trait Sealed {}
}
use private::ColumnData;

/// Runs `$body` with `$v` bound to the typed vector inside a `ColumnData`.
macro_rules! with_data {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            $crate::element::private::ColumnData::F32($v) => $body,
            $crate::element::private::ColumnData::F64($v) => $body,
            $crate::element::private::ColumnData::I32($v) => $body,
            $crate::element::private::ColumnData::U32($v) => $body,
            $crate::element::private::ColumnData::U8($v) => $body,
            $crate::element::private::ColumnData::Bool($v) => $body,
        }
    };
}
pub(crate) use with_data;

/// A scalar that a column can store. Sealed: implemented for `f32`, `f64`, `i32`, `u32`, `u8`
/// and `bool`.
pub trait Scalar:
    Copy + Send + Sync + PartialEq + fmt::Debug + Default + 'static + private::Sealed
{
    /// The run-time tag of this type.
    const TYPE: ScalarType;
    #[doc(hidden)]
    fn slice(data: &ColumnData) -> Option<&[Self]>;
    #[doc(hidden)]
    fn slice_mut(data: &mut ColumnData) -> Option<&mut [Self]>;
    #[doc(hidden)]
    fn bytes_mut(s: &mut [Self]) -> Option<&mut [u8]>;
    /// Widens to `f64` (exact for every scalar type).
    fn to_f64(self) -> f64;
    /// Narrows from `f64`, or `None` if `v` is not exactly representable.
    fn from_f64(v: f64) -> Option<Self>;
}

macro_rules! impl_scalar {
    ($t:ty, $variant:ident, $to:expr, $from:expr, $bytes:expr) => {
        impl private::Sealed for $t {}
        impl Scalar for $t {
            const TYPE: ScalarType = ScalarType::$variant;
            #[inline(always)]
            fn slice(data: &ColumnData) -> Option<&[Self]> {
                match data {
                    ColumnData::$variant(v) => Some(v),
                    _ => None,
                }
            }
            #[inline(always)]
            fn slice_mut(data: &mut ColumnData) -> Option<&mut [Self]> {
                match data {
                    ColumnData::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn bytes_mut(s: &mut [Self]) -> Option<&mut [u8]> {
                #[allow(clippy::redundant_closure_call)]
                ($bytes)(s)
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                #[allow(clippy::redundant_closure_call)]
                ($to)(self)
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Option<Self> {
                if ScalarType::$variant.represents(v) {
                    #[allow(clippy::redundant_closure_call)]
                    Some(($from)(v))
                } else {
                    None
                }
            }
        }
    };
}

fn pod_bytes<T: bytemuck::Pod>(s: &mut [T]) -> Option<&mut [u8]> {
    Some(bytemuck::cast_slice_mut(s))
}

impl_scalar!(
    f32,
    F32,
    |x: f32| x as f64,
    |v: f64| v as f32,
    pod_bytes::<f32>
);
impl_scalar!(f64, F64, |x: f64| x, |v: f64| v, pod_bytes::<f64>);
impl_scalar!(
    i32,
    I32,
    |x: i32| x as f64,
    |v: f64| v as i32,
    pod_bytes::<i32>
);
impl_scalar!(
    u32,
    U32,
    |x: u32| x as f64,
    |v: f64| v as u32,
    pod_bytes::<u32>
);
impl_scalar!(u8, U8, |x: u8| x as f64, |v: f64| v as u8, pod_bytes::<u8>);
// A `bool` column has no mutable byte view: arbitrary bytes are not valid `bool`s.
impl_scalar!(
    bool,
    Bool,
    |x: bool| if x { 1.0 } else { 0.0 },
    |v: f64| v != 0.0,
    |_s: &mut [bool]| None
);

/// A column element: a [`Scalar`] or a fixed-size array `[S; N]` of one.
pub trait Element: Copy + Send + Sync + fmt::Debug + 'static {
    /// The scalar the element is made of.
    type Scalar: Scalar;
    /// Number of scalars per element.
    const WIDTH: usize;
    /// Views a slice of scalars (length a multiple of `WIDTH`) as elements.
    fn from_scalars(s: &[Self::Scalar]) -> &[Self];
    /// Views a mutable slice of scalars (length a multiple of `WIDTH`) as elements.
    fn from_scalars_mut(s: &mut [Self::Scalar]) -> &mut [Self];
    /// The element's scalars.
    fn as_scalars(&self) -> &[Self::Scalar];
}

macro_rules! impl_element {
    ($($t:ty),*) => {$(
        impl Element for $t {
            type Scalar = $t;
            const WIDTH: usize = 1;
            #[inline(always)]
            fn from_scalars(s: &[$t]) -> &[$t] { s }
            #[inline(always)]
            fn from_scalars_mut(s: &mut [$t]) -> &mut [$t] { s }
            #[inline(always)]
            fn as_scalars(&self) -> &[$t] { std::slice::from_ref(self) }
        }
        impl<const N: usize> Element for [$t; N] {
            type Scalar = $t;
            const WIDTH: usize = N;
            #[inline(always)]
            fn from_scalars(s: &[$t]) -> &[[$t; N]] { s.as_chunks::<N>().0 }
            #[inline(always)]
            fn from_scalars_mut(s: &mut [$t]) -> &mut [[$t; N]] { s.as_chunks_mut::<N>().0 }
            #[inline(always)]
            fn as_scalars(&self) -> &[$t] { self.as_slice() }
        }
    )*};
}
impl_element!(f32, f64, i32, u32, u8, bool);

impl ColumnData {
    pub(crate) fn new(ty: ScalarType) -> Self {
        match ty {
            ScalarType::F32 => ColumnData::F32(Vec::new()),
            ScalarType::F64 => ColumnData::F64(Vec::new()),
            ScalarType::I32 => ColumnData::I32(Vec::new()),
            ScalarType::U32 => ColumnData::U32(Vec::new()),
            ScalarType::U8 => ColumnData::U8(Vec::new()),
            ScalarType::Bool => ColumnData::Bool(Vec::new()),
        }
    }

    /// Number of scalars stored.
    pub(crate) fn len(&self) -> usize {
        with_data!(self, v => v.len())
    }

    /// Reads scalar `i` widened to `f64`.
    pub(crate) fn get_f64(&self, i: usize) -> Option<f64> {
        with_data!(self, v => v.get(i).map(|x| x.to_f64()))
    }

    /// Writes scalar `i` from an `f64` known to be representable.
    pub(crate) fn set_f64(&mut self, i: usize, x: f64) {
        with_data!(self, v => if let (Some(slot), Some(val)) = (v.get_mut(i), Scalar::from_f64(x)) {
            *slot = val;
        })
    }

    /// Appends scalars given as `f64` (already checked to be representable).
    pub(crate) fn push_f64(&mut self, xs: &[f64]) {
        with_data!(self, v => push_scalars(v, xs))
    }

    /// Keeps the rows listed in `new_to_old` (each `width` scalars), in that order.
    pub(crate) fn gather(&mut self, new_to_old: &[u32], width: usize) {
        with_data!(self, v => {
            let mut out = Vec::with_capacity(new_to_old.len() * width);
            if width == 1 {
                out.extend(new_to_old.iter().map(|&o| v[o as usize]));
            } else {
                for &o in new_to_old {
                    let o = o as usize * width;
                    out.extend_from_slice(&v[o..o + width]);
                }
            }
            *v = out;
        })
    }

    /// The raw bytes of the column.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            ColumnData::F32(v) => bytemuck::cast_slice(v),
            ColumnData::F64(v) => bytemuck::cast_slice(v),
            ColumnData::I32(v) => bytemuck::cast_slice(v),
            ColumnData::U32(v) => bytemuck::cast_slice(v),
            ColumnData::U8(v) => v,
            ColumnData::Bool(v) => bytemuck::cast_slice(v),
        }
    }

    pub(crate) fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        with_data!(self, v => Scalar::bytes_mut(v.as_mut_slice()))
    }
}

fn push_scalars<T: Scalar>(v: &mut Vec<T>, xs: &[f64]) {
    v.extend(xs.iter().map(|&x| T::from_f64(x).unwrap_or_default()));
}
