//! The node's configuration: one struct, layered defaults → TOML file → `PICO_NODE_*`
//! environment variables (see `pico_service::config`). The defaults work with no file at all:
//! everything lives in the data directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use pico_service::config::ConfigError;
use pico_service::http::HttpSettings;
use pico_service::observe::LogFormat;
use serde::{Deserialize, Serialize};

use crate::helpdesk::settings::HelpdeskSettings;

/// Prefix of the environment overrides.
pub const ENV_PREFIX: &str = "PICO_NODE";
/// Environment variable naming the config file (read by clap, not a config key).
pub const ENV_CONFIG_FILE: &str = "PICO_NODE_CONFIG";

/// The example configuration shipped in `deploy/node.example.toml` and printed by
/// `pico-node config example`.
pub const EXAMPLE: &str = include_str!("../../deploy/node.example.toml");

/// Everything a node can be configured with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// Directory holding `node.db`, `node.key` and `node.lock`.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub listen: String,
    /// Public base URL users reach the node at. When it starts with `https://`, cookies are
    /// marked `Secure` (the node usually sits behind a TLS-terminating reverse proxy).
    pub public_url: String,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// `RUST_LOG`-style filter.
    pub log_filter: String,
    /// SQLite connections in the pool.
    pub db_pool_size: u32,
    /// Web session lifetime.
    pub session_hours: u32,
    /// HTTP limits.
    pub http: HttpSettings,
    /// Help Desk module settings.
    pub helpdesk: HelpdeskSettings,
    /// Publishing to the UPI hub.
    pub federation: FederationSettings,
    /// The open-data catalogue (`[dati]`).
    pub dati: DatiSettings,
}

/// The open-data catalogue's settings (`[dati]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatiSettings {
    /// The Province's code in the Indice delle Pubbliche Amministrazioni (publisher and rights
    /// holder of its datasets in DCAT-AP_IT). Empty: `p_` and the Province's sigla in lower
    /// case (`p_tv`), which is the IPA code of most Provinces.
    pub ipa_code: String,
    /// The e-mail address proposed as contact point of a dataset whose metadata do not say one.
    pub contact_email: String,
}

/// Publishing settings (`[federation]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FederationSettings {
    /// Base URL of the UPI hub (`https://hub.example.it`). Empty: publishing is off (entries
    /// of federated datasets are still signed and queued, and leave once a hub is set).
    pub hub_url: String,
    /// How often the publisher looks for entries written by other processes (the CLI), in
    /// milliseconds; changes made through the API wake it at once.
    pub poll_interval_ms: u64,
    /// Seconds between transparency checks (checkpoint, consistency, inclusion).
    pub check_interval_secs: u64,
    /// First retry delay after a failed push, in milliseconds (doubled on each failure,
    /// with full jitter).
    pub retry_base_ms: u64,
    /// Longest retry delay, in seconds.
    pub retry_max_secs: u64,
    /// Timeout of one request to the hub, in seconds.
    pub request_timeout_secs: u64,
    /// How long one inbox pull of the thematic networks waits at the hub for a new post
    /// (long-poll), in seconds; at most 60. 0 polls every `poll_interval_ms` instead.
    pub inbox_wait_secs: u64,
}

impl Default for FederationSettings {
    fn default() -> Self {
        FederationSettings {
            hub_url: String::new(),
            poll_interval_ms: 5_000,
            check_interval_secs: 60,
            retry_base_ms: 500,
            retry_max_secs: 300,
            request_timeout_secs: 60,
            inbox_wait_secs: 30,
        }
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            data_dir: PathBuf::from("/var/lib/pico-node"),
            listen: "127.0.0.1:8080".to_owned(),
            public_url: "http://127.0.0.1:8080".to_owned(),
            log_format: LogFormat::Text,
            log_filter: "info".to_owned(),
            db_pool_size: 8,
            session_hours: 8,
            http: HttpSettings::default(),
            helpdesk: HelpdeskSettings::default(),
            federation: FederationSettings::default(),
            dati: DatiSettings::default(),
        }
    }
}

impl NodeConfig {
    /// Loads the layered configuration from `file` and the process environment.
    pub fn load(file: Option<&Path>) -> Result<NodeConfig, ConfigError> {
        let config: NodeConfig =
            pico_service::config::load(file, ENV_PREFIX, &[ENV_CONFIG_FILE], std::env::vars())?;
        let problems = config.problems();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError { problems })
        }
    }

    /// Problems with values that deserialised fine.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = self.http.problems();
        if self.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!(
                "listen: {:?} non è un indirizzo come 127.0.0.1:8080",
                self.listen
            ));
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            problems.push(format!(
                "public_url: {:?} deve iniziare con http:// o https://",
                self.public_url
            ));
        }
        if self.db_pool_size == 0 {
            problems.push("db_pool_size deve essere almeno 1".to_owned());
        }
        if self.session_hours == 0 {
            problems.push("session_hours deve essere almeno 1".to_owned());
        }
        problems.extend(self.helpdesk.problems());
        let hub = &self.federation.hub_url;
        if !(hub.is_empty() || hub.starts_with("http://") || hub.starts_with("https://")) {
            problems.push(format!(
                "federation.hub_url: {hub:?} deve essere vuoto o iniziare con https:// (o http:// per le prove)"
            ));
        }
        if self.federation.poll_interval_ms == 0
            || self.federation.check_interval_secs == 0
            || self.federation.retry_base_ms == 0
            || self.federation.retry_max_secs == 0
            || self.federation.request_timeout_secs == 0
        {
            problems.push(
                "gli intervalli e i tempi di attesa di [federation] devono essere almeno 1"
                    .to_owned(),
            );
        }
        if self.federation.inbox_wait_secs > 60 {
            problems.push(
                "federation.inbox_wait_secs deve essere al massimo 60 (l'hub non attende di più)"
                    .to_owned(),
            );
        }
        problems
    }

    /// Settings that are valid but probably not what the operator meant, for a warning at
    /// start-up.
    pub fn warnings(&self) -> Vec<String> {
        let loopback = self
            .listen
            .parse::<SocketAddr>()
            .is_ok_and(|addr| addr.ip().is_loopback());
        let mut warnings = Vec::new();
        if loopback && self.secure_cookies() && !self.http.trust_forwarded_for {
            warnings.push(
                "the node listens on loopback behind an https public_url (a reverse proxy) but \
                 http.trust_forwarded_for is false: every client looks like the proxy to the login \
                 throttling and the rate limits; set it to true (see deploy/README.md)"
                    .to_owned(),
            );
        }
        warnings
    }

    /// Whether cookies must carry `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The SQLite database file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("node.db")
    }

    /// The node's signing key.
    pub fn key_path(&self) -> PathBuf {
        self.data_dir.join("node.key")
    }

    /// The lock file held by a running node.
    pub fn lock_path(&self) -> PathBuf {
        self.data_dir.join("node.lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses_to_the_defaults_it_documents() {
        let parsed: NodeConfig = toml::from_str(EXAMPLE).expect("example parses");
        assert!(parsed.problems().is_empty(), "{:?}", parsed.problems());
        assert_eq!(parsed.http, HttpSettings::default());
        assert_eq!(parsed.helpdesk, HelpdeskSettings::default());
        assert_eq!(parsed.federation, FederationSettings::default());
        assert_eq!(parsed.dati, DatiSettings::default());
    }
}
