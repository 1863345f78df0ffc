//! The synchronous heart of a pipeline: payloads in, messages out, through a decoder built for
//! the plan's columns, the plan's steps, and one encoder per sink. The server runs each stage
//! with its I/O in between; [`Chain::process_at`] runs them back to back.

use arrow::array::RecordBatch;
use veloflux_connectors::codec::{
    DecodedBatch, Decoder, EncodedMessages, Encoder, Message, MessageDecoder, MetadataColumn,
    PayloadError,
};
use veloflux_planner::{Metadata, PipelinePlan, PlanStep};

use crate::Result;
use crate::executor::{Executed, PlanExecutor};
use crate::steps::RowError;

/// What one micro-batch produced besides its messages.
#[derive(Debug, Default)]
pub struct ChainOutput {
    /// Rows decoded from the payloads.
    pub rows_in: usize,
    /// Rows that came out of the plan.
    pub rows_out: usize,
    /// Payloads that could not be decoded.
    pub decode_errors: Vec<PayloadError>,
    /// Rows dropped because an expression failed on them.
    pub row_errors: Vec<RowError>,
    /// Rows dropped because they came behind the event-time watermark.
    pub late_rows: usize,
}

/// Decoder, plan and encoders of one pipeline.
pub struct Chain {
    decoder: MessageDecoder,
    executor: PlanExecutor,
    encoders: Vec<Box<dyn Encoder>>,
}

impl Chain {
    /// A chain running `plan`. `decoder` must produce the columns the plan decodes from
    /// payloads ([`SourceScan::decoded_schema`]); the metadata columns the plan reads are
    /// appended after them. `encoders` are the sinks', in order.
    ///
    /// [`SourceScan::decoded_schema`]: veloflux_planner::SourceScan::decoded_schema
    pub fn new(
        plan: PipelinePlan,
        decoder: Box<dyn Decoder>,
        encoders: Vec<Box<dyn Encoder>>,
    ) -> Self {
        let metadata: Vec<_> = plan.source.metadata.iter().map(column).collect();
        let decoder = MessageDecoder::new(decoder, plan.source.schema.clone(), &metadata);
        Self {
            decoder,
            executor: PlanExecutor::new(plan),
            encoders,
        }
    }

    /// The plan being run.
    pub fn plan(&self) -> &PipelinePlan {
        self.executor.plan()
    }

    /// The decoder, for a caller that decodes messages of its own kind (the server's, which
    /// skips oversized payloads first).
    pub fn decoder(&mut self) -> &mut MessageDecoder {
        &mut self.decoder
    }

    /// Decodes a micro-batch of messages into one batch of the plan's source schema,
    /// skipping and reporting the bad ones.
    ///
    /// # Errors
    /// Only on a bug; bad payloads are reported in [`DecodedBatch::errors`].
    pub fn decode<M: Message>(&mut self, messages: &[M]) -> Result<DecodedBatch> {
        Ok(self.decoder.decode_batch(messages)?)
    }

    /// Runs `batch` (of the plan's source schema) through the plan at `now_ms`, showing
    /// `observe` the output of the filter before any window and of the final projection.
    ///
    /// # Errors
    /// Only on a bug in planning: data errors are reported per row.
    pub fn execute(
        &mut self,
        batch: &RecordBatch,
        now_ms: i64,
        observe: &mut dyn FnMut(&PlanStep, &RecordBatch),
    ) -> Result<Executed> {
        self.executor.execute_observed(batch, now_ms, observe)
    }

    /// Closes the windows that time has ended by `now_ms` and runs their rows through the
    /// rest of the plan.
    ///
    /// # Errors
    /// Only on a bug.
    pub fn advance(
        &mut self,
        now_ms: i64,
        observe: &mut dyn FnMut(&PlanStep, &RecordBatch),
    ) -> Result<Option<Executed>> {
        self.executor.advance(now_ms, observe)
    }

    /// When [`Self::advance`] should next be called (epoch milliseconds), if a window is open
    /// that time will close.
    pub fn next_deadline(&self) -> Option<i64> {
        self.executor.next_deadline()
    }

    /// Bytes held by open windows, approximately.
    pub fn window_state_bytes(&self) -> usize {
        self.executor.window_state_bytes()
    }

    /// Whether the plan keeps state between batches, which a checkpoint would hold.
    pub fn has_state(&self) -> bool {
        self.executor.has_state()
    }

    /// The plan's state as the bytes of a checkpoint; processing goes on as it was.
    ///
    /// # Errors
    /// Only on a bug.
    pub fn checkpoint(&mut self) -> Result<Vec<u8>> {
        self.executor.checkpoint()
    }

    /// Replaces the plan's state by a checkpoint's, restored at `now_ms`.
    ///
    /// # Errors
    /// [`crate::Error::Checkpoint`] when the checkpoint is damaged or another statement's.
    pub fn restore(&mut self, checkpoint: &[u8], now_ms: i64) -> Result<()> {
        self.executor.restore(checkpoint, now_ms)
    }

    /// The number of encoders, one per sink.
    pub fn sink_count(&self) -> usize {
        self.encoders.len()
    }

    /// Encodes result rows with sink `sink`'s encoder; `None` when there is no such sink.
    ///
    /// # Errors
    /// Only on a bug: every Arrow value has a written form.
    pub fn encode(
        &mut self,
        sink: usize,
        batch: &RecordBatch,
    ) -> Option<Result<EncodedMessages<'_>>> {
        let encoder = self.encoders.get_mut(sink)?;
        Some(encoder.encode(batch).map_err(Into::into))
    }

    /// Runs one micro-batch of payloads through every stage as if the clock read `now_ms`
    /// (epoch milliseconds: the processing time of windows), handing each message to `emit`
    /// with the index of the sink it is for, in order.
    ///
    /// # Errors
    /// Only on a bug; bad payloads and failing rows are reported in the output.
    pub fn process_at<M: Message>(
        &mut self,
        payloads: &[M],
        now_ms: i64,
        emit: impl FnMut(usize, &[u8]),
    ) -> Result<ChainOutput> {
        let decoded = self.decode(payloads)?;
        let executed = self.execute(&decoded.batch, now_ms, &mut |_, _| {})?;
        let mut output = self.emit(&executed, emit)?;
        output.rows_in = decoded.batch.num_rows();
        output.decode_errors = decoded.errors;
        Ok(output)
    }

    /// The stream ended: emits the windows time would close.
    ///
    /// # Errors
    /// Only on a bug.
    pub fn finish(&mut self, emit: impl FnMut(usize, &[u8])) -> Result<ChainOutput> {
        match self.executor.finish()? {
            Some(executed) => self.emit(&executed, emit),
            None => Ok(ChainOutput::default()),
        }
    }

    fn emit(
        &mut self,
        executed: &Executed,
        mut emit: impl FnMut(usize, &[u8]),
    ) -> Result<ChainOutput> {
        for (sink, encoder) in self.encoders.iter_mut().enumerate() {
            let messages = encoder.encode(&executed.batch)?;
            messages.iter().for_each(|message| emit(sink, message));
        }
        Ok(ChainOutput {
            rows_out: executed.batch.num_rows(),
            row_errors: executed.errors.clone(),
            late_rows: executed.late_rows,
            ..ChainOutput::default()
        })
    }
}

/// The decoder's column for the plan's metadata kind.
fn column(metadata: &Metadata) -> MetadataColumn {
    match metadata {
        Metadata::Topic => MetadataColumn::Topic,
        Metadata::ReceivedAt => MetadataColumn::ReceivedAt,
        Metadata::Property(name) => MetadataColumn::Property(name.clone()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::{DataType, Field, Schema};
    use veloflux_connectors::codec::json::{JsonDecoder, JsonEncoder, JsonFormat};
    use veloflux_planner::Catalog;

    use super::*;

    fn chain(sql: &str) -> Chain {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("score", DataType::Float64, true),
        ]));
        let catalog = Catalog::new().with_stream("s", schema);
        let plan = veloflux_planner::plan(sql, &catalog).unwrap();
        let decoder = JsonDecoder::try_new(plan.source.decoded_schema()).unwrap();
        let encoders: Vec<Box<dyn Encoder>> = vec![
            Box::new(JsonEncoder::new(JsonFormat::MessagePerRow)),
            Box::new(JsonEncoder::new(JsonFormat::ArrayPerBatch)),
        ];
        Chain::new(plan, Box::new(decoder), encoders)
    }

    #[test]
    fn each_sink_gets_the_rows_in_its_own_encoding_and_bad_payloads_are_reported() {
        let mut chain = chain("SELECT id FROM s WHERE score > 0");
        let payloads = [
            r#"{"id": 1, "score": 2.5}"#,
            r#"{"id": 2, "score": -1}"#,
            "{not json",
            r#"{"id": 3, "score": 9}"#,
        ];
        let mut messages = Vec::new();
        let output = chain
            .process_at(&payloads, 0, |sink, message| {
                messages.push((sink, String::from_utf8_lossy(message).into_owned()));
            })
            .unwrap();
        assert_eq!(
            messages,
            [
                (0, r#"{"id":1}"#.to_owned()),
                (0, r#"{"id":3}"#.to_owned()),
                (1, r#"[{"id":1},{"id":3}]"#.to_owned()),
            ]
        );
        assert_eq!((output.rows_in, output.rows_out), (3, 2));
        assert_eq!(output.decode_errors.len(), 1);
        assert_eq!(output.decode_errors[0].index, 2);
    }
}
