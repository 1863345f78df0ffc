//! When a file sink starts a new file, and the name the old one is kept under: its name with
//! the time of the rotation before the extension (`out.2026-12-01T10-00-00.123.jsonl`, UTC),
//! so the rotated files of one path sort by name in the order they were written.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

/// The limits past which a file is rotated.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Rotation {
    /// The most bytes a file grows to (but a file takes at least one line).
    pub(super) max_bytes: Option<u64>,
    /// The age at which a file is rotated before the next write.
    pub(super) max_age: Option<Duration>,
}

impl Rotation {
    /// Whether a file created at `created` holding `size` bytes is too old to write to.
    pub(super) fn is_too_old(&self, size: u64, created: SystemTime) -> bool {
        let age = SystemTime::now()
            .duration_since(created)
            .unwrap_or_default();
        size > 0 && self.max_age.is_some_and(|max| age >= max)
    }

    /// How many of the lines starting at byte `start` and ending at `ends` fit in a file
    /// holding `size` bytes: all of them without a size limit, and at least one in an empty
    /// file.
    pub(super) fn lines_fitting(&self, size: u64, start: usize, ends: &[usize]) -> usize {
        let Some(max) = self.max_bytes else {
            return ends.len();
        };
        let room = max.saturating_sub(size);
        let fitting = ends.partition_point(|&end| (end - start) as u64 <= room);
        if fitting == 0 && size == 0 {
            ends.len().min(1)
        } else {
            fitting
        }
    }
}

/// A name, beside `path`, that no file has yet: `path` with the time `now` (bumped by a
/// millisecond at a time while taken) before its extension.
pub(super) fn rotated_path(path: &Path, now: SystemTime) -> PathBuf {
    let mut stamp = DateTime::<Utc>::from(now);
    loop {
        let candidate = stamped(path, &stamp);
        if !candidate.exists() {
            return candidate;
        }
        stamp += chrono::Duration::milliseconds(1);
    }
}

fn stamped(path: &Path, stamp: &DateTime<Utc>) -> PathBuf {
    let stamp = stamp.format("%Y-%m-%dT%H-%M-%S%.3f");
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let renamed = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => format!("{stem}.{stamp}.{extension}"),
        _ => format!("{name}.{stamp}"),
    };
    path.with_file_name(renamed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        DateTime::parse_from_rfc3339(text).unwrap().into()
    }

    #[test]
    fn the_stamp_goes_before_the_extension() {
        let now = at("2026-12-01T10:00:00.123Z");
        let cases = [
            ("dir/out.jsonl", "dir/out.2026-12-01T10-00-00.123.jsonl"),
            ("out", "out.2026-12-01T10-00-00.123"),
            (".hidden", ".hidden.2026-12-01T10-00-00.123"),
            ("a.tar.gz", "a.tar.2026-12-01T10-00-00.123.gz"),
        ];
        for (path, rotated) in cases {
            assert_eq!(rotated_path(Path::new(path), now), Path::new(rotated));
        }
    }

    #[test]
    fn a_taken_name_moves_on_by_a_millisecond() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let now = at("2026-12-01T10:00:00.999Z");
        std::fs::write(rotated_path(&path, now), "").unwrap();
        let next = rotated_path(&path, now);
        assert_eq!(next, dir.path().join("out.2026-12-01T10-00-01.000.jsonl"));
    }

    #[test]
    fn lines_fit_up_to_the_limit_and_an_empty_file_takes_one() {
        let rotation = Rotation {
            max_bytes: Some(10),
            max_age: None,
        };
        assert_eq!(rotation.lines_fitting(0, 0, &[4, 8, 12]), 2);
        assert_eq!(rotation.lines_fitting(6, 0, &[4, 8]), 1);
        assert_eq!(rotation.lines_fitting(8, 0, &[4, 8]), 0);
        assert_eq!(rotation.lines_fitting(0, 0, &[30, 34]), 1);
        assert_eq!(rotation.lines_fitting(2, 8, &[12, 16, 20]), 2);
        assert_eq!(Rotation::default().lines_fitting(99, 0, &[4, 8]), 2);
    }
}
