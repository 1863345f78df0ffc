//! The CSV decoder: payloads of records in, one `RecordBatch` out, bad payloads reported and
//! skipped.
//!
//! `csv_core` splits each payload into fields (`tokens`); the layout (`layout`) says which
//! column each position fills; the text goes straight into column builders (`columns`),
//! read as the column's type by `values`. The builders can drop what a payload appended, so
//! a payload that fails is rolled back and costs nothing but itself.

mod columns;
mod layout;
mod tokens;
mod values;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

pub use self::layout::CsvFields;

use self::columns::{FieldColumn, Unfit, builder_for};
use self::layout::Layout;
use self::tokens::{Token, Tokenizer};
use super::CsvDialect;
use crate::Result;
use crate::codec::DecodeError;
use crate::codec::pending::PendingRows;

/// The most characters of a bad value an error message repeats.
const SHOWN_CHARS: usize = 40;

/// Decodes CSV payloads into record batches of a fixed schema.
///
/// A payload holds any number of records, one row each; blank lines are skipped. An empty
/// field is null; an empty quoted field (`""`) is an empty string in a string column.
pub struct CsvDecoder {
    schema: SchemaRef,
    columns: Vec<Box<dyn FieldColumn>>,
    from_header: bool,
    layout: Layout,
    tokenizer: Tokenizer,
    rows: PendingRows,
}

impl CsvDecoder {
    /// A decoder producing batches of `schema` from text in `dialect`, the fields of each
    /// record placed by `fields`.
    ///
    /// # Errors
    /// When a column is a struct or a list, or the declared fields do not name every column.
    pub fn try_new(schema: SchemaRef, dialect: CsvDialect, fields: &CsvFields) -> Result<Self> {
        let columns = schema
            .fields()
            .iter()
            .map(|field| builder_for(field.name(), field.data_type()))
            .collect::<Result<_>>()?;
        let layout = match fields {
            CsvFields::Header => Layout::default(),
            CsvFields::Declared(names) => Layout::declared(names, &schema)?,
        };
        Ok(Self {
            schema,
            columns,
            from_header: *fields == CsvFields::Header,
            layout,
            tokenizer: Tokenizer::new(dialect),
            rows: PendingRows::default(),
        })
    }

    /// The schema of the batches this decoder produces.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Appends the rows of one payload, or, if any record of it is malformed or mistyped,
    /// nothing at all; returns how many rows it appended.
    ///
    /// # Errors
    /// What is wrong with the payload; the rows buffered before it are kept.
    pub fn push(&mut self, payload: &[u8]) -> Result<usize, DecodeError> {
        let read = self.read_payload(payload);
        self.rows.add(read, |rows| {
            self.columns
                .iter_mut()
                .for_each(|column| column.truncate(rows));
        })
    }

    fn read_payload(&mut self, mut payload: &[u8]) -> Result<usize, DecodeError> {
        self.tokenizer.reset();
        let mut record = 1;
        if self.from_header {
            if !self.read_header(&mut payload)? {
                return Ok(0);
            }
            record += 1;
        }
        let mut rows = 0;
        while self.read_record(&mut payload, record)? {
            rows += 1;
            record += 1;
        }
        Ok(rows)
    }

    /// Reads the header record into the layout; false if the payload is empty.
    fn read_header(&mut self, input: &mut &[u8]) -> Result<bool, DecodeError> {
        self.layout.clear();
        while let Some(token) = self.tokenizer.next(input) {
            let position = self.layout.width();
            self.check_quotes(token, position, 1)?;
            let name = self.tokenizer.text(token);
            self.layout
                .push(name, &self.schema)
                .map_err(|reason| csv_error(1, format!("the header {reason}")))?;
            if token.record_end {
                self.layout.end(&self.schema);
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Reads one record into the columns; false at the end of the payload.
    fn read_record(&mut self, input: &mut &[u8], record: usize) -> Result<bool, DecodeError> {
        let mut position = 0;
        while let Some(token) = self.tokenizer.next(input) {
            self.check_quotes(token, position, record)?;
            if let Some(column) = self.layout.target(position) {
                self.append(column, token)
                    .map_err(|unfit| self.unfit_error(unfit, token, position, record))?;
            }
            position += 1;
            if token.record_end {
                break;
            }
        }
        if position == 0 {
            return Ok(false);
        }
        if position != self.layout.width() {
            let names = if self.from_header {
                "the header"
            } else {
                "props.columns"
            };
            let reason = format!(
                "has {}, but {names} names {}",
                fields(position),
                self.layout.width()
            );
            return Err(csv_error(record, reason));
        }
        for &column in self.layout.absent() {
            self.columns[column].push_null();
        }
        Ok(true)
    }

    fn append(&mut self, column: usize, token: Token) -> Result<(), Unfit> {
        let column = &mut self.columns[column];
        if token.len == 0 && !token.quoted {
            column.push_null();
            return Ok(());
        }
        column.append(self.tokenizer.text(token))
    }

    fn check_quotes(
        &self,
        token: Token,
        position: usize,
        record: usize,
    ) -> Result<(), DecodeError> {
        if !token.unbalanced {
            return Ok(());
        }
        let reason = format!(
            "{}: a quote is never closed, or stands alone in an unquoted field",
            self.layout.describe(position)
        );
        Err(csv_error(record, reason))
    }

    fn unfit_error(
        &self,
        unfit: Unfit,
        token: Token,
        position: usize,
        record: usize,
    ) -> DecodeError {
        let field = self.layout.describe(position);
        let reason = match unfit {
            Unfit::NotA(expected) => {
                let text = String::from_utf8_lossy(self.tokenizer.text(token));
                format!("{field}: {} is not a valid {expected}", shown(&text))
            }
            Unfit::NotUtf8 => format!("{field} holds text that is not valid UTF-8"),
            Unfit::TooLarge => return DecodeError::TooLarge,
        };
        csv_error(record, reason)
    }

    /// The rows buffered so far as one batch; the decoder starts again empty.
    ///
    /// # Errors
    /// Only on a bug: the columns always match the schema.
    pub fn flush(&mut self) -> Result<RecordBatch> {
        let columns = self
            .columns
            .iter_mut()
            .map(|column| column.finish())
            .collect();
        self.rows.flush(&self.schema, columns)
    }
}

/// `1 field`, `2 fields`.
fn fields(count: usize) -> String {
    if count == 1 {
        "1 field".to_owned()
    } else {
        format!("{count} fields")
    }
}

fn csv_error(record: usize, reason: String) -> DecodeError {
    DecodeError::Csv { record, reason }
}

/// `text` quoted for a message, cut to [`SHOWN_CHARS`] characters.
fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{:?}…", &text[..end]),
        None => format!("{text:?}"),
    }
}
