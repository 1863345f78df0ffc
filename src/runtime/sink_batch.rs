//! Sink batching (`common_sink_props`, eKuiper's `batchSize` and `lingerInterval`): a sink
//! gathers result rows until it holds `batch_count` of them or the oldest has waited
//! `batch_duration` ms, then sends them together (one HTTP request with the array encoder,
//! one file write), at most `batch_count` rows at a time.
//!
//! The pipeline acknowledges its input once each sink has confirmed what the input produced,
//! which a sink holding rows has not even sent: so a batching sink hands out marks of its own
//! (how many times rows were given to it), settled only once the rows up to the mark were
//! sent and the connector confirmed them ([`SinkMarks`]).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::compute::concat_batches;

use crate::spec::CommonSinkProps;

/// How long a partial batch waits when only `batch_count` is given: never forever, or at
/// QoS 1 a broker waiting for acknowledgements would wait for the batch and the batch for it.
const DEFAULT_LINGER: Duration = Duration::from_secs(1);

/// When a sink sends what it gathered.
#[derive(Debug, Clone, Copy)]
pub(super) struct Batching {
    /// The most rows sent together; as soon as this many are held they go.
    rows: usize,
    /// The longest the first row held waits.
    linger: Duration,
}

impl Batching {
    /// The batching `props` ask for; `None` when they ask for none.
    pub(super) fn from_props(props: Option<&CommonSinkProps>) -> Option<Self> {
        let props = props?;
        if props.batch_count.is_none() && props.batch_duration.is_none() {
            return None;
        }
        let rows = props.batch_count.map_or(usize::MAX, |count| {
            usize::try_from(count).unwrap_or(usize::MAX)
        });
        let linger = props
            .batch_duration
            .map_or(DEFAULT_LINGER, Duration::from_millis);
        Some(Self { rows, linger })
    }
}

/// Rows gathered and not sent yet.
pub(super) struct Gathered {
    batching: Batching,
    batches: Vec<RecordBatch>,
    rows: usize,
    since: Option<Instant>,
}

impl Gathered {
    pub(super) fn new(batching: Batching) -> Self {
        Self {
            batching,
            batches: Vec::new(),
            rows: 0,
            since: None,
        }
    }

    /// Holds `batch`; true when enough rows are held to send them.
    pub(super) fn push(&mut self, batch: RecordBatch) -> bool {
        self.rows += batch.num_rows();
        self.since.get_or_insert_with(Instant::now);
        self.batches.push(batch);
        self.rows >= self.batching.rows
    }

    /// When what is held must go, if anything is held.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.since.map(|since| since + self.batching.linger)
    }

    /// Takes what is held, in batches of at most `batch_count` rows.
    ///
    /// # Errors
    /// Only on a bug: every batch held has the pipeline's output schema.
    pub(super) fn take(&mut self) -> arrow::error::Result<Vec<RecordBatch>> {
        self.since = None;
        self.rows = 0;
        let batches = std::mem::take(&mut self.batches);
        let Some(first) = batches.first() else {
            return Ok(Vec::new());
        };
        let all = concat_batches(&first.schema(), &batches)?;
        let size = self.batching.rows.max(1);
        Ok((0..all.num_rows())
            .step_by(size)
            .map(|offset| all.slice(offset, size.min(all.num_rows() - offset)))
            .collect())
    }
}

/// The marks a batching sink hands out: how many times it was given rows, and for what it
/// has sent, the connector's mark that confirms it.
#[derive(Debug, Default)]
pub(super) struct SinkMarks {
    /// Times rows were given to the sink.
    given: u64,
    /// Of those, how many have been sent.
    sent: u64,
    /// Sends not known to be confirmed: the `given` count they covered and the connector's
    /// mark after them, oldest first.
    sends: VecDeque<(u64, u64)>,
    /// What the sends forgotten as confirmed covered.
    confirmed: u64,
}

impl SinkMarks {
    /// Rows were given to the sink: the mark that covers them.
    pub(super) fn give(&mut self) -> u64 {
        self.given += 1;
        self.given
    }

    /// The mark of what was given so far.
    pub(super) fn mark(&self) -> u64 {
        self.given
    }

    /// Everything given was sent, and the connector's mark is now `connector_mark`;
    /// `confirmed` tells which earlier sends the connector has confirmed, to forget them.
    pub(super) fn sent(&mut self, connector_mark: u64, confirmed: impl Fn(u64) -> bool) {
        self.sent = self.given;
        while let Some((given, _)) = self.sends.front().filter(|(_, mark)| confirmed(*mark)) {
            self.confirmed = *given;
            self.sends.pop_front();
        }
        self.sends.push_back((self.given, connector_mark));
    }

    /// The connector's mark to wait on for `mark`: `None` while the rows are still held;
    /// `Some(0)` when they were sent and are known to be confirmed.
    pub(super) fn connector_mark(&self, mark: u64) -> Option<u64> {
        if mark > self.sent {
            return None;
        }
        if mark <= self.confirmed {
            return Some(0);
        }
        let send = self.sends.iter().find(|(given, _)| *given >= mark);
        Some(send.map_or(0, |(_, connector_mark)| *connector_mark))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn rows(values: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values.to_vec()))]).unwrap()
    }

    #[test]
    fn rows_are_held_until_the_count_and_sent_in_batches_of_at_most_the_count() {
        let props = CommonSinkProps {
            batch_count: Some(3),
            batch_duration: None,
        };
        let batching = Batching::from_props(Some(&props)).unwrap();
        assert_eq!(batching.linger, DEFAULT_LINGER);
        let mut gathered = Gathered::new(batching);
        assert!(gathered.deadline().is_none());
        assert!(!gathered.push(rows(&[1, 2])));
        assert!(gathered.deadline().is_some());
        assert!(gathered.push(rows(&[3, 4, 5, 6, 7])));
        let sizes: Vec<_> = gathered
            .take()
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .collect();
        assert_eq!(sizes, [3, 3, 1]);
        assert!(gathered.deadline().is_none() && gathered.take().unwrap().is_empty());
        assert!(Batching::from_props(Some(&CommonSinkProps::default())).is_none());
    }

    #[test]
    fn a_mark_is_settled_only_once_its_rows_were_sent_and_confirmed() {
        let mut marks = SinkMarks::default();
        let first = marks.give();
        assert_eq!(marks.connector_mark(first), None, "held, not sent");
        marks.sent(10, |_| false);
        assert_eq!(marks.connector_mark(first), Some(10));
        let second = marks.give();
        let third = marks.give();
        assert_eq!(marks.connector_mark(second), None);
        marks.sent(25, |mark| mark <= 10);
        assert_eq!(marks.connector_mark(third), Some(25));
        assert_eq!(marks.connector_mark(first), Some(0), "confirmed already");
        assert_eq!(marks.mark(), 3);
    }
}
