//! The window state of a running windowed pipeline: late rows, bytes held, and the error that
//! stopped it when its state outgrew `runtime.max_window_state_bytes`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use utoipa::ToSchema;

/// Counters of a pipeline's windows, updated once per batch.
#[derive(Debug, Default)]
pub(super) struct WindowStats {
    late_rows: AtomicU64,
    state_bytes: AtomicU64,
    max_state_bytes: u64,
    failure: Mutex<Option<String>>,
}

/// What status and metrics show of a pipeline's windows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WindowSnapshot {
    /// Rows dropped because they came behind the event-time watermark.
    pub late_rows: u64,
    /// Bytes held by open windows, approximately.
    pub state_bytes: u64,
    /// The most bytes the windows may hold before the pipeline is stopped.
    pub max_state_bytes: u64,
}

/// The window state grew past `runtime.max_window_state_bytes`; the message says what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct OverCap(String);

impl WindowStats {
    pub(super) fn new(max_state_bytes: usize) -> Self {
        Self {
            max_state_bytes: max_state_bytes as u64,
            ..Self::default()
        }
    }

    /// Records a batch's late rows and the state it left; an error when the state is over
    /// the cap.
    pub(super) fn record(&self, late_rows: usize, state_bytes: usize) -> Result<(), OverCap> {
        self.late_rows
            .fetch_add(late_rows as u64, Ordering::Relaxed);
        let state_bytes = state_bytes as u64;
        self.state_bytes.store(state_bytes, Ordering::Relaxed);
        if state_bytes <= self.max_state_bytes {
            return Ok(());
        }
        let message = format!(
            "window state reached {state_bytes} bytes, over runtime.max_window_state_bytes \
             ({}): the pipeline was stopped; use fewer group keys, shorter windows, or raise \
             the limit",
            self.max_state_bytes
        );
        *self
            .failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(message.clone());
        Err(OverCap(message))
    }

    /// Why the windows stopped the pipeline, if they did.
    pub(super) fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(super) fn snapshot(&self) -> WindowSnapshot {
        WindowSnapshot {
            late_rows: self.late_rows.load(Ordering::Relaxed),
            state_bytes: self.state_bytes.load(Ordering::Relaxed),
            max_state_bytes: self.max_state_bytes,
        }
    }
}
