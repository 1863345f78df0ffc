//! Opening a file to append lines to. A process that died mid-write may have left a torn last
//! line; it is cut off on open, so every line of the file is whole and the next one starts
//! on a line of its own.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::time::SystemTime;

/// How much of the file's end is read at a time while looking for its last newline.
const SCAN_BLOCK: u64 = 64 * 1024;

/// A file open for appending whole lines.
#[derive(Debug)]
pub(super) struct AppendFile {
    /// The open file; every write goes to its end.
    pub(super) file: File,
    /// Its length in bytes.
    pub(super) size: u64,
    /// When it was created (when it was opened if the file system does not say).
    pub(super) created: SystemTime,
}

impl AppendFile {
    /// Opens `path` for appending, creating it and its parent directories if missing, and
    /// cuts off a torn last line. `sync_new` also forces a new file's directory entry to the
    /// disk.
    ///
    /// # Errors
    /// When the directories or the file cannot be created, read or truncated.
    pub(super) fn open(path: &Path, sync_new: bool) -> io::Result<Self> {
        let parent = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty());
        if let Some(parent) = parent {
            std::fs::create_dir_all(parent)?;
        }
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        if sync_new && !existed {
            sync_directory(parent.unwrap_or(Path::new(".")))?;
        }
        let size = cut_torn_line(&mut file, path)?;
        let created = file
            .metadata()?
            .created()
            .unwrap_or_else(|_| SystemTime::now());
        Ok(Self {
            file,
            size,
            created,
        })
    }
}

/// Forces the entries of `directory` (a file created or renamed in it) to the disk.
///
/// # Errors
/// When the directory cannot be opened or synced.
pub(super) fn sync_directory(directory: &Path) -> io::Result<()> {
    File::open(directory)?.sync_all()
}

/// Truncates `file` after its last newline, warning with the bytes dropped; returns the
/// length it keeps.
fn cut_torn_line(file: &mut File, path: &Path) -> io::Result<u64> {
    let length = file.metadata()?.len();
    let keep = end_of_last_line(file, length)?;
    if keep < length {
        file.set_len(keep)?;
        tracing::warn!(
            path = %path.display(),
            dropped_bytes = length - keep,
            "file sink cut off a torn last line left by an interrupted write"
        );
    }
    Ok(keep)
}

/// The length of the first `length` bytes of `file` up to and including their last newline.
fn end_of_last_line(file: &mut File, length: u64) -> io::Result<u64> {
    let mut block = Vec::new();
    let mut end = length;
    while end > 0 {
        let start = end.saturating_sub(SCAN_BLOCK);
        block.resize(usize::try_from(end - start).unwrap_or(0), 0);
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut block)?;
        if let Some(newline) = memchr::memrchr(b'\n', &block) {
            return Ok(start + newline as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}
