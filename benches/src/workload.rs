//! The benchmark workload: a 10-column sensor stream, deterministic messages for it, and the
//! query every bench runs.
//!
//! Message `i` varies `user_id`, `seq`, `ts` and `device` with `i`, and spreads `score` over
//! -49.5..=49.5 so that `WHERE score > 0` keeps exactly half of any 100 consecutive messages.
//! Message 42 is the reference message quoted in `docs/PERFORMANCE.md`.

use std::fmt::Write as _;
use std::ops::Range;

use arrow::datatypes::SchemaRef;
use veloflux_connectors::codec::schema::{ColumnSpec, ColumnType, arrow_schema};
use veloflux_planner::{Catalog, EventTimeColumn, PipelinePlan, PlanOptions};

use crate::Result;

/// The stream the query reads.
pub const STREAM: &str = "s";

/// The query of the chain bench; the stage benches run its steps one at a time.
pub const QUERY: &str = "SELECT user_id, score, device FROM s WHERE score > 0";

/// [`QUERY`] also selecting the topic each message arrived on: what the metadata bench
/// compares it with.
pub const META_QUERY: &str =
    "SELECT user_id, score, device, meta(topic) AS topic FROM s WHERE score > 0";

/// The windowed query of the window bench: per device and second, a count and a mean.
pub const WINDOW_QUERY: &str =
    "SELECT device, count(*), avg(temp) FROM s GROUP BY device, TUMBLINGWINDOW(ss, 1)";

/// How many devices the window bench's messages cycle through: its number of groups.
pub const WINDOW_DEVICES: usize = 1000;

/// How far behind the latest event time a row of [`event_time_window_plan`] may come and
/// still count.
pub const LATE_TOLERANCE_MS: i64 = 1000;

/// How far behind its neighbours a late message of [`event_time_messages`] is stamped:
/// beyond [`LATE_TOLERANCE_MS`], so that it is behind the watermark whenever it arrives.
pub const LATE_BY_MS: u64 = 5000;

/// Messages of [`event_time_messages`] per millisecond of event time: about a million rows per
/// second, as the processing-time window bench's simulated clock, so that a window closes
/// about every thousand batches of 1024 in both.
pub const EVENT_TIME_ROWS_PER_MS: usize = 1000;

/// The micro-batch sizes of the chain bench: from one message per batch (the latency-bound
/// case) to the largest batch a source buffers.
pub const CHAIN_BATCH_SIZES: [usize; 5] = [1, 16, 128, 1024, 8192];

/// The batch sizes of the per-stage benches.
pub const STAGE_BATCH_SIZES: [usize; 2] = [1024, 8192];

/// How many distinct messages the benches cycle through: every batch size divides it.
pub const POOL_SIZE: usize = 8192;

/// The columns of the stream, in payload order.
pub fn columns() -> Vec<ColumnSpec> {
    [
        ("user_id", ColumnType::Int64),
        ("device", ColumnType::String),
        ("score", ColumnType::Float64),
        ("temp", ColumnType::Float64),
        ("humidity", ColumnType::Int64),
        ("ok", ColumnType::Bool),
        ("site", ColumnType::String),
        ("seq", ColumnType::Int64),
        ("ts", ColumnType::Int64),
        ("note", ColumnType::String),
    ]
    .into_iter()
    .map(|(name, data_type)| ColumnSpec::new(name, data_type))
    .collect()
}

/// The Arrow schema of the whole stream.
///
/// # Errors
/// Only if [`columns`] were invalid.
pub fn stream_schema() -> Result<SchemaRef> {
    Ok(arrow_schema(&columns())?)
}

/// A catalog holding the stream as [`STREAM`].
///
/// # Errors
/// Only if [`columns`] were invalid.
pub fn catalog() -> Result<Catalog> {
    Ok(Catalog::new().with_stream(STREAM, stream_schema()?))
}

/// [`QUERY`], planned against [`catalog`].
///
/// # Errors
/// When the planner rejects the query.
pub fn plan() -> Result<PipelinePlan> {
    Ok(veloflux_planner::plan(QUERY, &catalog()?)?)
}

/// [`META_QUERY`], planned against [`catalog`].
///
/// # Errors
/// When the planner rejects the query.
pub fn meta_plan() -> Result<PipelinePlan> {
    Ok(veloflux_planner::plan(META_QUERY, &catalog()?)?)
}

/// The field [`timestamped_message`] adds: when the load tool sent the message, in microseconds
/// since the Unix epoch.
pub const SENT_MICROS_FIELD: &str = "sent_us";

/// The `ts` of message number `index` of the workload.
const fn reference_ts(index: usize) -> u64 {
    EPOCH_MS + index as u64
}

/// The `ts` of message 0: 2023-11-14.
const EPOCH_MS: u64 = 1_700_000_000_000;

/// Message number `index` of the workload.
pub fn message(index: usize) -> Vec<u8> {
    render(index, index % 10_000, reference_ts(index), None)
}

/// Message number `index` with its `device` cycling through `devices` values (at least one) and
/// a last field [`SENT_MICROS_FIELD`] holding `sent_micros`: what the MQTT load tool publishes,
/// so that a `GROUP BY device` query sees a chosen number of groups and a pass-through query
/// carries the send time to its output.
pub fn timestamped_message(index: usize, devices: usize, sent_micros: u64) -> Vec<u8> {
    render(
        index,
        index % devices.max(1),
        reference_ts(index),
        Some(sent_micros),
    )
}

fn render(index: usize, device: usize, ts: u64, sent_micros: Option<u64>) -> Vec<u8> {
    // The moduli are picked so that message 42 is the reference message.
    let score = (index % 100) as f64 - 50.0 + 0.5;
    let temp = 20.0 + (index % 37) as f64 * 0.25;
    let mut text = format!(
        concat!(
            r#"{{"user_id":{index},"device":"dev-{device:04}","score":{score},"#,
            r#""temp":{temp:.2},"humidity":{humidity},"ok":{ok},"site":"plant-{site}","#,
            r#""seq":{index},"ts":{ts},"note":"reading""#
        ),
        index = index,
        device = device,
        score = score,
        temp = temp,
        humidity = 21 + index % 60,
        ok = !index.is_multiple_of(5),
        site = index % 13,
        ts = ts,
    );
    if let Some(sent_micros) = sent_micros {
        // Writing to a String cannot fail.
        let _ = write!(text, r#","{SENT_MICROS_FIELD}":{sent_micros}"#);
    }
    text.push('}');
    text.into_bytes()
}

/// [`WINDOW_QUERY`], planned against [`catalog`].
///
/// # Errors
/// When the planner rejects the query.
pub fn window_plan() -> Result<PipelinePlan> {
    Ok(veloflux_planner::plan(WINDOW_QUERY, &catalog()?)?)
}

/// Messages `0..count` with their `device` cycling through `devices` values.
pub fn device_messages(count: usize, devices: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|index| render(index, index % devices.max(1), reference_ts(index), None))
        .collect()
}

/// [`WINDOW_QUERY`] in event time: its windows follow the `ts` column (milliseconds), and a
/// row more than [`LATE_TOLERANCE_MS`] behind the latest event time is late.
///
/// # Errors
/// When the planner rejects the query.
pub fn event_time_window_plan() -> Result<PipelinePlan> {
    let mut catalog = catalog()?;
    let ts = EventTimeColumn {
        column: "ts".to_owned(),
        unit_ms: 1,
    };
    catalog.set_event_time(STREAM, ts);
    let options = PlanOptions {
        event_time: true,
        late_tolerance_ms: LATE_TOLERANCE_MS,
    };
    Ok(veloflux_planner::plan_with(
        WINDOW_QUERY,
        &catalog,
        &options,
    )?)
}

/// Messages `indices` for [`event_time_window_plan`], their `device` cycling through
/// [`WINDOW_DEVICES`] values and their `ts` moving 1 ms every [`EVENT_TIME_ROWS_PER_MS`]
/// messages; every `late_every`-th message (none for 0) is stamped [`LATE_BY_MS`] earlier, so
/// that it comes in late.
pub fn event_time_messages(indices: Range<usize>, late_every: usize) -> Vec<Vec<u8>> {
    indices
        .map(|index| {
            let on_time = EPOCH_MS + (index / EVENT_TIME_ROWS_PER_MS) as u64;
            let late = late_every > 0 && index % late_every == late_every - 1;
            let ts = if late { on_time - LATE_BY_MS } else { on_time };
            render(index, index % WINDOW_DEVICES, ts, None)
        })
        .collect()
}

/// Messages `0..count`.
pub fn messages(count: usize) -> Vec<Vec<u8>> {
    (0..count).map(message).collect()
}

/// The total size of `payloads` in bytes.
pub fn byte_len<P: AsRef<[u8]>>(payloads: &[P]) -> u64 {
    payloads
        .iter()
        .map(|payload| payload.as_ref().len() as u64)
        .sum()
}

/// The mean size in bytes of a batch of `batch_size` consecutive messages of `pool`, which the
/// chain bench cycles through whole.
pub fn mean_batch_bytes<P: AsRef<[u8]>>(pool: &[P], batch_size: usize) -> f64 {
    if pool.is_empty() {
        return 0.0;
    }
    byte_len(pool) as f64 * batch_size as f64 / pool.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_42_is_the_reference_message() {
        let expected = concat!(
            r#"{"user_id":42,"device":"dev-0042","score":-7.5,"temp":21.25,"humidity":63,"#,
            r#""ok":true,"site":"plant-3","seq":42,"ts":1700000000042,"note":"reading"}"#
        );
        assert_eq!(String::from_utf8(message(42)).unwrap(), expected);
    }

    #[test]
    fn a_timestamped_message_is_the_message_with_its_send_time_last() {
        let expected = concat!(
            r#"{"user_id":42,"device":"dev-0002","score":-7.5,"temp":21.25,"humidity":63,"#,
            r#""ok":true,"site":"plant-3","seq":42,"ts":1700000000042,"note":"reading","#,
            r#""sent_us":1700000000123456}"#
        );
        let payload = timestamped_message(42, 10, 1_700_000_000_123_456);
        assert_eq!(String::from_utf8(payload).unwrap(), expected);
    }

    #[test]
    fn timestamped_messages_cycle_through_the_devices() {
        let devices: std::collections::BTreeSet<String> = (0..5000)
            .map(|index| timestamped_message(index, 1000, 0))
            .map(|payload| serde_json::from_slice::<serde_json::Value>(&payload).unwrap())
            .map(|row| row["device"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(devices.len(), 1000);
        assert_eq!(timestamped_message(7, 0, 0), timestamped_message(7, 1, 0));
    }

    #[test]
    fn every_tenth_event_time_message_is_late_and_the_others_keep_time() {
        let ts = |payload: &Vec<u8>| {
            serde_json::from_slice::<serde_json::Value>(payload).unwrap()["ts"]
                .as_u64()
                .unwrap()
        };
        let on_time: Vec<u64> = event_time_messages(1990..2010, 0).iter().map(ts).collect();
        assert_eq!(on_time[..10], [EPOCH_MS + 1; 10]);
        assert_eq!(on_time[10..], [EPOCH_MS + 2; 10]);
        let mixed: Vec<u64> = event_time_messages(1990..2010, 10).iter().map(ts).collect();
        let late: Vec<usize> = (0..20).filter(|&i| mixed[i] != on_time[i]).collect();
        assert_eq!(late, [9, 19]);
        assert_eq!(mixed[9], on_time[9] - LATE_BY_MS);
        assert!(event_time_window_plan().is_ok());
    }

    #[test]
    fn about_half_of_the_pool_has_a_positive_score() {
        let positive = messages(POOL_SIZE)
            .iter()
            .map(|payload| serde_json::from_slice::<serde_json::Value>(payload).unwrap())
            .filter(|row| row["score"].as_f64().unwrap() > 0.0)
            .count();
        // 81 whole periods of 100 keep 50 each; the last 92 messages keep 42.
        assert_eq!(positive, 4092);
    }

    #[test]
    fn every_batch_size_divides_the_pool() {
        let sizes = CHAIN_BATCH_SIZES.iter().chain(&STAGE_BATCH_SIZES);
        assert!(
            sizes
                .into_iter()
                .all(|size| POOL_SIZE.is_multiple_of(*size))
        );
    }

    #[test]
    fn the_query_plans_against_the_stream() {
        let plan = plan().unwrap();
        let read: Vec<&str> = plan
            .source
            .schema
            .fields()
            .iter()
            .map(|field| field.name().as_str())
            .collect();
        assert_eq!(read, ["user_id", "device", "score"]);
    }
}
