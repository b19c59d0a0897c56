//! The `pico-hub` command line: parsing (clap) and the operator commands. `main.rs` only
//! parses, loads the config, starts tracing and calls [`execute`].

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use pico_protocol::{KeyId, ProvinceCode, PublicKey, SecretKey};

use crate::config::{EXAMPLE, HubConfig};
use crate::db;

/// Hub Pi.Co. dell'UPI: adesione dei nodi, ricezione verificata, registro di trasparenza,
/// quadro nazionale.
#[derive(Debug, Parser)]
#[command(version)]
pub struct Cli {
    /// File di configurazione (TOML); anche `$PICO_HUB_CONFIG`.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Cartella dei dati (prevale su `data_dir` della configurazione).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Che cosa fare.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Crea la cartella dei dati: database, chiave di firma dell'hub (modo 0600), registro
    /// delle Province.
    Init,
    /// Mette in servizio l'hub.
    Serve {
        /// Indirizzo su cui ascoltare (prevale su `listen`).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Applica le migrazioni del database in sospeso ed esce.
    Migrate,
    /// Scrive una copia coerente del database (l'hub può restare in servizio).
    Backup {
        /// File di destinazione; non deve esistere.
        to: PathBuf,
    },
    /// Sostituisce il database con una copia. Rifiutato mentre un hub usa questa cartella dei
    /// dati.
    Restore {
        /// File della copia.
        from: PathBuf,
    },
    /// Controlla la configurazione e segnala ogni problema.
    CheckConfig,
    /// Stampa la configurazione di esempio, commentata.
    ConfigExample,
    /// Le chiavi dell'hub.
    Key {
        /// Che cosa farne.
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Registra la chiave del nodo di una Provincia (dopo il protocollo di adesione).
    Enrol {
        /// Codice storico ISTAT della Provincia, ad esempio 026.
        #[arg(long)]
        province: String,
        /// La chiave pubblica del nodo, `ed25519:…` (`pico-node key show`).
        #[arg(long)]
        key: String,
    },
    /// Revoca la chiave di una Provincia a partire da una seq.
    RevokeKey {
        /// Codice storico ISTAT della Provincia.
        #[arg(long)]
        province: String,
        /// Id della chiave da revocare.
        #[arg(long)]
        kid: String,
        /// Prima seq che la chiave non può più firmare (se manca: la prossima).
        #[arg(long)]
        from_seq: Option<u64>,
        /// Il motivo (conservato con la chiave).
        #[arg(long, default_value = "revocata dall'operatore")]
        reason: String,
    },
    /// Elenca le Province con il loro stato di adesione, e tutte le chiavi.
    List,
    /// Il BES dei territori dell'ISTAT (indicatori di benessere delle Province).
    Bes {
        /// Che cosa fare.
        #[command(subcommand)]
        action: crate::bes::cli::BesAction,
    },
}

/// `key` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyAction {
    /// Stampa la chiave pubblica dell'hub, il suo id e la chiave di verifica dei checkpoint.
    Show,
}

/// Parses the process's arguments, with clap's own words in Italian; prints help, the
/// version or a usage error (in Italian) and exits as clap does.
pub fn parse() -> Cli {
    use clap::{CommandFactory as _, FromArgMatches as _};
    let matches = pico_service::cli::matches_from(in_italian(Cli::command()), std::env::args_os());
    Cli::from_arg_matches(&matches).unwrap_or_else(|error| pico_service::cli::exit(error))
}

pub use pico_service::cli::in_italian;

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
        bail!(
            "problemi di configurazione:\n  - {}",
            problems.join("\n  - ")
        );
    }
    Ok(config)
}

/// Runs every command but `serve` (which needs the runtime) and `config-example`.
pub fn execute(command: &Command, config: &HubConfig) -> anyhow::Result<()> {
    match command {
        Command::Init => init(config),
        Command::Serve { .. } => bail!("il comando serve è eseguito da main"),
        Command::Migrate => {
            let db = crate::open_db(&config.db_path(), 1)?;
            println!(
                "database {} alla versione di schema {}",
                config.db_path().display(),
                db.schema_version()
            );
            Ok(())
        }
        Command::Backup { to } => {
            let db = crate::open_db(&config.db_path(), 1)?;
            db.backup_to(to)
                .with_context(|| format!("copia in {}", to.display()))?;
            println!("copia scritta in {}", to.display());
            Ok(())
        }
        Command::Restore { from } => {
            let _lock = pico_service::lock::DataDirLock::acquire(&config.lock_path(), "pico-hub")?;
            pico_service::db::restore(from, &config.db_path())?;
            crate::open_db(&config.db_path(), 1)?;
            println!("database ripristinato da {}", from.display());
            Ok(())
        }
        Command::ConfigExample => {
            print!("{EXAMPLE}");
            Ok(())
        }
        Command::CheckConfig => {
            println!(
                "configurazione corretta (data_dir {}, listen {})",
                config.data_dir.display(),
                config.listen
            );
            Ok(())
        }
        Command::Key {
            action: KeyAction::Show,
        } => {
            let key = SecretKey::load(&config.key_path()).map_err(|e| {
                anyhow::anyhow!("impossibile caricare {}: {e}", config.key_path().display())
            })?;
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
                "registrata la chiave {} della Provincia {}, valida dalla seq {}",
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
            println!("chiave {kid} della Provincia {province} revocata dalla seq {from}");
            Ok(())
        }
        Command::Bes { action } => crate::bes::cli::execute(action, config),
        Command::List => {
            let db = crate::open_db(&config.db_path(), 1)?;
            let conn = db.get()?;
            println!(
                "{:<6} {:<4} {:<32} {:<13} {:>8}  ultima voce",
                "codice", "upi", "nome", "adesione", "seq"
            );
            for p in db::registry::list_status(&conn)? {
                println!(
                    "{:<6} {:<4} {:<32} {:<13} {:>8}  {}",
                    p.code,
                    if p.upi { "sì" } else { "" },
                    p.name,
                    p.enrolment,
                    p.head_seq,
                    p.last_entry_at.as_deref().unwrap_or("-")
                );
            }
            println!();
            for k in db::keys::list(&conn)? {
                println!(
                    "chiave {} Provincia {} dalla seq {} fino alla seq {} ({})",
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
        .with_context(|| format!("impossibile creare {}", config.data_dir.display()))?;
    let key_path = config.key_path();
    if key_path.exists() {
        println!(
            "la chiave dell'hub {} esiste già: conservata",
            key_path.display()
        );
    } else {
        SecretKey::generate()
            .save(&key_path)
            .map_err(|e| anyhow::anyhow!("impossibile scrivere {}: {e}", key_path.display()))?;
        println!(
            "chiave dell'hub scritta in {} (modo 0600)",
            key_path.display()
        );
    }
    let db = crate::open_db(&config.db_path(), 1)?;
    let provinces = crate::registry::bundled()?;
    let count = db::registry::seed(&*db.get()?, &provinces)?;
    println!(
        "database {} pronto: {count} unità ISTAT nel registro ({} nel programma UPI; {})",
        config.db_path().display(),
        provinces.iter().filter(|p| p.upi).count(),
        crate::registry::ATTRIBUTION
    );
    // The BES edition shipped with the hub, once: a later `bes import` is never overwritten.
    if let Some(counts) = crate::bes::import_bundled_if_empty(&mut *db.get()?)? {
        println!(
            "{} ({})",
            crate::bes::cli::summary(crate::bes::import::BUNDLED_EDITION, &counts),
            crate::bes::ATTRIBUTION
        );
    }
    Ok(())
}
