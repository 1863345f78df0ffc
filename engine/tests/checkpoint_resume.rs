//! A pipeline stopped at any point and resumed from its checkpoint gives the output it would
//! have given running on: for every window kind, for aggregates whose state is more than a
//! number (averages, distinct counts, lists), and for the stateful functions. The state goes
//! through its byte form, as the server stores it.

#![expect(clippy::unwrap_used, reason = "a test: a failure is a failed test")]

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::util::pretty::pretty_format_batches;
use veloflux_engine::PlanExecutor;
use veloflux_planner::{Catalog, EventTimeColumn, PlanOptions, plan_with};

/// The clock of every batch: constant, so only event time and counts move windows.
const NOW_MS: i64 = 1_000_000;
const ROWS: usize = 120;
const BATCH: usize = 4;

const STATEMENTS: [(&str, bool); 8] = [
    (
        "SELECT device, count(*) AS n, sum(v) AS total FROM s \
         GROUP BY device, TUMBLINGWINDOW(ss, 10)",
        true,
    ),
    (
        "SELECT device, avg(v) AS mean, count(DISTINCT v) AS kinds, array_agg(v) AS seen FROM s \
         GROUP BY device, HOPPINGWINDOW(ss, 10, 5)",
        true,
    ),
    (
        "SELECT device, count(*) AS n, max(v) AS top FROM s GROUP BY device, SLIDINGWINDOW(ss, 5)",
        true,
    ),
    (
        "SELECT count(*) AS n, min(v) AS low FROM s GROUP BY SESSIONWINDOW(ss, 30, 4)",
        true,
    ),
    (
        "SELECT count(*) AS n, sum(v) AS total FROM s GROUP BY COUNTWINDOW(5, 3)",
        false,
    ),
    (
        "SELECT count(*) AS n, sum(v) AS total FROM s GROUP BY STATEWINDOW(v > 50, v > 90)",
        false,
    ),
    (
        "SELECT device, v, lag(v) OVER (PARTITION BY device) AS prev, latest(v) AS last, \
         changed_col(true, device) AS moved, had_changed(true, v, device) AS changed FROM s",
        false,
    ),
    (
        "SELECT device, count(*) AS n FROM s GROUP BY device, TUMBLINGWINDOW(ss, 10) \
         HAVING count(*) > 1",
        true,
    ),
];

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("device", DataType::Utf8, true),
        Field::new("v", DataType::Int64, true),
        Field::new("ts", DataType::Int64, true),
    ]))
}

fn executor(sql: &str, event_time: bool) -> PlanExecutor {
    let mut catalog = Catalog::new().with_stream("s", schema());
    catalog.set_event_time(
        "s",
        EventTimeColumn {
            column: "ts".into(),
            unit_ms: 1,
        },
    );
    let options = PlanOptions {
        event_time,
        late_tolerance_ms: 2000,
    };
    PlanExecutor::new(plan_with(sql, &catalog, &options).unwrap())
}

/// Rows of three devices, times mostly rising with jitter (some late), some values null.
fn events() -> RecordBatch {
    let mut seed: u64 = 7;
    let mut next = move |bound: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) % bound
    };
    let mut devices = Vec::new();
    let mut values = Vec::new();
    let mut times = Vec::new();
    for row in 0..ROWS {
        devices.push(format!("d{}", next(3)));
        values.push((next(10) != 0).then(|| i64::try_from(next(100)).unwrap()));
        let jitter = i64::try_from(next(6000)).unwrap() - 4000;
        times.push(i64::try_from(row).unwrap() * 700 + jitter);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(devices)),
        Arc::new(Int64Array::from(values)),
        Arc::new(Int64Array::from(times)),
    ];
    RecordBatch::try_new(schema(), columns).unwrap()
}

/// Runs `rows` through `executor` in batches, appending the output. The executor takes the
/// columns its plan reads, as the decoder would give them.
fn run(executor: &mut PlanExecutor, rows: &RecordBatch, output: &mut Vec<RecordBatch>) {
    let read = &executor.plan().source.schema;
    let columns: Vec<usize> = read
        .fields()
        .iter()
        .map(|field| rows.schema().index_of(field.name()).unwrap())
        .collect();
    let rows = rows.project(&columns).unwrap();
    for start in (0..rows.num_rows()).step_by(BATCH) {
        let length = BATCH.min(rows.num_rows() - start);
        let executed = executor
            .execute(&rows.slice(start, length), NOW_MS)
            .unwrap();
        assert!(executed.errors.is_empty(), "{:?}", executed.errors);
        output.push(executed.batch);
    }
}

fn text(batches: &[RecordBatch]) -> String {
    pretty_format_batches(batches).unwrap().to_string()
}

#[test]
fn a_pipeline_resumed_from_its_checkpoint_gives_what_running_on_would() {
    let rows = events();
    for (sql, event_time) in STATEMENTS {
        let mut whole = Vec::new();
        let mut straight = executor(sql, event_time);
        run(&mut straight, &rows, &mut whole);
        whole.extend(straight.finish().unwrap().map(|executed| executed.batch));
        for cut in [1, 9, 30, 61, 97] {
            let mut resumed_output = Vec::new();
            let mut first = executor(sql, event_time);
            run(&mut first, &rows.slice(0, cut), &mut resumed_output);
            let checkpoint = first.checkpoint().unwrap();
            // The first goes on after its checkpoint as if nothing happened...
            let mut first_output = resumed_output.clone();
            run(&mut first, &rows.slice(cut, ROWS - cut), &mut first_output);
            first_output.extend(first.finish().unwrap().map(|executed| executed.batch));
            assert_eq!(
                text(&first_output),
                text(&whole),
                "{sql}: going on after {cut}"
            );
            // ...and a new executor resumed from it gives the same.
            let mut second = executor(sql, event_time);
            second.restore(&checkpoint, NOW_MS).unwrap();
            run(
                &mut second,
                &rows.slice(cut, ROWS - cut),
                &mut resumed_output,
            );
            resumed_output.extend(second.finish().unwrap().map(|executed| executed.batch));
            assert_eq!(
                text(&resumed_output),
                text(&whole),
                "{sql}: resumed at {cut}"
            );
        }
    }
}

#[test]
fn a_checkpoint_of_another_statement_or_damaged_is_refused_by_name() {
    let rows = events();
    let mut windowed = executor(STATEMENTS[0].0, true);
    run(&mut windowed, &rows.slice(0, 10), &mut Vec::new());
    let checkpoint = windowed.checkpoint().unwrap();
    let mut stateful = executor(STATEMENTS[6].0, false);
    let refused = stateful.restore(&checkpoint, NOW_MS).unwrap_err();
    assert!(
        refused.to_string().contains("does not fit the statement"),
        "{refused}"
    );
    let mut other_window = executor(STATEMENTS[1].0, true);
    let refused = other_window.restore(&checkpoint, NOW_MS).unwrap_err();
    assert!(refused.to_string().contains("checkpoint"), "{refused}");
    let damaged = &checkpoint[..checkpoint.len() / 2];
    let refused = executor(STATEMENTS[0].0, true)
        .restore(damaged, NOW_MS)
        .unwrap_err();
    assert!(refused.to_string().contains("damaged"), "{refused}");
}
