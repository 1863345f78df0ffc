//! The SQL conformance suite: every `tests/slt/*.slt` file pushes JSON payloads through the
//! engine's `Chain` (the one the server runs: the registry's JSON decoder, the planner's plan,
//! the kernels, the registry's JSON encoder), and compares the JSON messages that come out.
//!
//! Besides SQL queries, the files use three statements of their own:
//! - `CREATE STREAM s (a int64, meta struct<site string>, tags list<float64>)` declares a
//!   stream with the column types of stream schemas; `... EVENTTIME ts [LATE <ms>]` after the
//!   columns makes windows follow the event-time column `ts` (epoch milliseconds), with that
//!   late tolerance;
//! - `INSERT INTO s [AT <ms>]` followed by one JSON payload per line queues one micro-batch,
//!   processed when the clock reads `<ms>` (0 by default): the processing time of windows,
//!   and the messages' receive time (`meta(received_at)`); a line `@<topic> <payload>` is a
//!   message that arrived on `<topic>` (`meta(topic)`);
//! - `EXPLAIN SELECT ...` returns the plan's text, one row per line.
//!
//! A query runs over every micro-batch queued for its stream, in order, then ends the stream
//! (closing the windows time would close), and returns one row per output message, followed
//! by a `!`-row for each payload or row that was skipped (with the number of its micro-batch,
//! from 0, and its place in it) and for late rows.
//!
//! Run one file with `cargo test --test sqllogictests -- <part of its name>`; add `--complete`
//! to rewrite the expected results of the files run with what the engine returns now (then
//! review the diff: it becomes the specification).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sqllogictest::{DBOutput, DefaultColumnType};
use veloflux_connectors::codec::Message;
use veloflux_connectors::codec::schema::{ColumnSpec, ColumnType, arrow_schema};
use veloflux_planner::{Catalog, EventTimeColumn, PipelinePlan, PlanOptions};

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SltError(String);

fn fail<T>(message: impl std::fmt::Display) -> Result<T, SltError> {
    Err(SltError(message.to_string()))
}

/// One queued micro-batch: its processing time and messages.
type Batch = (i64, Vec<SltMessage>);

/// A message of an `INSERT`: its payload, the topic it came on, and when.
#[derive(Clone)]
struct SltMessage {
    payload: String,
    topic: Option<String>,
    received_at_ms: i64,
}

impl SltMessage {
    /// `line` is a payload, or `@<topic> <payload>`.
    fn parse(line: &str, received_at_ms: i64) -> Self {
        let (topic, payload) = match line.strip_prefix('@').and_then(|rest| rest.split_once(' ')) {
            Some((topic, payload)) => (Some(topic.to_owned()), payload),
            None => (None, line),
        };
        Self {
            payload: payload.to_owned(),
            topic,
            received_at_ms,
        }
    }
}

impl Message for SltMessage {
    fn payload(&self) -> &[u8] {
        self.payload.as_bytes()
    }

    fn topic(&self) -> Option<&str> {
        self.topic.as_deref()
    }

    fn received_at_ms(&self) -> Option<i64> {
        Some(self.received_at_ms)
    }
}

#[derive(Default)]
struct Engine {
    catalog: Catalog,
    batches: HashMap<String, Vec<Batch>>,
    /// Streams in event time, with their late tolerance.
    event_time: HashMap<String, i64>,
}

impl sqllogictest::DB for Engine {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let sql = sql.trim();
        let keyword = |prefix: &str| {
            sql.get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        };
        if keyword("CREATE STREAM") {
            self.create_stream(&sql["CREATE STREAM".len()..])
        } else if keyword("INSERT INTO") {
            self.insert(&sql["INSERT INTO".len()..])
        } else if keyword("EXPLAIN ") {
            let plan = self.plan(&sql["EXPLAIN ".len()..])?;
            Ok(rows(plan.explain().lines().map(str::to_owned).collect()))
        } else {
            self.query(sql)
        }
    }

    fn engine_name(&self) -> &str {
        "veloflux"
    }
}

impl Engine {
    fn create_stream(&mut self, definition: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let (name, rest) = definition
            .split_once('(')
            .ok_or(SltError("expected '('".into()))?;
        let (columns, event_time) = rest
            .rsplit_once(')')
            .ok_or(SltError("expected ')'".into()))?;
        let columns = split_top_level(columns)
            .into_iter()
            .map(parse_column)
            .collect::<Result<Vec<_>, _>>()?;
        let schema = arrow_schema(&columns).or_else(fail)?;
        let name = name.trim().to_owned();
        self.batches.insert(name.clone(), Vec::new());
        self.catalog.insert(name.clone(), schema);
        let words: Vec<&str> = event_time.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            ["EVENTTIME", column, rest @ ..] => {
                let late = match rest {
                    [] => 0,
                    ["LATE", ms] => ms.parse().or_else(fail)?,
                    _ => return fail("expected EVENTTIME <column> [LATE <ms>]"),
                };
                let column = EventTimeColumn {
                    column: (*column).to_owned(),
                    unit_ms: 1,
                };
                self.catalog.set_event_time(name.clone(), column);
                self.event_time.insert(name, late);
            }
            _ => return fail("expected EVENTTIME <column> [LATE <ms>] after the columns"),
        }
        Ok(DBOutput::StatementComplete(0))
    }

    fn insert(&mut self, text: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let (head, payloads) = text.split_once('\n').unwrap_or((text, ""));
        let (name, now_ms) = match head.split_once(" AT ") {
            Some((name, now_ms)) => (name, now_ms.trim().parse().or_else(fail)?),
            None => (head, 0),
        };
        let Some(batches) = self.batches.get_mut(name.trim()) else {
            return fail(format!("no stream '{}'", name.trim()));
        };
        let payloads: Vec<SltMessage> = payloads
            .lines()
            .map(|line| SltMessage::parse(line, now_ms))
            .collect();
        let count = payloads.len() as u64;
        batches.push((now_ms, payloads));
        Ok(DBOutput::StatementComplete(count))
    }

    /// Plans `sql`, in event time when its stream declares it.
    fn plan(&self, sql: &str) -> Result<PipelinePlan, SltError> {
        let plan = veloflux_planner::plan(sql, &self.catalog).or_else(fail)?;
        let Some(late) = self.event_time.get(&plan.source.stream) else {
            return Ok(plan);
        };
        let options = PlanOptions {
            event_time: true,
            late_tolerance_ms: *late,
        };
        veloflux_planner::plan_with(sql, &self.catalog, &options).or_else(fail)
    }

    fn query(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let plan = self.plan(sql)?;
        let batches = self
            .batches
            .get(&plan.source.stream)
            .cloned()
            .unwrap_or_default();
        let mut chain = veloflux_testkit::json_chain(plan).or_else(fail)?;
        let mut lines = Vec::new();
        let mut skipped = Vec::new();
        let mut late_rows = 0;
        for (batch, (now_ms, payloads)) in batches.iter().enumerate() {
            let output = chain
                .process_at(payloads, *now_ms, |_, message| {
                    lines.push(String::from_utf8_lossy(message).into_owned())
                })
                .or_else(fail)?;
            late_rows += output.late_rows;
            for error in output.decode_errors {
                skipped.push(format!(
                    "!batch {batch} payload {}: {}",
                    error.index, error.error
                ));
            }
            for error in output.row_errors {
                skipped.push(format!(
                    "!batch {batch} row {}: {}",
                    error.row, error.message
                ));
            }
        }
        chain
            .finish(|_, message| lines.push(String::from_utf8_lossy(message).into_owned()))
            .or_else(fail)?;
        if late_rows > 0 {
            skipped.push(format!("!{late_rows} late rows dropped"));
        }
        lines.extend(skipped);
        Ok(rows(lines))
    }
}

fn rows(lines: Vec<String>) -> DBOutput<DefaultColumnType> {
    DBOutput::Rows {
        types: vec![DefaultColumnType::Text],
        rows: lines.into_iter().map(|line| vec![line]).collect(),
    }
}

/// Splits `a int64, b struct<x int8, y string>` at the commas outside angle brackets.
fn split_top_level(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (index, ch) in text.char_indices() {
        match ch {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(text[start..index].trim());
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts.into_iter().filter(|part| !part.is_empty()).collect()
}

/// Parses `name type`, where type is a column type name, `struct<...>` or `list<type>`.
fn parse_column(text: &str) -> Result<ColumnSpec, SltError> {
    let (name, data_type) = text
        .split_once(' ')
        .ok_or(SltError(format!("expected 'name type' in '{text}'")))?;
    parse_type(name.trim_matches('"'), data_type.trim())
}

fn parse_type(name: &str, text: &str) -> Result<ColumnSpec, SltError> {
    if let Some(inner) = text
        .strip_prefix("struct<")
        .and_then(|rest| rest.strip_suffix('>'))
    {
        let fields = split_top_level(inner)
            .into_iter()
            .map(parse_column)
            .collect::<Result<_, _>>()?;
        return Ok(ColumnSpec {
            fields: Some(fields),
            ..ColumnSpec::new(name, ColumnType::Struct)
        });
    }
    if let Some(inner) = text
        .strip_prefix("list<")
        .and_then(|rest| rest.strip_suffix('>'))
    {
        let element = Box::new(parse_type("item", inner)?);
        return Ok(ColumnSpec {
            element: Some(element),
            ..ColumnSpec::new(name, ColumnType::List)
        });
    }
    let data_type =
        serde_json::from_value(serde_json::Value::String(text.to_owned())).or_else(fail)?;
    Ok(ColumnSpec::new(name, data_type))
}

fn main() -> std::io::Result<()> {
    let filter = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    let complete = std::env::args().any(|arg| arg == "--complete");
    let directory = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&directory)? {
        files.push(entry?.path());
    }
    files.retain(|path| {
        path.extension().is_some_and(|ext| ext == "slt")
            && filter
                .as_ref()
                .is_none_or(|f| path.to_string_lossy().contains(f.as_str()))
    });
    files.sort();
    let mut failed = 0;
    for file in &files {
        let mut runner = sqllogictest::Runner::new(|| async { Ok(Engine::default()) });
        if complete {
            complete_file(&mut runner, file);
        }
        match runner.run_file(file) {
            Ok(()) => println!("ok     {}", file.display()),
            Err(error) => {
                failed += 1;
                println!("FAILED {}\n{}", file.display(), error.display(true));
            }
        }
    }
    println!(
        "sqllogictests: {} passed, {failed} failed",
        files.len() - failed
    );
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}

fn complete_file<M>(runner: &mut sqllogictest::Runner<Engine, M>, file: &Path)
where
    M: sqllogictest::MakeConnection<Conn = Engine>,
{
    let update = runner.update_test_file(
        file,
        " ",
        sqllogictest::default_validator,
        sqllogictest::default_normalizer,
        sqllogictest::default_column_validator,
    );
    if let Err(error) = futures::executor::block_on(update) {
        println!("could not complete {}: {error}", file.display());
    }
}
