//! The file sink: appends each message as a line (the message and `\n`) to a file, fixed or
//! rendered from each row. A batch is written and synced (per the `fsync` policy) on the
//! blocking pool before `send` returns, so what was sent is confirmed at once: the default
//! confirmation methods of [`Sink`] hold.

use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;

use super::FileSinkConfig;
use super::rotation::Rotation;
use super::writer::{FileWriter, LineBatch};
use crate::codec::EncodedMessages;
use crate::connector::{BoxFuture, ConnectorContext, Sink, Unsent};
use crate::props::parse;
use crate::{Error, Result};

/// Appends lines to a file, fixed or rendered from each row.
struct FileSink {
    path: String,
    /// How many `..` components the configured path holds: a rendered one may hold no more,
    /// so a row's value cannot lead the sink out of the directory it was given.
    parent_steps: usize,
    writer: Arc<Mutex<FileWriter>>,
}

pub(super) fn build(props: &Value, _context: &ConnectorContext<'_>) -> Result<Box<dyn Sink>> {
    let config: FileSinkConfig = parse(props)?;
    let rotation = Rotation {
        max_bytes: config.rotate_bytes,
        max_age: config.rotate_secs.map(Duration::from_secs),
    };
    let writer = FileWriter::new(config.max_open_files, rotation, config.fsync);
    Ok(Box::new(FileSink {
        parent_steps: parent_steps(Path::new(&config.path)),
        path: config.path,
        writer: Arc::new(Mutex::new(writer)),
    }))
}

impl Sink for FileSink {
    fn send<'a>(
        &'a mut self,
        destination: Option<&'a str>,
        messages: EncodedMessages<'a>,
    ) -> BoxFuture<'a, Result<(), Unsent>> {
        let count = messages.len();
        let path = match destination {
            Some(rendered) => self.check_rendered(rendered),
            None => Ok(PathBuf::from(&self.path)),
        };
        let mut lines = LineBatch::default();
        messages.iter().for_each(|message| lines.push(message));
        let writer = self.writer.clone();
        Box::pin(async move {
            let path = path.map_err(|error| Unsent { count, error })?;
            if count == 0 {
                return Ok(());
            }
            write_on_blocking_pool(writer, path, lines).await
        })
    }
}

impl FileSink {
    /// The rendered path `rendered`, unless it is empty, absolute where the configured path
    /// is not, or climbs out with more `..` than the configured path has.
    fn check_rendered(&self, rendered: &str) -> Result<PathBuf> {
        let path = PathBuf::from(rendered);
        let escapes = parent_steps(&path) > self.parent_steps
            || (path.is_absolute() && !Path::new(&self.path).is_absolute());
        if rendered.is_empty() || rendered.contains('\0') || escapes {
            return Err(Error::Config(format!(
                "the rendered path '{rendered}' is empty or leads out of the directory of '{}'",
                self.path
            )));
        }
        Ok(path)
    }
}

/// Writes `lines` to `path` on the blocking pool and waits for it.
async fn write_on_blocking_pool(
    writer: Arc<Mutex<FileWriter>>,
    path: PathBuf,
    lines: LineBatch,
) -> Result<(), Unsent> {
    let count = lines.ends.len();
    let shown = path.display().to_string();
    let written = tokio::task::spawn_blocking(move || {
        let mut writer = writer.lock().unwrap_or_else(PoisonError::into_inner);
        writer.write(&path, &lines)
    })
    .await;
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(failure)) => Err(Unsent {
            count: failure.unwritten,
            error: Error::External(format!("writing '{shown}': {}", failure.error)),
        }),
        Err(error) => Err(Unsent {
            count,
            error: Error::External(format!("writing '{shown}': {error}")),
        }),
    }
}

fn parent_steps(path: &Path) -> usize {
    path.components()
        .filter(|component| matches!(component, Component::ParentDir))
        .count()
}
