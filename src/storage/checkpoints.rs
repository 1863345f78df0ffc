//! Pipeline checkpoints: each running pipeline's state, one record per pipeline, replaced by
//! each new checkpoint in one committed transaction, so a reader finds the last whole one.
//!
//! A record is the statement it was taken for (UTF-8 behind its length, a u32), the time it
//! was written (epoch milliseconds, an i64), then the state's bytes; integers little-endian.

use redb::{ReadableDatabase, TableDefinition};

use super::{Storage, StorageError};

pub(super) const CHECKPOINTS: TableDefinition<&str, &[u8]> = TableDefinition::new("checkpoints");

/// A pipeline's last checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// What the state belongs to: the statement and the options that shape its plan.
    pub statement: String,
    /// When it was written, in epoch milliseconds.
    pub written_at_ms: i64,
    /// The state, as the engine wrote it.
    pub state: Vec<u8>,
}

impl StoredCheckpoint {
    fn encode(&self) -> Vec<u8> {
        let statement = self.statement.as_bytes();
        let length = u32::try_from(statement.len()).unwrap_or(u32::MAX);
        let mut bytes = Vec::with_capacity(12 + statement.len() + self.state.len());
        bytes.extend(length.to_le_bytes());
        bytes.extend(&statement[..length as usize]);
        bytes.extend(self.written_at_ms.to_le_bytes());
        bytes.extend(&self.state);
        bytes
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let (length, rest) = bytes.split_first_chunk::<4>()?;
        let length = usize::try_from(u32::from_le_bytes(*length)).ok()?;
        let (statement, rest) = rest.split_at_checked(length)?;
        let (written_at, state) = rest.split_first_chunk::<8>()?;
        Some(Self {
            statement: String::from_utf8(statement.to_vec()).ok()?,
            written_at_ms: i64::from_le_bytes(*written_at),
            state: state.to_vec(),
        })
    }
}

impl Storage {
    /// Pipeline `id`'s last checkpoint, if it has one.
    ///
    /// # Errors
    /// When the file cannot be read or the record is damaged.
    pub fn checkpoint(&self, id: &str) -> Result<Option<StoredCheckpoint>, StorageError> {
        let txn = self.db.begin_read().map_err(|error| self.failed(error))?;
        let table = txn
            .open_table(CHECKPOINTS)
            .map_err(|error| self.failed(error))?;
        let Some(record) = table.get(id).map_err(|error| self.failed(error))? else {
            return Ok(None);
        };
        StoredCheckpoint::decode(record.value())
            .map(Some)
            .ok_or_else(|| self.failed(format!("the checkpoint of pipeline '{id}' is damaged")))
    }

    /// Replaces pipeline `id`'s checkpoint, durably.
    ///
    /// # Errors
    /// When the write cannot be committed; the previous checkpoint then stays.
    pub fn put_checkpoint(
        &self,
        id: &str,
        checkpoint: &StoredCheckpoint,
    ) -> Result<(), StorageError> {
        let bytes = checkpoint.encode();
        self.write(|txn| {
            txn.open_table(CHECKPOINTS)?.insert(id, bytes.as_slice())?;
            Ok(())
        })
    }

    /// Removes pipeline `id`'s checkpoint, if it has one.
    ///
    /// # Errors
    /// When the write cannot be committed.
    pub fn delete_checkpoint(&self, id: &str) -> Result<(), StorageError> {
        self.write(|txn| {
            txn.open_table(CHECKPOINTS)?.remove(id)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_is_replaced_whole_read_back_and_removed_with_its_pipeline() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(dir.path()).unwrap();
        assert_eq!(storage.checkpoint("p").unwrap(), None);
        let first = StoredCheckpoint {
            statement: "SELECT count(*) FROM s GROUP BY COUNTWINDOW(2)".into(),
            written_at_ms: 1_700_000_000_000,
            state: vec![1, 2, 3],
        };
        storage.put_checkpoint("p", &first).unwrap();
        let second = StoredCheckpoint {
            state: vec![4; 1000],
            ..first.clone()
        };
        storage.put_checkpoint("p", &second).unwrap();
        drop(storage);
        let storage = Storage::open(dir.path()).unwrap();
        assert_eq!(storage.checkpoint("p").unwrap(), Some(second));
        storage.delete_pipeline("p").unwrap();
        assert_eq!(storage.checkpoint("p").unwrap(), None);
    }
}
