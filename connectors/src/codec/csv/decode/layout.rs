//! Where the fields of a record go: the column each position fills, from a declared list of
//! names or from the header record of each payload.
//!
//! A decoder is built for the columns a plan reads, a subset of the stream's in stream order,
//! so the schema alone cannot say at which position a field sits: the names must.

use arrow::datatypes::Schema;

use crate::{Error, Result};

/// How the decoder learns which field is which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvFields {
    /// The first record of each payload is a header naming its fields.
    Header,
    /// Every field of a record, in order; names the schema lacks are skipped.
    Declared(Vec<String>),
}

/// The fields of a record, by position: their names and the columns they fill.
#[derive(Debug, Default)]
pub(super) struct Layout {
    names: Vec<String>,
    targets: Vec<Option<usize>>,
    absent: Vec<usize>,
}

impl Layout {
    /// The layout of the declared `names`, which must name every column of `schema`.
    ///
    /// # Errors
    /// When `names` is empty, repeats a name, or lacks a column of `schema`.
    pub(super) fn declared(names: &[String], schema: &Schema) -> Result<Self> {
        if names.is_empty() {
            return Err(Error::Config(
                "props.columns: must name at least one field".into(),
            ));
        }
        let mut layout = Self::default();
        for name in names {
            layout
                .push(name.as_bytes(), schema)
                .map_err(|reason| Error::Config(format!("props.columns: {reason}")))?;
        }
        layout.end(schema);
        if let Some(&column) = layout.absent.first() {
            return Err(Error::Config(format!(
                "props.columns: lacks '{}', a column of the stream; list every field of a \
                 record in order",
                schema.field(column).name()
            )));
        }
        Ok(layout)
    }

    /// Forgets the fields of the last header.
    pub(super) fn clear(&mut self) {
        self.names.clear();
        self.targets.clear();
        self.absent.clear();
    }

    /// Adds the field named `name` after the others.
    ///
    /// # Errors
    /// When a field of the same name fills a column already.
    pub(super) fn push(&mut self, name: &[u8], schema: &Schema) -> Result<(), String> {
        let target = schema
            .fields()
            .iter()
            .position(|field| field.name().as_bytes() == name);
        let name = String::from_utf8_lossy(name).into_owned();
        if target.is_some() && self.targets.contains(&target) {
            return Err(format!("names '{name}' twice"));
        }
        self.names.push(name);
        self.targets.push(target);
        Ok(())
    }

    /// Notes the columns of `schema` that no field fills: they are null in every row.
    pub(super) fn end(&mut self, schema: &Schema) {
        self.absent = (0..schema.fields().len())
            .filter(|column| !self.targets.contains(&Some(*column)))
            .collect();
    }

    /// How many fields a record holds.
    pub(super) fn width(&self) -> usize {
        self.names.len()
    }

    /// The column the field at `position` fills, if the schema has it.
    pub(super) fn target(&self, position: usize) -> Option<usize> {
        self.targets.get(position).copied().flatten()
    }

    /// The name of the field at `position`, for messages.
    pub(super) fn describe(&self, position: usize) -> String {
        match self.names.get(position) {
            Some(name) => format!("column '{name}'"),
            None => format!("field {}", position + 1),
        }
    }

    /// The columns no field fills.
    pub(super) fn absent(&self) -> &[usize] {
        &self.absent
    }
}
