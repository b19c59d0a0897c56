//! What the hub's benches share: a hub initialised in a folder of their own, whose limits run
//! on every request but never refuse the bench's load.

use std::path::Path;

use pico_hub::config::HubConfig;

/// The configuration of a bench's hub in `dir`, after `pico-hub init` (key, registry, the
/// bundled BES edition). The rate limiter and the push quota are measured (they run on every
/// request) but set so high that they never answer 429.
pub fn initialised(dir: &Path) -> HubConfig {
    let mut config = HubConfig {
        data_dir: dir.to_owned(),
        log_filter: "warn".into(),
        ..HubConfig::default()
    };
    config.http.rate_limit_burst = 1_000_000_000;
    config.http.rate_limit_per_minute = 1_000_000_000;
    config.quota.push_burst = 1_000_000_000;
    config.quota.pushes_per_minute = 1_000_000_000;
    pico_hub::cli::execute(&pico_hub::cli::Command::Init, &config)
        .expect("pico-hub init in the bench's folder");
    config
}
