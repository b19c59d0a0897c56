//! The hub's configuration: defaults, then a TOML file, then `PICO_HUB_*` environment
//! variables (layering by `pico_service::config::load`). `deploy/hub.example.toml` is the
//! documented example, also printed by `pico-hub config-example`.

use std::path::{Path, PathBuf};

use pico_service::config::{ConfigError, Secret};
use pico_service::http::HttpSettings;
use pico_service::observe::LogFormat;
use serde::{Deserialize, Serialize};

/// Prefix of the environment overrides.
pub const ENV_PREFIX: &str = "PICO_HUB";
/// Environment variable naming the config file (not a key itself).
pub const ENV_CONFIG_FILE: &str = "PICO_HUB_CONFIG";
/// The example configuration shipped in `deploy/`.
pub const EXAMPLE: &str = include_str!("../../deploy/hub.example.toml");

/// Everything the hub reads at start-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubConfig {
    /// Address to listen on.
    pub listen: String,
    /// Public base URL the hub is reached at (`https://hub.example.it`); when it is https,
    /// every answer carries `Strict-Transport-Security`. Empty: not sent.
    pub public_url: String,
    /// Directory holding `hub.db` and `hub.key`.
    pub data_dir: PathBuf,
    /// Origin of the transparency log: the first line of checkpoints, the `log` of receipts
    /// and the checkpoint key name. Never change it once nodes have pinned it.
    pub log_origin: String,
    /// How often the checkpoint task runs: it signs a new checkpoint when the log grew and
    /// confirms the latest one (heartbeat) otherwise. At most 60000.
    pub checkpoint_interval_ms: u64,
    /// SQLite read connections.
    pub pool_size: u32,
    /// `text` or `json` logs.
    pub log_format: LogFormat,
    /// `tracing` filter, e.g. `info,pico_hub=debug`.
    pub log_filter: String,
    /// Bearer token for `/v1/operator/*` and the operator pages; empty disables them.
    pub operator_token: Secret,
    /// HTTP conventions shared with the node.
    pub http: HttpSettings,
    /// Per-node push limits.
    pub quota: QuotaSettings,
    /// Memory bound of ingest.
    pub ingest: IngestSettings,
}

/// How much request data (pushes, attachment uploads) the hub holds at once: the bound of its
/// memory under a burst of pushes (see `crate::admission`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestSettings {
    /// Bytes of push and upload bodies in flight (read, verified, waiting for or being
    /// written). Each byte admitted costs about eight of the hub's memory while its entries are
    /// parsed and their rows prepared. A push that does not fit waits, then is answered 503
    /// with `Retry-After`. One request larger than this is admitted alone.
    pub max_inflight_bytes: u64,
    /// How long a request waits for room before the 503, in milliseconds.
    pub admission_wait_ms: u64,
    /// Page cache of the one connection ingest writes with, in MiB (read connections keep
    /// SQLite's default of 2 MiB each).
    pub writer_cache_mib: u64,
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings {
            max_inflight_bytes: 8 * 1024 * 1024,
            admission_wait_ms: 10_000,
            writer_cache_mib: 64,
        }
    }
}

/// Per-node push limits (token bucket per Province) and a daily volume quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaSettings {
    /// Pushes a node may make at once.
    pub push_burst: u32,
    /// Sustained pushes per minute per node.
    pub pushes_per_minute: u32,
    /// Bytes a node may push per UTC day (0 = unlimited).
    pub bytes_per_day: u64,
}

impl Default for QuotaSettings {
    fn default() -> Self {
        QuotaSettings {
            push_burst: 60,
            pushes_per_minute: 600,
            bytes_per_day: 4 * 1024 * 1024 * 1024,
        }
    }
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            listen: "127.0.0.1:8780".into(),
            public_url: String::new(),
            data_dir: PathBuf::from("/var/lib/pico-hub"),
            log_origin: "pico.upi.it/federation".into(),
            checkpoint_interval_ms: 60_000,
            pool_size: 8,
            log_format: LogFormat::default(),
            log_filter: "info".into(),
            operator_token: Secret::default(),
            http: HttpSettings {
                // Public read API: generous, nodes have their own per-Province quota.
                rate_limit_burst: 400,
                rate_limit_per_minute: 6000,
                ..HttpSettings::default()
            },
            quota: QuotaSettings::default(),
            ingest: IngestSettings::default(),
        }
    }
}

impl HubConfig {
    /// Loads the config: `file` (or `$PICO_HUB_CONFIG`), then the environment.
    pub fn load(file: Option<&Path>) -> Result<HubConfig, ConfigError> {
        let from_env = std::env::var_os(ENV_CONFIG_FILE).map(PathBuf::from);
        let file = file.map(Path::to_path_buf).or(from_env);
        let config: HubConfig = pico_service::config::load(
            file.as_deref(),
            ENV_PREFIX,
            &[ENV_CONFIG_FILE],
            std::env::vars(),
        )?;
        let problems = config.problems();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError { problems })
        }
    }

    /// Problems with the values (for `check-config` and start-up).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = self.http.problems();
        let url = &self.public_url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            problems.push(format!(
                "public_url {url:?} deve essere vuoto o iniziare con https:// (o http://)"
            ));
        }
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            problems.push(format!(
                "listen {:?} non è un indirizzo come 127.0.0.1:8780",
                self.listen
            ));
        }
        if self.checkpoint_interval_ms == 0 || self.checkpoint_interval_ms > 60_000 {
            problems.push("checkpoint_interval_ms deve essere tra 1 e 60000 (il protocollo promette un checkpoint almeno ogni minuto)".into());
        }
        if pico_protocol::checkpoint::note_verifier_key(&self.log_origin, &ed25519_placeholder())
            .is_err()
        {
            problems.push(format!(
                "log_origin {:?} deve essere non vuoto, senza spazi né '+'",
                self.log_origin
            ));
        }
        if self.pool_size == 0 {
            problems.push("pool_size deve essere almeno 1".into());
        }
        if self.ingest.max_inflight_bytes < 1024 * 1024
            || self.ingest.max_inflight_bytes > u64::from(u32::MAX)
        {
            problems.push(
                "ingest.max_inflight_bytes deve essere tra 1 MiB e 4 GiB (invii fino a 16 MiB e allegati fino a 20 MiB più grandi del limite sono ammessi uno alla volta)"
                    .into(),
            );
        }
        if self.ingest.writer_cache_mib == 0 || self.ingest.writer_cache_mib > 4096 {
            problems.push("ingest.writer_cache_mib deve essere tra 1 e 4096".into());
        }
        if self.ingest.admission_wait_ms > 60_000 {
            problems.push("ingest.admission_wait_ms deve essere al massimo 60000".into());
        }
        if self.quota.push_burst == 0 || self.quota.pushes_per_minute == 0 {
            problems
                .push("quota.push_burst e quota.pushes_per_minute devono essere almeno 1".into());
        }
        problems
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("hub.db")
    }

    /// The lock file a serving hub holds, so `restore` can refuse to run under it.
    pub fn lock_path(&self) -> PathBuf {
        self.data_dir.join("hub.lock")
    }

    /// The hub's signing key file.
    pub fn key_path(&self) -> PathBuf {
        self.data_dir.join("hub.key")
    }
}

/// Any valid key, to check that the origin is a valid note key name.
fn ed25519_placeholder() -> ed25519_dalek::VerifyingKey {
    pico_protocol::SecretKey::from_seed(&[7; 32])
        .public_key()
        .as_dalek()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_is_the_default_and_valid() -> Result<(), Box<dyn std::error::Error>> {
        let example: HubConfig = toml::from_str(EXAMPLE)?;
        assert!(example.problems().is_empty(), "{:?}", example.problems());
        assert_eq!(example, HubConfig::default());
        Ok(())
    }
}
