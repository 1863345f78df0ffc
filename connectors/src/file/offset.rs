//! Where a file stream resumes after a restart: the position just after the last line whose
//! acknowledgement was settled with every line before it, kept in a small offset file. Lines
//! are settled in any order; the position advances only over an unbroken run of settled
//! lines, so a line delivered but never settled (a crash, a stopped pipeline) is read again:
//! at-least-once.

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::MissedTickBehavior;

use crate::delivery::Ack;

/// How often the committed position is saved while it moves.
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// A place in a file: which file (its inode, so a replaced file is told apart) and a byte
/// offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Position {
    /// The file's identity: its inode number on Unix.
    pub(super) file_id: u64,
    /// Bytes from the file's start.
    pub(super) offset: u64,
}

/// The lines delivered and not yet settled, oldest first, and the committed position.
#[derive(Debug, Default)]
pub(super) struct Progress {
    lines: Mutex<Ledger>,
}

#[derive(Debug, Default)]
struct Ledger {
    /// The number of the oldest line in `pending`.
    first: u64,
    /// Where each line ends, and whether it is settled.
    pending: VecDeque<(Position, bool)>,
    /// Where the unbroken run of settled lines ends.
    committed: Option<Position>,
}

impl Progress {
    /// Progress from `committed`, the position restored at start.
    pub(super) fn starting_at(committed: Option<Position>) -> Arc<Self> {
        let lines = Ledger {
            committed,
            ..Ledger::default()
        };
        Arc::new(Self {
            lines: Mutex::new(lines),
        })
    }

    /// The acknowledgement of a line ending at `end`: once it and every line before it are
    /// settled, `end` is committed.
    pub(super) fn acknowledgement(self: &Arc<Self>, end: Position) -> Ack {
        let number = self.track(end);
        let progress = self.clone();
        Ack::new(move || progress.settle(number))
    }

    /// A line ending at `end` that is not delivered (empty, a header): settled at once.
    pub(super) fn pass(&self, end: Position) {
        self.settle(self.track(end));
    }

    /// Where the unbroken run of settled lines ends.
    pub(super) fn committed(&self) -> Option<Position> {
        self.lock().committed
    }

    fn track(&self, end: Position) -> u64 {
        let mut lines = self.lock();
        lines.pending.push_back((end, false));
        lines.first + lines.pending.len() as u64 - 1
    }

    fn settle(&self, number: u64) {
        let mut lines = self.lock();
        let index = number.checked_sub(lines.first).map(usize::try_from);
        if let Some(Ok(index)) = index
            && let Some((_, settled)) = lines.pending.get_mut(index)
        {
            *settled = true;
        }
        while let Some(&(end, true)) = lines.pending.front() {
            lines.pending.pop_front();
            lines.first += 1;
            lines.committed = Some(end);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Ledger> {
        // The lock is held for a few instructions that cannot panic.
        self.lines.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The offset file of one reader of one file: `<file name>.<consumer>.offset` beside the file
/// or in `offset_dir`.
#[derive(Debug)]
pub(super) struct OffsetFile {
    path: PathBuf,
    saved: Option<Position>,
}

impl OffsetFile {
    /// The offset file of `consumer` (a stream's client id) reading `source`.
    pub(super) fn new(source: &Path, offset_dir: Option<&Path>, consumer: &str) -> Self {
        let name = source.file_name().unwrap_or_default().to_string_lossy();
        let consumer: String = consumer
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let directory = offset_dir
            .or_else(|| source.parent())
            .unwrap_or(Path::new(""));
        Self {
            path: directory.join(format!("{name}.{consumer}.offset")),
            saved: None,
        }
    }

    /// The position saved last; none when there is no offset file or it cannot be read.
    async fn load(&mut self) -> Option<Position> {
        let text = match tokio::fs::read(&self.path).await {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return None,
            Err(error) => {
                tracing::warn!(path = %self.path.display(), %error, "file source cannot read its offset file; reading from the start");
                return None;
            }
        };
        match serde_json::from_slice(&text) {
            Ok(position) => {
                self.saved = Some(position);
                self.saved
            }
            Err(error) => {
                tracing::warn!(path = %self.path.display(), %error, "file source ignores a damaged offset file; reading from the start");
                None
            }
        }
    }

    /// Saves `position` unless it is what was saved last, on the blocking pool.
    async fn save(&mut self, position: Option<Position>) {
        let Some(position) = self.changed(position) else {
            return;
        };
        let path = self.path.clone();
        let written = tokio::task::spawn_blocking(move || replace(&path, position)).await;
        self.record(
            position,
            written.unwrap_or_else(|error| Err(io::Error::other(error))),
        );
    }

    /// Saves `position` unless it is what was saved last, blocking: for the last save, which
    /// must not wait for a runtime that may be shutting down.
    fn save_blocking(&mut self, position: Option<Position>) {
        if let Some(position) = self.changed(position) {
            let written = replace(&self.path, position);
            self.record(position, written);
        }
    }

    fn changed(&self, position: Option<Position>) -> Option<Position> {
        position.filter(|position| self.saved != Some(*position))
    }

    /// Remembers what was saved; a failure is logged, and the next save tries again.
    fn record(&mut self, position: Position, written: io::Result<()>) {
        match written {
            Ok(()) => self.saved = Some(position),
            Err(error) => {
                tracing::warn!(path = %self.path.display(), %error, "file source cannot save its offset");
            }
        }
    }
}

/// Writes `position` beside `path`, then renames it over `path`, so a crash leaves the old
/// position or the new one.
fn replace(path: &Path, position: Position) -> io::Result<()> {
    if let Some(directory) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(directory)?;
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let text = serde_json::to_vec(&position).map_err(io::Error::other)?;
    std::fs::write(&partial, text)?;
    std::fs::rename(&partial, path)
}

/// A reader's progress and its offset file, saved every [`SAVE_EVERY`] while it moves and a
/// last time when dropped: at the end of the source's task, or when the runtime drops the
/// task at exit (after the pipelines have settled what they could).
#[derive(Debug)]
pub(super) struct SavedProgress {
    offsets: OffsetFile,
    progress: Arc<Progress>,
}

impl SavedProgress {
    /// Progress from what `offsets` holds.
    pub(super) async fn load(mut offsets: OffsetFile) -> Self {
        let restored = offsets.load().await;
        Self {
            offsets,
            progress: Progress::starting_at(restored),
        }
    }

    /// The progress.
    pub(super) fn progress(&self) -> &Arc<Progress> {
        &self.progress
    }

    /// Saves the committed position every [`SAVE_EVERY`] while it moves; never returns.
    pub(super) async fn save_periodically(&mut self) {
        let mut ticks = tokio::time::interval(SAVE_EVERY);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            self.offsets.save(self.progress.committed()).await;
        }
    }
}

impl Drop for SavedProgress {
    fn drop(&mut self) {
        self.offsets.save_blocking(self.progress.committed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(offset: u64) -> Position {
        Position { file_id: 1, offset }
    }

    #[test]
    fn the_committed_position_advances_over_settled_lines_only() {
        let progress = Progress::starting_at(Some(at(0)));
        let acks: Vec<Ack> = (1..=4)
            .map(|line| progress.acknowledgement(at(line * 10)))
            .collect();
        let mut acks = acks.into_iter();
        let (first, second, third, fourth) = (
            acks.next().unwrap(),
            acks.next().unwrap(),
            acks.next().unwrap(),
            acks.next().unwrap(),
        );
        second.settle();
        assert_eq!(
            progress.committed(),
            Some(at(0)),
            "the first is not settled"
        );
        first.settle();
        assert_eq!(progress.committed(), Some(at(20)));
        drop(third);
        fourth.settle();
        assert_eq!(
            progress.committed(),
            Some(at(20)),
            "the third was abandoned"
        );
        progress.pass(at(50));
        assert_eq!(progress.committed(), Some(at(20)));
    }
}
