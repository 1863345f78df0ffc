//! Reading the text of one CSV field as the native value of an Arrow primitive type. What is
//! accepted mirrors the JSON decoder: whole numbers for integer columns (`5`, and `5.0` or
//! `5e0` since their value is whole), finite numbers for float columns, and for timestamps
//! milliseconds since the epoch or an RFC 3339 text.

use arrow::compute::kernels::cast_utils::string_to_datetime;
use arrow::datatypes::{
    ArrowPrimitiveType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampMillisecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use chrono::Utc;

/// An Arrow primitive type whose values a CSV field can hold.
pub(super) trait ParseField: ArrowPrimitiveType {
    /// What the column holds, for error messages.
    const EXPECTED: &'static str;

    /// The value `text` (trimmed, not empty) stands for, if it is one of this type.
    fn parse(text: &str) -> Option<Self::Native>;
}

/// A number whose value is whole, as an `f64` within `range`.
fn whole_f64(text: &str, range: std::ops::Range<f64>) -> Option<f64> {
    let value: f64 = text.parse().ok()?;
    (value.fract() == 0.0 && range.contains(&value)).then_some(value)
}

fn whole_i64(text: &str) -> Option<i64> {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "checked to be whole and in range"
    )]
    text.parse()
        .ok()
        .or_else(|| whole_f64(text, -9.2e18..9.2e18).map(|value| value as i64))
}

fn whole_u64(text: &str) -> Option<u64> {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "checked to be whole, not negative and in range"
    )]
    text.parse()
        .ok()
        .or_else(|| whole_f64(text, 0.0..1.8e19).map(|value| value as u64))
}

macro_rules! parse_integer {
    ($whole:ident: $($arrow:ty => $name:literal),* $(,)?) => {$(
        impl ParseField for $arrow {
            const EXPECTED: &'static str = $name;

            fn parse(text: &str) -> Option<Self::Native> {
                $whole(text)?.try_into().ok()
            }
        }
    )*};
}

parse_integer!(whole_i64: Int8Type => "int8", Int16Type => "int16", Int32Type => "int32",
    Int64Type => "int64");
parse_integer!(whole_u64: UInt8Type => "uint8", UInt16Type => "uint16", UInt32Type => "uint32",
    UInt64Type => "uint64");

macro_rules! parse_float {
    ($($arrow:ty => $name:literal),* $(,)?) => {$(
        impl ParseField for $arrow {
            const EXPECTED: &'static str = $name;

            /// Finite values only, as in JSON: `NaN` and `inf` are not numbers a sensor sends.
            fn parse(text: &str) -> Option<Self::Native> {
                text.parse::<Self::Native>().ok().filter(|value| value.is_finite())
            }
        }
    )*};
}

parse_float!(Float32Type => "float32", Float64Type => "float64");

impl ParseField for TimestampMillisecondType {
    const EXPECTED: &'static str = "timestamp (milliseconds since the epoch or RFC 3339)";

    fn parse(text: &str) -> Option<i64> {
        whole_i64(text).or_else(|| {
            string_to_datetime(&Utc, text)
                .ok()
                .map(|time| time.timestamp_millis())
        })
    }
}

/// Reads `true` or `false`, in any case.
pub(super) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_accept_whole_numbers_in_range_only() {
        assert_eq!(Int8Type::parse("-128"), Some(-128));
        assert_eq!(Int8Type::parse("128"), None);
        assert_eq!(Int64Type::parse("5.0"), Some(5));
        assert_eq!(Int64Type::parse("1e3"), Some(1000));
        assert_eq!(Int64Type::parse("5.5"), None);
        assert_eq!(UInt64Type::parse("18446744073709551615"), Some(u64::MAX));
        assert_eq!(UInt8Type::parse("-1"), None);
        assert_eq!(Int32Type::parse("abc"), None);
    }

    #[test]
    fn floats_must_be_finite() {
        assert_eq!(Float64Type::parse("-2.5e-3"), Some(-0.0025));
        assert_eq!(Float64Type::parse("1e400"), None);
        assert_eq!(Float64Type::parse("NaN"), None);
        assert_eq!(Float32Type::parse("1e40"), None);
    }

    #[test]
    fn timestamps_are_epoch_milliseconds_or_rfc3339() {
        assert_eq!(
            TimestampMillisecondType::parse("1700000000123"),
            Some(1_700_000_000_123)
        );
        assert_eq!(
            TimestampMillisecondType::parse("2023-11-14T22:13:20.123Z"),
            Some(1_700_000_000_123)
        );
        assert_eq!(
            TimestampMillisecondType::parse("0001-01-01T00:00:00Z"),
            Some(-62_135_596_800_000)
        );
        assert_eq!(TimestampMillisecondType::parse("yesterday"), None);
    }

    #[test]
    fn booleans_ignore_case() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("false"), Some(false));
        assert_eq!(parse_bool("1"), None);
    }
}
