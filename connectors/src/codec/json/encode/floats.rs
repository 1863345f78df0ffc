//! Floats as JSON numbers: the shortest text that reads back as the same value.
//!
//! Sensor readings are mostly short decimals (21.25, -7.5). For those, finding the fewest
//! decimals that round-trip and printing the digits as an integer is several times faster
//! than ryu's general algorithm (encode bench, `docs/PERFORMANCE.md`); everything else goes
//! to ryu. Non-finite values, which JSON cannot hold, are written as `null`.

/// The exact powers of ten an `f64` holds, enough for the short form's decimals.
const POWERS_OF_TEN: [f64; 7] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6];

/// A float type the encoder writes.
pub(super) trait JsonFloat: Copy {
    /// Appends the value as a JSON number, or `null` when it is not finite.
    fn write_json(self, out: &mut Vec<u8>);
}

impl JsonFloat for f32 {
    fn write_json(self, out: &mut Vec<u8>) {
        if self.is_finite() {
            out.extend_from_slice(ryu::Buffer::new().format_finite(self).as_bytes());
        } else {
            out.extend_from_slice(b"null");
        }
    }
}

impl JsonFloat for f64 {
    fn write_json(self, out: &mut Vec<u8>) {
        if !self.is_finite() {
            out.extend_from_slice(b"null");
        } else if let Some((digits, decimals)) = short_decimal(self) {
            write_decimal(digits, decimals, self.is_sign_negative(), out);
        } else {
            out.extend_from_slice(ryu::Buffer::new().format_finite(self).as_bytes());
        }
    }
}

/// The value as `digits / 10^decimals` with the fewest decimals (up to 6) that reads back as
/// exactly `value`; `None` outside the range where that form is also the shortest ryu would
/// pick (ryu switches to exponents for very small and very large magnitudes).
fn short_decimal(value: f64) -> Option<(u64, usize)> {
    let magnitude = value.abs();
    if !(magnitude == 0.0 || (1e-3..1e15).contains(&magnitude)) {
        return None;
    }
    POWERS_OF_TEN
        .iter()
        .enumerate()
        .find_map(|(decimals, &power)| {
            let scaled = (magnitude * power).round();
            // Both factors are exact below 2^53, so the division rounds correctly: equality
            // means the decimal text parses back to `value`.
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "below 2^53"
            )]
            let digits = scaled as u64;
            (scaled < 9.0e15 && scaled / power == magnitude).then_some((digits, decimals))
        })
}

/// Writes `digits` with a decimal point `decimals` places from the right (`5, 3` is `0.005`;
/// whole numbers get `.0`, as ryu writes them).
fn write_decimal(digits: u64, decimals: usize, negative: bool, out: &mut Vec<u8>) {
    if negative {
        out.push(b'-');
    }
    let mut buffer = itoa::Buffer::new();
    let text = buffer.format(digits).as_bytes();
    if decimals == 0 {
        out.extend_from_slice(text);
        out.extend_from_slice(b".0");
        return;
    }
    if text.len() <= decimals {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + decimals - text.len(), b'0');
        out.extend_from_slice(text);
        return;
    }
    let (whole, fraction) = text.split_at(text.len() - decimals);
    out.extend_from_slice(whole);
    out.push(b'.');
    out.extend_from_slice(fraction);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn text(value: f64) -> String {
        let mut out = Vec::new();
        value.write_json(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn short_decimals_read_as_ryu_writes_them() {
        let cases = [
            (21.25, "21.25"),
            (-7.5, "-7.5"),
            (0.1, "0.1"),
            (0.3, "0.3"),
            (0.005, "0.005"),
            (42.0, "42.0"),
            (-0.0, "-0.0"),
            (1e20, "1e20"),
            (1.5e-7, "1.5e-7"),
            (f64::NAN, "null"),
        ];
        for (value, expected) in cases {
            assert_eq!(text(value), expected, "{value}");
        }
    }

    proptest! {
        #[test]
        fn every_float_reads_back_and_is_no_longer_than_ryus(value in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
            let written = text(value);
            prop_assert_eq!(written.parse::<f64>().unwrap().to_bits(), value.to_bits());
            prop_assert!(written.len() <= ryu::Buffer::new().format_finite(value).len());
        }

        #[test]
        fn sensor_like_decimals_read_back(digits in -10_000_000i64..10_000_000, decimals in 0u32..7) {
            let value = digits as f64 / 10f64.powi(decimals as i32);
            let written = text(value);
            prop_assert_eq!(written.parse::<f64>().unwrap().to_bits(), value.to_bits());
            prop_assert!(written.len() <= ryu::Buffer::new().format_finite(value).len());
        }
    }
}
