//! A TCP proxy in front of PostgreSQL that a test can take down and bring back: the way to make
//! the database "restart" or "be down" for one test without touching the shared cluster.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
};

pub struct Proxy {
    pub port: u16,
    up: Arc<AtomicBool>,
    /// Bumped on every cut: open connections end when they see a new value.
    cuts: watch::Sender<u64>,
}

impl Proxy {
    /// A proxy to `target`, up or down from the start. While down it accepts connections and
    /// closes them at once, as a restarting server does.
    pub async fn start(target: SocketAddr, up: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("binding the proxy: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("{e}"))
            .port();
        let up = Arc::new(AtomicBool::new(up));
        let (cuts, _) = watch::channel(0u64);
        let (state, sender) = (up.clone(), cuts.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if !state.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut = sender.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let mut client = client;
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self { port, up, cuts }
    }

    /// Drops every open connection and refuses new ones, as a database going down does.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// `url` (a postgres:// URL to the cluster) pointed at the proxy instead.
    pub fn url_for(&self, url: &str) -> String {
        let mut url = url::Url::parse(url).unwrap_or_else(|e| panic!("{e}"));
        url.set_host(Some("127.0.0.1"))
            .unwrap_or_else(|e| panic!("{e}"));
        url.set_port(Some(self.port))
            .unwrap_or_else(|()| panic!("setting the port"));
        url.to_string()
    }
}

/// Where the test cluster listens, from a postgres:// URL.
pub fn cluster_address(url: &str) -> SocketAddr {
    let url = url::Url::parse(url).unwrap_or_else(|e| panic!("{e}"));
    let host = url.host_str().unwrap_or("127.0.0.1");
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    format!("{host}:{}", url.port().unwrap_or(5432))
        .parse()
        .unwrap_or_else(|e| panic!("the test cluster's address: {e}"))
}
