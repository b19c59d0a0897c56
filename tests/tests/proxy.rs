//! The fault-injecting proxy really passes, refuses, delays and truncates TCP traffic.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on unexpected input"
)]

use std::time::{Duration, Instant};

use pico_system_tests::proxy::{Fault, FaultProxy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An upstream that answers every connection with 1,000 bytes after reading a line.
async fn upstream() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 5];
                if socket.read_exact(&mut request).await.is_ok() {
                    let _ = socket.write_all(&[b'x'; 1000]).await;
                }
            });
        }
    });
    address
}

async fn exchange(proxy: &FaultProxy) -> Vec<u8> {
    let mut socket = TcpStream::connect(proxy.address()).await.unwrap();
    let _ = socket.write_all(b"hello").await;
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer).await;
    answer
}

#[tokio::test]
async fn each_fault_does_what_it_says() {
    let proxy = FaultProxy::start(upstream().await).await.unwrap();
    assert_eq!(exchange(&proxy).await.len(), 1000);

    proxy.set(Fault::Refuse);
    assert!(exchange(&proxy).await.is_empty());

    proxy.set(Fault::TruncateResponse(100));
    assert_eq!(exchange(&proxy).await.len(), 100);

    proxy.set(Fault::Delay(Duration::from_millis(300)));
    let started = Instant::now();
    assert_eq!(exchange(&proxy).await.len(), 1000);
    assert!(started.elapsed() >= Duration::from_millis(300));

    assert_eq!(proxy.connections(), 4);
}
