//! A local webhook on 127.0.0.1 for the HTTP sink to send to: it answers 500 for an outage
//! of a chosen length from its start, then 200, counting what it answered and, when asked,
//! keeping the bodies it took in the order it took them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;

use crate::{Error, Result};

/// A running webhook.
#[derive(Debug, Clone)]
pub struct Webhook {
    addr: SocketAddr,
    state: Arc<Answers>,
}

/// What the webhook answers and what it answered.
#[derive(Debug)]
struct Answers {
    /// 500 to every request before this instant.
    failing_until: Instant,
    /// Whether the bodies answered 200 are kept.
    keep_bodies: bool,
    /// The bodies answered 200, in order (when kept).
    taken: Mutex<Vec<Bytes>>,
    /// Requests answered 200.
    ok: AtomicU64,
    /// Requests answered 500.
    failed: AtomicU64,
    /// When the first request was answered 200.
    first_ok: Mutex<Option<Instant>>,
}

/// What the webhook answered so far.
#[derive(Debug, Clone)]
pub struct Answered {
    /// Requests answered 200.
    pub ok: u64,
    /// Requests answered 500.
    pub failed: u64,
    /// When the first request was answered 200.
    pub first_ok: Option<Instant>,
}

impl Webhook {
    /// Starts a webhook on a free port of 127.0.0.1, on the current tokio runtime, answering
    /// 500 for `outage` from now, then 200; `keep_bodies` keeps what it takes for
    /// [`Self::taken`].
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn start(outage: Duration, keep_bodies: bool) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|source| setup_failed("binding the webhook's port", source))?;
        let addr = listener
            .local_addr()
            .map_err(|source| setup_failed("reading the webhook's address", source))?;
        let state = Arc::new(Answers {
            failing_until: Instant::now() + outage,
            keep_bodies,
            taken: Mutex::default(),
            ok: AtomicU64::default(),
            failed: AtomicU64::default(),
            first_ok: Mutex::default(),
        });
        let app = Router::new().fallback(answer).with_state(state.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                eprintln!("webhook: {error}");
            }
        });
        Ok(Self { addr, state })
    }

    /// The URL to send to.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// When the outage ends (or ended).
    pub fn outage_end(&self) -> Instant {
        self.state.failing_until
    }

    /// What it answered so far.
    pub fn answered(&self) -> Answered {
        Answered {
            ok: self.state.ok.load(Ordering::Relaxed),
            failed: self.state.failed.load(Ordering::Relaxed),
            first_ok: *lock(&self.state.first_ok),
        }
    }

    /// The bodies it answered 200, in order (none unless started to keep them).
    pub fn taken(&self) -> Vec<Bytes> {
        lock(&self.state.taken).clone()
    }
}

async fn answer(State(answers): State<Arc<Answers>>, body: Bytes) -> StatusCode {
    let now = Instant::now();
    if now < answers.failing_until {
        answers.failed.fetch_add(1, Ordering::Relaxed);
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    lock(&answers.first_ok).get_or_insert(now);
    if answers.keep_bodies {
        lock(&answers.taken).push(body);
    }
    answers.ok.fetch_add(1, Ordering::Relaxed);
    StatusCode::OK
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn setup_failed(action: &str, source: std::io::Error) -> Error {
    Error::Setup {
        action: action.to_owned(),
        source,
    }
}
