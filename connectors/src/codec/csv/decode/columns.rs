//! The columns CSV fields append to: the shared rollback builders, each reading a field's text
//! as its type.
//!
//! The builders can drop what a payload appended (`truncate`), so a bad payload is skipped
//! without rebuilding the rest of its batch, as in the JSON decoder.

use arrow::datatypes::DataType;

use super::values::{ParseField, parse_bool};
use crate::codec::builders::{
    BooleanValues, NullValues, OffsetOverflow, PrimitiveValues, RollbackBuilder, StringValues,
    scalar_builder,
};
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

impl From<OffsetOverflow> for Unfit {
    fn from(_: OffsetOverflow) -> Self {
        Unfit::TooLarge
    }
}

/// A column that the fields of CSV records append to.
pub(super) trait FieldColumn: RollbackBuilder {
    /// Appends the value of a non-null field's `text` (an empty text is an empty quoted
    /// field: an empty string, or a null in columns of other types).
    fn append(&mut self, text: &[u8]) -> Result<(), Unfit>;
}

/// Any column boxed, as [`scalar_builder`] returns the builders it picks.
impl<C: FieldColumn + 'static> From<C> for Box<dyn FieldColumn> {
    fn from(column: C) -> Self {
        Box::new(column)
    }
}

/// A builder for column `name` of `data_type`.
///
/// # Errors
/// When the type is nested: a CSV field holds one value.
pub(super) fn builder_for(name: &str, data_type: &DataType) -> Result<Box<dyn FieldColumn>> {
    scalar_builder(data_type).ok_or_else(|| {
        Error::Config(format!(
            "type: csv cannot decode column '{name}' of type {data_type}: a CSV field holds one \
             value, not a struct or a list"
        ))
    })
}

/// The text of a field for a column of a type other than string: UTF-8, with the spaces
/// around it dropped (`1, 2.5` reads as `1` and `2.5`).
fn trimmed(text: &[u8]) -> Result<&str, Unfit> {
    std::str::from_utf8(text.trim_ascii()).map_err(|_| Unfit::NotUtf8)
}

/// Appends, with `push`, the value `parse` reads from a field's trimmed text, or a null for a
/// field of spaces only; `expected` names the type when the text is not one of its values.
fn append_parsed<C: RollbackBuilder, V>(
    column: &mut C,
    text: &[u8],
    parse: impl FnOnce(&str) -> Option<V>,
    expected: &'static str,
    push: impl FnOnce(&mut C, V),
) -> Result<(), Unfit> {
    let text = trimmed(text)?;
    if text.is_empty() {
        column.push_null();
    } else {
        push(column, parse(text).ok_or(Unfit::NotA(expected))?);
    }
    Ok(())
}

impl FieldColumn for NullValues {
    fn append(&mut self, text: &[u8]) -> Result<(), Unfit> {
        if trimmed(text)?.is_empty() {
            self.push_null();
            Ok(())
        } else {
            Err(Unfit::NotA("null (an empty field)"))
        }
    }
}

impl<T: ParseField> FieldColumn for PrimitiveValues<T> {
    fn append(&mut self, text: &[u8]) -> Result<(), Unfit> {
        append_parsed(self, text, T::parse, T::EXPECTED, Self::push)
    }
}

impl FieldColumn for BooleanValues {
    fn append(&mut self, text: &[u8]) -> Result<(), Unfit> {
        append_parsed(self, text, parse_bool, "bool (true or false)", Self::push)
    }
}

impl FieldColumn for StringValues {
    /// Keeps the text as written, spaces included.
    fn append(&mut self, text: &[u8]) -> Result<(), Unfit> {
        let text = std::str::from_utf8(text).map_err(|_| Unfit::NotUtf8)?;
        Ok(self.push(text)?)
    }
}
