//! The JSON decoder: payloads in, one `RecordBatch` out, bad payloads reported and skipped.
//!
//! A validating scanner (`scanner`) walks each payload once; the values of the columns the
//! schema names go straight into column builders (`columns`), primitives read by `values`, and
//! every other field is skipped unread. The builders can drop what a payload appended, so a
//! payload that fails is rolled back and reported as a [`PayloadError`].

mod columns;
mod scanner;
mod values;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use self::columns::ObjectColumns;
use self::scanner::Scanner;
use crate::Result;
use crate::codec::DecodeError;
use crate::codec::pending::PendingRows;

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

/// Decodes JSON payloads into record batches of a fixed schema.
///
/// Each payload is an object (one row) or an array of objects (one row each). Fields missing
/// from a payload are null; fields the schema does not name are skipped unread, so a decoder
/// built from only the columns a query uses does only the work that query needs.
pub struct JsonDecoder {
    schema: SchemaRef,
    row: ObjectColumns,
    scratch: Vec<u8>,
    rows: PendingRows,
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
            rows: PendingRows::default(),
        })
    }

    /// The schema of the batches this decoder produces.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The rows buffered since the last [`Self::flush`].
    pub fn buffered_rows(&self) -> usize {
        self.rows.count()
    }

    /// Appends the rows of one payload, or, if it is malformed or mistyped, nothing at all;
    /// returns how many rows it appended.
    ///
    /// # Errors
    /// What is wrong with the payload; the rows buffered before it are kept.
    pub fn push(&mut self, payload: &[u8]) -> Result<usize, DecodeError> {
        let read = self.read_payload(payload);
        self.rows.add(read, |rows| self.row.truncate(rows))
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
        let columns = self.row.finish();
        self.rows.flush(&self.schema, columns)
    }
}
