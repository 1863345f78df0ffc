//! The characters that shape CSV text, shared by the decoder and the encoder.

use crate::{Error, Result};

/// The field delimiter and the quote character of CSV text. Records end at `\n`, `\r\n` or
/// `\r`; a quote inside a quoted field is written twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvDialect {
    /// The byte between fields.
    pub delimiter: u8,
    /// The byte around fields that hold a delimiter, a quote or a line break.
    pub quote: u8,
}

impl Default for CsvDialect {
    fn default() -> Self {
        Self {
            delimiter: b',',
            quote: b'"',
        }
    }
}

impl CsvDialect {
    /// The dialect of `delimiter` and `quote`, as props name them.
    ///
    /// # Errors
    /// When either is not a single ASCII character, is a line break, or both are the same.
    pub fn try_new(delimiter: char, quote: char) -> Result<Self> {
        let delimiter = ascii_byte("delimiter", delimiter)?;
        let quote = ascii_byte("quote", quote)?;
        if delimiter == quote {
            return Err(Error::Config(
                "props.quote: must differ from the delimiter".into(),
            ));
        }
        Ok(Self { delimiter, quote })
    }

    /// True when `text` must be quoted to read back as itself: it is empty (an empty field
    /// reads as null), holds the delimiter, the quote or a line break, or starts with a byte
    /// order mark (which readers drop at the start of a payload).
    pub(super) fn needs_quotes(&self, text: &[u8]) -> bool {
        text.is_empty()
            || text.starts_with(BYTE_ORDER_MARK)
            || text.iter().any(|&byte| {
                byte == self.delimiter || byte == self.quote || byte == b'\n' || byte == b'\r'
            })
    }
}

/// The UTF-8 byte order mark.
const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

fn ascii_byte(field: &str, character: char) -> Result<u8> {
    match u8::try_from(character) {
        Ok(byte) if byte.is_ascii() && byte != b'\n' && byte != b'\r' => Ok(byte),
        _ => Err(Error::Config(format!(
            "props.{field}: expected one ASCII character other than a line break, found {character:?}"
        ))),
    }
}
