//! Acknowledging what a pipeline has handled. A micro-batch's messages are settled (so
//! acknowledged to the broker) once every sink has had what the batch produced confirmed,
//! and, when the pipeline keeps state, once a checkpoint taken after the batch is committed.
//! The pipeline does not wait for that: it goes on with the next batches while the earlier
//! ones wait here, oldest first, because MQTT wants acknowledgements in the order the
//! messages came.

use std::collections::VecDeque;
use std::time::Duration;

use veloflux_connectors::delivery::Ack;

use super::input::Acks;
use super::sink::Sink;

/// The most batches waiting for confirmation before the pipeline stops taking input.
const MAX_WAITING_BATCHES: usize = 256;

/// Batches whose messages wait for the sinks to confirm what they produced.
#[derive(Default)]
pub(super) struct Settlements {
    waiting: VecDeque<Waiting>,
    /// The number of the last checkpoint committed.
    committed: u64,
}

/// One batch's acknowledgements, per sink the mark it must confirm first, and the checkpoint
/// that must be committed first (0: none).
struct Waiting {
    marks: Vec<u64>,
    checkpoint: u64,
    acks: Acks,
}

impl Settlements {
    /// Holds `acks` until every sink has confirmed what it has sent so far and checkpoint
    /// number `checkpoint` (if any) is committed; settles at once what is already safe
    /// (always so for a stateless pipeline whose sinks need no confirmation).
    pub(super) fn push(&mut self, sinks: &[Sink], acks: Acks, checkpoint: Option<u64>) {
        if acks.is_empty() {
            return;
        }
        let marks = sinks.iter().map(Sink::mark).collect();
        let checkpoint = checkpoint.unwrap_or(0);
        self.waiting.push_back(Waiting {
            marks,
            checkpoint,
            acks,
        });
        self.settle_confirmed(sinks);
    }

    /// Checkpoint `number` is committed: settles what waited on it and is confirmed.
    pub(super) fn checkpoint_committed(&mut self, sinks: &[Sink], number: u64) {
        self.committed = self.committed.max(number);
        self.settle_confirmed(sinks);
    }

    /// Whether acknowledgements wait on a checkpoint not yet committed.
    pub(super) fn waits_on_checkpoint(&self) -> bool {
        self.waiting
            .back()
            .is_some_and(|newest| newest.checkpoint > self.committed)
    }

    /// Whether the oldest batch waits on its sinks only, so that [`Self::oldest_confirmed`]
    /// can settle it.
    pub(super) fn waits_on_sinks(&self) -> bool {
        self.waiting
            .front()
            .is_some_and(|oldest| oldest.checkpoint <= self.committed)
    }

    /// Settles the waiting batches, oldest first, that every sink has confirmed and whose
    /// checkpoint is committed.
    pub(super) fn settle_confirmed(&mut self, sinks: &[Sink]) {
        while let Some(oldest) = self.waiting.front()
            && oldest.checkpoint <= self.committed
            && is_confirmed(sinks, &oldest.marks)
        {
            if let Some(settled) = self.waiting.pop_front() {
                settled.acks.into_iter().for_each(Ack::settle);
            }
        }
        sinks.iter().for_each(Sink::count_lost);
    }

    /// Whether so many batches wait that the pipeline should take no more input for now.
    pub(super) fn is_full(&self) -> bool {
        self.waiting.len() >= MAX_WAITING_BATCHES
    }

    /// Resolves once every sink has confirmed the oldest waiting batch; never when none waits.
    pub(super) async fn oldest_confirmed(&self, sinks: &[Sink]) {
        match self.waiting.front() {
            Some(oldest) => confirmed(sinks, &oldest.marks).await,
            None => std::future::pending().await,
        }
    }

    /// At a stop: waits up to `patience` for the sinks to confirm everything, then settles
    /// what they did and what its checkpoints cover. The rest is dropped unsettled, and the
    /// broker delivers it again.
    pub(super) async fn finish(mut self, sinks: &[Sink], patience: Duration) {
        if let Some(newest) = self.waiting.back() {
            let _ = tokio::time::timeout(patience, confirmed(sinks, &newest.marks)).await;
        }
        self.settle_confirmed(sinks);
    }
}

fn is_confirmed(sinks: &[Sink], marks: &[u64]) -> bool {
    sinks
        .iter()
        .zip(marks)
        .all(|(sink, mark)| sink.is_confirmed_through(*mark))
}

async fn confirmed(sinks: &[Sink], marks: &[u64]) {
    for (sink, mark) in sinks.iter().zip(marks) {
        sink.confirmed_through(*mark).await;
    }
}
