//! The `pico-hub` command line: parsing (clap) and the operator commands. `main.rs` only
//! parses, loads the config, starts tracing and calls [`execute`].

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use pico_protocol::{KeyId, ProvinceCode, PublicKey, SecretKey};

use crate::config::{EXAMPLE, HubConfig};
use crate::db;

/// Pi.Co. UPI hub: enrolment, verified ingest, transparency log, national view.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// Configuration file (TOML); also `$PICO_HUB_CONFIG`.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data directory (overrides `data_dir` of the config).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Creates the data directory: database, hub signing key (mode 0600), province registry.
    Init,
    /// Serves the hub.
    Serve {
        /// Address to listen on (overrides `listen`).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Applies pending database migrations and exits.
    Migrate,
    /// Writes a consistent copy of the live database (the hub may keep running).
    Backup {
        /// Destination file; must not exist.
        to: PathBuf,
    },
    /// Replaces the database with a backup. Refused while a hub serves this data directory.
    Restore {
        /// Backup file.
        from: PathBuf,
    },
    /// Checks the configuration and reports every problem.
    CheckConfig,
    /// Prints the documented example configuration.
    ConfigExample,
    /// The hub's keys.
    Key {
        /// What to do with them.
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Enrols a Province's node key (after the "protocollo di adesione").
    Enrol {
        /// ISTAT historical province code, e.g. 026.
        #[arg(long)]
        province: String,
        /// The node's public key, `ed25519:…` (`pico-node key show`).
        #[arg(long)]
        key: String,
    },
    /// Revokes a Province's key from a seq on.
    RevokeKey {
        /// ISTAT historical province code.
        #[arg(long)]
        province: String,
        /// Key id to revoke.
        #[arg(long)]
        kid: String,
        /// First seq the key may no longer sign (default: the next one).
        #[arg(long)]
        from_seq: Option<u64>,
        /// Why (kept with the key).
        #[arg(long, default_value = "revoked by the operator")]
        reason: String,
    },
    /// Lists Provinces with their enrolment status, and every key.
    List,
}

/// `key` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyAction {
    /// Prints the hub's public key, key id and checkpoint verifier key.
    Show,
}

/// The config with the command line's overrides applied.
pub fn resolve_config(cli: &Cli) -> anyhow::Result<HubConfig> {
    let mut config = HubConfig::load(cli.config.as_deref())?;
    if let Some(dir) = &cli.data_dir {
        config.data_dir.clone_from(dir);
    }
    if let Command::Serve {
        listen: Some(listen),
    } = &cli.command
    {
        config.listen.clone_from(listen);
    }
    let problems = config.problems();
    if !problems.is_empty() {
        bail!("configuration problems:\n  - {}", problems.join("\n  - "));
    }
    Ok(config)
}

/// Runs every command but `serve` (which needs the runtime) and `config-example`.
pub fn execute(command: &Command, config: &HubConfig) -> anyhow::Result<()> {
    match command {
        Command::Init => init(config),
        Command::Serve { .. } => bail!("serve is run by main"),
        Command::Migrate => {
            let db = crate::open_db(&config.db_path(), 1)?;
            println!(
                "database {} at schema version {}",
                config.db_path().display(),
                db.schema_version()
            );
            Ok(())
        }
        Command::Backup { to } => {
            let db = crate::open_db(&config.db_path(), 1)?;
            db.backup_to(to)
                .with_context(|| format!("backup to {}", to.display()))?;
            println!("backup written to {}", to.display());
            Ok(())
        }
        Command::Restore { from } => {
            let _lock = pico_service::lock::DataDirLock::acquire(&config.lock_path(), "pico-hub")?;
            pico_service::db::restore(from, &config.db_path())?;
            crate::open_db(&config.db_path(), 1)?;
            println!("database restored from {}", from.display());
            Ok(())
        }
        Command::ConfigExample => {
            print!("{EXAMPLE}");
            Ok(())
        }
        Command::CheckConfig => {
            println!(
                "configuration is valid (data_dir {}, listen {})",
                config.data_dir.display(),
                config.listen
            );
            Ok(())
        }
        Command::Key {
            action: KeyAction::Show,
        } => {
            let key = SecretKey::load(&config.key_path())
                .map_err(|e| anyhow::anyhow!("cannot load {}: {e}", config.key_path().display()))?;
            let hub = crate::ingest::HubIdentity {
                key,
                log_origin: config.log_origin.clone(),
            };
            println!("hub_key         {}", hub.key.public_key());
            println!("hub_kid         {}", hub.key.key_id());
            println!("log_origin      {}", hub.log_origin);
            println!(
                "checkpoint_vkey {}",
                crate::transparency::verifier_key(&hub)
            );
            Ok(())
        }
        Command::Enrol { province, key } => {
            let province = ProvinceCode::parse(province)?;
            let key: PublicKey = key.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let db = crate::open_db(&config.db_path(), 1)?;
            let record = db::keys::enrol(&*db.get()?, province, &key)?;
            println!(
                "enrolled key {} for Province {} from seq {}",
                record.key.key_id(),
                record.province,
                record.valid_from
            );
            Ok(())
        }
        Command::RevokeKey {
            province,
            kid,
            from_seq,
            reason,
        } => {
            let province = ProvinceCode::parse(province)?;
            let kid = KeyId::parse(kid)?;
            let db = crate::open_db(&config.db_path(), 1)?;
            let from = db::keys::revoke(&*db.get()?, province, &kid, *from_seq, reason)?;
            println!("key {kid} of Province {province} revoked from seq {from}");
            Ok(())
        }
        Command::List => {
            let db = crate::open_db(&config.db_path(), 1)?;
            let conn = db.get()?;
            println!(
                "{:<5} {:<4} {:<32} {:<13} {:>8}  last entry",
                "code", "upi", "name", "enrolment", "head"
            );
            for p in db::registry::list_status(&conn)? {
                println!(
                    "{:<5} {:<4} {:<32} {:<13} {:>8}  {}",
                    p.code,
                    if p.upi { "yes" } else { "" },
                    p.name,
                    p.enrolment,
                    p.head_seq,
                    p.last_entry_at.as_deref().unwrap_or("-")
                );
            }
            println!();
            for k in db::keys::list(&conn)? {
                println!(
                    "key {} province {} from {} until {} ({})",
                    k.kid,
                    k.province,
                    k.valid_from,
                    k.revoked_from.map_or_else(|| "-".into(), |s| s.to_string()),
                    k.origin
                );
            }
            Ok(())
        }
    }
}

/// Creates the data directory, the key (never overwritten) and the database with the registry.
fn init(config: &HubConfig) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("create {}", config.data_dir.display()))?;
    let key_path = config.key_path();
    if key_path.exists() {
        println!("hub key {} already exists: kept", key_path.display());
    } else {
        SecretKey::generate()
            .save(&key_path)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", key_path.display()))?;
        println!("hub key written to {} (mode 0600)", key_path.display());
    }
    let db = crate::open_db(&config.db_path(), 1)?;
    let provinces = crate::registry::bundled()?;
    let count = db::registry::seed(&*db.get()?, &provinces)?;
    println!(
        "database {} ready: {count} ISTAT units in the registry ({} in the UPI programme; {})",
        config.db_path().display(),
        provinces.iter().filter(|p| p.upi).count(),
        crate::registry::ATTRIBUTION
    );
    Ok(())
}
