//! The command line: the shell's commands (`init`, `serve`, `migrate`, `backup`, `restore`,
//! `check-config`, `user …`, `token …`, `key show`) and each module's own (`sua import`,
//! `dataset …`, `network …`, `federation …`: see [`crate::modules::ModuleCli`]), which the
//! registry adds. Each command is a function over the loaded config.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use pico_protocol::{ComuneCode, ProvinceCode, SecretKey};
use pico_service::{Db, observe};
use serde_json::json;

use crate::auth::{Module, Role, Roles, RolesError, secrets};
use crate::config::{ENV_CONFIG_FILE, EXAMPLE, NodeConfig};
use crate::db::{self, audit::Actor};
use crate::modules::Registry;

/// Nodo Pi.Co. della Provincia: i dati e i servizi della Provincia per i suoi Comuni.
#[derive(Debug, Parser)]
#[command(version)]
pub struct Cli {
    /// File di configurazione (TOML); vedete `deploy/node.example.toml`.
    #[arg(long, global = true, env = ENV_CONFIG_FILE)]
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
    /// Crea un nodo: database, chiave di firma, la Provincia con tutti i suoi Comuni, primo
    /// amministratore.
    Init {
        /// Codice storico ISTAT della Provincia (codice_provincia_storico), ad esempio 026 per
        /// Treviso.
        #[arg(long)]
        province: String,
    },
    /// Serve le pagine web e l'API.
    Serve {
        /// Indirizzo su cui ascoltare (prevale su `listen`).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Applica le migrazioni del database in sospeso ed esce.
    Migrate,
    /// Scrive in FILE una copia coerente del database (anche mentre il nodo è in servizio).
    Backup {
        /// Destinazione; non deve esistere.
        file: PathBuf,
    },
    /// Sostituisce il database con la copia FILE (il nodo deve essere fermo).
    Restore {
        /// Un file scritto da `backup`.
        file: PathBuf,
    },
    /// Controlla la configurazione e segnala ogni problema.
    CheckConfig,
    /// Stampa la configurazione di esempio.
    ConfigExample,
    /// Gestisce gli utenti.
    #[command(subcommand)]
    User(UserCommand),
    /// Gestisce i token dell'API.
    #[command(subcommand)]
    Token(TokenCommand),
    /// La chiave di firma del nodo.
    #[command(subcommand)]
    Key(KeyCommand),
}

/// `user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Aggiunge un utente e stampa una password monouso (da cambiare al primo accesso).
    Add {
        /// Nome utente per l'accesso.
        username: String,
        /// Nome mostrato nelle pagine.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        roles: RoleArgs,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Sostituisce i ruoli di un utente della Provincia (il Comune di un utente comunale non
    /// cambia mai).
    SetRoles {
        /// Login name.
        username: String,
        #[command(flatten)]
        roles: RoleArgs,
    },
    /// Disattiva un utente (chiude le sue sessioni, revoca i suoi token).
    Disable {
        /// Login name.
        username: String,
    },
    /// Riattiva un utente disattivato.
    Enable {
        /// Login name.
        username: String,
    },
    /// Imposta una nuova password monouso e la stampa (chiude le sessioni dell'utente).
    ResetPassword {
        /// Login name.
        username: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
}

/// The roles of `user add` and `user set-roles`.
#[derive(Debug, Clone, clap::Args)]
pub struct RoleArgs {
    /// admin, operator o comune; ripetetelo per più ruoli (`--role admin --role operator`).
    #[arg(long, required = true)]
    pub role: Vec<String>,
    /// Per gli operatori: sua, sape, sit, personale, helpdesk, formazione, dati, community;
    /// ripetetelo per un operatore di più moduli.
    #[arg(long)]
    pub module: Vec<String>,
    /// Per gli utenti di un Comune: il codice ISTAT del Comune (un utente comunale non ha
    /// altri ruoli).
    #[arg(long)]
    pub comune: Option<String>,
}

impl RoleArgs {
    /// The roles these arguments name, checked against the Comuni of the database.
    fn resolve(&self, conn: &rusqlite::Connection) -> anyhow::Result<Roles> {
        const USAGE: &str = "usate --role admin, --role operator --module <modulo> (ripetibile), \
             oppure --role comune --comune <codice ISTAT>";
        let mut roles = Vec::new();
        let mut operator = false;
        for role in &self.role {
            match role.as_str() {
                "admin" => roles.push(Role::Admin),
                "operator" => operator = true,
                "comune" => {
                    let code = self.comune.as_deref().context(USAGE)?;
                    let code = ComuneCode::parse(code)?;
                    if db::comuni::name_of(conn, code.as_str())?.is_none() {
                        bail!("{code} non è un Comune di questa Provincia");
                    }
                    roles.push(Role::Comune(code));
                }
                other => bail!("ruolo {other:?} sconosciuto: {USAGE}"),
            }
        }
        if operator == self.module.is_empty() {
            bail!("{USAGE}");
        }
        if self.comune.is_some() && !self.role.iter().any(|role| role == "comune") {
            bail!("{USAGE}");
        }
        for module in &self.module {
            roles.push(Role::Operator(
                module.parse::<Module>().map_err(anyhow::Error::msg)?,
            ));
        }
        Roles::from_roles(roles).map_err(|err| {
            let why = match err {
                RolesError::Empty => "nessun ruolo indicato",
                RolesError::ComuneAndProvince => {
                    "un utente di un Comune non può avere ruoli della Provincia (admin o operator)"
                }
                RolesError::TwoComuni => "un utente comunale appartiene a un solo Comune",
            };
            anyhow::anyhow!("{why}: {USAGE}")
        })
    }
}

/// How `user add` and `user reset-password` set the password.
#[derive(Debug, Clone, clap::Args)]
pub struct PasswordArgs {
    /// Prende la password dalla prima riga di questo file (`-` per lo standard input) invece di
    /// generarne e stamparne una: così non compare mai su una riga di comando, nella cronologia
    /// della shell o in `ps`. Deve rispettare le regole della pagina di cambio password
    /// (almeno 12 caratteri, diversa dal nome utente).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Non chiede di cambiarla al primo accesso: per gli account dimostrativi, o per una
    /// password scelta e consegnata dall'utente stesso. Altrimenti la password è monouso.
    #[arg(long, requires = "password_file")]
    pub no_change: bool,
}

impl PasswordArgs {
    /// The password to set, whether it must be changed at the first login, and whether it
    /// was generated here (and so must be printed).
    fn resolve(&self, username: &str) -> anyhow::Result<(String, bool, bool)> {
        let Some(path) = &self.password_file else {
            return Ok((secrets::new_password(), true, true));
        };
        let text = if path.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())?
        } else {
            std::fs::read_to_string(path)
                .with_context(|| format!("il file {} non si può leggere", path.display()))?
        };
        let password = text.lines().next().unwrap_or_default().to_owned();
        let problems = crate::auth::password::check_new(username, "", &password, None);
        if let Some(problem) = problems.values().next() {
            bail!(
                "la password in {} non è accettata: {problem}",
                path.display()
            );
        }
        Ok((password, !self.no_change, false))
    }
}

/// `token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Crea un token dell'API che agisce come USERNAME (con i suoi ruoli) e lo stampa una volta sola.
    Create {
        /// L'utente per cui agisce il token.
        username: String,
        /// Un nome per riconoscere il token.
        #[arg(long, default_value = "api")]
        name: String,
        /// Giorni di validità.
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
    /// Revoca un token, dato il suo id.
    Revoke {
        /// L'id del token stampato da `token create`.
        id: i64,
    },
}

/// `key …`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Stampa la chiave pubblica e il suo id, per l'adesione all'hub.
    Show,
}

/// The whole command line of a node running `registry`: the shell's commands and those of
/// the modules that have one.
pub fn command(registry: Registry) -> clap::Command {
    registry
        .iter()
        .filter_map(|kit| kit.cli)
        .fold(Cli::command(), |command, cli| {
            command.subcommand((cli.command)())
        })
}

pub use pico_service::cli::in_italian;

/// Parses `args` (the program name first) and runs the command; prints help, the version or
/// a usage error (in Italian) and exits as clap does.
pub fn run<I, T>(registry: Registry, args: I) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = pico_service::cli::matches_from(in_italian(command(registry)), args);
    if let Some((name, below)) = matches.subcommand() {
        let module = registry
            .iter()
            .filter_map(|kit| kit.cli)
            .find(|cli| (cli.command)().get_name() == name);
        if let Some(cli) = module {
            let config = load_config(
                matches.get_one::<PathBuf>("config").map(PathBuf::as_path),
                matches.get_one::<PathBuf>("data_dir").cloned(),
                false,
            )?;
            return (cli.run)(&config, below);
        }
    }
    execute(Cli::from_arg_matches(&matches).unwrap_or_else(|error| pico_service::cli::exit(error)))
}

/// The configuration for a command: the file (or the defaults and the environment), the
/// data directory given on the command line, and tracing started.
fn load_config(
    file: Option<&Path>,
    data_dir: Option<PathBuf>,
    checking: bool,
) -> anyhow::Result<NodeConfig> {
    let mut config = match NodeConfig::load(file) {
        Ok(config) => config,
        Err(err) if checking => bail!("{err}"),
        Err(err) => {
            return Err(err).context(
                "configurazione non valida (eseguite `pico-node check-config` per i dettagli)",
            );
        }
    };
    if let Some(dir) = data_dir {
        config.data_dir = dir;
    }
    observe::init_tracing(config.log_format, &config.log_filter);
    Ok(config)
}

/// Runs a parsed command of the shell.
pub fn execute(cli: Cli) -> anyhow::Result<()> {
    if let Command::ConfigExample = cli.command {
        print!("{EXAMPLE}");
        return Ok(());
    }
    let checking = matches!(cli.command, Command::CheckConfig);
    let mut config = load_config(cli.config.as_deref(), cli.data_dir, checking)?;
    match cli.command {
        Command::ConfigExample => Ok(()),
        Command::CheckConfig => {
            println!(
                "configurazione corretta (cartella dei dati {})",
                config.data_dir.display()
            );
            Ok(())
        }
        Command::Init { province } => init(&config, &province),
        Command::Serve { listen } => {
            if let Some(listen) = listen {
                config.listen = listen;
            }
            serve(config)
        }
        Command::Migrate => {
            let _lock = pico_service::lock::DataDirLock::acquire(&config.lock_path(), "pico-node")?;
            let state = crate::open_state(config)?;
            println!(
                "database alla versione di schema {}",
                state.db.schema_version()
            );
            Ok(())
        }
        Command::Backup { file } => {
            let db = Db::open_existing(&config.db_path(), db::MIGRATIONS, 1)?;
            db.backup_to(&file)
                .with_context(|| format!("copia in {}", file.display()))?;
            println!("copia scritta in {}", file.display());
            Ok(())
        }
        Command::Restore { file } => restore(&config, &file),
        Command::User(command) => user(&config, command),
        Command::Token(command) => token(&config, command),
        Command::Key(KeyCommand::Show) => {
            let key = SecretKey::load(&config.key_path())?;
            println!("chiave pubblica: {}", key.public_key());
            println!("id della chiave: {}", key.key_id());
            Ok(())
        }
    }
}

fn serve(config: NodeConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("impossibile ascoltare su {}", config.listen))?;
        crate::run(config, listener, pico_service::server::shutdown_signal()).await
    })
}

/// `init`: refuses an existing node or an unknown Province.
pub fn init(config: &NodeConfig, province: &str) -> anyhow::Result<()> {
    let code = ProvinceCode::parse(province.trim())?;
    let comuni = db::comuni::istat_comuni(code)?;
    if comuni.is_empty() {
        bail!(
            "{code} non è il codice di una Provincia italiana nell'elenco ISTAT. Usate il codice storico \
             della Provincia (codice_provincia_storico), le prime tre cifre dei codici ISTAT dei suoi Comuni: \
             ad esempio 026 Treviso, 017 Brescia, 041 Pesaro e Urbino, 001 Città metropolitana di Torino \
             (non il codice territoriale 201). L'elenco è su https://www.istat.it/it/archivio/6789 e in \
             node/data/comuni_istat_2025.csv."
        );
    }
    let (db_path, key_path) = (config.db_path(), config.key_path());
    if db_path.exists() || key_path.exists() {
        bail!(
            "{} contiene già un nodo (esiste node.db o node.key): non lo sovrascrivo",
            config.data_dir.display()
        );
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("impossibile creare {}", config.data_dir.display()))?;
    #[cfg(unix)]
    {
        // The directory holds the signing key and personal data: owner only.
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let _lock = pico_service::lock::DataDirLock::acquire(&config.lock_path(), "pico-node")?;
    let db = Db::open(&db_path, db::MIGRATIONS, 1)?;
    // One-time: the first login leads straight to the change page.
    let password = secrets::new_password();
    let hash = secrets::hash_password(&password)
        .map_err(|err| anyhow::anyhow!("impossibile cifrare la password: {err}"))?;
    let mut conn = db.get()?;
    let tx = conn.transaction()?;
    let now = db::now();
    let seeded = db::comuni::seed(&tx, code, &comuni, now)?;
    let admin =
        db::people::insert_user(&tx, "admin", "Amministratore", &hash, Roles::admin(), now)?;
    db::people::set_must_change_password(&tx, admin, true)?;
    db::audit::record(
        &tx,
        &Actor::cli(),
        "node.init",
        &format!("province:{code}"),
        &json!({"comuni": seeded}),
        now,
    )?;
    db::audit::record(
        &tx,
        &Actor::cli(),
        "user.add",
        &format!("user:{admin}"),
        &json!({"roles": ["admin"]}),
        now,
    )?;
    tx.commit()?;
    let key = SecretKey::generate();
    key.save(&key_path)?;
    let province = db::comuni::province(&conn)?.context("Provincia appena scritta")?;
    println!(
        "Nodo di {} ({code}) creato in {}",
        province.name,
        config.data_dir.display()
    );
    println!("  Comuni: {seeded} (Fonte: Istat)");
    println!(
        "  Chiave di firma: {} (id {})",
        key_path.display(),
        key.key_id()
    );
    println!();
    println!(
        "Primo amministratore (password monouso, mostrata solo ora: al primo accesso ne verrà chiesta una nuova):"
    );
    println!("  nome utente: admin");
    println!("  password: {password}");
    Ok(())
}

fn restore(config: &NodeConfig, file: &Path) -> anyhow::Result<()> {
    let _lock = pico_service::lock::DataDirLock::acquire(&config.lock_path(), "pico-node")?;
    // Check the backup before touching anything: it must be a node database this binary
    // can open.
    Db::open_existing(file, db::MIGRATIONS, 1)
        .with_context(|| format!("{} non è una copia utilizzabile", file.display()))?;
    pico_service::db::restore(file, &config.db_path())?;
    println!(
        "{} ripristinato da {}",
        config.db_path().display(),
        file.display()
    );
    Ok(())
}

/// The node database of `config`, for a command that works on it.
pub fn open_db(config: &NodeConfig) -> anyhow::Result<Db> {
    Db::open_existing(&config.db_path(), db::MIGRATIONS, 1).with_context(|| {
        format!(
            "impossibile aprire il database del nodo in {}",
            config.data_dir.display()
        )
    })
}

fn user(config: &NodeConfig, command: UserCommand) -> anyhow::Result<()> {
    let db = open_db(config)?;
    let mut conn = db.get()?;
    let tx = conn.transaction()?;
    let now = db::now();
    match command {
        UserCommand::Add {
            username,
            name,
            roles,
            password,
        } => {
            let role = roles.resolve(&tx)?;
            if db::people::user_by_name(&tx, &username)?.is_some() {
                bail!("l'utente {username} esiste già");
            }
            let (password, must_change, generated) = password.resolve(&username)?;
            let hash = secrets::hash_password(&password)
                .map_err(|err| anyhow::anyhow!("impossibile cifrare la password: {err}"))?;
            let id = db::people::insert_user(&tx, &username, &name, &hash, &role, now)?;
            let codes: Vec<String> = role.to_vec().iter().map(ToString::to_string).collect();
            db::people::set_must_change_password(&tx, id, must_change)?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "user.add",
                &format!("user:{id}"),
                &json!({"roles": codes, "must_change_password": must_change}),
                now,
            )?;
            tx.commit()?;
            if generated {
                println!("utente {username} ({role}) creato; password monouso: {password}");
            } else {
                println!(
                    "utente {username} ({role}) creato con la password del file{}",
                    if must_change {
                        " (da cambiare al primo accesso)"
                    } else {
                        ""
                    }
                );
            }
        }
        UserCommand::SetRoles { username, roles } => {
            let user = db::people::user_by_name(&tx, &username)?
                .with_context(|| format!("nessun utente {username}"))?;
            let roles = roles.resolve(&tx)?;
            if user.roles.is_province() != roles.is_province()
                || user.roles.comune() != roles.comune()
            {
                bail!(
                    "un utente comunale resta utente del suo Comune e il personale della Provincia resta della Provincia: aggiungete invece un nuovo utente"
                );
            }
            db::people::set_roles(&tx, user.id, &roles)?;
            let codes: Vec<String> = roles.to_vec().iter().map(ToString::to_string).collect();
            db::audit::record(
                &tx,
                &Actor::cli(),
                "user.roles",
                &format!("user:{}", user.id),
                &json!({"roles": codes}),
                now,
            )?;
            tx.commit()?;
            println!("l'utente {username} ora ha i ruoli {roles}");
        }
        UserCommand::Disable { username } => {
            let user = db::people::set_disabled(&tx, &username, true, now)?
                .with_context(|| format!("nessun utente {username}"))?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "user.disable",
                &format!("user:{}", user.id),
                &json!({}),
                now,
            )?;
            tx.commit()?;
            println!("utente {username} disattivato; le sue sessioni e i suoi token sono revocati");
        }
        UserCommand::Enable { username } => {
            let user = db::people::set_disabled(&tx, &username, false, now)?
                .with_context(|| format!("nessun utente {username}"))?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "user.enable",
                &format!("user:{}", user.id),
                &json!({}),
                now,
            )?;
            tx.commit()?;
            println!("utente {username} riattivato");
        }
        UserCommand::ResetPassword { username, password } => {
            let (password, must_change, generated) = password.resolve(&username)?;
            let hash = secrets::hash_password(&password)
                .map_err(|err| anyhow::anyhow!("impossibile cifrare la password: {err}"))?;
            let user = db::people::set_password(&tx, &username, &hash, must_change)?
                .with_context(|| format!("nessun utente {username}"))?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "user.reset_password",
                &format!("user:{}", user.id),
                &json!({"must_change_password": must_change}),
                now,
            )?;
            tx.commit()?;
            if generated {
                println!("nuova password monouso per {username}: {password}");
            } else {
                println!("password di {username} impostata dal file; le sue sessioni sono chiuse");
            }
        }
    }
    Ok(())
}

fn token(config: &NodeConfig, command: TokenCommand) -> anyhow::Result<()> {
    let db = open_db(config)?;
    let mut conn = db.get()?;
    let tx = conn.transaction()?;
    let now = db::now();
    match command {
        TokenCommand::Create {
            username,
            name,
            days,
        } => {
            let user = db::people::user_by_name(&tx, &username)?
                .with_context(|| format!("nessun utente {username}"))?;
            let token = secrets::new_api_token();
            let expires = now + i64::from(days.clamp(1, 3650)) * 86_400;
            let id = db::people::insert_token(
                &tx,
                &secrets::sha256_hex(&token),
                user.id,
                &name,
                now,
                expires,
            )?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "token.create",
                &format!("token:{id}"),
                &json!({"user": user.id, "expires_at": db::rfc3339(expires)}),
                now,
            )?;
            tx.commit()?;
            println!(
                "token {id} per {username} ({}), scade il {}:",
                user.roles,
                pico_service::format::unix_time(expires)
            );
            println!("{token}");
        }
        TokenCommand::Revoke { id } => {
            if !db::people::revoke_token(&tx, id, now)? {
                bail!("nessun token valido con id {id}");
            }
            db::audit::record(
                &tx,
                &Actor::cli(),
                "token.revoke",
                &format!("token:{id}"),
                &json!({}),
                now,
            )?;
            tx.commit()?;
            println!("token {id} revocato");
        }
    }
    Ok(())
}

/// The Province and signing key of `config`, for a command that signs entries.
pub fn signer(
    config: &NodeConfig,
    conn: &rusqlite::Connection,
) -> anyhow::Result<crate::federation::Signer> {
    let province = db::comuni::province(conn)?
        .context("il database non ha una Provincia: non è stato creato da `pico-node init`")?;
    Ok(crate::federation::Signer {
        province: ProvinceCode::parse(&province.code)?,
        key: SecretKey::load(&config.key_path()).with_context(|| {
            format!(
                "impossibile caricare la chiave di firma {}",
                config.key_path().display()
            )
        })?,
    })
}
