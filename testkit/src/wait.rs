//! Waiting for a condition with a deadline, polling, instead of sleeping for a fixed time and
//! hoping it held.

use std::time::Duration;

use tokio::time::Instant;

use crate::{Error, Result};

/// How long a test waits for something that should happen.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// How often a condition is checked by default.
pub const POLL: Duration = Duration::from_millis(50);

/// How long to wait and how often to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// How long to wait before giving up.
    pub timeout: Duration,
    /// How long to sleep between two checks.
    pub poll: Duration,
}

impl Default for Wait {
    fn default() -> Self {
        Self::up_to(DEADLINE)
    }
}

impl Wait {
    /// A wait of at most `timeout`, checking every [`POLL`].
    pub const fn up_to(timeout: Duration) -> Self {
        Self {
            timeout,
            poll: POLL,
        }
    }

    /// This wait, checking every `poll`.
    pub const fn every(self, poll: Duration) -> Self {
        Self { poll, ..self }
    }

    /// Checks `condition` until it holds.
    ///
    /// # Errors
    /// [`Error::Timeout`] naming `what` when it still does not hold after the timeout.
    pub async fn until(self, what: &str, mut condition: impl AsyncFnMut() -> bool) -> Result<()> {
        self.until_some(what, async || {
            Ok::<_, Error>(condition().await.then_some(()))
        })
        .await
    }

    /// Checks `condition` until it gives a value, and returns that value; an error from
    /// `condition` ends the wait at once.
    ///
    /// # Errors
    /// The first error of `condition`, or [`Error::Timeout`] naming `what` when it gave no
    /// value before the timeout.
    pub async fn until_some<T, E: From<Error>>(
        self,
        what: &str,
        mut condition: impl AsyncFnMut() -> Result<Option<T>, E>,
    ) -> Result<T, E> {
        let deadline = Instant::now() + self.timeout;
        loop {
            if let Some(value) = condition().await? {
                return Ok(value);
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: what.to_owned(),
                    after: self.timeout,
                }
                .into());
            }
            tokio::time::sleep(self.poll).await;
        }
    }
}

/// Checks `condition` every [`POLL`] until it holds, for at most [`DEADLINE`].
///
/// # Errors
/// [`Error::Timeout`] naming `what` when it still does not hold then.
pub async fn wait_until(what: &str, condition: impl AsyncFnMut() -> bool) -> Result<()> {
    Wait::default().until(what, condition).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_condition_that_comes_true_ends_the_wait() {
        let mut checks = 0;
        let wait = Wait::up_to(Duration::from_secs(1)).every(Duration::from_millis(10));
        wait.until("the third check", async || {
            checks += 1;
            checks == 3
        })
        .await
        .unwrap();
        assert_eq!(checks, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_condition_that_never_holds_times_out_naming_it() {
        let started = Instant::now();
        let error = Wait::up_to(Duration::from_secs(2))
            .until("pigs fly", async || false)
            .await
            .unwrap_err();
        assert!(started.elapsed() >= Duration::from_secs(2));
        assert_eq!(
            error.to_string(),
            "timed out after 2s waiting until pigs fly"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_ends_the_wait_at_once_and_a_value_is_returned() {
        let mut checks = 0;
        let failed = Wait::default()
            .until_some::<(), Error>("never", async || {
                checks += 1;
                Err(Error::Server("exited".to_owned()))
            })
            .await;
        assert_eq!((failed.is_err(), checks), (true, 1));
        let found = Wait::default()
            .until_some::<_, Error>("a value", async || Ok(Some(42)))
            .await;
        assert_eq!(found.unwrap(), 42);
    }
}
