//! The synchronous heart of a pipeline: JSON payloads in, JSON messages out, through a
//! decoder built for the plan's columns, the plan's steps and an encoder.

use veloflux_connectors::codec::json::{JsonDecoder, JsonEncoder, JsonFormat, PayloadError};
use veloflux_planner::PipelinePlan;

use super::executor::{Executed, PlanExecutor, RowError, wall_clock_ms};
use crate::Result;

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

/// Decoder, plan and encoder for one pipeline.
pub struct JsonChain {
    decoder: JsonDecoder,
    executor: PlanExecutor,
    encoder: JsonEncoder,
}

impl JsonChain {
    /// A chain running `plan`, decoding only the columns the plan reads.
    ///
    /// # Errors
    /// When the plan reads a column type JSON cannot be decoded into.
    pub fn try_new(plan: PipelinePlan, format: JsonFormat) -> Result<Self> {
        Ok(Self {
            decoder: JsonDecoder::try_new(plan.source.schema.clone())?,
            executor: PlanExecutor::new(plan),
            encoder: JsonEncoder::new(format),
        })
    }

    /// Runs one micro-batch of payloads through the pipeline now, handing each output
    /// message to `emit` in order.
    ///
    /// # Errors
    /// Only on a bug; bad payloads and failing rows are reported in the output.
    pub fn process<P: AsRef<[u8]>>(
        &mut self,
        payloads: &[P],
        emit: impl FnMut(&[u8]),
    ) -> Result<ChainOutput> {
        self.process_at(payloads, wall_clock_ms(), emit)
    }

    /// [`Self::process`] as if the clock read `now_ms` (epoch milliseconds): the processing
    /// time of windows.
    ///
    /// # Errors
    /// Only on a bug; bad payloads and failing rows are reported in the output.
    pub fn process_at<P: AsRef<[u8]>>(
        &mut self,
        payloads: &[P],
        now_ms: i64,
        emit: impl FnMut(&[u8]),
    ) -> Result<ChainOutput> {
        let decoded = self.decoder.decode(payloads)?;
        let executed = self.executor.execute(&decoded.batch, now_ms)?;
        let mut output = self.emit(&executed, emit)?;
        output.rows_in = decoded.batch.num_rows();
        output.decode_errors = decoded.errors;
        Ok(output)
    }

    /// The stream ended: emits the windows time would close.
    ///
    /// # Errors
    /// Only on a bug.
    pub fn finish(&mut self, emit: impl FnMut(&[u8])) -> Result<ChainOutput> {
        match self.executor.finish()? {
            Some(executed) => self.emit(&executed, emit),
            None => Ok(ChainOutput::default()),
        }
    }

    fn emit(&mut self, executed: &Executed, mut emit: impl FnMut(&[u8])) -> Result<ChainOutput> {
        let messages = self.encoder.encode(&executed.batch)?;
        messages.iter().for_each(&mut emit);
        Ok(ChainOutput {
            rows_out: executed.batch.num_rows(),
            row_errors: executed.errors.clone(),
            late_rows: executed.late_rows,
            ..ChainOutput::default()
        })
    }
}
