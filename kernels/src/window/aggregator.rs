//! [`WindowAggregator`]: the time of each row, late rows and the watermark, around the
//! window assigner of the statement's kind.
//!
//! In processing time a row's time is the wall clock when its batch is processed, and a
//! window closes when the clock passes its end. In event time it is the row's event-time
//! column; the watermark is the latest event time seen minus the late tolerance, a row behind
//! the watermark as it stood when the row arrived is late (counted and dropped), and a window
//! closes when the watermark passes its end. Judged row by row, lateness does not depend on
//! where micro-batches begin and end. When no row has arrived for the late tolerance (at
//! least a second), event time is taken to move with the wall clock, so an idle stream still
//! closes its windows.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch};
use arrow::buffer::BooleanBuffer;
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, Int64Type};
use datafusion_physical_expr::PhysicalExpr;

use super::assigner::{Assigner, Context};
use super::buckets::Buckets;
use super::count::Count;
use super::inputs::{Layout, constant_times};
use super::session::Session;
use super::sliding::Sliding;
use super::spec::{Aggregation, Window, WindowTime};
use super::state_window::StateWindow;
use crate::checkpoint::{tag, tagged_batch};
use crate::{Error, Result};

/// The tag of the latest event time in a checkpoint.
const LATEST_EVENT: &str = "latest_event_ms";

/// The shortest idle time after which event time follows the wall clock.
const MIN_IDLE_MS: i64 = 1000;

/// What one batch produced.
#[derive(Debug, Default)]
pub struct Pushed {
    /// The rows of the windows that closed, one per group.
    pub batches: Vec<RecordBatch>,
    /// Rows dropped because they came behind the watermark or had no event time.
    pub late_rows: usize,
}

/// A windowed aggregation in progress.
pub struct WindowAggregator {
    aggregation: Arc<Aggregation>,
    layout: Layout,
    time: WindowTime,
    conditions: Option<[Arc<dyn PhysicalExpr>; 2]>,
    assigner: Box<dyn Assigner>,
    /// The latest event time seen, and the wall clock when it was seen.
    latest_event: Option<(i64, i64)>,
}

impl std::fmt::Debug for WindowAggregator {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("WindowAggregator")
            .field("time", &self.time)
            .field("latest_event", &self.latest_event)
            .finish_non_exhaustive()
    }
}

impl WindowAggregator {
    /// An aggregation over `window` with no window open yet.
    pub fn new(window: &Window, time: WindowTime, aggregation: Arc<Aggregation>) -> Self {
        let (assigner, conditions): (Box<dyn Assigner>, _) = match window {
            Window::Tumbling { size_ms } => (Box::new(Buckets::new(*size_ms, *size_ms)), None),
            Window::Hopping { size_ms, hop_ms } => {
                (Box::new(Buckets::new(*size_ms, *hop_ms)), None)
            }
            Window::Sliding { size_ms } => {
                (Box::new(Sliding::new(*size_ms, tolerance_ms(&time))), None)
            }
            Window::Session { max_ms, timeout_ms } => {
                (Box::new(Session::new(*max_ms, *timeout_ms)), None)
            }
            Window::Count { size, every } => (Box::new(Count::new(*size, *every)), None),
            Window::State { begin, emit } => (
                Box::new(StateWindow::new()),
                Some([begin.clone(), emit.clone()]),
            ),
        };
        Self {
            layout: Layout::new(&aggregation, conditions.is_some()),
            aggregation,
            time,
            conditions,
            assigner,
            latest_event: None,
        }
    }

    /// Adds a batch processed at `now_ms` (epoch milliseconds) and returns the windows that
    /// closed.
    ///
    /// # Errors
    /// When an expression fails on the batch's values; the batch is then not counted.
    pub fn push(&mut self, batch: &RecordBatch, now_ms: i64) -> Result<Pushed> {
        let mut pushed = Pushed::default();
        let (batch, times) = match &self.time {
            WindowTime::Processing => {
                pushed.batches = self.close_until(now_ms)?;
                (batch.clone(), constant_times(now_ms, batch.num_rows()))
            }
            WindowTime::Event {
                column, unit_ms, ..
            } => {
                let times = event_times(column, *unit_ms, batch)?;
                self.drop_late(batch, times, &mut pushed.late_rows)?
            }
        };
        if batch.num_rows() > 0 {
            let conditions = self.conditions.as_ref().map(|[begin, emit]| [begin, emit]);
            let inputs =
                self.layout
                    .evaluate(&self.aggregation, conditions, &batch, times.clone())?;
            let output = self.with_assigner(|assigner, context| assigner.push(context, inputs))?;
            pushed.batches.extend(output);
            self.saw_events(&times, now_ms);
        }
        if let Some(watermark) = self.event_watermark(now_ms) {
            pushed.batches.extend(self.close_until(watermark)?);
        }
        Ok(pushed)
    }

    /// Closes the windows that time (the clock, or an idle event stream) has ended by
    /// `now_ms`.
    ///
    /// # Errors
    /// Only on a bug: aggregates are evaluated as windows close.
    pub fn advance(&mut self, now_ms: i64) -> Result<Vec<RecordBatch>> {
        match &self.time {
            WindowTime::Processing => self.close_until(now_ms),
            WindowTime::Event { .. } => match self.event_watermark(now_ms) {
                Some(watermark) => self.close_until(watermark),
                None => Ok(Vec::new()),
            },
        }
    }

    /// The wall-clock time (epoch milliseconds) at which [`Self::advance`] would next close a
    /// window, if one is open and time can close it.
    pub fn next_deadline(&self) -> Option<i64> {
        let end = self.assigner.next_close()?;
        match &self.time {
            WindowTime::Processing => Some(end),
            WindowTime::Event {
                late_tolerance_ms, ..
            } => {
                let (latest, seen_at) = self.latest_event?;
                // The idle watermark is latest + (now - seen_at) - idle - tolerance.
                let idle = idle_ms(*late_tolerance_ms);
                Some(seen_at + (end - latest) + idle + late_tolerance_ms)
            }
        }
    }

    /// The stream ended: emits the windows that time alone would close (time and session
    /// windows) and drops the rest (unfilled count windows, state windows never emitted).
    ///
    /// # Errors
    /// Only on a bug.
    pub fn finish(&mut self) -> Result<Vec<RecordBatch>> {
        self.with_assigner(|assigner, context| assigner.close_all(context))
    }

    /// Bytes held by open windows and buffered rows, approximately.
    pub fn memory_size(&self) -> usize {
        self.assigner.memory_size()
    }

    /// The open windows, kept rows and watermark as batches, for a checkpoint; the
    /// aggregation goes on as it was.
    ///
    /// # Errors
    /// Only on a bug.
    pub fn snapshot(&mut self) -> Result<Vec<RecordBatch>> {
        let clock = match self.latest_event {
            Some((latest, _)) => vec![(LATEST_EVENT, latest)],
            None => Vec::new(),
        };
        let mut parts = vec![tagged_batch(Vec::new(), Vec::new(), &clock)?];
        let context = Context {
            aggregation: &self.aggregation,
            layout: &self.layout,
            output: &mut Vec::new(),
        };
        parts.extend(self.assigner.snapshot(&context)?);
        Ok(parts)
    }

    /// Replaces the state by what [`Self::snapshot`] saved. The watermark's idle clock starts
    /// at `now_ms`, as if the latest event had just been seen: the time the pipeline was away
    /// does not close its windows before the broker has delivered again what it held.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when `parts` do not fit this aggregation.
    pub fn restore(&mut self, parts: &[RecordBatch], now_ms: i64) -> Result<()> {
        let Some((clock, windows)) = parts.split_first() else {
            return Err(Error::Checkpoint("no window state".into()));
        };
        let saw_events = clock.schema_ref().metadata().contains_key(LATEST_EVENT);
        self.latest_event = match saw_events {
            true => Some((tag(clock, LATEST_EVENT)?, now_ms)),
            false => None,
        };
        let context = Context {
            aggregation: &self.aggregation,
            layout: &self.layout,
            output: &mut Vec::new(),
        };
        self.assigner.restore(&context, windows)
    }

    fn close_until(&mut self, watermark: i64) -> Result<Vec<RecordBatch>> {
        self.with_assigner(|assigner, context| assigner.close_until(context, watermark))
    }

    /// Runs `action` on the assigner and returns what it emitted.
    fn with_assigner(
        &mut self,
        action: impl FnOnce(&mut dyn Assigner, &mut Context<'_>) -> Result<()>,
    ) -> Result<Vec<RecordBatch>> {
        let mut output = Vec::new();
        let mut context = Context {
            aggregation: &self.aggregation,
            layout: &self.layout,
            output: &mut output,
        };
        action(self.assigner.as_mut(), &mut context)?;
        Ok(output)
    }

    /// The rows of `batch` at or after the watermark as it stood when each arrived (the
    /// latest event time before it, this batch's earlier rows included, minus the tolerance),
    /// and their times. Rows without an event time are dropped too.
    fn drop_late(
        &self,
        batch: &RecordBatch,
        times: Int64Array,
        late_rows: &mut usize,
    ) -> Result<(RecordBatch, ArrayRef)> {
        let keep = on_time(
            &times,
            self.latest_event.map(|(latest, _)| latest),
            self.tolerance(),
        );
        let kept = keep.true_count();
        *late_rows += batch.num_rows() - kept;
        if kept == batch.num_rows() {
            return Ok((batch.clone(), Arc::new(times)));
        }
        let times = arrow::compute::filter(&times, &keep)?;
        Ok((filter_record_batch(batch, &keep)?, times))
    }

    fn saw_events(&mut self, times: &ArrayRef, now_ms: i64) {
        if !matches!(self.time, WindowTime::Event { .. }) {
            return;
        }
        let newest = times
            .as_primitive::<Int64Type>()
            .values()
            .iter()
            .copied()
            .max();
        if let Some(newest) = newest {
            let latest = self
                .latest_event
                .map_or(newest, |(latest, _)| latest.max(newest));
            if self
                .latest_event
                .is_none_or(|(previous, _)| latest > previous)
            {
                self.latest_event = Some((latest, now_ms));
            }
        }
    }

    fn tolerance(&self) -> i64 {
        tolerance_ms(&self.time)
    }

    /// The event-time watermark at `now_ms`, moving with the clock once the stream is idle.
    fn event_watermark(&self, now_ms: i64) -> Option<i64> {
        let (latest, seen_at) = self.latest_event?;
        let tolerance = self.tolerance();
        let idle = (now_ms - seen_at - idle_ms(tolerance)).max(0);
        Some(latest - tolerance + idle)
    }
}

/// Which rows of `times` are on time: not behind the running maximum of the event times
/// before them (starting from `latest`) minus `tolerance_ms`. A row only raises the maximum
/// when it is on time, as a late row is never seen by the window.
fn on_time(times: &Int64Array, latest: Option<i64>, tolerance_ms: i64) -> BooleanArray {
    let mut latest = latest.unwrap_or(i64::MIN);
    let values = times.values();
    let keep = match times.nulls() {
        None => BooleanBuffer::collect_bool(values.len(), |row| {
            let time = values[row];
            latest = latest.max(time);
            time >= latest.saturating_sub(tolerance_ms)
        }),
        Some(nulls) => BooleanBuffer::collect_bool(values.len(), |row| {
            let time = values[row];
            let valid = nulls.is_valid(row);
            if valid {
                latest = latest.max(time);
            }
            valid && time >= latest.saturating_sub(tolerance_ms)
        }),
    };
    BooleanArray::new(keep, None)
}

/// How far behind the latest event time a row may come: none in processing time.
fn tolerance_ms(time: &WindowTime) -> i64 {
    match time {
        WindowTime::Event {
            late_tolerance_ms, ..
        } => *late_tolerance_ms,
        WindowTime::Processing => 0,
    }
}

fn idle_ms(tolerance_ms: i64) -> i64 {
    tolerance_ms.max(MIN_IDLE_MS)
}

/// The event time of each row in epoch milliseconds; null where it has none.
fn event_times(
    column: &Arc<dyn PhysicalExpr>,
    unit_ms: i64,
    batch: &RecordBatch,
) -> Result<Int64Array> {
    let values = column.evaluate(batch)?.into_array(batch.num_rows())?;
    let millis = match values.data_type() {
        DataType::Timestamp(_, _) => cast(
            &cast(
                &values,
                &DataType::Timestamp(arrow::datatypes::TimeUnit::Millisecond, None),
            )?,
            &DataType::Int64,
        )?,
        data_type if data_type.is_integer() => cast(&values, &DataType::Int64)?,
        other => {
            return Err(Error::Internal(format!(
                "an event-time column of type {other}"
            )));
        }
    };
    let millis = millis.as_primitive::<Int64Type>();
    if unit_ms == 1 {
        return Ok(millis.clone());
    }
    Ok(millis.unary_opt(|value: i64| value.checked_mul(unit_ms)))
}
