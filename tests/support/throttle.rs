//! A TCP proxy that forwards to a broker at a fixed byte rate towards it: a real, slow
//! network link for a sink.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use veloflux_testkit::BrokerAddress;

/// Listens on a free port and forwards each connection to the broker at `broker_url`,
/// letting through at most `bytes_per_second` towards it (replies flow freely). Returns the
/// proxy's address.
pub(crate) async fn throttled_proxy(broker_url: &str, bytes_per_second: usize) -> SocketAddr {
    let broker = BrokerAddress::parse(broker_url).unwrap_or_else(|error| panic!("{error}"));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let target = (broker.host.as_str(), broker.port);
            let Ok(server) = TcpStream::connect(target).await else {
                continue;
            };
            tokio::spawn(relay(client, server, bytes_per_second));
        }
    });
    addr
}

async fn relay(client: TcpStream, server: TcpStream, bytes_per_second: usize) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = async move {
        // Ten slices a second, each of a tenth of the rate.
        let slice = (bytes_per_second / 10).max(1);
        let mut buffer = vec![0; slice];
        while let Ok(read) = client_read.read(&mut buffer).await {
            if read == 0 || server_write.write_all(&buffer[..read]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let downstream = async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
    };
    tokio::join!(upstream, downstream);
}
