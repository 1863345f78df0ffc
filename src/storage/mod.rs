//! Metadata storage: every stream and pipeline, and each pipeline's last checkpoint
//! (`checkpoints`), in one redb file under the data directory.
//!
//! Each mutation is committed (durably, redb's default) before it returns. Records are JSON
//! with a version number; a file that cannot be opened, or a record that cannot be read, stops
//! the server with a message naming the file. Nothing is ever wiped to make room.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::spec::{PipelineSpec, StreamSpec};

mod checkpoints;

use checkpoints::CHECKPOINTS;
pub use checkpoints::StoredCheckpoint;

/// The version of the records this build writes and reads.
const RECORD_VERSION: u32 = 1;
/// The file under the data directory.
const FILE_NAME: &str = "veloflux.redb";

const STREAMS: TableDefinition<&str, &[u8]> = TableDefinition::new("streams");
const PIPELINES: TableDefinition<&str, &[u8]> = TableDefinition::new("pipelines");

/// A storage failure: the disk's or the file's, never the request's.
#[derive(Debug, thiserror::Error)]
#[error("metadata file '{path}': {message}")]
pub struct StorageError {
    path: PathBuf,
    message: String,
}

/// A stored stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StreamRecord {
    version: u32,
    spec: StreamSpec,
}

/// A stored pipeline and whether it should be running.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineRecord {
    /// The record format's version.
    pub version: u32,
    /// The pipeline as declared.
    pub spec: PipelineSpec,
    /// Whether the pipeline should run; restored on start.
    pub running: bool,
}

impl PipelineRecord {
    /// A record of the current version.
    pub fn new(spec: PipelineSpec, running: bool) -> Self {
        Self {
            version: RECORD_VERSION,
            spec,
            running,
        }
    }
}

/// The metadata database.
pub struct Storage {
    db: Database,
    path: PathBuf,
}

impl Storage {
    /// Opens (or creates) the metadata file under `data_dir`, reading every record once to
    /// make sure all of them can be restored.
    ///
    /// # Errors
    /// When the directory or file cannot be created or opened, or a record cannot be read.
    pub fn open(data_dir: &Path) -> Result<Self, StorageError> {
        let path = data_dir.join(FILE_NAME);
        let failed = |message: String| StorageError {
            path: path.clone(),
            message,
        };
        std::fs::create_dir_all(data_dir).map_err(|error| failed(error.to_string()))?;
        let db = Database::create(&path).map_err(|error| failed(error.to_string()))?;
        let storage = Self {
            db,
            path: path.clone(),
        };
        storage.write(|txn| {
            txn.open_table(STREAMS)?;
            txn.open_table(PIPELINES)?;
            txn.open_table(CHECKPOINTS)?;
            Ok(())
        })?;
        storage.streams()?;
        storage.pipelines()?;
        Ok(storage)
    }

    /// Every stream, by name.
    ///
    /// # Errors
    /// When the file cannot be read.
    pub fn streams(&self) -> Result<Vec<StreamSpec>, StorageError> {
        let records: Vec<StreamRecord> = self.read_all(STREAMS)?;
        Ok(records.into_iter().map(|record| record.spec).collect())
    }

    /// Every pipeline, by id.
    ///
    /// # Errors
    /// When the file cannot be read.
    pub fn pipelines(&self) -> Result<Vec<PipelineRecord>, StorageError> {
        self.read_all(PIPELINES)
    }

    /// Stores a stream, replacing one of the same name.
    ///
    /// # Errors
    /// When the write cannot be committed.
    pub fn put_stream(&self, spec: &StreamSpec) -> Result<(), StorageError> {
        let record = StreamRecord {
            version: RECORD_VERSION,
            spec: spec.clone(),
        };
        let bytes = self.encode(&record)?;
        self.write(|txn| {
            txn.open_table(STREAMS)?
                .insert(spec.name.as_str(), bytes.as_slice())?;
            Ok(())
        })
    }

    /// Removes a stream.
    ///
    /// # Errors
    /// When the write cannot be committed.
    pub fn delete_stream(&self, name: &str) -> Result<(), StorageError> {
        self.write(|txn| {
            txn.open_table(STREAMS)?.remove(name)?;
            Ok(())
        })
    }

    /// Stores a pipeline, replacing one of the same id.
    ///
    /// # Errors
    /// When the write cannot be committed.
    pub fn put_pipeline(&self, record: &PipelineRecord) -> Result<(), StorageError> {
        let bytes = self.encode(record)?;
        self.write(|txn| {
            txn.open_table(PIPELINES)?
                .insert(record.spec.id.as_str(), bytes.as_slice())?;
            Ok(())
        })
    }

    /// Removes a pipeline and its checkpoint.
    ///
    /// # Errors
    /// When the write cannot be committed.
    pub fn delete_pipeline(&self, id: &str) -> Result<(), StorageError> {
        self.write(|txn| {
            txn.open_table(PIPELINES)?.remove(id)?;
            txn.open_table(CHECKPOINTS)?.remove(id)?;
            Ok(())
        })
    }

    /// Stores several streams and pipelines in one transaction: all or nothing.
    ///
    /// # Errors
    /// When the write cannot be committed; then nothing was stored.
    pub fn put_all(
        &self,
        streams: &[StreamSpec],
        pipelines: &[PipelineRecord],
    ) -> Result<(), StorageError> {
        let streams = streams
            .iter()
            .map(|spec| {
                let record = StreamRecord {
                    version: RECORD_VERSION,
                    spec: spec.clone(),
                };
                Ok((spec.name.clone(), self.encode(&record)?))
            })
            .collect::<Result<Vec<_>, StorageError>>()?;
        let pipelines = pipelines
            .iter()
            .map(|record| Ok((record.spec.id.clone(), self.encode(record)?)))
            .collect::<Result<Vec<_>, StorageError>>()?;
        self.write(|txn| {
            let mut table = txn.open_table(STREAMS)?;
            for (name, bytes) in &streams {
                table.insert(name.as_str(), bytes.as_slice())?;
            }
            drop(table);
            let mut table = txn.open_table(PIPELINES)?;
            for (id, bytes) in &pipelines {
                table.insert(id.as_str(), bytes.as_slice())?;
            }
            Ok(())
        })
    }

    fn write(
        &self,
        apply: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>,
    ) -> Result<(), StorageError> {
        let txn = self.db.begin_write().map_err(|error| self.failed(error))?;
        apply(&txn).map_err(|error| self.failed(error))?;
        txn.commit().map_err(|error| self.failed(error))
    }

    fn read_all<T: DeserializeOwned + Versioned>(
        &self,
        table: TableDefinition<&str, &[u8]>,
    ) -> Result<Vec<T>, StorageError> {
        let txn = self.db.begin_read().map_err(|error| self.failed(error))?;
        let table = txn.open_table(table).map_err(|error| self.failed(error))?;
        let mut records = Vec::new();
        for entry in table.iter().map_err(|error| self.failed(error))? {
            let (key, value) = entry.map_err(|error| self.failed(error))?;
            records.push(self.decode(key.value(), value.value())?);
        }
        Ok(records)
    }

    fn decode<T: DeserializeOwned + Versioned>(
        &self,
        key: &str,
        bytes: &[u8],
    ) -> Result<T, StorageError> {
        let record: T = serde_json::from_slice(bytes)
            .map_err(|error| self.failed(format!("record '{key}' cannot be read: {error}")))?;
        if record.version() > RECORD_VERSION {
            return Err(self.failed(format!(
                "record '{key}' has version {}, newer than this build reads ({RECORD_VERSION})",
                record.version()
            )));
        }
        Ok(record)
    }

    fn encode(&self, record: &impl Serialize) -> Result<Vec<u8>, StorageError> {
        serde_json::to_vec(record).map_err(|error| self.failed(error))
    }

    fn failed(&self, error: impl ToString) -> StorageError {
        StorageError {
            path: self.path.clone(),
            message: error.to_string(),
        }
    }
}

/// A record that says which format version wrote it.
trait Versioned {
    fn version(&self) -> u32;
}

impl Versioned for StreamRecord {
    fn version(&self) -> u32 {
        self.version
    }
}

impl Versioned for PipelineRecord {
    fn version(&self) -> u32 {
        self.version
    }
}
