//! Splitting a payload into fields with `csv_core`'s state machine, one field at a time into
//! one reused buffer, with what the raw text said about its quotes.
//!
//! `csv_core` never fails: it prefers *a* parse to none, so an unclosed quote would swallow
//! the rest of the payload into one field. Counting the quote bytes of each field's raw text
//! catches that: a well-quoted field holds them in pairs (the two around it, two for each
//! quote inside).

use csv_core::{ReadFieldResult, Reader, ReaderBuilder};

use super::super::CsvDialect;

/// The smallest field buffer; it doubles whenever a field does not fit.
const INITIAL_FIELD_CAPACITY: usize = 64;

/// Reads the fields of one payload after another.
pub(super) struct Tokenizer {
    reader: Reader,
    quote: u8,
    text: Vec<u8>,
}

/// One field read: its text is [`Tokenizer::text`] until the next read.
#[derive(Debug, Clone, Copy)]
pub(super) struct Token {
    /// The length of the unquoted text.
    pub(super) len: usize,
    /// The field's raw text held quote bytes: an empty quoted field (`""`) is an empty
    /// string, not a null.
    pub(super) quoted: bool,
    /// The raw text held an odd number of quote bytes: a quote was never closed, or stands
    /// alone inside an unquoted field.
    pub(super) unbalanced: bool,
    /// The field ends its record.
    pub(super) record_end: bool,
}

impl Tokenizer {
    /// A tokenizer for `dialect`.
    pub(super) fn new(dialect: CsvDialect) -> Self {
        Self {
            reader: ReaderBuilder::new()
                .delimiter(dialect.delimiter)
                .quote(dialect.quote)
                .build(),
            quote: dialect.quote,
            text: vec![0; INITIAL_FIELD_CAPACITY],
        }
    }

    /// Starts a new payload: a record and a line 1 again.
    pub(super) fn reset(&mut self) {
        self.reader.reset();
    }

    /// Reads the next field of `input` and advances past it; `None` once the payload is
    /// done. Blank lines between records are skipped.
    pub(super) fn next(&mut self, input: &mut &[u8]) -> Option<Token> {
        let mut len = 0;
        let mut quotes = 0;
        loop {
            if len == self.text.len() {
                self.text.resize(self.text.len() * 2, 0);
            }
            let (result, read, written) = self.reader.read_field(input, &mut self.text[len..]);
            quotes += memchr::memchr_iter(self.quote, &input[..read]).count();
            *input = &input[read..];
            len += written;
            match result {
                // All input is read: the next call, with none, tells the reader so.
                ReadFieldResult::InputEmpty | ReadFieldResult::OutputFull => {}
                ReadFieldResult::Field { record_end } => {
                    return Some(Token {
                        len,
                        quoted: quotes > 0,
                        unbalanced: quotes % 2 == 1,
                        record_end,
                    });
                }
                ReadFieldResult::End => return None,
            }
        }
    }

    /// The text of the last field read.
    pub(super) fn text(&self, token: Token) -> &[u8] {
        &self.text[..token.len]
    }
}
