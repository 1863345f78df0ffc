//! Debug taps: the batches passing a point of a pipeline, retained on demand for inspection
//! or streamed to whoever tails them. Off by default: an idle tap costs one atomic load per
//! batch.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use serde::Serialize;
use tokio::sync::broadcast;

/// The most batches retained per point, whatever is asked.
pub const MAX_RETAINED_BATCHES: usize = 256;
/// The most bytes of batches retained per point.
const MAX_RETAINED_BYTES: usize = 64 << 20;
/// The longest retention, whatever is asked.
const MAX_TTL: Duration = Duration::from_secs(3600);
/// Batches a slow tail may fall behind by before it misses some.
const TAIL_CAPACITY: usize = 64;

/// Where in a pipeline a tap sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum TapPoint {
    /// After decoding.
    Source,
    /// After the WHERE clause.
    Filter,
    /// After the SELECT list.
    Project,
    /// What the sinks are given.
    Sink,
}

impl TapPoint {
    /// Every point, in the order batches pass them.
    pub const ALL: [Self; 4] = [Self::Source, Self::Filter, Self::Project, Self::Sink];

    /// How the API names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Filter => "filter",
            Self::Project => "project",
            Self::Sink => "sink",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A tap name that is none of [`TapPoint::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("the tap must be source, filter, project or sink, not '{0}'")]
pub struct UnknownTap(String);

impl std::str::FromStr for TapPoint {
    type Err = UnknownTap;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|point| point.name() == text)
            .ok_or_else(|| UnknownTap(text.to_owned()))
    }
}

/// How long and how much to retain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Retention {
    /// Batches kept per point (the most recent ones).
    pub max_batches: usize,
    /// How long retention stays on.
    pub ttl_secs: u64,
}

/// The taps of one pipeline.
#[derive(Debug)]
pub struct Taps {
    active: AtomicBool,
    tails: AtomicUsize,
    state: Mutex<State>,
    tail: broadcast::Sender<(TapPoint, RecordBatch)>,
}

#[derive(Debug, Default)]
struct State {
    retention: Option<(Retention, Instant)>,
    retained: [VecDeque<RecordBatch>; 4],
    schemas: [Option<SchemaRef>; 4],
}

impl Default for Taps {
    fn default() -> Self {
        Self {
            active: AtomicBool::new(false),
            tails: AtomicUsize::new(0),
            state: Mutex::default(),
            tail: broadcast::channel(TAIL_CAPACITY).0,
        }
    }
}

impl Taps {
    /// Records `batch` at `point` if anybody is looking.
    pub fn observe(&self, point: TapPoint, batch: &RecordBatch) {
        if !self.active.load(Ordering::Relaxed) {
            return;
        }
        if self.tails.load(Ordering::Relaxed) > 0 {
            let _ = self.tail.send((point, batch.clone()));
        }
        let mut state = self.lock();
        let Some((retention, expires)) = state.retention else {
            return;
        };
        if Instant::now() >= expires {
            state.retention = None;
            drop(state);
            self.refresh_active();
            return;
        }
        let retained = &mut state.retained[point.index()];
        retained.push_back(batch.clone());
        while retained.len() > retention.max_batches
            || retained
                .iter()
                .map(RecordBatch::get_array_memory_size)
                .sum::<usize>()
                > MAX_RETAINED_BYTES
        {
            retained.pop_front();
        }
    }

    /// Sets the schema of the batches at each point, when the pipeline starts.
    pub(super) fn set_schemas(&self, schemas: [SchemaRef; 4]) {
        let mut state = self.lock();
        if state
            .schemas
            .iter()
            .zip(&schemas)
            .any(|(old, new)| old.as_ref() != Some(new))
        {
            state.retained = Default::default();
        }
        state.schemas = schemas.map(Some);
    }

    /// Turns retention on for `ttl` (both capped), or off with `None`; turning it on again
    /// keeps what is retained.
    pub fn retain(&self, retention: Option<Retention>) -> Option<Retention> {
        let mut state = self.lock();
        let retention = retention.map(|asked| Retention {
            max_batches: asked.max_batches.clamp(1, MAX_RETAINED_BATCHES),
            ttl_secs: asked.ttl_secs.clamp(1, MAX_TTL.as_secs()),
        });
        state.retention = retention.map(|r| (r, Instant::now() + Duration::from_secs(r.ttl_secs)));
        if retention.is_none() {
            state.retained = Default::default();
        }
        drop(state);
        self.refresh_active();
        retention
    }

    /// The retention in force and the seconds it has left.
    pub fn retention(&self) -> Option<(Retention, u64)> {
        let state = self.lock();
        let (retention, expires) = state.retention?;
        let left = expires.checked_duration_since(Instant::now())?;
        Some((retention, left.as_secs()))
    }

    /// The schema at `point` and the last `limit` batches retained there, oldest first.
    pub fn retained(&self, point: TapPoint, limit: usize) -> (Option<SchemaRef>, Vec<RecordBatch>) {
        let state = self.lock();
        let retained = &state.retained[point.index()];
        let skip = retained.len().saturating_sub(limit);
        (
            state.schemas[point.index()].clone(),
            retained.iter().skip(skip).cloned().collect(),
        )
    }

    /// Starts a tail: the schema at `point` and the batches passing it from now on. The tap
    /// counts as looked at until the tail is dropped.
    pub fn tail(self: &Arc<Self>, point: TapPoint) -> (Option<SchemaRef>, Tail) {
        let receiver = self.tail.subscribe();
        self.tails.fetch_add(1, Ordering::Relaxed);
        self.refresh_active();
        let schema = self.lock().schemas[point.index()].clone();
        let tail = Tail {
            taps: self.clone(),
            point,
            receiver,
        };
        (schema, tail)
    }

    fn refresh_active(&self) {
        let retaining = self.lock().retention.is_some();
        let tailing = self.tails.load(Ordering::Relaxed) > 0;
        self.active.store(retaining || tailing, Ordering::Relaxed);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The batches passing one tap, as they pass; dropping it stops the tap looking.
#[derive(Debug)]
pub struct Tail {
    taps: Arc<Taps>,
    point: TapPoint,
    receiver: broadcast::Receiver<(TapPoint, RecordBatch)>,
}

impl Tail {
    /// The next batch passing the tap; `None` once the pipeline's taps are gone. A tail that
    /// falls more than a few dozen batches behind misses the oldest.
    pub async fn next(&mut self) -> Option<RecordBatch> {
        loop {
            match self.receiver.recv().await {
                Ok((point, batch)) if point == self.point => return Some(batch),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        self.taps.tails.fetch_sub(1, Ordering::Relaxed);
        self.taps.refresh_active();
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch(value: i64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![value]))]).unwrap()
    }

    fn values(batches: &[RecordBatch]) -> Vec<i64> {
        batches
            .iter()
            .map(|batch| {
                batch
                    .column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap()
                    .value(0)
            })
            .collect()
    }

    #[test]
    fn nothing_is_kept_until_asked_and_then_only_the_most_recent() {
        let taps = Taps::default();
        taps.observe(TapPoint::Filter, &batch(0));
        assert!(taps.retained(TapPoint::Filter, 10).1.is_empty());
        let asked = Retention {
            max_batches: 2,
            ttl_secs: 60,
        };
        assert_eq!(taps.retain(Some(asked)), Some(asked));
        for value in 1..=3 {
            taps.observe(TapPoint::Filter, &batch(value));
        }
        taps.observe(TapPoint::Sink, &batch(9));
        assert_eq!(values(&taps.retained(TapPoint::Filter, 10).1), [2, 3]);
        assert_eq!(values(&taps.retained(TapPoint::Filter, 1).1), [3]);
        assert_eq!(values(&taps.retained(TapPoint::Sink, 10).1), [9]);
        taps.retain(None);
        assert!(taps.retained(TapPoint::Filter, 10).1.is_empty());
        assert!(!taps.active.load(Ordering::Relaxed));
    }

    #[test]
    fn requests_are_capped() {
        let taps = Taps::default();
        let asked = Retention {
            max_batches: 1_000_000,
            ttl_secs: 1_000_000,
        };
        let granted = taps.retain(Some(asked)).unwrap();
        assert_eq!(
            (granted.max_batches, granted.ttl_secs),
            (MAX_RETAINED_BATCHES, MAX_TTL.as_secs())
        );
    }

    #[tokio::test]
    async fn a_tail_sees_batches_at_its_point_only_while_it_lasts() {
        let taps = Arc::new(Taps::default());
        let (_, mut tail) = taps.tail(TapPoint::Project);
        taps.observe(TapPoint::Filter, &batch(4));
        taps.observe(TapPoint::Project, &batch(5));
        assert_eq!(values(&[tail.next().await.unwrap()]), [5]);
        drop(tail);
        assert!(!taps.active.load(Ordering::Relaxed));
    }
}
