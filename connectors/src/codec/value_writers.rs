//! Writers of a column's values as text, for the text encoders (JSON, CSV): the
//! [`ValueWriter`] role, and the writers of the scalar types both encoders write themselves
//! (booleans, integers, floats, strings), picked once per column by [`scalar_writer`].
//!
//! Booleans and integers read the same in both formats; floats and strings do not, so their
//! writers take the format's text from [`ScalarText`]. Every writer is generic over it, so a
//! value costs one call through the column's writer, as with a writer of each format's own.

use std::marker::PhantomData;

use arrow::array::{Array, ArrayAccessor, AsArray, BooleanArray, PrimitiveArray};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};

/// Writes the text of one column's non-null values.
pub(crate) trait ValueWriter {
    /// Writes the value at `row`; false, having written nothing, if the format has no text for
    /// it and it stands as a null.
    fn write(&self, row: usize, out: &mut Vec<u8>) -> bool;
}

/// How a text format writes the scalar values whose text differs between formats.
pub(crate) trait ScalarText: 'static {
    /// Writes a float; false, writing nothing, if the format has no text for it.
    fn write_f32(value: f32, out: &mut Vec<u8>) -> bool;
    /// Writes a float; false, writing nothing, if the format has no text for it.
    fn write_f64(value: f64, out: &mut Vec<u8>) -> bool;
    /// Writes a string.
    fn write_str(text: &str, out: &mut Vec<u8>);
}

/// The writer of `array`'s values in format `F` if its type is a scalar one both encoders
/// write alike; `None` for the types each writes its own way.
pub(crate) fn scalar_writer<'a, F: ScalarText>(
    array: &'a dyn Array,
) -> Option<Box<dyn ValueWriter + 'a>> {
    Some(match array.data_type() {
        DataType::Boolean => Box::new(BoolWriter(array.as_boolean())),
        DataType::Int8 => Box::new(IntWriter(array.as_primitive::<Int8Type>())),
        DataType::Int16 => Box::new(IntWriter(array.as_primitive::<Int16Type>())),
        DataType::Int32 => Box::new(IntWriter(array.as_primitive::<Int32Type>())),
        DataType::Int64 => Box::new(IntWriter(array.as_primitive::<Int64Type>())),
        DataType::UInt8 => Box::new(IntWriter(array.as_primitive::<UInt8Type>())),
        DataType::UInt16 => Box::new(IntWriter(array.as_primitive::<UInt16Type>())),
        DataType::UInt32 => Box::new(IntWriter(array.as_primitive::<UInt32Type>())),
        DataType::UInt64 => Box::new(IntWriter(array.as_primitive::<UInt64Type>())),
        DataType::Float32 => floats::<F>(array.as_primitive::<Float32Type>()),
        DataType::Float64 => floats::<F>(array.as_primitive::<Float64Type>()),
        DataType::Utf8 => strings::<F>(array.as_string::<i32>()),
        DataType::LargeUtf8 => strings::<F>(array.as_string::<i64>()),
        DataType::Utf8View => strings::<F>(array.as_string_view()),
        _ => return None,
    })
}

struct BoolWriter<'a>(&'a BooleanArray);

impl ValueWriter for BoolWriter<'_> {
    fn write(&self, row: usize, out: &mut Vec<u8>) -> bool {
        out.extend_from_slice(if self.0.value(row) { b"true" } else { b"false" });
        true
    }
}

struct IntWriter<'a, T: ArrowPrimitiveType>(&'a PrimitiveArray<T>);

impl<T: ArrowPrimitiveType> ValueWriter for IntWriter<'_, T>
where
    T::Native: itoa::Integer,
{
    fn write(&self, row: usize, out: &mut Vec<u8>) -> bool {
        out.extend_from_slice(itoa::Buffer::new().format(self.0.value(row)).as_bytes());
        true
    }
}

/// A float type, written as format `F` writes it.
trait FloatText: Copy {
    fn write<F: ScalarText>(self, out: &mut Vec<u8>) -> bool;
}

impl FloatText for f32 {
    fn write<F: ScalarText>(self, out: &mut Vec<u8>) -> bool {
        F::write_f32(self, out)
    }
}

impl FloatText for f64 {
    fn write<F: ScalarText>(self, out: &mut Vec<u8>) -> bool {
        F::write_f64(self, out)
    }
}

struct FloatWriter<'a, T: ArrowPrimitiveType, F>(&'a PrimitiveArray<T>, PhantomData<F>);

/// The writer of a float column in format `F`.
fn floats<'a, F: ScalarText>(
    array: &'a PrimitiveArray<impl ArrowPrimitiveType<Native: FloatText>>,
) -> Box<dyn ValueWriter + 'a> {
    Box::new(FloatWriter(array, PhantomData::<F>))
}

impl<T: ArrowPrimitiveType, F: ScalarText> ValueWriter for FloatWriter<'_, T, F>
where
    T::Native: FloatText,
{
    fn write(&self, row: usize, out: &mut Vec<u8>) -> bool {
        self.0.value(row).write::<F>(out)
    }
}

struct StringWriter<A, F>(A, PhantomData<F>);

/// The writer of a string column in format `F`.
fn strings<'a, F: ScalarText>(
    array: impl ArrayAccessor<Item = &'a str> + 'a,
) -> Box<dyn ValueWriter + 'a> {
    Box::new(StringWriter(array, PhantomData::<F>))
}

impl<'a, A: ArrayAccessor<Item = &'a str>, F: ScalarText> ValueWriter for StringWriter<A, F> {
    fn write(&self, row: usize, out: &mut Vec<u8>) -> bool {
        F::write_str(self.0.value(row), out);
        true
    }
}
