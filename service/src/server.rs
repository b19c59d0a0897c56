//! Binding and serving: bind first (port 0 in tests) so the address is known before anything
//! runs, then serve until the shutdown future resolves, finishing in-flight requests.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::serve::ListenerExt as _;
use tokio::net::TcpListener;

/// A bound listener waiting for its router.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
}

impl Server {
    /// Binds `addr` (`127.0.0.1:0` picks a free port).
    pub async fn bind(addr: &str) -> std::io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        Server::from_listener(listener)
    }

    /// Wraps an already bound listener.
    pub fn from_listener(listener: TcpListener) -> std::io::Result<Server> {
        let local_addr = listener.local_addr()?;
        Ok(Server {
            listener,
            local_addr,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves `router` until `shutdown` resolves, then waits for in-flight requests.
    pub async fn run(
        self,
        router: Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // Without TCP_NODELAY small responses can wait ~40 ms for Nagle + delayed ACK.
        let listener = self.listener.tap_io(|tcp| {
            let _ignored = tcp.set_nodelay(true);
        });
        tracing::info!(listen = %self.local_addr, "serving");
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
}

/// Resolves on Ctrl-C or SIGTERM (what systemd sends on stop).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ignored = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
