//! Column builders that a payload appends to and that roll back when the payload fails.
//!
//! Arrow's own builders cannot drop values once appended; these can (`truncate`), which is what
//! lets one bad payload be skipped without rebuilding the rest of its batch.

use std::sync::Arc;

use arrow::array::builder::{BooleanBufferBuilder, NullBufferBuilder};
use arrow::array::{
    ArrayRef, BooleanArray, ListArray, NullArray, PrimitiveArray, StringArray, StructArray,
};
use arrow::buffer::{OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{
    DataType, Field, FieldRef, Fields, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, TimeUnit, TimestampMillisecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};

use super::scanner::{Scanner, check_utf8};
use super::values::ReadJson;
use crate::codec::DecodeError;
use crate::{Error, Result};

/// A column that JSON values append to.
pub(super) trait ColumnBuilder: Send {
    /// Appends the non-null value at the cursor.
    fn append(
        &mut self,
        scanner: &mut Scanner<'_>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), DecodeError>;
    /// Appends a null.
    fn append_null(&mut self);
    /// The number of values appended since the last `finish`.
    fn len(&self) -> usize;
    /// Drops every value after the first `len`.
    fn truncate(&mut self, len: usize);
    /// Returns the values appended so far as an array and starts again empty.
    fn finish(&mut self) -> ArrayRef;
}

/// A builder for a column of `data_type`.
///
/// # Errors
/// When the type is not one a stream schema can declare.
pub(super) fn builder_for(data_type: &DataType) -> Result<Box<dyn ColumnBuilder>> {
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
        DataType::Struct(fields) => Box::new(StructColumn::try_new(fields)?),
        DataType::List(element) => Box::new(ListColumn::try_new(element)?),
        other => {
            return Err(Error::Config(format!(
                "JSON cannot decode columns of type {other}"
            )));
        }
    })
}

fn type_error(scanner: &mut Scanner<'_>, expected: &'static str) -> DecodeError {
    DecodeError::Type {
        column: String::new(),
        expected,
        found: scanner.next_kind(),
    }
}

struct NullColumn {
    len: usize,
}

impl ColumnBuilder for NullColumn {
    fn append(&mut self, scanner: &mut Scanner<'_>, _: &mut Vec<u8>) -> Result<(), DecodeError> {
        Err(type_error(scanner, "null"))
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

struct PrimitiveColumn<T: ReadJson> {
    values: Vec<T::Native>,
    nulls: NullBufferBuilder,
}

impl<T: ReadJson> Default for PrimitiveColumn<T> {
    fn default() -> Self {
        Self {
            values: Vec::new(),
            nulls: NullBufferBuilder::new(0),
        }
    }
}

impl<T: ReadJson> ColumnBuilder for PrimitiveColumn<T> {
    fn append(&mut self, scanner: &mut Scanner<'_>, _: &mut Vec<u8>) -> Result<(), DecodeError> {
        self.values.push(T::read(scanner)?);
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

impl ColumnBuilder for BooleanColumn {
    fn append(&mut self, scanner: &mut Scanner<'_>, _: &mut Vec<u8>) -> Result<(), DecodeError> {
        let value = scanner
            .read_bool()?
            .ok_or_else(|| type_error(scanner, "bool"))?;
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

impl StringColumn {
    fn push_offset(&mut self) -> Result<(), DecodeError> {
        let end = i32::try_from(self.data.len()).map_err(|_| DecodeError::TooLarge)?;
        self.offsets.push(end);
        Ok(())
    }
}

impl ColumnBuilder for StringColumn {
    fn append(
        &mut self,
        scanner: &mut Scanner<'_>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), DecodeError> {
        let text = scanner
            .read_string(scratch)?
            .ok_or_else(|| type_error(scanner, "string"))?;
        if std::str::from_utf8(text).is_err() {
            return Err(DecodeError::InvalidUtf8 {
                column: String::new(),
            });
        }
        self.data.extend_from_slice(text);
        self.push_offset()?;
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

/// The fields of a JSON object, decoded into one column each: the row of a payload, or the
/// value of a struct column.
pub(super) struct ObjectColumns {
    names: Vec<Box<[u8]>>,
    columns: Vec<Box<dyn ColumnBuilder>>,
    seen: Vec<bool>,
}

impl ObjectColumns {
    /// Columns for `fields`.
    ///
    /// # Errors
    /// When a field's type cannot be decoded from JSON.
    pub(super) fn try_new(fields: &Fields) -> Result<Self> {
        Ok(Self {
            names: fields
                .iter()
                .map(|field| field.name().as_bytes().into())
                .collect(),
            columns: fields
                .iter()
                .map(|field| builder_for(field.data_type()))
                .collect::<Result<_>>()?,
            seen: vec![false; fields.len()],
        })
    }

    /// Reads the object at the cursor, one value into each column; absent fields are null and
    /// fields no column asks for are skipped.
    pub(super) fn read_object(
        &mut self,
        scanner: &mut Scanner<'_>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), DecodeError> {
        scanner.enter()?;
        scanner.expect(b'{', "'{'")?;
        self.seen.fill(false);
        if !scanner.consume(b'}') {
            loop {
                self.read_field(scanner, scratch)?;
                if !scanner.next_item(b'}', "',' or '}'")? {
                    break;
                }
            }
        }
        for (column, seen) in self.columns.iter_mut().zip(&self.seen) {
            if !seen {
                column.append_null();
            }
        }
        scanner.leave();
        Ok(())
    }

    fn read_field(
        &mut self,
        scanner: &mut Scanner<'_>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), DecodeError> {
        let name = scanner
            .read_string(scratch)?
            .ok_or_else(|| scanner.syntax_error("a field name"))?;
        let index = self.names.iter().position(|candidate| **candidate == *name);
        if index.is_none() {
            // A known name is UTF-8 already; an unknown one must be checked.
            check_utf8(name, 0)?;
        }
        scanner.expect(b':', "':'")?;
        match index {
            Some(index) if !self.seen[index] => {
                self.seen[index] = true;
                let column = &mut self.columns[index];
                if scanner.consume_null()? {
                    column.append_null();
                    return Ok(());
                }
                column
                    .append(scanner, scratch)
                    .map_err(|error| error.within(&String::from_utf8_lossy(&self.names[index])))
            }
            _ => scanner.skip_value(),
        }
    }

    /// Appends a null to every column.
    pub(super) fn append_nulls(&mut self) {
        self.columns
            .iter_mut()
            .for_each(|column| column.append_null());
    }

    /// Drops every row after the first `len`.
    pub(super) fn truncate(&mut self, len: usize) {
        self.columns
            .iter_mut()
            .for_each(|column| column.truncate(len));
    }

    /// The arrays built so far, one per field.
    pub(super) fn finish(&mut self) -> Vec<ArrayRef> {
        self.columns
            .iter_mut()
            .map(|column| column.finish())
            .collect()
    }
}

struct StructColumn {
    fields: Fields,
    children: ObjectColumns,
    nulls: NullBufferBuilder,
}

impl StructColumn {
    fn try_new(fields: &Fields) -> Result<Self> {
        let children = ObjectColumns::try_new(fields)?;
        Ok(Self {
            fields: fields.clone(),
            children,
            nulls: NullBufferBuilder::new(0),
        })
    }
}

impl ColumnBuilder for StructColumn {
    fn append(
        &mut self,
        scanner: &mut Scanner<'_>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), DecodeError> {
        if scanner.peek() != Some(b'{') {
            return Err(type_error(scanner, "struct (an object)"));
        }
        self.children.read_object(scanner, scratch)?;
        self.nulls.append_non_null();
        Ok(())
    }

    fn append_null(&mut self) {
        self.children.append_nulls();
        self.nulls.append_null();
    }

    fn len(&self) -> usize {
        self.nulls.len()
    }

    fn truncate(&mut self, len: usize) {
        self.children.truncate(len);
        self.nulls.truncate(len);
    }

    fn finish(&mut self) -> ArrayRef {
        let rows = self.len();
        let arrays = self.children.finish();
        let nulls = self.nulls.finish();
        if self.fields.is_empty() {
            return Arc::new(StructArray::new_empty_fields(rows, nulls));
        }
        Arc::new(StructArray::new(self.fields.clone(), arrays, nulls))
    }
}

struct ListColumn {
    element: FieldRef,
    offsets: Vec<i32>,
    values: Box<dyn ColumnBuilder>,
    nulls: NullBufferBuilder,
}

impl ListColumn {
    fn try_new(element: &FieldRef) -> Result<Self> {
        let values = builder_for(element.data_type())?;
        let element = Arc::new(Field::new(
            element.name(),
            element.data_type().clone(),
            true,
        ));
        Ok(Self {
            element,
            offsets: vec![0],
            values,
            nulls: NullBufferBuilder::new(0),
        })
    }

    fn read_elements(
        &mut self,
        scanner: &mut Scanner<'_>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), DecodeError> {
        if scanner.consume(b']') {
            return Ok(());
        }
        loop {
            if scanner.consume_null()? {
                self.values.append_null();
            } else {
                self.values.append(scanner, scratch)?;
            }
            if !scanner.next_item(b']', "',' or ']'")? {
                return Ok(());
            }
        }
    }

    fn push_offset(&mut self) -> Result<(), DecodeError> {
        let end = i32::try_from(self.values.len()).map_err(|_| DecodeError::TooLarge)?;
        self.offsets.push(end);
        Ok(())
    }
}

impl ColumnBuilder for ListColumn {
    fn append(
        &mut self,
        scanner: &mut Scanner<'_>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), DecodeError> {
        if scanner.peek() != Some(b'[') {
            return Err(type_error(scanner, "list (an array)"));
        }
        scanner.enter()?;
        scanner.expect(b'[', "'['")?;
        self.read_elements(scanner, scratch)?;
        scanner.leave();
        self.push_offset()?;
        self.nulls.append_non_null();
        Ok(())
    }

    fn append_null(&mut self) {
        self.offsets.push(*self.offsets.last().unwrap_or(&0));
        self.nulls.append_null();
    }

    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    fn truncate(&mut self, len: usize) {
        self.offsets.truncate(len + 1);
        let end = self.offsets.last().map_or(0, |&end| end as usize);
        self.values.truncate(end);
        self.nulls.truncate(len);
    }

    fn finish(&mut self) -> ArrayRef {
        let offsets = std::mem::replace(&mut self.offsets, vec![0]);
        let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
        let values = self.values.finish();
        Arc::new(ListArray::new(
            self.element.clone(),
            offsets,
            values,
            self.nulls.finish(),
        ))
    }
}
