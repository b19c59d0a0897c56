//! A TCP proxy on loopback whose behaviour the test changes while traffic flows.
//!
//! Modes cover what a Province network does to a node's connection to the hub: pass traffic,
//! refuse connections, hold them (delay), or cut the response after some bytes (truncate). The
//! proxy counts connections so a test can tell that traffic really went through it.
//!
//! Changing the fault cuts every connection opened under the previous one (as a network
//! change would), so that a client's kept-alive connection cannot outlive the fault.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does to each new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward both ways unchanged.
    Pass,
    /// Accept, then close at once without forwarding (a reset connection).
    Refuse,
    /// Wait this long before forwarding anything.
    Delay(Duration),
    /// Forward the request, then only the first `n` bytes of the response, then close.
    TruncateResponse(usize),
}

/// A running proxy. Dropping it stops accepting new connections.
#[derive(Debug)]
pub struct FaultProxy {
    address: SocketAddr,
    fault: watch::Sender<Fault>,
    connections: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy on 127.0.0.1 (a free port) forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (fault, watcher) = watch::channel(Fault::Pass);
        let connections = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&connections);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::Relaxed);
                let mut changes = watcher.clone();
                let fault = *changes.borrow_and_update();
                tokio::spawn(async move {
                    tokio::select! {
                        () = handle(client, upstream, fault) => {}
                        _ = changes.changed() => {}
                    }
                });
            }
        });
        Ok(FaultProxy {
            address,
            fault,
            connections,
            task,
        })
    }

    /// Where clients connect.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://` URL of the proxy.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Changes the behaviour for connections accepted from now on, and closes the connections
    /// accepted before.
    pub fn set(&self, fault: Fault) {
        self.fault.send_replace(fault);
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(mut client: TcpStream, upstream: SocketAddr, fault: Fault) {
    match fault {
        Fault::Refuse => {
            let _ = client.shutdown().await;
        }
        Fault::Pass => forward(client, upstream).await,
        Fault::Delay(pause) => {
            tokio::time::sleep(pause).await;
            forward(client, upstream).await;
        }
        Fault::TruncateResponse(limit) => truncate(client, upstream, limit).await,
    }
}

async fn forward(mut client: TcpStream, upstream: SocketAddr) {
    if let Ok(mut server) = TcpStream::connect(upstream).await {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    }
}

/// Forwards the request whole but only `limit` bytes of the response, then closes both ends:
/// the server did the work, the client never learns the outcome.
async fn truncate(client: TcpStream, upstream: SocketAddr, limit: usize) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upload = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
    });
    let mut sent = 0;
    let mut buffer = vec![0u8; 16 * 1024];
    while sent < limit {
        match server_read.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let n = n.min(limit - sent);
                if client_write.write_all(&buffer[..n]).await.is_err() {
                    break;
                }
                sent += n;
            }
        }
    }
    let _ = client_write.shutdown().await;
    upload.abort();
}
