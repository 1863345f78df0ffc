//! Server configuration: built-in defaults, overridden by `config.yaml`, then by
//! `VELOFLUX_<SECTION>__<KEY>` environment variables, then by command-line flags.
//!
//! Every layer is merged as a YAML tree before one typed read, so an error names the key and
//! the type it expects, wherever the bad value came from.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_yaml_ng::{Mapping, Value};

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The REST control plane.
    pub server: ServerConfig,
    /// The Prometheus endpoint.
    pub metrics: MetricsConfig,
    /// CPU profiling.
    pub profiling: ProfilingConfig,
    /// Batch inspection.
    pub debug: DebugConfig,
    /// Pipeline execution defaults.
    pub runtime: RuntimeConfig,
    /// Log output.
    pub logging: LoggingConfig,
    /// An MQTT broker inside the server, for machines with none.
    pub embedded_broker: EmbeddedBrokerConfig,
}

/// `server:`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Where the REST API listens.
    pub manager_addr: SocketAddr,
    /// The token every request but `/healthz` must carry as `Authorization: Bearer <token>`;
    /// unset, the API is open to whoever reaches it.
    pub auth_token: Option<Secret>,
    /// Whether `/metrics` answers without the token.
    pub metrics_public: bool,
    /// This instance's name in default client ids, `/healthz` and status; derived from the
    /// host name and the data directory when unset (`instance`).
    pub instance_id: Option<String>,
    /// The certificate chain (PEM) every listener of the server presents: the REST API,
    /// `metrics.addr`, `profiling.addr` and `debug.flight_addr`. Set with `tls_key`, they all
    /// speak TLS only.
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1) of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Lets the server start with a token on an address other machines reach, without TLS:
    /// for when something else encrypts the traffic (a TLS-terminating proxy, a VPN).
    pub allow_insecure_token: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            manager_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            auth_token: None,
            metrics_public: false,
            instance_id: None,
            tls_cert: None,
            tls_key: None,
            allow_insecure_token: false,
        }
    }
}

impl ServerConfig {
    /// The token, when one is set and not empty.
    pub fn token(&self) -> Option<&str> {
        let token = self.auth_token.as_ref().map(Secret::expose);
        token.filter(|token| !token.is_empty())
    }

    /// The certificate and key files, when TLS is on (`load` checked they come together).
    pub fn tls_files(&self) -> Option<(&Path, &Path)> {
        Some((self.tls_cert.as_deref()?, self.tls_key.as_deref()?))
    }
}

/// A credential: read from configuration, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The credential itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("\"<redacted>\"")
    }
}

impl Config {
    /// Every address the server listens on, with its key, the REST API first.
    pub fn listeners(&self) -> impl Iterator<Item = (&'static str, SocketAddr)> {
        [
            ("server.manager_addr", Some(self.server.manager_addr)),
            ("metrics.addr", self.metrics.addr),
            ("profiling.addr", self.profiling.addr),
            ("debug.flight_addr", self.debug.flight_addr),
        ]
        .into_iter()
        .filter_map(|(key, addr)| Some((key, addr?)))
    }

    /// The first address other machines reach where requests carry the token: every
    /// listener but a metrics one left open (`server.metrics_public`).
    fn exposed_to_the_token(&self) -> Option<(&'static str, SocketAddr)> {
        let carries_token = |key: &str| !(key == "metrics.addr" && self.server.metrics_public);
        self.listeners()
            .find(|(key, addr)| !addr.ip().is_loopback() && carries_token(key))
    }
}

/// `metrics:`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// A second address serving `/metrics` only; the manager port always serves it.
    pub addr: Option<SocketAddr>,
    /// Gone: metrics are computed when scraped. Refused when set, with a message saying so.
    pub poll_interval_secs: Option<u64>,
}

/// `profiling:` CPU profiles at `/debug/pprof/profile` (builds with the `profiling` feature).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProfilingConfig {
    /// Whether profiles are served at all; off, the endpoint answers 404.
    pub enabled: bool,
    /// An address of its own to serve profiles on, instead of the manager's.
    pub addr: Option<SocketAddr>,
}

impl Default for ProfilingConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            addr: None,
        }
    }
}

/// `debug:`
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DebugConfig {
    /// Where the Arrow Flight endpoint listens (builds with the `flight` feature); unset, it
    /// does not start.
    pub flight_addr: Option<SocketAddr>,
}

/// `runtime:`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeConfig {
    /// The most messages decoded into one micro-batch.
    pub batch_size: usize,
    /// How long a micro-batch waits for more messages once one arrived; 0 never waits.
    pub linger_ms: u64,
    /// Messages buffered between a source and its pipeline; a full buffer slows the source.
    pub channel_capacity: usize,
    /// The least time between two waits of a busy QoS 0 MQTT subscription for its socket, so
    /// that what arrives meanwhile is read at once; 0 reads every message as it arrives.
    pub read_interval_ms: u64,
    /// The most bytes the open windows of one pipeline may hold; a pipeline going over it is
    /// stopped with an error saying so.
    pub max_window_state_bytes: usize,
    /// Payloads bigger than this are skipped unread and counted as decode errors.
    pub max_payload_bytes: usize,
    /// How often a pipeline with state (windows, stateful functions) checkpoints it while it
    /// changes; 0 turns checkpoints off (state then lives in memory only, and messages are
    /// acknowledged as soon as the state took them).
    pub checkpoint_interval_ms: u64,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            batch_size: 1024,
            linger_ms: 0,
            channel_capacity: 8192,
            read_interval_ms: 1,
            max_window_state_bytes: 64 << 20,
            max_payload_bytes: 1 << 20,
            checkpoint_interval_ms: 1000,
        }
    }
}

impl RuntimeConfig {
    /// `read_interval_ms` as a duration.
    pub fn read_interval(&self) -> Duration {
        Duration::from_millis(self.read_interval_ms)
    }
}

/// `logging:`
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoggingConfig {
    /// `error`, `warn`, `info`, `debug` or `trace`, or a full filter directive.
    pub level: String,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
        }
    }
}

/// `embedded_broker:`
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddedBrokerConfig {
    /// Where the embedded broker listens; unset, none starts.
    pub addr: Option<SocketAddr>,
}

/// A configuration that cannot be used; the message names the key.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

/// Loads the configuration: `file` (if given, it must exist; else `./config.yaml` if present),
/// then `environment` variables named `VELOFLUX_<SECTION>__<KEY>`, then `overrides` given as
/// `section.key` and a YAML value.
///
/// # Errors
/// A file that cannot be read or parsed, an unknown key, or a value of the wrong type.
pub fn load(
    file: Option<&Path>,
    environment: impl IntoIterator<Item = (String, String)>,
    overrides: &[(&str, String)],
) -> Result<Config, ConfigError> {
    let mut tree = read_file(file)?;
    for (name, value) in environment {
        // Only `SECTION__KEY` names are settings; other VELOFLUX_ variables are left alone.
        if let Some(key) = name
            .strip_prefix("VELOFLUX_")
            .filter(|key| key.contains("__"))
        {
            let path = key.to_ascii_lowercase().replace("__", ".");
            set(&mut tree, &path, parse_scalar(&value));
        }
    }
    for (path, value) in overrides {
        set(&mut tree, path, parse_scalar(value));
    }
    let config: Config = serde_path_to_error::deserialize(Value::Mapping(tree))
        .map_err(|error| ConfigError(format!("{}: {}", error.path(), error.inner())))?;
    if config.metrics.poll_interval_secs.is_some() {
        return Err(ConfigError(
            "metrics.poll_interval_secs is gone: metrics are computed when scraped, so nothing \
             polls; remove the setting"
                .into(),
        ));
    }
    check_tls(&config)?;
    Ok(config)
}

/// TLS comes as a certificate and its key, and a token never crosses the network in clear
/// text unless `server.allow_insecure_token` says something else protects it.
fn check_tls(config: &Config) -> Result<(), ConfigError> {
    let server = &config.server;
    match (&server.tls_cert, &server.tls_key) {
        (Some(_), None) => {
            return Err(ConfigError(
                "server.tls_cert is set but server.tls_key is not: give both PEM files, the \
             certificate and its private key"
                    .into(),
            ));
        }
        (None, Some(_)) => {
            return Err(ConfigError(
                "server.tls_key is set but server.tls_cert is not: give both PEM files, the \
             certificate and its private key"
                    .into(),
            ));
        }
        _ => {}
    }
    if server.token().is_none() || server.tls_files().is_some() || server.allow_insecure_token {
        return Ok(());
    }
    match config.exposed_to_the_token() {
        Some((key, addr)) => Err(ConfigError(format!(
            "server.auth_token is set and {key} ({addr}) is reachable from other machines, but \
             TLS is off: the token would cross the network in clear text. Set server.tls_cert \
             and server.tls_key (PEM files) to serve TLS, listen on a loopback address such as \
             127.0.0.1, or set server.allow_insecure_token: true when something else encrypts \
             the traffic (a TLS-terminating proxy, a VPN)"
        ))),
        None => Ok(()),
    }
}

fn read_file(file: Option<&Path>) -> Result<Mapping, ConfigError> {
    let default = Path::new("config.yaml");
    let path = match file {
        Some(path) => path,
        None if default.exists() => default,
        None => return Ok(Mapping::new()),
    };
    let text = std::fs::read_to_string(path)
        .map_err(|error| ConfigError(format!("{}: {error}", path.display())))?;
    match serde_yaml_ng::from_str::<Value>(&text) {
        Ok(Value::Mapping(mapping)) => Ok(mapping),
        Ok(Value::Null) => Ok(Mapping::new()),
        Ok(_) => Err(ConfigError(format!(
            "{}: expected a mapping of sections",
            path.display()
        ))),
        Err(error) => Err(ConfigError(format!("{}: {error}", path.display()))),
    }
}

/// A value from the environment or the command line, typed as YAML would type it.
fn parse_scalar(text: &str) -> Value {
    serde_yaml_ng::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

fn set(tree: &mut Mapping, path: &str, value: Value) {
    let mut node = tree;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        let key = Value::String(key.to_owned());
        if keys.peek().is_none() {
            node.insert(key, value);
            return;
        }
        let entry = node
            .entry(key)
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if !entry.is_mapping() {
            *entry = Value::Mapping(Mapping::new());
        }
        let Value::Mapping(child) = entry else { return };
        node = child;
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    #[test]
    fn a_setting_that_is_gone_is_refused_by_name() {
        let error = load(None, [], &[("metrics.poll_interval_secs", "5".into())])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("metrics.poll_interval_secs is gone"),
            "{error}"
        );
    }

    #[test]
    fn no_file_gives_working_defaults() {
        let config = load(Some(file("").path()), [], &[]).unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.server.manager_addr.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn flags_beat_environment_beat_file() {
        let yaml = file(
            "runtime:\n  batch_size: 10\n  linger_ms: 1\nserver:\n  manager_addr: 0.0.0.0:9000\n",
        );
        let environment = [
            ("VELOFLUX_RUNTIME__BATCH_SIZE".to_owned(), "20".to_owned()),
            ("VELOFLUX_RUNTIME__LINGER_MS".to_owned(), "2".to_owned()),
            ("UNRELATED".to_owned(), "x".to_owned()),
            (
                "VELOFLUX_TEST_MQTT".to_owned(),
                "tcp://elsewhere".to_owned(),
            ),
        ];
        let overrides = [("runtime.batch_size", "30".to_owned())];
        let config = load(Some(yaml.path()), environment, &overrides).unwrap();
        assert_eq!(config.runtime.batch_size, 30);
        assert_eq!(config.runtime.linger_ms, 2);
        assert_eq!(config.server.manager_addr.to_string(), "0.0.0.0:9000");
    }

    #[test]
    fn errors_name_the_key_and_the_expected_type() {
        let yaml = file("runtime:\n  batch_size: lots\n");
        let error = load(Some(yaml.path()), [], &[]).unwrap_err().to_string();
        assert!(error.starts_with("invalid configuration: runtime.batch_size: invalid type: string \"lots\", expected usize"), "{error}");
        let yaml = file("runtime:\n  batchsize: 1\n");
        let error = load(Some(yaml.path()), [], &[]).unwrap_err().to_string();
        assert!(
            error.contains("runtime.batchsize: unknown field `batchsize`, expected one of"),
            "{error}"
        );
        let env = [(
            "VELOFLUX_SERVER__MANAGER_ADDR".to_owned(),
            "nowhere".to_owned(),
        )];
        let error = load(Some(file("").path()), env, &[])
            .unwrap_err()
            .to_string();
        assert!(error.contains("server.manager_addr"), "{error}");
    }

    fn server(settings: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let overrides: Vec<_> = settings
            .iter()
            .map(|(key, value)| (*key, (*value).to_owned()))
            .collect();
        load(Some(file("").path()), [], &overrides)
    }

    #[test]
    fn a_token_beyond_loopback_needs_tls_or_an_explicit_waiver() {
        let exposed = [
            ("server.auth_token", "t0ken"),
            ("server.manager_addr", "0.0.0.0:8080"),
        ];
        let error = server(&exposed).unwrap_err().to_string();
        for key in [
            "server.auth_token",
            "server.manager_addr (0.0.0.0:8080)",
            "server.tls_cert",
            "server.allow_insecure_token",
        ] {
            assert!(error.contains(key), "{key} in {error}");
        }
        let waived = [&exposed[..], &[("server.allow_insecure_token", "true")]].concat();
        assert!(server(&waived).is_ok());
        let encrypted = [
            &exposed[..],
            &[("server.tls_cert", "c.pem"), ("server.tls_key", "k.pem")],
        ]
        .concat();
        assert!(server(&encrypted).is_ok());
        assert!(server(&[("server.manager_addr", "0.0.0.0:8080")]).is_ok());
        assert!(server(&[("server.auth_token", "t0ken")]).is_ok());
    }

    #[test]
    fn every_listener_carrying_the_token_counts_but_an_open_metrics_port() {
        let token = ("server.auth_token", "t0ken");
        let flight = [token, ("debug.flight_addr", "0.0.0.0:50051")];
        let error = server(&flight).unwrap_err().to_string();
        assert!(
            error.contains("debug.flight_addr (0.0.0.0:50051)"),
            "{error}"
        );
        let metrics = [token, ("metrics.addr", "0.0.0.0:9898")];
        assert!(server(&metrics).is_err());
        let public = [&metrics[..], &[("server.metrics_public", "true")]].concat();
        assert!(server(&public).is_ok());
    }

    #[test]
    fn a_certificate_needs_its_key_and_the_reverse() {
        let error = server(&[("server.tls_cert", "c.pem")]).unwrap_err();
        assert!(
            error.to_string().contains("server.tls_key is not"),
            "{error}"
        );
        let error = server(&[("server.tls_key", "k.pem")]).unwrap_err();
        assert!(
            error.to_string().contains("server.tls_cert is not"),
            "{error}"
        );
    }

    #[test]
    fn the_shipped_config_file_loads() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/config.yaml");
        assert_eq!(load(Some(&shipped), [], &[]).unwrap(), Config::default());
    }
}
