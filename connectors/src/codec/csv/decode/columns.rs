//! Column builders that CSV fields append to and that roll back when their payload fails.
//!
//! Arrow's builders cannot drop values once appended; these can (`truncate`), so a bad
//! payload is skipped without rebuilding the rest of its batch, as in the JSON decoder.

use std::sync::Arc;

use arrow::array::builder::{BooleanBufferBuilder, NullBufferBuilder};
use arrow::array::{ArrayRef, BooleanArray, NullArray, PrimitiveArray, StringArray};
use arrow::buffer::{OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit,
    TimestampMillisecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};

use super::values::{ParseField, parse_bool};
use crate::{Error, Result};

/// Why a field's text does not fit its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unfit {
    /// The text is not a value of the column's type, described here.
    NotA(&'static str),
    /// The text is not UTF-8.
    NotUtf8,
    /// The column outgrew what one Arrow array can address.
    TooLarge,
}

/// A column that the fields of CSV records append to.
pub(super) trait FieldColumn: Send {
    /// Appends the value of a non-null field's `text` (an empty text is an empty quoted
    /// field: an empty string, or a null in columns of other types).
    fn append(&mut self, text: &[u8]) -> Result<(), Unfit>;
    /// Appends a null.
    fn append_null(&mut self);
    /// The number of values appended since the last `finish`.
    fn len(&self) -> usize;
    /// Drops every value after the first `len`.
    fn truncate(&mut self, len: usize);
    /// Returns the values appended so far as an array and starts again empty.
    fn finish(&mut self) -> ArrayRef;
}

/// A builder for column `name` of `data_type`.
///
/// # Errors
/// When the type is nested: a CSV field holds one value.
pub(super) fn builder_for(name: &str, data_type: &DataType) -> Result<Box<dyn FieldColumn>> {
    Ok(match data_type {
        DataType::Null => Box::new(NullColumn { len: 0 }),
        DataType::Boolean => Box::new(BooleanColumn::default()),
        DataType::Int8 => Box::new(PrimitiveColumn::<Int8Type>::default()),
        DataType::Int16 => Box::new(PrimitiveColumn::<Int16Type>::default()),
        DataType::Int32 => Box::new(PrimitiveColumn::<Int32Type>::default()),
        DataType::Int64 => Box::new(PrimitiveColumn::<Int64Type>::default()),
        DataType::UInt8 => Box::new(PrimitiveColumn::<UInt8Type>::default()),
        DataType::UInt16 => Box::new(PrimitiveColumn::<UInt16Type>::default()),
        DataType::UInt32 => Box::new(PrimitiveColumn::<UInt32Type>::default()),
        DataType::UInt64 => Box::new(PrimitiveColumn::<UInt64Type>::default()),
        DataType::Float32 => Box::new(PrimitiveColumn::<Float32Type>::default()),
        DataType::Float64 => Box::new(PrimitiveColumn::<Float64Type>::default()),
        DataType::Timestamp(TimeUnit::Millisecond, None) => {
            Box::new(PrimitiveColumn::<TimestampMillisecondType>::default())
        }
        DataType::Utf8 => Box::new(StringColumn::default()),
        other => {
            return Err(Error::Config(format!(
                "type: csv cannot decode column '{name}' of type {other}: a CSV field holds one \
                 value, not a struct or a list"
            )));
        }
    })
}

/// The text of a field for a column of a type other than string: UTF-8, with the spaces
/// around it dropped (`1, 2.5` reads as `1` and `2.5`).
fn trimmed(text: &[u8]) -> Result<&str, Unfit> {
    std::str::from_utf8(text.trim_ascii()).map_err(|_| Unfit::NotUtf8)
}

struct NullColumn {
    len: usize,
}

impl FieldColumn for NullColumn {
    fn append(&mut self, text: &[u8]) -> Result<(), Unfit> {
        if trimmed(text)?.is_empty() {
            self.append_null();
            Ok(())
        } else {
            Err(Unfit::NotA("null (an empty field)"))
        }
    }

    fn append_null(&mut self) {
        self.len += 1;
    }

    fn len(&self) -> usize {
        self.len
    }

    fn truncate(&mut self, len: usize) {
        self.len = len;
    }

    fn finish(&mut self) -> ArrayRef {
        Arc::new(NullArray::new(std::mem::take(&mut self.len)))
    }
}

struct PrimitiveColumn<T: ParseField> {
    values: Vec<T::Native>,
    nulls: NullBufferBuilder,
}

impl<T: ParseField> Default for PrimitiveColumn<T> {
    fn default() -> Self {
        Self {
            values: Vec::new(),
            nulls: NullBufferBuilder::new(0),
        }
    }
}

impl<T: ParseField> FieldColumn for PrimitiveColumn<T> {
    fn append(&mut self, text: &[u8]) -> Result<(), Unfit> {
        let text = trimmed(text)?;
        if text.is_empty() {
            self.append_null();
            return Ok(());
        }
        self.values
            .push(T::parse(text).ok_or(Unfit::NotA(T::EXPECTED))?);
        self.nulls.append_non_null();
        Ok(())
    }

    fn append_null(&mut self) {
        self.values.push(T::Native::default());
        self.nulls.append_null();
    }

    fn len(&self) -> usize {
        self.values.len()
    }

    fn truncate(&mut self, len: usize) {
        self.values.truncate(len);
        self.nulls.truncate(len);
    }

    fn finish(&mut self) -> ArrayRef {
        let capacity = self.values.len();
        let values = std::mem::replace(&mut self.values, Vec::with_capacity(capacity));
        Arc::new(PrimitiveArray::<T>::new(
            ScalarBuffer::from(values),
            self.nulls.finish(),
        ))
    }
}

struct BooleanColumn {
    values: BooleanBufferBuilder,
    nulls: NullBufferBuilder,
}

impl Default for BooleanColumn {
    fn default() -> Self {
        Self {
            values: BooleanBufferBuilder::new(0),
            nulls: NullBufferBuilder::new(0),
        }
    }
}

impl FieldColumn for BooleanColumn {
    fn append(&mut self, text: &[u8]) -> Result<(), Unfit> {
        let text = trimmed(text)?;
        if text.is_empty() {
            self.append_null();
            return Ok(());
        }
        let value = parse_bool(text).ok_or(Unfit::NotA("bool (true or false)"))?;
        self.values.append(value);
        self.nulls.append_non_null();
        Ok(())
    }

    fn append_null(&mut self) {
        self.values.append(false);
        self.nulls.append_null();
    }

    fn len(&self) -> usize {
        self.values.len()
    }

    fn truncate(&mut self, len: usize) {
        self.values.truncate(len);
        self.nulls.truncate(len);
    }

    fn finish(&mut self) -> ArrayRef {
        Arc::new(BooleanArray::new(self.values.finish(), self.nulls.finish()))
    }
}

struct StringColumn {
    offsets: Vec<i32>,
    data: Vec<u8>,
    nulls: NullBufferBuilder,
}

impl Default for StringColumn {
    fn default() -> Self {
        Self {
            offsets: vec![0],
            data: Vec::new(),
            nulls: NullBufferBuilder::new(0),
        }
    }
}

impl FieldColumn for StringColumn {
    /// Keeps the text as written, spaces included.
    fn append(&mut self, text: &[u8]) -> Result<(), Unfit> {
        std::str::from_utf8(text).map_err(|_| Unfit::NotUtf8)?;
        self.data.extend_from_slice(text);
        let end = i32::try_from(self.data.len()).map_err(|_| Unfit::TooLarge)?;
        self.offsets.push(end);
        self.nulls.append_non_null();
        Ok(())
    }

    fn append_null(&mut self) {
        // The data length was checked to fit an i32 when the last value was appended.
        self.offsets.push(*self.offsets.last().unwrap_or(&0));
        self.nulls.append_null();
    }

    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    fn truncate(&mut self, len: usize) {
        self.offsets.truncate(len + 1);
        let end = self.offsets.last().map_or(0, |&end| end as usize);
        self.data.truncate(end);
        self.nulls.truncate(len);
    }

    fn finish(&mut self) -> ArrayRef {
        let rows = self.len();
        let offsets = std::mem::replace(&mut self.offsets, Vec::with_capacity(rows + 1));
        self.offsets.push(0);
        let data = std::mem::take(&mut self.data);
        let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
        // Every value was checked to be UTF-8 as it was appended.
        Arc::new(StringArray::new(offsets, data.into(), self.nulls.finish()))
    }
}
