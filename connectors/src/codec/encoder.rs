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

    /// Whether each row is a message of its own, the `n`th message being the `n`th row's: a
    /// batch's messages can then be split by row ([`EncodedMessages::select`]) instead of
    /// encoding each part of the batch apart.
    fn message_per_row(&self) -> bool;
}

/// The messages of one encoded batch, borrowed from the encoder's buffer: all of them, or
/// those [`Self::select`] picked.
#[derive(Debug, Clone, Copy)]
pub struct EncodedMessages<'a> {
    buffer: &'a [u8],
    ends: &'a [usize],
    selected: Option<&'a [u32]>,
}

impl<'a> EncodedMessages<'a> {
    /// The number of messages.
    pub fn len(&self) -> usize {
        self.selected.map_or(self.ends.len(), <[u32]>::len)
    }

    /// True when the batch produced no message.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The total size of the messages in bytes.
    pub fn byte_len(&self) -> usize {
        match self.selected {
            None => self.buffer.len(),
            Some(_) => self.iter().map(<[u8]>::len).sum(),
        }
    }

    /// The messages at `indices` (positions among all of the batch's), in that order; a
    /// position past the last message gives an empty one.
    pub fn select<'b>(&self, indices: &'b [u32]) -> EncodedMessages<'b>
    where
        'a: 'b,
    {
        EncodedMessages {
            buffer: self.buffer,
            ends: self.ends,
            selected: Some(indices),
        }
    }

    /// The messages in row order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'a [u8]> + 'a {
        let (buffer, ends, selected) = (self.buffer, self.ends, self.selected);
        (0..self.len()).map(move |nth| {
            let index = selected.map_or(nth, |selected| selected[nth] as usize);
            let start = match index {
                0 => 0,
                _ => ends.get(index - 1).copied().unwrap_or(buffer.len()),
            };
            let end = ends.get(index).copied().unwrap_or(start);
            buffer.get(start..end).unwrap_or_default()
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
            selected: None,
        }
    }
}
