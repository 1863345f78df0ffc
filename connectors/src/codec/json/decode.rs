//! The JSON decoder: payloads in, one `RecordBatch` out, bad payloads reported and skipped.

use arrow::array::{RecordBatch, RecordBatchOptions};
use arrow::datatypes::SchemaRef;

use super::columns::ObjectColumns;
use super::scanner::Scanner;
use crate::Result;

/// Why one payload could not be decoded. The rest of its batch is unaffected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The payload is not well-formed JSON.
    #[error("malformed JSON at byte {offset}: expected {expected}")]
    Syntax {
        /// Where in the payload the problem was found.
        offset: usize,
        /// What the payload should have held there.
        expected: &'static str,
    },
    /// The payload ends before its JSON value is complete.
    #[error("truncated JSON: the payload ends before its value is complete")]
    Truncated,
    /// A value does not have the type of its column.
    #[error("column '{column}' expects {expected}, found {found}")]
    Type {
        /// The column, with the path to it for nested fields (`meta.site`).
        column: String,
        /// The type the schema declares.
        expected: &'static str,
        /// The kind of JSON value found.
        found: &'static str,
    },
    /// A number does not fit its column's type, or a timestamp cannot be read.
    #[error("column '{column}': {value} is not a valid {expected}")]
    OutOfRange {
        /// The column, with the path to it for nested fields.
        column: String,
        /// The value as written in the payload.
        value: String,
        /// The type the schema declares.
        expected: &'static str,
    },
    /// A string value is not valid UTF-8.
    #[error("column '{column}' holds a string that is not valid UTF-8")]
    InvalidUtf8 {
        /// The column, with the path to it for nested fields.
        column: String,
    },
    /// Objects and arrays nest deeper than the decoder allows.
    #[error("the payload nests objects and arrays deeper than {limit} levels")]
    TooDeep {
        /// The deepest nesting allowed.
        limit: u32,
    },
    /// The payload is neither an object nor an array of objects.
    #[error("a payload must be a JSON object or an array of objects, found {found}")]
    NotAnObject {
        /// The kind of JSON value found.
        found: &'static str,
    },
    /// The batch grew past what one Arrow array can address.
    #[error("the batch holds more than 2 GiB of text in one column")]
    TooLarge,
}

impl DecodeError {
    /// The same error, seen from the object holding `field`.
    pub(super) fn within(mut self, field: &str) -> Self {
        if let Self::Type { column, .. }
        | Self::OutOfRange { column, .. }
        | Self::InvalidUtf8 { column } = &mut self
        {
            *column = if column.is_empty() {
                field.to_owned()
            } else {
                format!("{field}.{column}")
            };
        }
        self
    }
}

/// The error for a value where an object belongs: a syntax error if it is not even JSON.
fn not_an_object(scanner: &mut Scanner<'_>) -> DecodeError {
    let found = scanner.next_kind();
    if scanner.at_end() {
        return DecodeError::NotAnObject { found };
    }
    match scanner.skip_value() {
        Ok(()) => DecodeError::NotAnObject { found },
        Err(error) => error,
    }
}

/// One payload that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadError {
    /// The payload's position in the micro-batch.
    pub index: usize,
    /// What was wrong with it.
    pub error: DecodeError,
}

/// The result of decoding a micro-batch: the rows of every good payload, and what was wrong
/// with the others.
#[derive(Debug)]
pub struct DecodedBatch {
    /// One row per object of every payload that decoded.
    pub batch: RecordBatch,
    /// The payloads that were skipped, in order.
    pub errors: Vec<PayloadError>,
}

/// Decodes JSON payloads into record batches of a fixed schema.
///
/// Each payload is an object (one row) or an array of objects (one row each). Fields missing
/// from a payload are null; fields the schema does not name are skipped unread, so a decoder
/// built from only the columns a query uses does only the work that query needs.
pub struct JsonDecoder {
    schema: SchemaRef,
    row: ObjectColumns,
    scratch: Vec<u8>,
    rows: usize,
}

impl JsonDecoder {
    /// A decoder producing batches of `schema`.
    ///
    /// # Errors
    /// When a column's type is not one JSON can be decoded into.
    pub fn try_new(schema: SchemaRef) -> Result<Self> {
        let row = ObjectColumns::try_new(schema.fields())?;
        Ok(Self {
            schema,
            row,
            scratch: Vec::new(),
            rows: 0,
        })
    }

    /// The schema of the batches this decoder produces.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The rows buffered since the last [`Self::flush`].
    pub fn buffered_rows(&self) -> usize {
        self.rows
    }

    /// Appends the rows of one payload, or, if it is malformed or mistyped, nothing at all.
    ///
    /// # Errors
    /// What is wrong with the payload; the rows buffered before it are kept.
    pub fn push(&mut self, payload: &[u8]) -> Result<(), DecodeError> {
        let before = self.rows;
        match self.read_payload(payload) {
            Ok(rows) => {
                self.rows += rows;
                Ok(())
            }
            Err(error) => {
                self.row.truncate(before);
                Err(error)
            }
        }
    }

    fn read_payload(&mut self, payload: &[u8]) -> Result<usize, DecodeError> {
        let mut scanner = Scanner::new(payload);
        let rows = match scanner.peek() {
            Some(b'{') => self
                .row
                .read_object(&mut scanner, &mut self.scratch)
                .map(|()| 1)?,
            Some(b'[') => self.read_array(&mut scanner)?,
            _ => {
                return Err(not_an_object(&mut scanner));
            }
        };
        if !scanner.at_end() {
            return Err(scanner.syntax_error("the end of the payload"));
        }
        Ok(rows)
    }

    fn read_array(&mut self, scanner: &mut Scanner<'_>) -> Result<usize, DecodeError> {
        scanner.expect(b'[', "'['")?;
        if scanner.consume(b']') {
            return Ok(0);
        }
        let mut rows = 0;
        loop {
            if scanner.peek() != Some(b'{') {
                return Err(not_an_object(scanner));
            }
            self.row.read_object(scanner, &mut self.scratch)?;
            rows += 1;
            if !scanner.next_item(b']', "',' or ']'")? {
                return Ok(rows);
            }
        }
    }

    /// The rows buffered so far as one batch; the decoder starts again empty.
    ///
    /// # Errors
    /// Only on a bug: the columns always match the schema.
    pub fn flush(&mut self) -> Result<RecordBatch> {
        let options = RecordBatchOptions::new().with_row_count(Some(self.rows));
        self.rows = 0;
        let columns = self.row.finish();
        Ok(RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &options,
        )?)
    }

    /// Decodes a micro-batch of payloads into one batch, skipping and reporting the bad ones.
    ///
    /// # Errors
    /// Only on a bug; bad payloads are reported in [`DecodedBatch::errors`].
    pub fn decode<P: AsRef<[u8]>>(&mut self, payloads: &[P]) -> Result<DecodedBatch> {
        let mut errors = Vec::new();
        for (index, payload) in payloads.iter().enumerate() {
            if let Err(error) = self.push(payload.as_ref()) {
                errors.push(PayloadError { index, error });
            }
        }
        Ok(DecodedBatch {
            batch: self.flush()?,
            errors,
        })
    }
}
