//! The connection state of a source or sink, shared with whoever reports on it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::SystemTime;

/// Whether a connector is connected, how often it reconnected and its last error.
#[derive(Debug, Default)]
pub struct ConnectorStatus {
    connected: AtomicBool,
    reconnects: AtomicU64,
    last_error: Mutex<Option<(String, SystemTime)>>,
}

impl ConnectorStatus {
    /// Records a successful connection; every one after the first counts as a reconnect.
    pub fn set_connected(&self) {
        if self.connected.swap(true, Ordering::Relaxed) {
            return;
        }
        if self.last_error().is_some() {
            self.reconnects.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records a lost or failed connection.
    pub fn set_disconnected(&self, error: String) {
        self.connected.store(false, Ordering::Relaxed);
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some((error, SystemTime::now()));
        }
    }

    /// True while connected.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// How many times the connection came back after being lost.
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }

    /// The last connection error and when it happened.
    pub fn last_error(&self) -> Option<(String, SystemTime)> {
        self.last_error.lock().ok().and_then(|last| last.clone())
    }
}
