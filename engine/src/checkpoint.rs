//! A pipeline's state as one byte string, for the server to keep: the stateful functions'
//! memory, then the window aggregation's open windows, kept rows and watermark, each part an
//! Arrow IPC stream behind its length.
//!
//! Layout: `VFCKPT` and a format version (u16), then for each of the two sections its number
//! of parts (u32), and for each part its length (u64) and bytes; integers little-endian.

use arrow::array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;

use crate::{Error, Result};

const MAGIC: &[u8; 6] = b"VFCKPT";
const VERSION: u16 = 1;

/// The parts of a pipeline's state.
#[derive(Debug, Default)]
pub(crate) struct StateParts {
    /// What the stateful functions remember.
    pub(crate) stateful: Vec<RecordBatch>,
    /// The window aggregation's state.
    pub(crate) window: Vec<RecordBatch>,
}

impl StateParts {
    /// The bytes of a checkpoint.
    pub(crate) fn encode(&self) -> Result<Vec<u8>> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend(VERSION.to_le_bytes());
        for section in [&self.stateful, &self.window] {
            bytes.extend(length_u32(section.len())?.to_le_bytes());
            for part in section {
                let encoded = ipc_stream(part)?;
                bytes.extend((encoded.len() as u64).to_le_bytes());
                bytes.extend(encoded);
            }
        }
        Ok(bytes)
    }

    /// The parts of a checkpoint written by [`Self::encode`].
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when the bytes are not a checkpoint of this format.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self> {
        let mut reader = Reader { bytes };
        if reader.take(MAGIC.len())? != MAGIC {
            return Err(damaged("it does not start as a checkpoint does"));
        }
        let version = u16::from_le_bytes(reader.array()?);
        if version != VERSION {
            return Err(damaged(&format!("format {version}, not {VERSION}")));
        }
        let stateful = reader.section()?;
        let window = reader.section()?;
        if !reader.bytes.is_empty() {
            return Err(damaged("bytes after its end"));
        }
        Ok(Self { stateful, window })
    }
}

/// Reads a checkpoint's bytes front to back.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize) -> Result<&'a [u8]> {
        if self.bytes.len() < count {
            return Err(damaged("it is cut short"));
        }
        let (taken, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut array = [0; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    fn section(&mut self) -> Result<Vec<RecordBatch>> {
        let parts = u32::from_le_bytes(self.array()?);
        (0..parts)
            .map(|_| {
                let length = usize::try_from(u64::from_le_bytes(self.array()?))
                    .map_err(|_| damaged("a part longer than memory"))?;
                read_ipc_stream(self.take(length)?)
            })
            .collect()
    }
}

fn ipc_stream(batch: &RecordBatch) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut writer = StreamWriter::try_new(&mut bytes, batch.schema_ref())
        .map_err(|error| Error::Checkpoint(error.to_string()))?;
    writer
        .write(batch)
        .and_then(|()| writer.finish())
        .map_err(|error| Error::Checkpoint(error.to_string()))?;
    drop(writer);
    Ok(bytes)
}

fn read_ipc_stream(bytes: &[u8]) -> Result<RecordBatch> {
    let mut reader =
        StreamReader::try_new(bytes, None).map_err(|error| damaged(&error.to_string()))?;
    match reader.next() {
        Some(batch) => batch.map_err(|error| damaged(&error.to_string())),
        None => Err(damaged("a part without rows")),
    }
}

fn length_u32(length: usize) -> Result<u32> {
    u32::try_from(length).map_err(|_| Error::Checkpoint(format!("{length} parts")))
}

fn damaged(why: &str) -> Error {
    Error::Checkpoint(format!("the checkpoint is damaged: {why}"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::Int64Array;

    use super::*;

    #[test]
    fn parts_come_back_as_they_went_and_damage_is_named() {
        let batch = RecordBatch::try_from_iter([(
            "a",
            Arc::new(Int64Array::from(vec![1, 2])) as arrow::array::ArrayRef,
        )])
        .unwrap();
        let parts = StateParts {
            stateful: vec![batch.clone()],
            window: vec![batch.clone(), batch.slice(1, 1)],
        };
        let bytes = parts.encode().unwrap();
        let back = StateParts::decode(&bytes).unwrap();
        assert_eq!(back.stateful, parts.stateful);
        assert_eq!(back.window, parts.window);
        let cut = StateParts::decode(&bytes[..bytes.len() - 3]).unwrap_err();
        assert!(cut.to_string().contains("damaged"), "{cut}");
        let foreign = StateParts::decode(b"{\"not\": \"a checkpoint\"}").unwrap_err();
        assert!(foreign.to_string().contains("does not start"), "{foreign}");
    }
}
