//! A Mosquitto broker of a test's own, which the test may stop and start again: persistent,
//! so sessions and queued messages survive a restart.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use veloflux_testkit::{Signal, send_signal};

use super::{free_addr, mqtt, wait_until};

/// Where Debian installs the broker.
const BINARY: &str = "/usr/sbin/mosquitto";

/// A running Mosquitto process.
pub(crate) struct Mosquitto {
    child: Option<Child>,
    config: PathBuf,
    pub(crate) addr: SocketAddr,
}

impl Mosquitto {
    /// Starts a broker keeping its state in `dir`; `Err` says why there is none.
    pub(crate) async fn start(dir: &Path) -> Result<Self, String> {
        Self::start_with(dir, "").await
    }

    /// [`Self::start`] with `extra` lines of configuration (another listener, say) after
    /// those of its plain listener, which the broker's URL names.
    pub(crate) async fn start_with(dir: &Path, extra: &str) -> Result<Self, String> {
        if !Path::new(BINARY).exists() {
            return Err(format!("no {BINARY} (apt-get install mosquitto)"));
        }
        let addr = free_addr();
        let config = dir.join("mosquitto.conf");
        let text = format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n\
             persistence_location {dir}/\nmax_queued_messages 100000\n{extra}",
            port = addr.port(),
            dir = dir.display()
        );
        std::fs::write(&config, text).map_err(|error| error.to_string())?;
        // Started as root, mosquitto drops to its own user, which must be able to save here.
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o777))
            .map_err(|error| error.to_string())?;
        let mut broker = Self {
            child: None,
            config,
            addr,
        };
        broker.restart().await;
        Ok(broker)
    }

    /// The broker's URL.
    pub(crate) fn url(&self) -> String {
        format!("tcp://{}", self.addr)
    }

    /// Stops the broker as an operator would (SIGTERM: it saves its state and exits).
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = send_signal(&mut child, Signal::Terminate);
            let _ = child.wait();
        }
    }

    /// Starts the broker again on the same port and state, and waits until it accepts
    /// MQTT connections.
    pub(crate) async fn restart(&mut self) {
        let child = Command::new(BINARY)
            .arg("-c")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        self.child = Some(child);
        let url = self.url();
        wait_until("mosquitto accepts connections", async || {
            mqtt::connects(&url).await
        })
        .await;
    }
}

/// Set to `1`, a test that needs a Mosquitto process fails without one instead of skipping.
const REQUIRE_VARIABLE: &str = "VELOFLUX_REQUIRE_MOSQUITTO";

/// [`Mosquitto::start_with`] for a test that needs it: `None` (the test should return) after
/// printing why when there is no Mosquitto, unless [`REQUIRE_VARIABLE`] is `1`: then it panics.
pub(crate) async fn mosquitto_or_skip(dir: &Path, extra: &str) -> Option<Mosquitto> {
    match Mosquitto::start_with(dir, extra).await {
        Ok(broker) => Some(broker),
        Err(reason) if std::env::var(REQUIRE_VARIABLE).as_deref() == Ok("1") => {
            panic!("{REQUIRE_VARIABLE}=1 but there is no Mosquitto: {reason}")
        }
        Err(reason) => {
            eprintln!("skipped: {reason}");
            None
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
