//! `pico-node network …`: the thematic networks on the command line.

use anyhow::{Context as _, bail};
use clap::{FromArgMatches as _, Subcommand};
use serde_json::json;

use crate::cli::{open_db, signer};
use crate::config::NodeConfig;
use crate::db::{self, audit::Actor};
use crate::modules::ModuleCli;

/// `pico-node network …`.
pub const CLI: ModuleCli = ModuleCli { command, run };

fn command() -> clap::Command {
    NetworkCommand::augment_subcommands(clap::Command::new("network")).subcommand_required(true)
}

fn run(config: &NodeConfig, matches: &clap::ArgMatches) -> anyhow::Result<()> {
    network(config, NetworkCommand::from_arg_matches(matches)?)
}

/// Le reti tematiche (sua, sape, sit, personale).
#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Entra in una rete presso l'hub (richiesta firmata con la chiave del nodo) e lo registra.
    Join {
        /// `sua`, `sape`, `sit` o `personale`.
        network: String,
    },
    /// Esce da una rete, presso l'hub e sul nodo.
    Leave {
        /// `sua`, `sape`, `sit` o `personale`.
        network: String,
    },
    /// Elenca le reti, quelle di cui il nodo fa parte, la posta in arrivo e le chiavi sospese.
    List,
    /// Accetta una chiave che l'hub elenca senza una voce di rotazione (dopo averla
    /// confermata con UPI per altra via) e rilascia i messaggi trattenuti per essa.
    TrustKey {
        /// L'identificativo della chiave, come lo nomina l'allarme.
        kid: String,
    },
}

fn network(config: &NodeConfig, command: NetworkCommand) -> anyhow::Result<()> {
    use crate::networks::db as store;
    let db = open_db(config)?;
    let change = match &command {
        NetworkCommand::Join { network } => Some((true, network.clone())),
        NetworkCommand::Leave { network } => Some((false, network.clone())),
        _ => None,
    };
    match command {
        NetworkCommand::Join { .. } | NetworkCommand::Leave { .. } => {
            let (join, network) = change.context("manca la rete")?;
            let signer = signer(config, &*db.get()?)?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                if join {
                    crate::networks::join(&db, &signer, &config.federation, &network, Actor::cli())
                        .await
                } else {
                    crate::networks::leave(&db, &signer, &config.federation, &network, Actor::cli())
                        .await
                }
            })?;
            println!(
                "{} la rete {network}",
                if join {
                    "il nodo è entrato nel"
                } else {
                    "il nodo è uscito dal"
                }
            );
        }
        NetworkCommand::List => {
            let conn = db.get()?;
            let members = store::memberships(&conn)?;
            for name in store::NETWORKS {
                match members.iter().find(|(n, _)| n == name) {
                    Some((_, at)) => println!("{name}\tmembro dal {}", db::rfc3339(*at)),
                    None => println!("{name}\tnon membro"),
                }
            }
            let province = db::comuni::province(&conn)?
                .context("il nodo non ha ancora una Provincia: eseguite `pico-node init`")?;
            let inbox = store::inbox_status(&conn, &province.code)?;
            println!(
                "posta in arrivo: cursore {}, {} messaggi ricevuti, {} in quarantena, ultima lettura {}",
                inbox.cursor,
                inbox.received,
                inbox.quarantined,
                inbox.last_pull_at.as_deref().unwrap_or("mai")
            );
            for key in store::keys(&conn)?.iter().filter(|key| !key.trusted) {
                println!(
                    "CHIAVE SOSPESA {} di {}: elencata dall'hub senza una voce di rotazione",
                    key.kid, key.province
                );
            }
        }
        NetworkCommand::TrustKey { kid } => {
            let mut conn = db.get()?;
            let Some((province, released)) = crate::networks::inbox::trust_key(&mut conn, &kid)?
            else {
                bail!("nessuna chiave {kid} è nota: vedete `pico-node network list`");
            };
            db::audit::record(
                &conn,
                &Actor::cli(),
                "network.trust_key",
                &format!("key:{kid}"),
                &json!({"province": province, "released": released}),
                db::now(),
            )?;
            println!(
                "chiave {kid} di {province} accettata; {released} messaggi trattenuti rilasciati"
            );
        }
    }
    Ok(())
}
