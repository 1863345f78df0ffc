//! What every encoder does: rows of a result batch in, messages out, written into a buffer the
//! encoder reuses.

use arrow::array::RecordBatch;

use crate::Result;

/// Turns result batches into messages, written into a buffer the encoder reuses.
pub trait Encoder: Send {
    /// Encodes the rows of `batch`; an empty batch gives no message.
    ///
    /// # Errors
    /// Only on a bug: every Arrow value has a written form.
    fn encode(&mut self, batch: &RecordBatch) -> Result<EncodedMessages<'_>>;
}

/// The messages of one encoded batch, borrowed from the encoder's buffer.
#[derive(Debug, Clone, Copy)]
pub struct EncodedMessages<'a> {
    buffer: &'a [u8],
    ends: &'a [usize],
}

impl<'a> EncodedMessages<'a> {
    /// The number of messages.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the batch produced no message.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The total size of the messages in bytes.
    pub fn byte_len(&self) -> usize {
        self.buffer.len()
    }

    /// The messages in row order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + 'a {
        let buffer = self.buffer;
        let ends = self.ends;
        (0..ends.len()).map(move |index| {
            let start = if index == 0 { 0 } else { ends[index - 1] };
            &buffer[start..ends[index]]
        })
    }
}

/// The buffer an encoder writes its messages into, one after the other.
#[derive(Debug, Default)]
pub struct MessageBuffer {
    buffer: Vec<u8>,
    ends: Vec<usize>,
}

impl MessageBuffer {
    /// Forgets the messages of the last batch, keeping the memory.
    pub fn clear(&mut self) {
        self.buffer.clear();
        self.ends.clear();
    }

    /// The bytes to append the current message to.
    pub fn bytes(&mut self) -> &mut Vec<u8> {
        &mut self.buffer
    }

    /// Ends the current message: what was appended since the last end is one message.
    pub fn end_message(&mut self) {
        self.ends.push(self.buffer.len());
    }

    /// The messages written since the last clear.
    pub fn messages(&self) -> EncodedMessages<'_> {
        EncodedMessages {
            buffer: &self.buffer,
            ends: &self.ends,
        }
    }
}
