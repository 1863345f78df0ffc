//! A validating JSON scanner over one payload: reads the values a decoder wants and skips the
//! rest without building them.

use memchr::memchr2;

use crate::codec::DecodeError;

/// How deeply objects and arrays may nest before a payload is refused; it bounds the recursion
/// of the scanner and of nested columns, so a hostile payload cannot exhaust the stack.
pub(super) const MAX_DEPTH: u32 = 64;

/// A number token and whether it is written as an integer (no fraction, no exponent).
pub(super) struct NumberToken<'a> {
    pub(super) text: &'a [u8],
    pub(super) is_integer: bool,
}

/// A cursor over one payload.
pub(super) struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            pos: 0,
            depth: 0,
        }
    }

    /// The next byte that is not white space, without consuming it.
    pub(super) fn peek(&mut self) -> Option<u8> {
        while let Some(&byte) = self.bytes.get(self.pos) {
            if !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(byte);
            }
            self.pos += 1;
        }
        None
    }

    /// Consumes `byte` if it comes next.
    pub(super) fn consume(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.pos += usize::from(found);
        found
    }

    /// Consumes `byte` or fails naming what was expected.
    pub(super) fn expect(&mut self, byte: u8, expected: &'static str) -> Result<(), DecodeError> {
        if self.consume(byte) {
            Ok(())
        } else {
            Err(self.syntax_error(expected))
        }
    }

    /// Consumes a `,` and returns true, or a `close` and returns false.
    pub(super) fn next_item(
        &mut self,
        close: u8,
        expected: &'static str,
    ) -> Result<bool, DecodeError> {
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(byte) if byte == close => {
                self.pos += 1;
                Ok(false)
            }
            _ => Err(self.syntax_error(expected)),
        }
    }

    /// True when only white space is left.
    pub(super) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// An error saying what the payload should have held at the cursor.
    pub(super) fn syntax_error(&self, expected: &'static str) -> DecodeError {
        if self.pos >= self.bytes.len() {
            return DecodeError::Truncated;
        }
        DecodeError::Syntax {
            offset: self.pos,
            expected,
        }
    }

    /// The JSON kind of the next value, for type errors.
    pub(super) fn next_kind(&mut self) -> &'static str {
        match self.peek() {
            Some(b'"') => "a string",
            Some(b'{') => "an object",
            Some(b'[') => "an array",
            Some(b't' | b'f') => "a boolean",
            Some(b'n') => "null",
            Some(b'-' | b'0'..=b'9') => "a number",
            Some(_) => "invalid JSON",
            None => "an empty payload",
        }
    }

    /// Enters an object or array, refusing payloads nested deeper than [`MAX_DEPTH`].
    pub(super) fn enter(&mut self) -> Result<(), DecodeError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep { limit: MAX_DEPTH });
        }
        Ok(())
    }

    /// Leaves an object or array.
    pub(super) fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Consumes `null` if it comes next.
    pub(super) fn consume_null(&mut self) -> Result<bool, DecodeError> {
        if self.peek() != Some(b'n') {
            return Ok(false);
        }
        self.literal(b"null")?;
        Ok(true)
    }

    /// Reads `true` or `false`; `None` when the next value is something else.
    pub(super) fn read_bool(&mut self) -> Result<Option<bool>, DecodeError> {
        match self.peek() {
            Some(b't') => self.literal(b"true").map(|()| Some(true)),
            Some(b'f') => self.literal(b"false").map(|()| Some(false)),
            _ => Ok(None),
        }
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), DecodeError> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.syntax_error("true, false or null"))
        }
    }

    /// Reads a number token; `None` when the next value is not a number.
    pub(super) fn read_number(&mut self) -> Result<Option<NumberToken<'a>>, DecodeError> {
        if !matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
            return Ok(None);
        }
        let start = self.pos;
        self.pos += usize::from(self.bytes[self.pos] == b'-');
        match self.bytes.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.syntax_error("a digit")),
        }
        let mut is_integer = true;
        if self.bytes.get(self.pos) == Some(&b'.') {
            is_integer = false;
            self.pos += 1;
            self.required_digits()?;
        }
        if matches!(self.bytes.get(self.pos), Some(b'e' | b'E')) {
            is_integer = false;
            self.pos += 1;
            if matches!(self.bytes.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        Ok(Some(NumberToken {
            text: &self.bytes[start..self.pos],
            is_integer,
        }))
    }

    fn digits(&mut self) {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        self.pos += rest.iter().take_while(|byte| byte.is_ascii_digit()).count();
    }

    fn required_digits(&mut self) -> Result<(), DecodeError> {
        let start = self.pos;
        self.digits();
        if self.pos == start {
            Err(self.syntax_error("a digit"))
        } else {
            Ok(())
        }
    }

    /// Reads a string, unescaping into `scratch` only when it holds escapes; `None` when the
    /// next value is not a string. The bytes are not checked for UTF-8 here.
    pub(super) fn read_string<'s>(
        &mut self,
        scratch: &'s mut Vec<u8>,
    ) -> Result<Option<&'s [u8]>, DecodeError>
    where
        'a: 's,
    {
        if self.peek() != Some(b'"') {
            return Ok(None);
        }
        self.pos += 1;
        let start = self.pos;
        let (end, escaped) = self.string_end()?;
        let raw = &self.bytes[start..end];
        self.pos = end + 1;
        if !escaped {
            return Ok(Some(raw));
        }
        scratch.clear();
        unescape(raw, scratch).map_err(|offset| DecodeError::Syntax {
            offset: start + offset,
            expected: "a valid escape sequence",
        })?;
        Ok(Some(scratch.as_slice()))
    }

    /// The offset of the quote closing the string that starts at the cursor, and whether
    /// the string holds escapes.
    fn string_end(&self) -> Result<(usize, bool), DecodeError> {
        let mut pos = self.pos;
        let mut escaped = false;
        while let Some(found) = find_quote_or_backslash(&self.bytes[pos..]) {
            if self.bytes[pos + found] == b'"' {
                return Ok((pos + found, escaped));
            }
            escaped = true;
            pos += found + 2;
            if pos >= self.bytes.len() {
                break;
            }
        }
        Err(DecodeError::Truncated)
    }

    /// Skips the string at the cursor, checking that it is UTF-8 as JSON requires.
    fn skip_string(&mut self) -> Result<(), DecodeError> {
        self.pos += 1;
        let start = self.pos;
        let end = self.string_end()?.0;
        self.pos = end + 1;
        check_utf8(&self.bytes[start..end], start)
    }

    /// Skips one value of any kind, checking that it is well formed.
    pub(super) fn skip_value(&mut self) -> Result<(), DecodeError> {
        match self.peek() {
            Some(b'"') => self.skip_string(),
            Some(b'{') => self.skip_container(b'}', true),
            Some(b'[') => self.skip_container(b']', false),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.read_number().map(drop),
            _ => Err(self.syntax_error("a JSON value")),
        }
    }

    fn skip_container(&mut self, close: u8, keyed: bool) -> Result<(), DecodeError> {
        self.enter()?;
        self.pos += 1;
        if !self.consume(close) {
            loop {
                if keyed {
                    if self.peek() != Some(b'"') {
                        return Err(self.syntax_error("a field name"));
                    }
                    self.skip_string()?;
                    self.expect(b':', "':'")?;
                }
                self.skip_value()?;
                if !self.next_item(close, "',' or the end of the object or array")? {
                    break;
                }
            }
        }
        self.leave();
        Ok(())
    }
}

/// An error unless `text`, found at `offset`, is UTF-8.
pub(super) fn check_utf8(text: &[u8], offset: usize) -> Result<(), DecodeError> {
    match std::str::from_utf8(text) {
        Ok(_) => Ok(()),
        Err(error) => Err(DecodeError::Syntax {
            offset: offset + error.valid_up_to(),
            expected: "UTF-8 text",
        }),
    }
}

/// How far the word-at-a-time search looks for the end of a string before handing over to
/// a SIMD search: keys and most values are shorter, and for them it wins (decode bench,
/// `docs/PERFORMANCE.md`).
const SHORT_STRING: usize = 64;

/// The position of the first `"` or `\` in `haystack`.
fn find_quote_or_backslash(haystack: &[u8]) -> Option<usize> {
    let head = &haystack[..haystack.len().min(SHORT_STRING)];
    let mut chunks = head.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let found = zero_bytes(word ^ repeat(b'"')) | zero_bytes(word ^ repeat(b'\\'));
        if found != 0 {
            return Some(offset + found.trailing_zeros() as usize / 8);
        }
        offset += 8;
    }
    let rest = chunks.remainder();
    if let Some(found) = rest.iter().position(|&byte| byte == b'"' || byte == b'\\') {
        return Some(offset + found);
    }
    let tail = haystack.get(SHORT_STRING..)?;
    memchr2(b'"', b'\\', tail).map(|found| found + SHORT_STRING)
}

const LOW_BITS: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

fn repeat(byte: u8) -> u64 {
    LOW_BITS * u64::from(byte)
}

/// A mask whose lowest set bit lies in the first zero byte of `word` (little-endian). Bytes
/// above a zero byte may be flagged falsely, never bytes below one, so the lowest bit is exact.
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(LOW_BITS) & !word & HIGH_BITS
}

/// Writes the unescaped form of `raw` to `out`; on a bad escape, its offset in `raw`.
fn unescape(raw: &[u8], out: &mut Vec<u8>) -> Result<(), usize> {
    let mut pos = 0;
    while let Some(found) = memchr::memchr(b'\\', &raw[pos..]) {
        out.extend_from_slice(&raw[pos..pos + found]);
        let escape = pos + found;
        let code = *raw.get(escape + 1).ok_or(escape)?;
        pos = escape + 2;
        let byte = match code {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let (ch, used) = unicode_escape(&raw[pos..]).ok_or(escape)?;
                pos += used;
                let mut utf8 = [0; 4];
                out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
                continue;
            }
            _ => return Err(escape),
        };
        out.push(byte);
    }
    out.extend_from_slice(&raw[pos..]);
    Ok(())
}

/// Decodes the `XXXX` after `\u` (and a following `\uXXXX` low surrogate), returning the
/// character and the bytes used.
fn unicode_escape(rest: &[u8]) -> Option<(char, usize)> {
    let high = hex4(rest)?;
    if !(0xD800..0xDC00).contains(&high) {
        return char::from_u32(high).map(|ch| (ch, 4));
    }
    if rest.get(4..6)? != b"\\u" {
        return None;
    }
    let low = hex4(&rest[6..])?;
    if !(0xDC00..0xE000).contains(&low) {
        return None;
    }
    let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
    char::from_u32(code).map(|ch| (ch, 10))
}

fn hex4(bytes: &[u8]) -> Option<u32> {
    let digits = bytes.get(..4)?;
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}
