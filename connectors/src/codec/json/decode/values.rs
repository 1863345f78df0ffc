//! Reading one JSON value as the native value of an Arrow primitive type.

use arrow::compute::kernels::cast_utils::string_to_timestamp_nanos;
use arrow::datatypes::{
    ArrowPrimitiveType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMillisecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};

use super::scanner::{NumberToken, Scanner};
use crate::codec::DecodeError;

/// An Arrow primitive type whose values JSON carries.
pub(super) trait ReadJson: ArrowPrimitiveType {
    /// The type's name in stream schemas, for error messages.
    const NAME: &'static str;

    /// Reads the (non-null) value at the cursor.
    fn read(scanner: &mut Scanner<'_>) -> Result<Self::Native, DecodeError>;
}

fn type_error(scanner: &mut Scanner<'_>, expected: &'static str) -> DecodeError {
    DecodeError::Type {
        column: String::new(),
        expected,
        found: scanner.next_kind(),
    }
}

fn out_of_range(token: &NumberToken<'_>, expected: &'static str) -> DecodeError {
    let value = String::from_utf8_lossy(token.text).into_owned();
    DecodeError::OutOfRange {
        column: String::new(),
        value,
        expected,
    }
}

fn number<'a>(
    scanner: &mut Scanner<'a>,
    expected: &'static str,
) -> Result<NumberToken<'a>, DecodeError> {
    scanner
        .read_number()?
        .ok_or_else(|| type_error(scanner, expected))
}

/// Parses a number token as an `f64`, correctly rounded.
fn to_f64(token: &NumberToken<'_>) -> f64 {
    if let Some(value) = short_decimal(token.text) {
        return value;
    }
    // A number token is ASCII and matches Rust's float grammar, so neither step can fail.
    std::str::from_utf8(token.text)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Exact powers of ten: every one up to 10^22 is representable in an `f64`.
const POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Clinger's fast path for decimals without an exponent and with at most 15 digits: the
/// digits as an integer and the power of ten are both exact, so one division rounds
/// correctly. This is most sensor readings, at a fraction of the general parser's cost.
fn short_decimal(text: &[u8]) -> Option<f64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits.len() > 16 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut fraction_digits = None;
    for &byte in digits {
        match byte {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(byte - b'0');
                fraction_digits = fraction_digits.map(|count: usize| count + 1);
            }
            b'.' if fraction_digits.is_none() => fraction_digits = Some(0),
            _ => return None,
        }
    }
    let digit_count = digits.len() - usize::from(fraction_digits.is_some());
    if digit_count > 15 {
        return None;
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "at most 15 digits: exact in an f64"
    )]
    let value = mantissa as f64 / POWERS_OF_TEN[fraction_digits.unwrap_or(0)];
    Some(if negative { -value } else { value })
}

/// Parses an integer token, `None` on overflow.
fn to_i64(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mut value: i64 = 0;
    for &digit in digits {
        let digit = i64::from(digit - b'0');
        value = value.checked_mul(10)?;
        value = if negative {
            value.checked_sub(digit)?
        } else {
            value.checked_add(digit)?
        };
    }
    Some(value)
}

fn to_u64(text: &[u8]) -> Option<u64> {
    if text.first() == Some(&b'-') {
        return None;
    }
    text.iter().try_fold(0u64, |value, &digit| {
        value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    })
}

/// An integer written with a fraction or exponent is accepted when its value is whole.
fn whole_f64(token: &NumberToken<'_>) -> Option<f64> {
    let value = to_f64(token);
    (value.fract() == 0.0 && value.is_finite()).then_some(value)
}

/// The value of an integer token, or of a whole number written with a fraction or exponent.
fn whole_i64(token: &NumberToken<'_>) -> Option<i64> {
    if token.is_integer {
        return to_i64(token.text);
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "checked to be whole and in range"
    )]
    whole_f64(token)
        .filter(|value| value.abs() < 9.2e18)
        .map(|value| value as i64)
}

macro_rules! read_signed {
    ($($arrow:ty => $name:literal),* $(,)?) => {$(
        impl ReadJson for $arrow {
            const NAME: &'static str = $name;

            fn read(scanner: &mut Scanner<'_>) -> Result<Self::Native, DecodeError> {
                let token = number(scanner, $name)?;
                whole_i64(&token)
                    .and_then(|value| value.try_into().ok())
                    .ok_or_else(|| out_of_range(&token, $name))
            }
        }
    )*};
}

macro_rules! read_unsigned {
    ($($arrow:ty => $name:literal),* $(,)?) => {$(
        impl ReadJson for $arrow {
            const NAME: &'static str = $name;

            fn read(scanner: &mut Scanner<'_>) -> Result<Self::Native, DecodeError> {
                let token = number(scanner, $name)?;
                let wide = if token.is_integer {
                    to_u64(token.text)
                } else {
                    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss,
                        reason = "checked to be whole and not negative")]
                    whole_f64(&token).filter(|value| (0.0..1.8e19).contains(value)).map(|value| value as u64)
                };
                wide.and_then(|value| value.try_into().ok())
                    .ok_or_else(|| out_of_range(&token, $name))
            }
        }
    )*};
}

read_signed!(Int8Type => "int8", Int16Type => "int16", Int32Type => "int32", Int64Type => "int64");
read_unsigned!(
    UInt8Type => "uint8",
    UInt16Type => "uint16",
    UInt32Type => "uint32",
    UInt64Type => "uint64",
);

/// A number as a finite `f64`; JSON cannot mean infinity, so `1e400` is out of range.
fn finite_f64(scanner: &mut Scanner<'_>, expected: &'static str) -> Result<f64, DecodeError> {
    let token = number(scanner, expected)?;
    let value = to_f64(&token);
    if value.is_finite() {
        Ok(value)
    } else {
        Err(out_of_range(&token, expected))
    }
}

impl ReadJson for Float64Type {
    const NAME: &'static str = "float64";

    fn read(scanner: &mut Scanner<'_>) -> Result<f64, DecodeError> {
        finite_f64(scanner, Self::NAME)
    }
}

impl ReadJson for Float32Type {
    const NAME: &'static str = "float32";

    fn read(scanner: &mut Scanner<'_>) -> Result<f32, DecodeError> {
        let value = finite_f64(scanner, Self::NAME)?;
        #[expect(
            clippy::cast_possible_truncation,
            reason = "float32 columns round by design"
        )]
        let narrow = value as f32;
        if narrow.is_finite() {
            return Ok(narrow);
        }
        let value = value.to_string();
        Err(DecodeError::OutOfRange {
            column: String::new(),
            value,
            expected: Self::NAME,
        })
    }
}

impl ReadJson for TimestampMillisecondType {
    const NAME: &'static str = "timestamp (milliseconds since the epoch or RFC 3339)";

    fn read(scanner: &mut Scanner<'_>) -> Result<i64, DecodeError> {
        if let Some(token) = scanner.read_number()? {
            return whole_i64(&token).ok_or_else(|| out_of_range(&token, Self::NAME));
        }
        let mut scratch = Vec::new();
        let Some(text) = scanner.read_string(&mut scratch)? else {
            return Err(type_error(scanner, Self::NAME));
        };
        let parsed = std::str::from_utf8(text)
            .ok()
            .and_then(|t| string_to_timestamp_nanos(t).ok());
        parsed
            .map(|nanos| nanos.div_euclid(1_000_000))
            .ok_or_else(|| DecodeError::OutOfRange {
                column: String::new(),
                value: String::from_utf8_lossy(text).into_owned(),
                expected: Self::NAME,
            })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn the_short_decimal_path_rounds_as_the_general_parser_does(
            digits in 0u64..1_000_000_000_000_000,
            point in 0usize..16,
            negative in any::<bool>(),
        ) {
            let mut text = digits.to_string();
            if point < text.len() {
                text.insert(text.len() - point, '.');
            }
            if negative {
                text.insert(0, '-');
            }
            let expected: f64 = text.parse().unwrap();
            let token = NumberToken { text: text.as_bytes(), is_integer: !text.contains('.') };
            prop_assert_eq!(to_f64(&token).to_bits(), expected.to_bits(), "{}", text);
        }
    }

    #[test]
    fn long_or_exponent_numbers_take_the_general_parser() {
        for text in [
            "1e5",
            "0.1234567890123456789",
            "12345678901234567",
            "-2.5E-3",
        ] {
            assert_eq!(short_decimal(text.as_bytes()), None, "{text}");
        }
    }
}
