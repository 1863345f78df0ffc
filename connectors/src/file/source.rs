//! The file source: delivers each line of a file (empty ones skipped) as a message whose
//! topic is the file's path, once or following the file as it grows, and keeps the position
//! up to which the pipeline has settled every line in an offset file, to resume there after
//! a restart (see [`super::offset`]).
//!
//! A file that is missing is waited for, with backoff, its status showing why. In `once`
//! mode the channel stays open after the last line, so the pipeline keeps running and
//! settling; only a stop ends it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::offset::{OffsetFile, Position, Progress, SavedProgress};
use super::reader::{Change, Line, LineReader};
use super::{FileSourceConfig, ReadMode};
use crate::Result;
use crate::backoff::Backoff;
use crate::clock::wall_clock_ms;
use crate::connector::{ConnectorContext, Source, Subscription};
use crate::delivery::Delivery;
use crate::props::parse;
use crate::status::ConnectorStatus;

/// How often a followed file at its end is looked at again.
const FOLLOW_POLL: Duration = Duration::from_millis(250);
/// How long a stopped source waits for its pipeline's last acknowledgements.
const LAST_ACKNOWLEDGEMENTS: Duration = Duration::from_secs(10);
/// The slowest pacing: one line a day.
const SLOWEST: Duration = Duration::from_secs(24 * 60 * 60);

/// Reads one file.
struct FileSource {
    config: FileSourceConfig,
    offsets: OffsetFile,
    status: Arc<ConnectorStatus>,
}

pub(super) fn build(props: &Value, context: &ConnectorContext<'_>) -> Result<Box<dyn Source>> {
    let config: FileSourceConfig = parse(props)?;
    let offset_dir = config.offset_dir.as_deref().map(Path::new);
    let offsets = OffsetFile::new(Path::new(&config.path), offset_dir, context.client_id);
    Ok(Box::new(FileSource {
        config,
        offsets,
        status: Arc::default(),
    }))
}

impl Source for FileSource {
    fn start(self: Box<Self>, capacity: usize, shutdown: CancellationToken) -> Subscription {
        let status = self.status.clone();
        Subscription::spawned(capacity, status, |sender| self.run(sender, shutdown))
    }
}

/// How reading one opened file ended.
enum Ended {
    /// The file was read to its end (`once`), or the pipeline let go.
    Done,
    /// Another file is at the path: read it from its start.
    Replaced,
    /// Reading failed: open the file again where the last line ended.
    Failed(std::io::Error),
}

impl FileSource {
    /// Reads until `shutdown` or until `output` closes, then waits for the pipeline to settle
    /// what it was given; the committed position is saved as it moves and at the end.
    async fn run(self: Box<Self>, output: mpsc::Sender<Delivery>, shutdown: CancellationToken) {
        let Self {
            config,
            offsets,
            status,
        } = *self;
        let mut saved = SavedProgress::load(offsets).await;
        let progress = saved.progress().clone();
        let restored = progress.committed();
        let stopped = async {
            let mut lines = LineSender::new(&config, &output, &progress);
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = async {
                    read(&config, &status, &mut lines, restored).await;
                    output.closed().await;
                } => {}
            }
            let _ = tokio::time::timeout(LAST_ACKNOWLEDGEMENTS, output.closed()).await;
        };
        tokio::select! {
            () = stopped => {}
            () = saved.save_periodically() => {}
        }
    }
}

/// Opens the file (waiting for it if need be) and reads it, again after a failure or a
/// rotation, until it is done.
async fn read(
    config: &FileSourceConfig,
    status: &ConnectorStatus,
    lines: &mut LineSender<'_>,
    mut resume: Option<Position>,
) {
    let path = Path::new(&config.path);
    let mut backoff = Backoff::default();
    loop {
        let mut reader = match LineReader::open(path, resume).await {
            Ok(reader) => reader,
            Err(error) => {
                status.set_disconnected(format!("opening '{}': {error}", config.path));
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
        };
        status.set_connected();
        backoff.reset();
        match read_file(&mut reader, lines, config.mode).await {
            Ended::Done => return,
            Ended::Replaced => resume = None,
            Ended::Failed(error) => {
                tracing::warn!(path = %config.path, %error, "file source cannot read its file");
                status.set_disconnected(format!("reading '{}': {error}", config.path));
                resume = Some(reader.position());
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}

/// Delivers the lines of `reader`'s file: to its end (`once`), or on as it grows.
async fn read_file(reader: &mut LineReader, lines: &mut LineSender<'_>, mode: ReadMode) -> Ended {
    loop {
        while let Some(line) = reader.next_line() {
            if !lines.deliver(line).await {
                return Ended::Done;
            }
        }
        let at_end = match reader.read_more().await {
            Ok(more) => !more,
            Err(error) => return Ended::Failed(error),
        };
        if !at_end {
            continue;
        }
        if mode == ReadMode::Once {
            if let Some(line) = reader.rest() {
                lines.deliver(line).await;
            }
            return Ended::Done;
        }
        tokio::time::sleep(FOLLOW_POLL).await;
        let followed = match reader.change().await {
            Ok(Change::None) => Ok(()),
            Ok(Change::Truncated) => reader.rewind().await,
            Ok(Change::Replaced) => return finish_replaced(reader, lines).await,
            Err(error) => Err(error),
        };
        if let Err(error) = followed {
            return Ended::Failed(error);
        }
    }
}

/// Delivers what was written to a replaced file before it was replaced.
async fn finish_replaced(reader: &mut LineReader, lines: &mut LineSender<'_>) -> Ended {
    loop {
        while let Some(line) = reader.next_line() {
            if !lines.deliver(line).await {
                return Ended::Done;
            }
        }
        match reader.read_more().await {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => return Ended::Failed(error),
        }
    }
    if let Some(line) = reader.rest()
        && !lines.deliver(line).await
    {
        return Ended::Done;
    }
    Ended::Replaced
}

/// Turns lines into deliveries, paced, each acknowledged into the progress.
struct LineSender<'a> {
    output: &'a mpsc::Sender<Delivery>,
    progress: &'a Arc<Progress>,
    topic: &'a str,
    skip_header: bool,
    pacing: Option<Interval>,
}

impl<'a> LineSender<'a> {
    fn new(
        config: &'a FileSourceConfig,
        output: &'a mpsc::Sender<Delivery>,
        progress: &'a Arc<Progress>,
    ) -> Self {
        let pacing = config.rate_per_sec.map(|rate| {
            let period = Duration::try_from_secs_f64(1.0 / rate).unwrap_or(SLOWEST);
            let mut pacing = tokio::time::interval(period.clamp(Duration::from_nanos(1), SLOWEST));
            pacing.set_missed_tick_behavior(MissedTickBehavior::Delay);
            pacing
        });
        Self {
            output,
            progress,
            topic: &config.path,
            skip_header: config.skip_header,
            pacing,
        }
    }

    /// Delivers `line`, or passes over it if it is empty or the header; false once the
    /// pipeline has let go.
    async fn deliver(&mut self, line: Line) -> bool {
        if line.text.is_empty() || (self.skip_header && line.first) {
            self.progress.pass(line.end);
            return true;
        }
        if let Some(pacing) = &mut self.pacing {
            pacing.tick().await;
        }
        let ack = self.progress.acknowledgement(line.end);
        let delivery = Delivery::unacknowledged(line.text)
            .received(self.topic, wall_clock_ms())
            .acknowledged_by(Some(ack));
        self.output.send(delivery).await.is_ok()
    }
}
