//! Reading a file line by line from a position, on the blocking pool, and noticing when the
//! file at its path was truncated or replaced by another (rotated).

use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};

use super::offset::Position;

/// How much is read from the file at a time.
const CHUNK: usize = 64 * 1024;

/// An open file read line by line.
#[derive(Debug)]
pub(super) struct LineReader {
    path: PathBuf,
    /// The open file; out on the blocking pool while a read runs.
    file: Option<File>,
    file_id: u64,
    /// Bytes read but not yet split into lines.
    buffer: BytesMut,
    /// Where `buffer` starts in the file: just after the last line taken.
    start: u64,
}

/// One line of the file.
#[derive(Debug)]
pub(super) struct Line {
    /// The line without its `\n` (nor a `\r` before it).
    pub(super) text: Bytes,
    /// Just after the line's newline.
    pub(super) end: Position,
    /// Whether it is the first line of the file.
    pub(super) first: bool,
}

/// What became of the file at the reader's path since it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    /// Nothing, or it grew.
    None,
    /// It is shorter than what was read: truncated.
    Truncated,
    /// Another file is at the path now (rotation).
    Replaced,
}

impl LineReader {
    /// Opens `path` at `resume` when that is a position in this very file within its length,
    /// at its start otherwise.
    ///
    /// # Errors
    /// When the file cannot be opened (it may not exist yet).
    pub(super) async fn open(path: &Path, resume: Option<Position>) -> io::Result<Self> {
        let path = path.to_path_buf();
        blocking(move || {
            let mut file = File::open(&path)?;
            let metadata = file.metadata()?;
            let file_id = identity(&metadata);
            let start = resume
                .filter(|at| at.file_id == file_id && at.offset <= metadata.len())
                .map_or(0, |at| at.offset);
            file.seek(SeekFrom::Start(start))?;
            Ok(Self {
                path,
                file: Some(file),
                file_id,
                buffer: BytesMut::new(),
                start,
            })
        })
        .await
    }

    /// Where the next line starts.
    pub(super) fn position(&self) -> Position {
        Position {
            file_id: self.file_id,
            offset: self.start,
        }
    }

    /// The next whole line of what was read, if there is one.
    pub(super) fn next_line(&mut self) -> Option<Line> {
        let newline = memchr::memchr(b'\n', &self.buffer)?;
        Some(self.take(newline + 1))
    }

    /// What was read after the last newline, as a last line without one.
    pub(super) fn rest(&mut self) -> Option<Line> {
        (!self.buffer.is_empty()).then(|| self.take(self.buffer.len()))
    }

    /// Reads more of the file; false at its end.
    ///
    /// # Errors
    /// When reading fails.
    pub(super) async fn read_more(&mut self) -> io::Result<bool> {
        let mut file = self.file.take().ok_or_else(not_open)?;
        let mut buffer = std::mem::take(&mut self.buffer);
        let (file, buffer, read) = blocking(move || {
            let filled = buffer.len();
            buffer.resize(filled + CHUNK, 0);
            let read = file.read(&mut buffer[filled..]);
            buffer.truncate(filled + read.as_ref().map_or(0, |read| *read));
            Ok((file, buffer, read))
        })
        .await?;
        self.file = Some(file);
        self.buffer = buffer;
        Ok(read? > 0)
    }

    /// What became of the file at the path.
    ///
    /// # Errors
    /// When the path cannot be looked at; a missing file is no change (it is being rotated).
    pub(super) async fn change(&self) -> io::Result<Change> {
        let metadata = match tokio::fs::metadata(&self.path).await {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Change::None),
            Err(error) => return Err(error),
        };
        let read = self.start + self.buffer.len() as u64;
        Ok(if identity(&metadata) != self.file_id {
            Change::Replaced
        } else if metadata.len() < read {
            Change::Truncated
        } else {
            Change::None
        })
    }

    /// Starts again from the start of the file, forgetting what was read.
    ///
    /// # Errors
    /// When seeking fails.
    pub(super) async fn rewind(&mut self) -> io::Result<()> {
        let mut file = self.file.take().ok_or_else(not_open)?;
        let (file, sought) = blocking(move || {
            let sought = file.seek(SeekFrom::Start(0));
            Ok((file, sought))
        })
        .await?;
        self.file = Some(file);
        sought?;
        self.buffer.clear();
        self.start = 0;
        Ok(())
    }

    fn take(&mut self, length: usize) -> Line {
        let first = self.start == 0;
        let mut text = self.buffer.split_to(length).freeze();
        self.start += length as u64;
        if text.ends_with(b"\n") {
            text.truncate(text.len() - 1);
            if text.ends_with(b"\r") {
                text.truncate(text.len() - 1);
            }
        }
        Line {
            text,
            end: self.position(),
            first,
        }
    }
}

/// Runs `work` on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(io::Error::other)?
}

fn not_open() -> io::Error {
    io::Error::other("the file is not open")
}

/// What tells a file apart from another at the same path: its inode number.
#[cfg(unix)]
fn identity(metadata: &Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(metadata)
}

/// Without inodes a replaced file is noticed only when it is shorter than what was read.
#[cfg(not(unix))]
fn identity(_metadata: &Metadata) -> u64 {
    0
}
