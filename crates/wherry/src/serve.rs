//! `wherry serve`: the HTTP API and the web UI, configured from flags, the
//! environment and a TOML file.

use anyhow::Result;

use crate::store::{Database, runtime};

/// Arguments of `wherry serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: $WHERRY_LISTEN, else the config
    /// file's `listen`, else 127.0.0.1:8080].
    #[arg(long)]
    listen: Option<String>,
    /// Configuration file (TOML; see docs/api.md) [default: $WHERRY_CONFIG].
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// Log one JSON line per request on standard error (route templates,
    /// statuses and timings; never personal data).
    #[arg(long)]
    log_requests: bool,
    #[command(flatten)]
    database: Database,
}

/// Runs `wherry serve` until Ctrl-C or SIGTERM.
pub fn serve(a: ServeArgs) -> Result<()> {
    let config_path = a
        .config
        .clone()
        .or_else(|| std::env::var_os("WHERRY_CONFIG").map(Into::into));
    let config = match &config_path {
        Some(p) => wherry_server::config::Config::load(p).map_err(anyhow::Error::msg)?,
        None => wherry_server::config::Config::default(),
    };
    let listen = a
        .listen
        .clone()
        .or_else(|| std::env::var("WHERRY_LISTEN").ok())
        .or_else(|| config.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let database = a.database.or_url(config.database.clone());
    runtime().block_on(async {
        let store = database.open_initialised().await?;
        let m = config.matcher;
        let matcher = match wherry_hub::Matcher::open(store.clone(), m.review()).await {
            Ok(m) => Some(m),
            Err(e) => {
                println!("Search, partner push and $match are off until the store is linked: {e}");
                None
            }
        };
        let policy = config.policy().map_err(anyhow::Error::msg)?;
        let mut state = wherry_server::AppState::with_policy(
            store.clone(),
            policy,
            matcher,
            wherry_core::clock::Clock::system(),
        );
        state.limiter = wherry_access::limits::RateLimiter::new(config.limits);
        state.auth_failures = wherry_access::limits::RateLimiter::new(config.auth_failures());
        state.log_requests = a.log_requests;
        state.secure_cookies = config.secure_cookies();
        state.metrics_token = config.metrics_token.clone();
        state.integration_secrets = config.integrations.clone();
        state.mqtt = config.mqtt.clone();
        state.care_webhook = config.care_webhook.as_ref().map(|c| c.webhook());
        state.fire_weights = config.insight.fire_weights().map_err(anyhow::Error::msg)?;
        state.wards = config.insight.wards().map_err(anyhow::Error::msg)?;
        if let Some(l) = config.session_lifetime() {
            state.session_lifetime = l;
        }
        if let Some(o) = config.oidc.clone() {
            if o.redirect_uri.is_some() {
                // The web UI signs in through the provider too.
                let settings = o.clone();
                let ends = tokio::task::spawn_blocking(move || {
                    wherry_server::ui::oidc::Endpoints::resolve(&settings)
                })
                .await?
                .map_err(anyhow::Error::msg)?;
                state.oidc_endpoints = Some(ends);
            }
            state.oidc = Some(wherry_access::oidc::Verifier::new(o)?);
        }
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|e| anyhow::anyhow!("{}", listen_error(&listen, &e)))?;
        let at = listener.local_addr()?;
        // Printed once listening, so a script can wait for this line.
        println!("Serving the Wherry API on http://{at}/ (Ctrl-C stops it)");
        use std::io::Write as _;
        std::io::stdout().flush()?;
        wherry_server::serve_on(listener, std::sync::Arc::new(state), m.reload_seconds)
            .await
            .map_err(|e| anyhow::anyhow!("serving on {at}: {e}"))?;
        store.close().await;
        Ok(())
    })
}

/// Why `--listen` could not be used, and what to give instead.
pub fn listen_error(listen: &str, e: &std::io::Error) -> String {
    if listen.parse::<u16>().is_ok() {
        return format!(
            "cannot listen on {listen:?}: --listen takes an address with its port, such as 127.0.0.1:{listen} (or 0.0.0.0:{listen} for every interface)"
        );
    }
    match e.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "cannot listen on {listen}: the port is in use (is a demo or another server running there?); stop it, or pass --listen 127.0.0.1:PORT"
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "cannot listen on {listen}: permission denied (ports below 1024 need privileges); use a port above 1024"
        ),
        _ => format!(
            "cannot listen on {listen} ({e}): give an address and port such as 127.0.0.1:8080"
        ),
    }
}
