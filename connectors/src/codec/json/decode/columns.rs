//! The columns JSON values append to: the shared rollback builders for scalar types, each
//! reading the value at the scanner's cursor, and the struct and list columns built of them.
//!
//! The builders can drop what a payload appended (`truncate`), which is what lets one bad
//! payload be skipped without rebuilding the rest of its batch.

use std::sync::Arc;

use arrow::array::{ArrayRef, ListArray, StructArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, FieldRef, Fields};

use super::scanner::{Scanner, check_utf8};
use super::values::ReadJson;
use crate::codec::DecodeError;
use crate::codec::builders::{
    BooleanValues, NullValues, Nullable, Offsets, PrimitiveValues, RollbackBuilder, Slots,
    StringValues, scalar_builder,
};
use crate::{Error, Result};

/// A column that JSON values append to.
pub(super) trait ColumnBuilder: RollbackBuilder {
    /// Appends the non-null value at the cursor.
    fn append(
        &mut self,
        scanner: &mut Scanner<'_>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), DecodeError>;
}

/// Any column boxed, as [`scalar_builder`] returns the builders it picks.
impl<C: ColumnBuilder + 'static> From<C> for Box<dyn ColumnBuilder> {
    fn from(column: C) -> Self {
        Box::new(column)
    }
}

/// A builder for a column of `data_type`.
///
/// # Errors
/// When the type is not one a stream schema can declare.
pub(super) fn builder_for(data_type: &DataType) -> Result<Box<dyn ColumnBuilder>> {
    if let Some(column) = scalar_builder(data_type) {
        return Ok(column);
    }
    Ok(match data_type {
        DataType::Struct(fields) => Box::new(struct_column(fields)?),
        DataType::List(element) => Box::new(list_column(element)?),
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

impl ColumnBuilder for NullValues {
    fn append(&mut self, scanner: &mut Scanner<'_>, _: &mut Vec<u8>) -> Result<(), DecodeError> {
        Err(type_error(scanner, "null"))
    }
}

impl<T: ReadJson> ColumnBuilder for PrimitiveValues<T> {
    fn append(&mut self, scanner: &mut Scanner<'_>, _: &mut Vec<u8>) -> Result<(), DecodeError> {
        self.push(T::read(scanner)?);
        Ok(())
    }
}

impl ColumnBuilder for BooleanValues {
    fn append(&mut self, scanner: &mut Scanner<'_>, _: &mut Vec<u8>) -> Result<(), DecodeError> {
        let value = scanner
            .read_bool()?
            .ok_or_else(|| type_error(scanner, "bool"))?;
        self.push(value);
        Ok(())
    }
}

impl ColumnBuilder for StringValues {
    fn append(
        &mut self,
        scanner: &mut Scanner<'_>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), DecodeError> {
        let text = scanner
            .read_string(scratch)?
            .ok_or_else(|| type_error(scanner, "string"))?;
        let text = std::str::from_utf8(text).map_err(|_| DecodeError::InvalidUtf8 {
            column: String::new(),
        })?;
        Ok(self.push(text)?)
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
                column.push_null();
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
                    column.push_null();
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
    pub(super) fn push_nulls(&mut self) {
        self.columns
            .iter_mut()
            .for_each(|column| column.push_null());
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

/// A struct column: one child column per field.
type StructColumn = Nullable<StructFields>;

/// The values of a struct column: the fields, and a child column for each.
struct StructFields {
    fields: Fields,
    children: ObjectColumns,
}

fn struct_column(fields: &Fields) -> Result<StructColumn> {
    let children = ObjectColumns::try_new(fields)?;
    Ok(Nullable::new(StructFields {
        fields: fields.clone(),
        children,
    }))
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
        self.try_push_row(|record| record.children.read_object(scanner, scratch))
    }
}

impl Slots for StructFields {
    fn push_placeholder(&mut self) {
        self.children.push_nulls();
    }

    fn truncate(&mut self, len: usize) {
        self.children.truncate(len);
    }

    fn finish(&mut self, rows: usize, nulls: Option<NullBuffer>) -> ArrayRef {
        let arrays = self.children.finish();
        if self.fields.is_empty() {
            return Arc::new(StructArray::new_empty_fields(rows, nulls));
        }
        Arc::new(StructArray::new(self.fields.clone(), arrays, nulls))
    }
}

/// A list column: the elements of every list in one child column.
type ListColumn = Nullable<ListElements>;

/// The values of a list column: the elements, and where each list ends.
struct ListElements {
    element: FieldRef,
    offsets: Offsets,
    values: Box<dyn ColumnBuilder>,
}

fn list_column(element: &FieldRef) -> Result<ListColumn> {
    let values = builder_for(element.data_type())?;
    let element = Arc::new(Field::new(
        element.name(),
        element.data_type().clone(),
        true,
    ));
    Ok(Nullable::new(ListElements {
        element,
        offsets: Offsets::default(),
        values,
    }))
}

impl ListElements {
    /// Reads the elements of the array the cursor is in into the child column, and ends the
    /// list after them.
    fn read_list(
        &mut self,
        scanner: &mut Scanner<'_>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), DecodeError> {
        self.read_elements(scanner, scratch)?;
        Ok(self.offsets.push(self.values.len())?)
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
                self.values.push_null();
            } else {
                self.values.append(scanner, scratch)?;
            }
            if !scanner.next_item(b']', "',' or ']'")? {
                return Ok(());
            }
        }
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
        self.try_push_row(|list| list.read_list(scanner, scratch))?;
        scanner.leave();
        Ok(())
    }
}

impl Slots for ListElements {
    fn push_placeholder(&mut self) {
        self.offsets.push_empty();
    }

    fn truncate(&mut self, len: usize) {
        let end = self.offsets.truncate(len);
        self.values.truncate(end);
    }

    fn finish(&mut self, _: usize, nulls: Option<NullBuffer>) -> ArrayRef {
        let offsets = self.offsets.finish();
        let values = self.values.finish();
        Arc::new(ListArray::new(self.element.clone(), offsets, values, nulls))
    }
}
