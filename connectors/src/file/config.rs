//! The `props` of a file sink and of a file stream.

use serde::{Deserialize, Serialize};

use crate::props::Props;
use crate::template::dynamic_template;
use crate::{Error, Result};

/// Files a sink with a `{{column}}` path keeps open at once unless the props say otherwise.
const DEFAULT_MAX_OPEN_FILES: usize = 64;

/// Where and how a file sink writes, as users write it in `props`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileSinkConfig {
    /// The file to append to; `{{column}}` placeholders are filled from each row. A relative
    /// path is relative to the server's working directory.
    pub path: String,
    /// Rotate the file before it would grow past this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate_bytes: Option<u64>,
    /// Rotate the file once it is older than this many seconds (checked at each write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate_secs: Option<u64>,
    /// When written data is forced to the disk.
    #[serde(default)]
    pub fsync: FsyncPolicy,
    /// The most files kept open at once (paths with placeholders); the least recently
    /// written is closed first.
    #[serde(default = "default_max_open_files")]
    pub max_open_files: usize,
}

/// When a file sink forces what it wrote to the disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FsyncPolicy {
    /// Never: the operating system writes back when it likes; a power cut may lose what the
    /// pipeline already counted as written.
    Never,
    /// After every written batch, before it counts as written.
    #[default]
    Batch,
}

fn default_max_open_files() -> usize {
    DEFAULT_MAX_OPEN_FILES
}

impl Props for FileSinkConfig {
    fn check(&self) -> Result<()> {
        non_empty_path(&self.path)?;
        dynamic_template("path", &self.path)?;
        positive("rotate_bytes", self.rotate_bytes)?;
        positive("rotate_secs", self.rotate_secs)?;
        if self.max_open_files == 0 {
            return Err(Error::Config(
                "props.max_open_files: must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// What a file stream reads, as users write it in `props`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    /// The file to read, one message per line. A relative path is relative to the server's
    /// working directory.
    pub path: String,
    /// Read the file once, or follow it as it grows.
    #[serde(default)]
    pub mode: ReadMode,
    /// The most lines delivered per second; as fast as possible when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_sec: Option<f64>,
    /// Skip the first line of the file (a CSV header).
    #[serde(default)]
    pub skip_header: bool,
    /// The directory of the offset file; the file's own directory when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_dir: Option<String>,
}

/// How a file stream reads its file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadMode {
    /// Read the file to its end, then deliver nothing more.
    #[default]
    Once,
    /// Keep reading as the file grows, like `tail -F`: a file truncated or replaced
    /// (rotated) is read again from its start.
    Follow,
}

impl Props for FileSourceConfig {
    fn check(&self) -> Result<()> {
        non_empty_path(&self.path)?;
        if let Some(rate) = self.rate_per_sec
            && !(rate.is_finite() && rate > 0.0)
        {
            return Err(Error::Config(format!(
                "props.rate_per_sec: must be a number above 0, not {rate}"
            )));
        }
        if self.offset_dir.as_deref() == Some("") {
            return Err(Error::Config("props.offset_dir: must not be empty".into()));
        }
        Ok(())
    }
}

fn non_empty_path(path: &str) -> Result<()> {
    if path.is_empty() {
        return Err(Error::Config("props.path: must not be empty".into()));
    }
    Ok(())
}

fn positive(field: &str, value: Option<u64>) -> Result<()> {
    if value == Some(0) {
        return Err(Error::Config(format!(
            "props.{field}: must be above 0 (leave it out for no rotation)"
        )));
    }
    Ok(())
}
