//! The errors a payload can cause, whatever its format: [`DecodeError`] says why one payload
//! could not be decoded, [`PayloadError`] which payload of a micro-batch it was. Every part of
//! a decoder (scanner, column builders, value readers) raises them, so they sit below the
//! codecs and import nothing from them. Encoding has no payload to blame; it fails only on a
//! bug, as a crate error.

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
    /// A CSV record is malformed (an unclosed quote, the wrong number of fields) or one of
    /// its values does not fit its column.
    #[error("CSV record {record}: {reason}")]
    Csv {
        /// The record's position in the payload, from 1, the header included.
        record: usize,
        /// What is wrong, naming the column.
        reason: String,
    },
    /// The batch grew past what one Arrow array can address.
    #[error("the batch holds more than 2 GiB of text in one column")]
    TooLarge,
}

impl DecodeError {
    /// The same error, seen from the object holding `field`.
    pub(crate) fn within(mut self, field: &str) -> Self {
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

/// One payload that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadError {
    /// The payload's position in the micro-batch.
    pub index: usize,
    /// What was wrong with it.
    pub error: DecodeError,
}
