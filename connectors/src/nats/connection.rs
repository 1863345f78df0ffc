//! Connecting to NATS: the client options the props stand for, the first connection tried
//! again with backoff until it is made, and the connection's state in a [`ConnectorStatus`].
//! Once connected, the client reconnects by itself (with the same backoff) and renews its
//! subscriptions.

use std::sync::Arc;
use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event, ServerAddr};
use tokio_util::sync::CancellationToken;

use super::NatsConfig;
use crate::Result;
use crate::backoff::Backoff;
use crate::status::ConnectorStatus;

/// Messages the client holds for a subscription the pipeline is slow to take. Core NATS
/// drops what comes beyond (a slow consumer, logged): it delivers at most once. JetStream
/// pulls no more than the consumer's batch.
const SUBSCRIPTION_CAPACITY: usize = 8 * 1024;

/// How to reach the servers, and the state of the connection.
pub(super) struct Connection {
    servers: Vec<ServerAddr>,
    options: ConnectOptions,
    name: String,
    status: Arc<ConnectorStatus>,
}

impl Connection {
    /// The connection `config` describes, named `default_name` unless it names one.
    ///
    /// # Errors
    /// A URL that is not a NATS server address.
    pub(super) fn try_new(config: &NatsConfig, default_name: &str) -> Result<Self> {
        let name = config
            .client_name
            .clone()
            .unwrap_or_else(|| default_name.to_owned());
        let status = Arc::<ConnectorStatus>::default();
        let mut options = ConnectOptions::new()
            .name(&name)
            .subscription_capacity(SUBSCRIPTION_CAPACITY)
            .reconnect_delay_callback(reconnect_delay)
            .event_callback(recorder(status.clone(), name.clone()));
        if let Some(token) = &config.token {
            options = options.token(token.clone());
        }
        if let (Some(username), Some(password)) = (&config.username, &config.password) {
            options = options.user_and_password(username.clone(), password.clone());
        }
        Ok(Self {
            servers: config.servers()?,
            options,
            name,
            status,
        })
    }

    /// The connection state.
    pub(super) fn status(&self) -> Arc<ConnectorStatus> {
        self.status.clone()
    }

    /// Connects, trying again with backoff until it succeeds; `None` once `stop` is cancelled.
    pub(super) async fn establish(&self, stop: &CancellationToken) -> Option<Client> {
        let mut backoff = Backoff::default();
        loop {
            let connecting = self.options.clone().connect(self.servers.clone());
            let connected = tokio::select! {
                () = stop.cancelled() => return None,
                connected = connecting => connected,
            };
            match connected {
                Ok(client) => {
                    self.status.set_connected();
                    return Some(client);
                }
                Err(error) => {
                    tracing::warn!(client = %self.name, %error, "cannot connect to NATS");
                    self.status.set_disconnected(error.to_string());
                }
            }
            tokio::select! {
                () = stop.cancelled() => return None,
                () = tokio::time::sleep(backoff.next_delay()) => {}
            }
        }
    }
}

/// Attempts past which the wait stays at its cap (5 s is reached after 7).
const CAPPED_ATTEMPTS: usize = 16;

/// The wait before reconnection attempt `attempts`: at once for the first, then the
/// doubling waits of [`Backoff`].
fn reconnect_delay(attempts: usize) -> Duration {
    let mut backoff = Backoff::default();
    (1..attempts.min(CAPPED_ATTEMPTS)).fold(Duration::ZERO, |_, _| backoff.next_delay())
}

/// What the client reports about its connection, recorded in `status` and logged.
fn recorder(
    status: Arc<ConnectorStatus>,
    name: String,
) -> impl Fn(Event) -> std::future::Ready<()> + Send + Sync + 'static {
    move |event| {
        match event {
            Event::Connected => status.set_connected(),
            Event::Disconnected => {
                tracing::warn!(client = %name, "NATS connection lost");
                status.set_disconnected("disconnected from the NATS server".to_owned());
            }
            Event::Closed => status.set_disconnected("the NATS connection closed".to_owned()),
            other => tracing::warn!(client = %name, event = %other, "NATS client"),
        }
        std::future::ready(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnection_starts_at_once_then_backs_off() {
        let delays: Vec<u128> = (1..=4).map(|n| reconnect_delay(n).as_millis()).collect();
        assert_eq!(delays, [0, 100, 200, 400]);
        assert_eq!(reconnect_delay(100), Duration::from_secs(5));
    }
}
