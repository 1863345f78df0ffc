//! TLS for the server's own listeners (`server.tls_cert` and `server.tls_key`): the REST API,
//! the metrics and profiling addresses and the Arrow Flight endpoint all present the same
//! certificate, through rustls on ring (the crate's one provider: no C toolchain needed).
//!
//! A [`TlsListener`] runs each handshake in a task of its own, bounded by
//! [`HANDSHAKE_TIMEOUT`], so that a client stalling mid-handshake delays nobody else; it hands
//! on only connections that completed one. axum serves it as it serves a `TcpListener`, and
//! tonic takes its [`TlsListener::incoming`] stream.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use futures_util::stream;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::server::TlsStream;

/// How long a client may take over its TLS handshake before the connection is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections through their handshake that wait to be served. The server takes them as
/// fast as they come; the bound only keeps a stalled server from holding them without end.
const ACCEPTED_BACKLOG: usize = 64;

/// The configuration keys this module reads, as errors name them.
const CERT_KEY: &str = "server.tls_cert";
const KEY_KEY: &str = "server.tls_key";

/// A certificate file or key file that cannot be used; the message names the key and the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file cannot be read.
    #[error("{key}: cannot read {}: {error}", path.display())]
    Read {
        /// The configuration key that names the file.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it cannot be read.
        error: io::Error,
    },
    /// The file holds no PEM item of the kind expected, or a broken one.
    #[error("{key}: {} holds no usable PEM {expected}: {error}", path.display())]
    Pem {
        /// The configuration key that names the file.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// What it should hold.
        expected: &'static str,
        /// What is wrong with it.
        error: pem::Error,
    },
    /// The certificate and the key do not make a pair rustls can serve.
    #[error(
        "{CERT_KEY} and {KEY_KEY}: {} and {} do not make a usable certificate and key: {error}",
        cert.display(),
        key.display()
    )]
    Pair {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// Why rustls refused them.
        error: String,
    },
}

/// What a listener speaks inside TLS, announced by ALPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1: the REST API, metrics and profiles (axum, built for HTTP/1 only).
    Http1,
    /// HTTP/2, which gRPC clients require ALPN to confirm: the Arrow Flight endpoint.
    Grpc,
}

impl Protocol {
    fn alpn(self) -> Vec<Vec<u8>> {
        match self {
            Self::Http1 => vec![b"http/1.1".to_vec()],
            Self::Grpc => vec![b"h2".to_vec()],
        }
    }
}

/// A certificate chain and its key, checked and ready to serve.
#[derive(Debug, Clone)]
pub struct ServerTls {
    config: Arc<ServerConfig>,
}

impl ServerTls {
    /// Reads the PEM certificate chain at `cert` and the PEM private key (PKCS#8, PKCS#1 or
    /// SEC1) at `key`.
    ///
    /// # Errors
    /// A file that cannot be read or holds no certificate (no key), or a key that is not the
    /// certificate's.
    pub fn load(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let chain = read_pem(CERT_KEY, cert, "certificate", |bytes| {
            let chain = CertificateDer::pem_slice_iter(bytes).collect::<Result<Vec<_>, _>>()?;
            if chain.is_empty() {
                return Err(pem::Error::NoItemsFound);
            }
            Ok(chain)
        })?;
        let private_key = read_pem(KEY_KEY, key, "private key", PrivateKeyDer::from_pem_slice)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let pair = |error: rustls::Error| TlsError::Pair {
            cert: cert.to_owned(),
            key: key.to_owned(),
            error: match error {
                rustls::Error::InconsistentKeys(_) => {
                    "the private key is not the certificate's".to_owned()
                }
                other => other.to_string(),
            },
        };
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(pair)?
            .with_no_client_auth()
            .with_single_cert(chain, private_key)
            .map_err(pair)?;
        Ok(Self {
            config: Arc::new(config),
        })
    }

    /// Serves TLS speaking `protocol` on `tcp`, handshakes running in the background.
    ///
    /// # Errors
    /// When the address `tcp` is bound to cannot be read.
    pub fn listen(&self, tcp: TcpListener, protocol: Protocol) -> io::Result<TlsListener> {
        let local_addr = tcp.local_addr()?;
        let mut config = ServerConfig::clone(&self.config);
        config.alpn_protocols = protocol.alpn();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (sender, accepted) = mpsc::channel(ACCEPTED_BACKLOG);
        tokio::spawn(accept(tcp, acceptor, sender));
        Ok(TlsListener {
            accepted,
            local_addr,
        })
    }
}

/// A connection through its handshake, and the client's address.
type Accepted = (TlsStream<TcpStream>, SocketAddr);

/// Connections through their TLS handshake; see [`ServerTls::listen`].
#[derive(Debug)]
pub struct TlsListener {
    accepted: mpsc::Receiver<Accepted>,
    local_addr: SocketAddr,
}

impl TlsListener {
    /// The connections as the stream tonic serves.
    pub fn incoming(self) -> impl Stream<Item = io::Result<TlsStream<TcpStream>>> {
        stream::unfold(self.accepted, |mut accepted| async move {
            let (connection, _) = accepted.recv().await?;
            Some((Ok(connection), accepted))
        })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> Accepted {
        match self.accepted.recv().await {
            Some(accepted) => accepted,
            // The accepting task holds its sender as long as it runs, which is for good.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local_addr)
    }
}

/// Serves `app` on `listener`, through TLS when `tls` is given, until `shutdown` resolves.
///
/// # Errors
/// When serving fails.
pub async fn serve_http(
    listener: TcpListener,
    tls: Option<ServerTls>,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    match tls {
        Some(tls) => {
            let listener = tls.listen(listener, Protocol::Http1)?;
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}

/// Reads the PEM file at `path` (named `key` in the configuration) with `parse`.
fn read_pem<T>(
    key: &'static str,
    path: &Path,
    expected: &'static str,
    parse: impl FnOnce(&[u8]) -> Result<T, pem::Error>,
) -> Result<T, TlsError> {
    let bytes = std::fs::read(path).map_err(|error| TlsError::Read {
        key,
        path: path.to_owned(),
        error,
    })?;
    parse(&bytes).map_err(|error| TlsError::Pem {
        key,
        path: path.to_owned(),
        expected,
        error,
    })
}

/// Accepts connections on `tcp` until the listener is dropped, each handshake in a task.
async fn accept(mut tcp: TcpListener, acceptor: TlsAcceptor, sender: mpsc::Sender<Accepted>) {
    loop {
        // axum's accept retries what fails (a full descriptor table waits a second first).
        let (stream, peer) = tokio::select! {
            () = sender.closed() => return,
            accepted = axum::serve::Listener::accept(&mut tcp) => accepted,
        };
        let acceptor = acceptor.clone();
        let sender = sender.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(connection)) => {
                    let _ = sender.send((connection, peer)).await;
                }
                Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

#[cfg(test)]
mod tests;
