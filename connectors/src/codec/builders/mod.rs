//! Column builders that the text decoders (JSON, CSV) append to and that roll back when a
//! payload fails.
//!
//! Arrow's own builders cannot drop values once appended; these can
//! ([`RollbackBuilder::truncate`]), which is what lets one bad payload be skipped without
//! rebuilding the rest of its batch. They hold values only: each decoder reads its own format
//! through its own column trait, implemented on these types, and [`scalar_builder`] picks the
//! builder a column of a scalar type takes.

mod boolean;
mod null;
mod nullable;
mod offsets;
mod primitive;
mod string;

use arrow::array::ArrayRef;
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit,
    TimestampMillisecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};

pub(crate) use self::boolean::BooleanValues;
pub(crate) use self::null::NullValues;
pub(crate) use self::nullable::{Nullable, Slots};
pub(crate) use self::offsets::{OffsetOverflow, Offsets};
pub(crate) use self::primitive::PrimitiveValues;
pub(crate) use self::string::StringValues;

/// What every column builder of a decoder does besides reading values: nulls, rolling back,
/// and handing over its array.
pub(crate) trait RollbackBuilder: Send {
    /// Appends a null.
    fn push_null(&mut self);
    /// The number of values appended since the last `finish`.
    fn len(&self) -> usize;
    /// Drops every value after the first `len`.
    fn truncate(&mut self, len: usize);
    /// Returns the values appended so far as an array and starts again empty.
    fn finish(&mut self) -> ArrayRef;
}

/// An empty builder for a column of the scalar `data_type`, as the decoder's column type `C`
/// (a boxed column trait that every builder here converts into); `None` for any other type.
pub(crate) fn scalar_builder<C>(data_type: &DataType) -> Option<C>
where
    C: From<NullValues>
        + From<BooleanValues>
        + From<StringValues>
        + From<PrimitiveValues<Int8Type>>
        + From<PrimitiveValues<Int16Type>>
        + From<PrimitiveValues<Int32Type>>
        + From<PrimitiveValues<Int64Type>>
        + From<PrimitiveValues<UInt8Type>>
        + From<PrimitiveValues<UInt16Type>>
        + From<PrimitiveValues<UInt32Type>>
        + From<PrimitiveValues<UInt64Type>>
        + From<PrimitiveValues<Float32Type>>
        + From<PrimitiveValues<Float64Type>>
        + From<PrimitiveValues<TimestampMillisecondType>>,
{
    Some(match data_type {
        DataType::Null => NullValues::default().into(),
        DataType::Boolean => BooleanValues::default().into(),
        DataType::Int8 => PrimitiveValues::<Int8Type>::default().into(),
        DataType::Int16 => PrimitiveValues::<Int16Type>::default().into(),
        DataType::Int32 => PrimitiveValues::<Int32Type>::default().into(),
        DataType::Int64 => PrimitiveValues::<Int64Type>::default().into(),
        DataType::UInt8 => PrimitiveValues::<UInt8Type>::default().into(),
        DataType::UInt16 => PrimitiveValues::<UInt16Type>::default().into(),
        DataType::UInt32 => PrimitiveValues::<UInt32Type>::default().into(),
        DataType::UInt64 => PrimitiveValues::<UInt64Type>::default().into(),
        DataType::Float32 => PrimitiveValues::<Float32Type>::default().into(),
        DataType::Float64 => PrimitiveValues::<Float64Type>::default().into(),
        DataType::Timestamp(TimeUnit::Millisecond, None) => {
            PrimitiveValues::<TimestampMillisecondType>::default().into()
        }
        DataType::Utf8 => StringValues::default().into(),
        _ => return None,
    })
}
