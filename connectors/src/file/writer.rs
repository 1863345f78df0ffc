//! The blocking half of the file sink: the files it keeps open (the least recently written
//! closed first past a limit), and how a batch of lines is written: one write per file, the
//! file rotated between writes when the next lines would not fit, then synced as the policy
//! says. A failed write is cut back off the file, so no torn line stays behind.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::FsyncPolicy;
use super::append::{AppendFile, sync_directory};
use super::rotation::{Rotation, rotated_path};

/// The lines of one batch: every message followed by `\n`, one after the other.
#[derive(Debug, Default)]
pub(super) struct LineBatch {
    /// The bytes of every line.
    pub(super) bytes: Vec<u8>,
    /// Where each line ends in `bytes`, just after its newline.
    pub(super) ends: Vec<usize>,
}

impl LineBatch {
    /// Appends one message as a line.
    pub(super) fn push(&mut self, message: &[u8]) {
        self.bytes.extend_from_slice(message);
        self.bytes.push(b'\n');
        self.ends.push(self.bytes.len());
    }
}

/// Why some lines of a batch were not written.
#[derive(Debug)]
pub(super) struct WriteFailure {
    /// How many lines, the last of the batch, were not written.
    pub(super) unwritten: usize,
    /// What failed.
    pub(super) error: io::Error,
}

/// Writes lines to files, keeping up to a number of them open.
#[derive(Debug)]
pub(super) struct FileWriter {
    open: HashMap<PathBuf, OpenFile>,
    max_open: usize,
    uses: u64,
    rotation: Rotation,
    fsync: FsyncPolicy,
}

#[derive(Debug)]
struct OpenFile {
    append: AppendFile,
    last_used: u64,
}

impl FileWriter {
    /// A writer keeping at most `max_open` files open.
    pub(super) fn new(max_open: usize, rotation: Rotation, fsync: FsyncPolicy) -> Self {
        Self {
            open: HashMap::new(),
            max_open: max_open.max(1),
            uses: 0,
            rotation,
            fsync,
        }
    }

    /// Appends `lines` to `path`, rotating it as needed; returns once they are written and
    /// synced as the policy says.
    ///
    /// # Errors
    /// The lines not written, and why; the file is closed, to be opened (and repaired) anew
    /// by the next write.
    pub(super) fn write(&mut self, path: &Path, lines: &LineBatch) -> Result<(), WriteFailure> {
        let mut written = 0;
        let result = self.write_from(path, lines, &mut written);
        result.map_err(|error| {
            self.open.remove(path);
            WriteFailure {
                unwritten: lines.ends.len() - written,
                error,
            }
        })
    }

    fn write_from(
        &mut self,
        path: &Path,
        lines: &LineBatch,
        written: &mut usize,
    ) -> io::Result<()> {
        let (rotation, fsync) = (self.rotation, self.fsync);
        let file = self.file(path)?;
        if rotation.is_too_old(file.size, file.created) {
            *file = rotate(path, fsync)?;
        }
        while *written < lines.ends.len() {
            let start = written.checked_sub(1).map_or(0, |last| lines.ends[last]);
            let fitting = rotation.lines_fitting(file.size, start, &lines.ends[*written..]);
            if fitting == 0 {
                *file = rotate(path, fsync)?;
                continue;
            }
            let end = lines.ends[*written + fitting - 1];
            append(file, &lines.bytes[start..end], fsync)?;
            *written += fitting;
        }
        Ok(())
    }

    /// The open file at `path`, opened (and the least recently used closed) if need be.
    fn file(&mut self, path: &Path) -> io::Result<&mut AppendFile> {
        self.uses += 1;
        if !self.open.contains_key(path) {
            self.close_least_recently_used();
            let append = AppendFile::open(path, self.fsync == FsyncPolicy::Batch)?;
            let file = OpenFile {
                append,
                last_used: 0,
            };
            self.open.insert(path.to_path_buf(), file);
        }
        let file = self
            .open
            .get_mut(path)
            .ok_or_else(|| io::Error::other("closed"))?;
        file.last_used = self.uses;
        Ok(&mut file.append)
    }

    fn close_least_recently_used(&mut self) {
        if self.open.len() < self.max_open {
            return;
        }
        let oldest = self
            .open
            .iter()
            .min_by_key(|(_, file)| file.last_used)
            .map(|(path, _)| path.clone());
        if let Some(oldest) = oldest {
            self.open.remove(&oldest);
        }
    }
}

/// Writes `bytes` at the end of `file` in one call and syncs it as `fsync` says; on failure
/// cuts the file back to where it ended.
fn append(file: &mut AppendFile, bytes: &[u8], fsync: FsyncPolicy) -> io::Result<()> {
    let written = file.file.write_all(bytes).and_then(|()| match fsync {
        FsyncPolicy::Batch => file.file.sync_data(),
        FsyncPolicy::Never => Ok(()),
    });
    match written {
        Ok(()) => {
            file.size += bytes.len() as u64;
            Ok(())
        }
        Err(error) => {
            // Best effort: if even this fails, the next open cuts the torn line off.
            let _ = file.file.set_len(file.size);
            Err(error)
        }
    }
}

/// Renames the file at `path` to its rotated name and opens a new, empty one in its place.
fn rotate(path: &Path, fsync: FsyncPolicy) -> io::Result<AppendFile> {
    std::fs::rename(path, rotated_path(path, SystemTime::now()))?;
    let sync = fsync == FsyncPolicy::Batch;
    if sync && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_directory(parent)?;
    }
    AppendFile::open(path, sync)
}
