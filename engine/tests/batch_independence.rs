//! Micro-batch boundaries never change results. For random streams of events (a few devices,
//! event times out of order, late or missing, values sometimes null) cut into micro-batches at
//! random points, every window kind and every stateful function emits the same rows, in the
//! same order, and drops the same number of late rows as when each row is a batch of its own.
//!
//! Every batch is processed at one clock reading, so processing time and the idle watermark
//! (which moves with the clock) play no part: only event time and arrival order do. A failure
//! prints the smallest stream found, as `device@event_time=value` with `-` for a null and `|`
//! between batches, with the statement and both outputs.

#![expect(clippy::unwrap_used, reason = "a test: a failure is a failed test")]

use std::fmt;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use veloflux_connectors::codec::json::{JsonEncoder, JsonFormat};
use veloflux_engine::PlanExecutor;
use veloflux_planner::{Catalog, EventTimeColumn, PipelinePlan, PlanOptions};

/// The clock reading of every batch, far from any event time.
const NOW_MS: i64 = 1_000_000_000;
const DEVICES: [&str; 3] = ["d1", "d2", "d3"];
const MAX_EVENTS: usize = 24;
/// Event times move in steps of this many milliseconds, so that windows' bounds are hit.
const TICK_MS: i64 = 500;

/// One event of stream `s (device, ts, value)`, `ts` being its event time.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Event {
    device: &'static str,
    ts: Option<i64>,
    value: Option<i64>,
}

impl fmt::Debug for Event {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or_dash = |value: Option<i64>| value.map_or("-".to_owned(), |value| value.to_string());
        let (ts, value) = (or_dash(self.ts), or_dash(self.value));
        write!(formatter, "{}@{ts}={value}", self.device)
    }
}

/// Events in arrival order, cut into micro-batches.
#[derive(Clone)]
struct Scenario {
    batches: Vec<Vec<Event>>,
}

impl Scenario {
    /// `events` cut after each position where `cuts` holds.
    fn cut(events: Vec<Event>, cuts: &[bool]) -> Self {
        let mut batches = vec![Vec::new()];
        let last = events.len() - 1;
        for (index, event) in events.into_iter().enumerate() {
            batches.last_mut().unwrap().push(event);
            if index < last && cuts.get(index).copied().unwrap_or(false) {
                batches.push(Vec::new());
            }
        }
        Self { batches }
    }

    /// The same events, each a batch of its own.
    fn one_per_batch(&self) -> Vec<Vec<Event>> {
        self.batches
            .iter()
            .flatten()
            .map(|event| vec![*event])
            .collect()
    }
}

impl fmt::Debug for Scenario {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let batches: Vec<String> = self
            .batches
            .iter()
            .map(|batch| format!("{batch:?}"))
            .collect();
        formatter.write_str(&batches.join(" | "))
    }
}

/// What a run emitted: every row, as JSON and in order, and the late rows it dropped.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    rows: Vec<String>,
    late_rows: usize,
}

fn catalog() -> Catalog {
    let schema = Schema::new(vec![
        Field::new("device", DataType::Utf8, false),
        Field::new("ts", DataType::Int64, true),
        Field::new("value", DataType::Int64, true),
    ]);
    let mut catalog = Catalog::new().with_stream("s", Arc::new(schema));
    let ts = EventTimeColumn {
        column: "ts".to_owned(),
        unit_ms: 1,
    };
    catalog.set_event_time("s", ts);
    catalog
}

fn event_time(late_tolerance_ms: i64) -> PlanOptions {
    PlanOptions {
        event_time: true,
        late_tolerance_ms,
    }
}

fn plan(sql: &str, options: PlanOptions) -> PipelinePlan {
    veloflux_planner::plan_with(sql, &catalog(), &options).unwrap()
}

/// Per device, in `window`: the rows, the known values and their sum, and the bounds.
fn windowed(window: &str) -> String {
    format!(
        "SELECT device, count(*) AS n, count(value) AS known, sum(value) AS total, \
         window_start(), window_end() FROM s GROUP BY device, {window}"
    )
}

/// `events` as a batch of the columns `plan` reads.
fn record_batch(plan: &PipelinePlan, events: &[Event]) -> RecordBatch {
    let column = |field: &Arc<Field>| -> ArrayRef {
        match field.name().as_str() {
            "device" => Arc::new(StringArray::from_iter_values(
                events.iter().map(|event| event.device),
            )),
            "ts" => Arc::new(Int64Array::from_iter(events.iter().map(|event| event.ts))),
            "value" => Arc::new(Int64Array::from_iter(
                events.iter().map(|event| event.value),
            )),
            other => panic!("no column {other} in stream s"),
        }
    };
    let schema = plan.source.schema.clone();
    let columns = schema.fields().iter().map(column).collect();
    RecordBatch::try_new(schema, columns).unwrap()
}

/// Runs `batches` through a fresh executor of `plan`, then ends the stream.
fn run(plan: &PipelinePlan, batches: &[Vec<Event>]) -> Outcome {
    let mut executor = PlanExecutor::new(plan.clone());
    let mut encoder = JsonEncoder::new(JsonFormat::MessagePerRow);
    let mut outcome = Outcome {
        rows: Vec::new(),
        late_rows: 0,
    };
    let mut take = |batch: &RecordBatch, outcome: &mut Outcome| {
        let messages = encoder.encode(batch).unwrap();
        let rows = messages
            .iter()
            .map(|row| String::from_utf8_lossy(row).into_owned());
        outcome.rows.extend(rows);
    };
    for events in batches {
        let executed = executor
            .execute(&record_batch(plan, events), NOW_MS)
            .unwrap();
        assert!(executed.errors.is_empty(), "{:?}", executed.errors);
        take(&executed.batch, &mut outcome);
        outcome.late_rows += executed.late_rows;
    }
    if let Some(executed) = executor.finish().unwrap() {
        take(&executed.batch, &mut outcome);
    }
    outcome
}

/// Runs `sql` over the scenario's batches and over its rows one by one: both must agree.
fn check(sql: &str, options: PlanOptions, scenario: &Scenario) -> Result<(), TestCaseError> {
    let plan = plan(sql, options);
    let batched = run(&plan, &scenario.batches);
    let one_by_one = run(&plan, &scenario.one_per_batch());
    prop_assert!(
        batched == one_by_one,
        "\nstatement: {sql}\noptions: {options:?}\nbatches: {scenario:?}\n\
         in these batches: {batched:#?}\none row per batch: {one_by_one:#?}"
    );
    Ok(())
}

/// Events whose times follow a clock that moves on by a few ticks each time: most are on
/// time, some come behind it (out of order, or late), a few have no event time.
fn events() -> impl Strategy<Value = Vec<Event>> {
    let delay = prop_oneof![
        6 => Just(Some(0)),
        3 => (1..=24i64).prop_map(|ticks| Some(ticks * TICK_MS)),
        1 => Just(None),
    ];
    let value = prop_oneof![4 => (-2..=2i64).prop_map(Some), 1 => Just(None)];
    let step = (0..DEVICES.len(), 0..=8i64, delay, value);
    prop::collection::vec(step, 1..=MAX_EVENTS).prop_map(|steps| {
        let mut clock = 0;
        let event = |(device, ticks, delay, value): (usize, i64, Option<i64>, _)| {
            clock += ticks * TICK_MS;
            Event {
                device: DEVICES[device],
                ts: delay.map(|delay| clock - delay),
                value,
            }
        };
        steps.into_iter().map(event).collect()
    })
}

fn scenarios() -> impl Strategy<Value = Scenario> {
    let cuts = prop::collection::vec(any::<bool>(), MAX_EVENTS);
    (events(), cuts).prop_map(|(events, cuts)| Scenario::cut(events, &cuts))
}

/// A late tolerance above zero, up to longer than the windows below.
fn tolerances() -> impl Strategy<Value = i64> {
    (1..=24i64).prop_map(|ticks| ticks * TICK_MS)
}

/// Zero or above.
fn any_tolerance() -> impl Strategy<Value = i64> {
    prop_oneof![Just(0), tolerances()]
}

/// Hops of hopping windows 10 s long, in seconds: one that divides the length, one that does
/// not.
fn hops() -> impl Strategy<Value = i64> {
    prop_oneof![Just(5), Just(3)]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        // A failure prints its smallest case; the ones worth keeping are the deterministic
        // tests below, so no seed file is written.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn tumbling_windows_without_tolerance(scenario in scenarios()) {
        check(&windowed("TUMBLINGWINDOW(ss, 10)"), event_time(0), &scenario)?;
    }

    #[test]
    fn tumbling_windows_with_tolerance(scenario in scenarios(), tolerance in tolerances()) {
        check(&windowed("TUMBLINGWINDOW(ss, 10)"), event_time(tolerance), &scenario)?;
    }

    #[test]
    fn hopping_windows_without_tolerance(scenario in scenarios(), hop in hops()) {
        let sql = windowed(&format!("HOPPINGWINDOW(ss, 10, {hop})"));
        check(&sql, event_time(0), &scenario)?;
    }

    #[test]
    fn hopping_windows_with_tolerance(
        scenario in scenarios(),
        tolerance in tolerances(),
        hop in hops(),
    ) {
        let sql = windowed(&format!("HOPPINGWINDOW(ss, 10, {hop})"));
        check(&sql, event_time(tolerance), &scenario)?;
    }

    #[test]
    fn sliding_windows_without_tolerance(scenario in scenarios()) {
        check(&windowed("SLIDINGWINDOW(ss, 5)"), event_time(0), &scenario)?;
    }

    #[test]
    fn sliding_windows_with_tolerance(scenario in scenarios(), tolerance in tolerances()) {
        check(&windowed("SLIDINGWINDOW(ss, 5)"), event_time(tolerance), &scenario)?;
    }

    #[test]
    fn session_windows_without_tolerance(scenario in scenarios()) {
        check(&windowed("SESSIONWINDOW(ss, 20, 3)"), event_time(0), &scenario)?;
    }

    #[test]
    fn session_windows_with_tolerance(scenario in scenarios(), tolerance in tolerances()) {
        check(&windowed("SESSIONWINDOW(ss, 20, 3)"), event_time(tolerance), &scenario)?;
    }

    // Count and state windows take rows in arrival order, but in event time late rows are
    // dropped before them: they run in event time, with and without a tolerance.
    #[test]
    fn count_windows_emitting_every_size_rows(
        scenario in scenarios(),
        tolerance in any_tolerance(),
    ) {
        check(&windowed("COUNTWINDOW(3)"), event_time(tolerance), &scenario)?;
    }

    #[test]
    fn count_windows_emitting_at_another_pace(
        scenario in scenarios(),
        tolerance in any_tolerance(),
        window in prop_oneof![Just("COUNTWINDOW(4, 2)"), Just("COUNTWINDOW(2, 3)")],
    ) {
        check(&windowed(window), event_time(tolerance), &scenario)?;
    }

    #[test]
    fn state_windows(scenario in scenarios(), tolerance in any_tolerance()) {
        let sql = windowed("STATEWINDOW(value > 0, value < 0)");
        check(&sql, event_time(tolerance), &scenario)?;
    }

    #[test]
    fn windows_with_having(scenario in scenarios(), tolerance in any_tolerance()) {
        let sql = "SELECT device, count(*) AS n, sum(value) AS total, window_end() FROM s \
                   GROUP BY device, TUMBLINGWINDOW(ss, 5) HAVING count(value) >= 2";
        check(sql, event_time(tolerance), &scenario)?;
    }

    #[test]
    fn lag(scenario in scenarios()) {
        let sql = "SELECT device, value, lag(value) AS previous, \
                   lag(value, 2, -100) OVER (PARTITION BY device) AS before, \
                   lag(value, 1, 0, true) OVER (PARTITION BY device) AS known FROM s";
        check(sql, PlanOptions::default(), &scenario)?;
    }

    #[test]
    fn latest(scenario in scenarios()) {
        let sql = "SELECT device, value, latest(value) AS last, \
                   latest(value, -100) OVER (PARTITION BY device) AS device_last FROM s";
        check(sql, PlanOptions::default(), &scenario)?;
    }

    #[test]
    fn changed_col(scenario in scenarios()) {
        let sql = "SELECT device, value, changed_col(false, value) AS changed, \
                   changed_col(true, value) OVER (PARTITION BY device) AS device_changed FROM s";
        check(sql, PlanOptions::default(), &scenario)?;
    }

    #[test]
    fn had_changed(
        scenario in scenarios(),
        sql in prop_oneof![
            Just("SELECT device, value, had_changed(false, value) AS changed, \
                  had_changed(true, value, device) OVER (PARTITION BY device) AS device_changed \
                  FROM s"),
            Just("SELECT device, ts, value FROM s \
                  WHERE had_changed(true, value) OVER (PARTITION BY device)"),
        ],
    ) {
        check(sql, PlanOptions::default(), &scenario)?;
    }
}

/// d1@1000=1, d1@2000=2, d2@3000=4, d1@11000=8, then d1@5000=16: with no tolerance the
/// watermark stands at 11000 when the last row arrives, so it is late.
fn late_arrival() -> Vec<Event> {
    [
        ("d1", 1000, 1),
        ("d1", 2000, 2),
        ("d2", 3000, 4),
        ("d1", 11000, 8),
        ("d1", 5000, 16),
    ]
    .into_iter()
    .map(|(device, ts, value)| Event {
        device,
        ts: Some(ts),
        value: Some(value),
    })
    .collect()
}

/// The late row of [`late_arrival`] is dropped, and `window` emits `expected`, whether the
/// rows come one per batch or all in one.
fn assert_late_row_dropped(window: &str, expected: &[&str]) {
    let plan = plan(&windowed(window), event_time(0));
    let scenario = Scenario {
        batches: vec![late_arrival()],
    };
    let expected = Outcome {
        rows: expected.iter().map(|row| (*row).to_owned()).collect(),
        late_rows: 1,
    };
    assert_eq!(
        run(&plan, &scenario.one_per_batch()),
        expected,
        "one row per batch"
    );
    assert_eq!(
        run(&plan, &scenario.batches),
        expected,
        "all rows in one batch"
    );
}

#[test]
fn a_late_row_in_a_tumbling_window_is_dropped_however_batched() {
    assert_late_row_dropped(
        "TUMBLINGWINDOW(ss, 10)",
        &[
            r#"{"device":"d1","n":2,"known":2,"total":3,"window_start":0,"window_end":10000}"#,
            r#"{"device":"d2","n":1,"known":1,"total":4,"window_start":0,"window_end":10000}"#,
            r#"{"device":"d1","n":1,"known":1,"total":8,"window_start":10000,"window_end":20000}"#,
        ],
    );
}

#[test]
fn a_late_row_in_a_hopping_window_is_dropped_however_batched() {
    assert_late_row_dropped(
        "HOPPINGWINDOW(ss, 10, 5)",
        &[
            r#"{"device":"d1","n":2,"known":2,"total":3,"window_start":-5000,"window_end":5000}"#,
            r#"{"device":"d2","n":1,"known":1,"total":4,"window_start":-5000,"window_end":5000}"#,
            r#"{"device":"d1","n":2,"known":2,"total":3,"window_start":0,"window_end":10000}"#,
            r#"{"device":"d2","n":1,"known":1,"total":4,"window_start":0,"window_end":10000}"#,
            r#"{"device":"d1","n":1,"known":1,"total":8,"window_start":5000,"window_end":15000}"#,
            r#"{"device":"d1","n":1,"known":1,"total":8,"window_start":10000,"window_end":20000}"#,
        ],
    );
}

#[test]
fn a_late_row_in_a_sliding_window_is_dropped_however_batched() {
    assert_late_row_dropped(
        "SLIDINGWINDOW(ss, 10)",
        &[
            r#"{"device":"d1","n":1,"known":1,"total":1,"window_start":-9000,"window_end":1000}"#,
            r#"{"device":"d1","n":2,"known":2,"total":3,"window_start":-8000,"window_end":2000}"#,
            r#"{"device":"d1","n":2,"known":2,"total":3,"window_start":-7000,"window_end":3000}"#,
            r#"{"device":"d2","n":1,"known":1,"total":4,"window_start":-7000,"window_end":3000}"#,
            r#"{"device":"d1","n":2,"known":2,"total":10,"window_start":1000,"window_end":11000}"#,
            r#"{"device":"d2","n":1,"known":1,"total":4,"window_start":1000,"window_end":11000}"#,
        ],
    );
}

#[test]
fn a_late_row_in_a_session_window_is_dropped_however_batched() {
    assert_late_row_dropped(
        "SESSIONWINDOW(ss, 60, 5)",
        &[
            r#"{"device":"d1","n":2,"known":2,"total":3,"window_start":1000,"window_end":8000}"#,
            r#"{"device":"d2","n":1,"known":1,"total":4,"window_start":1000,"window_end":8000}"#,
            r#"{"device":"d1","n":1,"known":1,"total":8,"window_start":11000,"window_end":16000}"#,
        ],
    );
}
