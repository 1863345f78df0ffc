//! The baseline: the query run the traditional way, one message at a time through a generic
//! JSON tree.
//!
//! Each payload is parsed into a [`serde_json::Value`], its `score` compared with zero, a new
//! object built from `user_id`, `score` and `device`, and that object serialized with
//! [`serde_json::to_vec`]. [`process`] does the whole query message by message, as a
//! row-at-a-time engine would; the other functions do one stage over a whole batch, so the
//! stage benches can put each beside its columnar counterpart.

use serde_json::{Map, Value};

/// The fields the query outputs.
pub const OUTPUT_FIELDS: [&str; 3] = ["user_id", "score", "device"];

/// What [`process`] did with a micro-batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Processed {
    /// Messages that came out.
    pub rows_out: usize,
    /// Payloads skipped because they are not JSON.
    pub bad_payloads: usize,
}

/// Runs the query over `payloads`, handing each output message to `emit` in order. A payload
/// that is not JSON is skipped and counted, as the columnar chain does.
///
/// # Errors
/// Only if serializing a JSON tree fails, which `serde_json` does not do for trees it built.
pub fn process<P: AsRef<[u8]>>(
    payloads: &[P],
    mut emit: impl FnMut(&[u8]),
) -> serde_json::Result<Processed> {
    let mut processed = Processed::default();
    for payload in payloads {
        let Ok(row) = parse(payload.as_ref()) else {
            processed.bad_payloads += 1;
            continue;
        };
        if passes(&row) {
            emit(&encode(&project(&row))?);
            processed.rows_out += 1;
        }
    }
    Ok(processed)
}

/// Parses one payload into a JSON tree.
///
/// # Errors
/// When the payload is not JSON.
pub fn parse(payload: &[u8]) -> serde_json::Result<Value> {
    serde_json::from_slice(payload)
}

/// True when the row's `score` is a number above zero (`WHERE score > 0`; a missing or
/// non-numeric score counts as false, as a null does in SQL).
pub fn passes(row: &Value) -> bool {
    row.get("score")
        .and_then(Value::as_f64)
        .is_some_and(|score| score > 0.0)
}

/// A new object holding the output fields of `row`, null where `row` lacks one.
pub fn project(row: &Value) -> Value {
    let fields = OUTPUT_FIELDS.iter().map(|name| {
        let value = row.get(name).cloned().unwrap_or(Value::Null);
        ((*name).to_owned(), value)
    });
    Value::Object(fields.collect::<Map<_, _>>())
}

/// Serializes one row as a message.
///
/// # Errors
/// Only if serializing fails, which `serde_json` does not do for a tree it built.
pub fn encode(row: &Value) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(row)
}

/// The decode stage over a batch: every payload that parses, as a tree.
pub fn parse_all<P: AsRef<[u8]>>(payloads: &[P]) -> Vec<Value> {
    payloads
        .iter()
        .filter_map(|payload| parse(payload.as_ref()).ok())
        .collect()
}

/// The filter stage over a batch: the rows that pass.
pub fn filter_all(rows: &[Value]) -> Vec<&Value> {
    rows.iter().filter(|row| passes(row)).collect()
}

/// The project stage over a batch: a new object per row.
pub fn project_all(rows: &[&Value]) -> Vec<Value> {
    rows.iter().map(|row| project(row)).collect()
}

/// The encode stage over a batch: one message per row, handed to `emit`.
///
/// # Errors
/// Only if serializing fails, which `serde_json` does not do for a tree it built.
pub fn encode_all(rows: &[Value], mut emit: impl FnMut(&[u8])) -> serde_json::Result<()> {
    for row in rows {
        emit(&encode(row)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positive_scores_and_outputs_three_fields() {
        let payloads = [
            br#"{"user_id":1,"device":"a","score":2.5,"ok":true}"#.as_slice(),
            br#"{"user_id":2,"device":"b","score":-1.0}"#,
            br#"{"user_id":3,"score":7}"#,
            br#"not json"#,
        ];
        let mut out = Vec::new();
        let processed = process(&payloads, |message| out.push(message.to_vec())).unwrap();
        assert_eq!(
            processed,
            Processed {
                rows_out: 2,
                bad_payloads: 1
            }
        );
        let out: Vec<String> = out
            .into_iter()
            .map(|message| String::from_utf8(message).unwrap())
            .collect();
        // serde_json's default map sorts keys; readers of the messages do not care.
        assert_eq!(
            out,
            [
                r#"{"device":"a","score":2.5,"user_id":1}"#,
                r#"{"device":null,"score":7,"user_id":3}"#
            ]
        );
    }

    #[test]
    fn the_batch_stages_compose_to_process() {
        let payloads = crate::workload::messages(200);
        let rows = parse_all(&payloads);
        let projected = project_all(&filter_all(&rows));
        let mut staged = Vec::new();
        encode_all(&projected, |message| staged.push(message.to_vec())).unwrap();
        let mut whole = Vec::new();
        process(&payloads, |message| whole.push(message.to_vec())).unwrap();
        assert_eq!(staged, whole);
        assert_eq!(whole.len(), 100);
    }
}
