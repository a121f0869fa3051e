//! `tsunagu serve`: run the hub.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use crate::crypto::tls;
use crate::directory::SignedDirectory;
use crate::hub::{self, Hub, HubConfig};
use crate::i18n::Lang;
use crate::store;
use anyhow::Context;
use clap::Args;
use tokio::net::TcpListener;

#[derive(Args)]
pub struct ServeArgs {
    /// 設定ファイル（TOML） / config file (TOML)
    #[arg(long)]
    config: Option<PathBuf>,
    /// 待ち受けアドレス / listen address [default: 127.0.0.1:8443]
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// データベース URL（sqlite:PATH または postgres://…） / database URL
    #[arg(long, env = "TSUNAGU_DATABASE_URL")]
    database_url: Option<String>,
    /// 機関ディレクトリ（TOML） / agency directory (TOML)
    #[arg(long)]
    directory: Option<PathBuf>,
    /// 機関のクライアント証明書を発行した CA / CA of agency client certificates
    #[arg(long)]
    ca: Option<PathBuf>,
    /// ハブのサーバ証明書 / the hub's server certificate
    #[arg(long)]
    cert: Option<PathBuf>,
    /// ハブのサーバ鍵 / the hub's server key
    #[arg(long)]
    key: Option<PathBuf>,
    /// 暗号文の上限（バイト） / largest ciphertext accepted, in bytes
    #[arg(long)]
    max_envelope_bytes: Option<usize>,
    /// 同時接続数の上限 / most simultaneous connections
    #[arg(long)]
    max_connections: Option<usize>,
}

impl ServeArgs {
    /// Defaults, then the file, then flags.
    fn config(&self) -> anyhow::Result<HubConfig> {
        let mut config = match &self.config {
            Some(path) => HubConfig::load(path)?,
            None => HubConfig::default(),
        };
        if let Some(listen) = self.listen {
            config.listen = listen;
        }
        if let Some(url) = &self.database_url {
            config.database_url = url.clone();
        }
        if let Some(directory) = &self.directory {
            config.directory = directory.clone();
        }
        let tls = &mut config.tls;
        for (flag, path) in [
            (&self.ca, &mut tls.ca),
            (&self.cert, &mut tls.cert),
            (&self.key, &mut tls.key),
        ] {
            if let Some(value) = flag {
                *path = value.clone();
            }
        }
        if let Some(n) = self.max_envelope_bytes {
            config.limits.max_envelope_bytes = n;
        }
        if let Some(n) = self.max_connections {
            config.limits.max_connections = n;
        }
        Ok(config)
    }
}

pub fn run(args: ServeArgs, lang: Lang) -> anyhow::Result<()> {
    let config = args.config()?;
    if config.uses_example_certs() {
        eprintln!(
            "{}",
            lang.pick(
                "⚠ 警告: certs-example/ の例示用の鍵を使っています。これらは公開済みで、本番では絶対に使わないでください。",
                "⚠ WARNING: using the EXAMPLE keys in certs-example/. They are public: never use them in production."
            )
        );
        tracing::warn!("serving with the published example certificates and keys");
    }
    tokio::runtime::Runtime::new()?.block_on(serve(config, lang))
}

async fn serve(config: HubConfig, lang: Lang) -> anyhow::Result<()> {
    let tls = tls::server_config_from_files(&config.tls.ca, &config.tls.cert, &config.tls.key)
        .with_context(|| {
            lang.pick(
                "TLS の証明書と鍵を読み込めません",
                "cannot load the TLS certificate and key",
            )
        })?;
    // The hub serves the directory to nodes that refuse it unless the CA
    // signed it: a hub with a bad signature must not start at all.
    let directory = SignedDirectory::load(&config.directory, &config.tls.ca).with_context(|| {
        lang.pick(
            "機関ディレクトリを読み込めないか、CA の署名が確認できません（署名は `tsunagu admin directory sign` で作成します）",
            "cannot load the agency directory or verify its CA signature (sign it with `tsunagu admin directory sign`)",
        )
    })?;
    let signing = crate::crypto::keys::load_signing_key(&config.signing_key)
        .map_err(anyhow::Error::from)
        .and_then(|key| Ok(directory.directory().check_hub_key(&key).map(|()| key)?))
        .with_context(|| {
            lang.pick(
                "ハブの署名鍵を読み込めません",
                "cannot load the hub's signing key",
            )
        })?;
    let store = store::open(&config.database_url).await.with_context(|| {
        format!(
            "{}: {}",
            lang.pick("データベースを開けません", "cannot open the database"),
            redact(&config.database_url)
        )
    })?;
    announce_epoch(&*store).await?;
    let listener = TcpListener::bind(config.listen).await.with_context(|| {
        format!(
            "{} {}",
            lang.pick("待ち受けできません:", "cannot listen on"),
            config.listen
        )
    })?;
    let addr = listener.local_addr()?;
    // Before the ready line: a SIGHUP sent once it is printed must reload,
    // not end the process (the default action).
    let reload = reload_on_hangup()?;
    tracing::info!(%addr, agencies = directory.directory().agencies().len(), directory_version = directory.version(), "hub listening");
    let hub = Hub::new(store, directory, signing, config.limits.clone())
        .with_deadlines(config.deadlines.clone())
        .with_retention(config.retention.clone());
    reload(hub.clone(), config.directory.clone(), config.tls.ca.clone());
    hub.note_hub_certificate(&config.tls.cert);
    // Bound before the ready line: a hub that cannot serve its health checks
    // must not say it is ready.
    operations(&config, &hub, lang).await?;
    // Scripts and tests wait for this line to know the hub is ready.
    println!("listening on https://{addr}");
    std::io::stdout().flush()?;
    hub::serve(listener, hub, tls, super::shutdown_signal()).await?;
    Ok(())
}

/// The database's epoch, made at the first start on a new or restored
/// database (nodes resume by themselves when it changes: §6 of the docs).
async fn announce_epoch(store: &dyn store::HubStore) -> anyhow::Result<()> {
    let (epoch, made) = store.epoch().await?;
    if made {
        tracing::warn!(epoch = %epoch.id, since = %epoch.since, "this database had no epoch (new, restored from a backup, or from before epochs): began one; nodes that saw another resume from what it holds");
    } else {
        tracing::info!(epoch = %epoch.id, "database epoch");
    }
    Ok(())
}

/// SIGHUP re-reads the directory and its signature (`systemctl reload`):
/// the hub checks it as at start and puts it in force if it is newer; a
/// refused one is logged as an ERROR and changes nothing. Returns the
/// function that starts listening once the hub exists.
#[cfg(unix)]
fn reload_on_hangup() -> anyhow::Result<impl FnOnce(Hub, PathBuf, PathBuf)> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?;
    Ok(move |hub: Hub, directory: PathBuf, ca: PathBuf| {
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                tracing::info!(directory = %directory.display(), "SIGHUP: reloading the directory");
                // The outcome is logged and audited by the hub itself.
                let _ = hub.reload_directory(&directory, &ca).await;
            }
        });
    })
}

#[cfg(not(unix))]
fn reload_on_hangup() -> anyhow::Result<impl FnOnce(Hub, PathBuf, PathBuf)> {
    Ok(|_: Hub, _: PathBuf, _: PathBuf| {})
}

/// Start the operations listener if `[metrics]` asks for one; a port that
/// cannot be bound stops the hub (a load balancer would otherwise see it
/// as down, or another process would answer for it).
async fn operations(config: &HubConfig, hub: &Hub, lang: Lang) -> anyhow::Result<()> {
    let Some(metrics) = config.metrics.clone() else {
        tracing::info!("no [metrics] section: no operations listener (/metrics, /readyz)");
        return Ok(());
    };
    let listener = TcpListener::bind(metrics.listen).await.with_context(|| {
        format!(
            "{} {}",
            lang.pick(
                "監視用ポート（[metrics] listen）で待ち受けできません:",
                "cannot listen for operations ([metrics] listen) on"
            ),
            metrics.listen
        )
    })?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "operations listening (/metrics, /healthz, /readyz)");
    if !addr.ip().is_loopback() {
        // Allowed (a container network, a monitoring VLAN), but it is plain
        // HTTP without client certificates: say so where it is decided.
        tracing::warn!(%addr, "the operations listener is not on loopback: it is plain HTTP without client certificates; let only Prometheus and the load balancer reach it");
    }
    tokio::spawn(hub::serve_operations(listener, hub.clone(), metrics));
    Ok(())
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}
