//! The columns a plan reads from what the source knew of each message rather than from its
//! payload (`meta(topic)`, `meta(received_at)`, `meta(<property>)`), appended after the
//! payload's columns. A
//! plan that reads none gets the payload decoder alone and pays nothing for them.

use std::sync::Arc;

use arrow::array::TimestampMillisecondBuilder;
use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::SchemaRef;

use super::decoder::{DecodeBatch, DecodedBatch, Decoder};
use super::error::PayloadError;
use super::interned::InternedText;
use super::message::Message;
use crate::Result;
use crate::clock::wall_clock_ms;

/// A column filled from what the source knew of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataColumn {
    /// The topic, subject or path the message arrived on: dictionary-encoded text, since
    /// few distinct topics come back batch after batch (`interned`).
    Topic,
    /// When the source received the message: a millisecond timestamp.
    ReceivedAt,
    /// The message's property of this name (an MQTT 5 user property, a header):
    /// dictionary-encoded text, null when it has none.
    Property(String),
}

/// A payload decoder and the metadata columns after its own.
pub struct MessageDecoder {
    decoder: Box<dyn Decoder>,
    schema: SchemaRef,
    builders: Vec<MetadataBuilder>,
}

impl MessageDecoder {
    /// Decodes payloads with `decoder`, then appends `columns` in that order; `schema` is the
    /// decoder's schema followed by the metadata columns' fields.
    pub fn new(decoder: Box<dyn Decoder>, schema: SchemaRef, columns: &[MetadataColumn]) -> Self {
        let builders = columns.iter().cloned().map(MetadataBuilder::new);
        Self {
            decoder,
            schema,
            builders: builders.collect(),
        }
    }

    /// The schema of the batches it produces.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Decodes `messages` into one batch, skipping and reporting the bad ones.
    ///
    /// # Errors
    /// Only on a bug; bad payloads are reported in [`DecodedBatch::errors`].
    pub fn decode_batch<M: Message>(&mut self, messages: &[M]) -> Result<DecodedBatch> {
        if self.builders.is_empty() {
            return self.decoder.decode_batch(messages);
        }
        let now = wall_clock_ms();
        let mut errors = Vec::new();
        for (index, message) in messages.iter().enumerate() {
            match self.decoder.push(message.payload()) {
                Ok(rows) => self
                    .builders
                    .iter_mut()
                    .for_each(|builder| builder.append(message, now, rows)),
                Err(error) => errors.push(PayloadError { index, error }),
            }
        }
        let decoded = self.decoder.flush()?;
        let rows = decoded.num_rows();
        let mut columns = decoded.columns().to_vec();
        for builder in &mut self.builders {
            columns.push(builder.finish()?);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let batch = RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)?;
        Ok(DecodedBatch { batch, errors })
    }
}

enum MetadataBuilder {
    Topic(InternedText),
    ReceivedAt(TimestampMillisecondBuilder),
    Property(String, InternedText),
}

impl MetadataBuilder {
    fn new(column: MetadataColumn) -> Self {
        match column {
            MetadataColumn::Topic => Self::Topic(InternedText::default()),
            MetadataColumn::ReceivedAt => Self::ReceivedAt(TimestampMillisecondBuilder::new()),
            MetadataColumn::Property(name) => Self::Property(name, InternedText::default()),
        }
    }

    /// Appends the value of `message` for each of the `rows` its payload gave; a message
    /// whose source did not say when it came was received `now`.
    fn append(&mut self, message: &impl Message, now: i64, rows: usize) {
        match self {
            Self::Topic(text) => text.append(message.topic(), rows),
            Self::Property(name, text) => text.append(message.property(name), rows),
            Self::ReceivedAt(builder) => {
                let at = message.received_at_ms().unwrap_or(now);
                builder.append_value_n(at, rows);
            }
        }
    }

    fn finish(&mut self) -> Result<ArrayRef> {
        Ok(match self {
            Self::Topic(text) | Self::Property(_, text) => text.finish()?,
            Self::ReceivedAt(builder) => Arc::new(builder.finish()),
        })
    }
}
