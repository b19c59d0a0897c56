//! The command line: `init`, `serve`, `migrate`, `backup`, `restore`, `check-config`,
//! `user …`, `token …`, `key show`, `dataset …`, `federation …`, `network …`, `sua import`, `sape import`. Each command is a function over the loaded config.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use pico_protocol::{ComuneCode, ProvinceCode, SecretKey};
use pico_service::{Db, observe};
use serde_json::json;

use crate::auth::{Module, Role, secrets};
use crate::config::{ENV_CONFIG_FILE, EXAMPLE, NodeConfig};
use crate::db::{self, audit::Actor};

/// Pi.Co. Province node: the Province's own data and services for its Comuni.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// Configuration file (TOML); see `deploy/node.example.toml`.
    #[arg(long, global = true, env = ENV_CONFIG_FILE)]
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
    /// Create a node: database, signing key, the Province and all its Comuni, first admin.
    Init {
        /// ISTAT historical province code (codice_provincia_storico), e.g. 026 for Treviso.
        #[arg(long)]
        province: String,
    },
    /// Serve the web pages and the API.
    Serve {
        /// Address to listen on (overrides `listen`).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write a consistent copy of the live database to FILE (safe while serving).
    Backup {
        /// Destination; must not exist.
        file: PathBuf,
    },
    /// Replace the database with the backup FILE (the node must be stopped).
    Restore {
        /// A file written by `backup`.
        file: PathBuf,
    },
    /// Check the configuration and report every problem.
    CheckConfig,
    /// Print the example configuration.
    ConfigExample,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The node's signing key.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Datasets of the Dati module.
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Publishing to the UPI hub.
    #[command(subcommand)]
    Federation(FederationCommand),
    /// The thematic networks (sua, sape, sit, personale).
    #[command(subcommand)]
    Network(NetworkCommand),
    /// SUA (Stazione Unica Appaltante) data.
    #[command(subcommand)]
    Sua(SuaCommand),
    /// SAPE (EU funding) calls.
    #[command(subcommand)]
    Sape(SapeCommand),
}

/// `sape …`
#[derive(Debug, Subcommand)]
pub enum SapeCommand {
    /// Import calls from the EU Funding & Tenders portal: its topics CSV or its search API's
    /// JSON (told apart by the first character). All or nothing; calls already in the
    /// catalogue are updated by identifier, never duplicated.
    Import {
        /// Print the report as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// The file.
        file: PathBuf,
    },
}

/// `sua …`
#[derive(Debug, Subcommand)]
pub enum SuaCommand {
    /// Import procedures from ANAC OCDS compiled releases (package, array or JSON Lines) or
    /// from CSV (one row per lot), in one transaction. It can run while the node serves:
    /// reads go on, but the node's own writes wait for it (and fail after 5 s), so import
    /// large files (hundreds of thousands of lots) outside office hours. Records already
    /// imported are skipped.
    Import {
        /// `ocds` or `csv`; by default from the extension, then from the content.
        #[arg(long)]
        format: Option<String>,
        /// Print the report as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// The file.
        file: PathBuf,
    },
}

/// `network …`
#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Join a network at the hub (a request signed with the node's key) and record it.
    Join {
        /// `sua`, `sape`, `sit` or `personale`.
        network: String,
    },
    /// Leave a network at the hub and locally.
    Leave {
        /// `sua`, `sape`, `sit` or `personale`.
        network: String,
    },
    /// List the networks, this node's memberships, the inbox and held keys.
    List,
    /// Trust a key the hub listed without a rotation entry (after confirming it with UPI
    /// out of band) and release the posts held for it.
    TrustKey {
        /// The key id, as the alarm names it.
        kid: String,
    },
}

/// `dataset …`
#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Import a CSV file (UTF-8, `,` or `;`, header row = field names), all or nothing.
    Import {
        /// Dataset name (lower-case letters, digits, `_`).
        #[arg(long)]
        name: String,
        /// Primary-key field(s), comma-separated (required for a new dataset or with --replace).
        #[arg(long)]
        key: Option<String>,
        /// Title of a new dataset.
        #[arg(long)]
        title: Option<String>,
        /// Replace the whole content (rows not in the file are deleted; the schema may change).
        #[arg(long)]
        replace: bool,
        /// The CSV file.
        file: PathBuf,
    },
    /// Publish a dataset nationally (`national`) or stop (`off`).
    Federation {
        /// Dataset name.
        #[arg(long)]
        name: String,
        /// `national` or `off`.
        setting: String,
    },
    /// Delete rows by primary key (one key per argument; multi-field keys comma-separated).
    DeleteRows {
        /// Dataset name.
        #[arg(long)]
        name: String,
        /// Keys.
        keys: Vec<String>,
    },
    /// List the datasets.
    List,
}

/// `federation …`
#[derive(Debug, Clone, Copy, Subcommand)]
pub enum FederationCommand {
    /// Print the publishing status and open alarms.
    Status,
    /// After a restored backup blocked signing: continue the log from the hub's head and
    /// republish every national dataset as a fresh snapshot.
    Resync,
    /// Forget the pinned hub key (only after confirming a key change with UPI out of band).
    Unpin,
}

/// `user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user and print a one-time password (to be changed at the first login).
    Add {
        /// Login name.
        username: String,
        /// Name shown on pages.
        #[arg(long)]
        name: String,
        /// admin, operator or comune.
        #[arg(long)]
        role: String,
        /// For operators: sua, sape, sit, personale, helpdesk, formazione, dati, community.
        #[arg(long)]
        module: Option<String>,
        /// For Comune users: the Comune's ISTAT code.
        #[arg(long)]
        comune: Option<String>,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Disable a user (ends its sessions, revokes its tokens).
    Disable {
        /// Login name.
        username: String,
    },
    /// Re-enable a disabled user.
    Enable {
        /// Login name.
        username: String,
    },
    /// Set a new one-time password and print it (ends the user's sessions).
    ResetPassword {
        /// Login name.
        username: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
}

/// How `user add` and `user reset-password` set the password.
#[derive(Debug, Clone, clap::Args)]
pub struct PasswordArgs {
    /// Take the password from the first line of this file (`-` for standard input) instead of
    /// generating and printing one: it never appears on a command line, in the shell history
    /// or in `ps`. It must follow the rules of the change page (at least 12 characters, not
    /// the username).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Do not ask for a change at the first login: for demo accounts, or a password the
    /// user chose and handed over itself. By default the password is one-time.
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
                .with_context(|| format!("cannot read {}", path.display()))?
        };
        let password = text.lines().next().unwrap_or_default().to_owned();
        let problems = crate::auth::password::check_new(username, "", &password, None);
        if let Some(problem) = problems.values().next() {
            bail!("the password in {} is refused: {problem}", path.display());
        }
        Ok((password, !self.no_change, false))
    }
}

/// `token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token acting as USERNAME (with its role) and print it once.
    Create {
        /// The user the token acts as.
        username: String,
        /// A label to recognise the token.
        #[arg(long, default_value = "api")]
        name: String,
        /// Days until it expires.
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
    /// Revoke a token by id.
    Revoke {
        /// Token id printed by `token create`.
        id: i64,
    },
}

/// `key …`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Print the public key and key id, for enrolment at the hub.
    Show,
}

/// Runs a parsed command line.
pub fn execute(cli: Cli) -> anyhow::Result<()> {
    if let Command::ConfigExample = cli.command {
        print!("{EXAMPLE}");
        return Ok(());
    }
    let mut config = match NodeConfig::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(err) => {
            if let Command::CheckConfig = cli.command {
                bail!("{err}");
            }
            return Err(err)
                .context("invalid configuration (run `pico-node check-config` for details)");
        }
    };
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    observe::init_tracing(config.log_format, &config.log_filter);
    match cli.command {
        Command::ConfigExample => Ok(()),
        Command::CheckConfig => {
            println!(
                "configuration OK (data directory {})",
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
            println!("database at schema version {}", state.db.schema_version());
            Ok(())
        }
        Command::Backup { file } => {
            let db = Db::open_existing(&config.db_path(), db::MIGRATIONS, 1)?;
            db.backup_to(&file)
                .with_context(|| format!("backup to {}", file.display()))?;
            println!("backup written to {}", file.display());
            Ok(())
        }
        Command::Restore { file } => restore(&config, &file),
        Command::User(command) => user(&config, command),
        Command::Token(command) => token(&config, command),
        Command::Dataset(command) => dataset(&config, command),
        Command::Federation(command) => federation(&config, command),
        Command::Network(command) => network(&config, command),
        Command::Sua(command) => sua(&config, command),
        Command::Sape(command) => sape(&config, command),
        Command::Key(KeyCommand::Show) => {
            let key = SecretKey::load(&config.key_path())?;
            println!("public key: {}", key.public_key());
            println!("key id:     {}", key.key_id());
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
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        crate::run(config, listener, pico_service::server::shutdown_signal()).await
    })
}

/// `init`: refuses an existing node or an unknown Province.
pub fn init(config: &NodeConfig, province: &str) -> anyhow::Result<()> {
    let code = ProvinceCode::parse(province.trim())?;
    let comuni = db::comuni::istat_comuni(code)?;
    if comuni.is_empty() {
        bail!(
            "{code} is not the code of an Italian Province in the ISTAT list. Use the historical province code \
             (codice_provincia_storico), the first three digits of its Comuni's ISTAT codes: e.g. 026 Treviso, \
             017 Brescia, 041 Pesaro e Urbino, 001 Città metropolitana di Torino (not its territorial code 201). \
             The list is at https://www.istat.it/it/archivio/6789 and in node/data/comuni_istat_2025.csv."
        );
    }
    let (db_path, key_path) = (config.db_path(), config.key_path());
    if db_path.exists() || key_path.exists() {
        bail!(
            "{} already holds a node (node.db or node.key exists); refusing to overwrite it",
            config.data_dir.display()
        );
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
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
        .map_err(|err| anyhow::anyhow!("hashing the password: {err}"))?;
    let mut conn = db.get()?;
    let tx = conn.transaction()?;
    let now = db::now();
    let seeded = db::comuni::seed(&tx, code, &comuni, now)?;
    let admin = db::people::insert_user(&tx, "admin", "Amministratore", &hash, &Role::Admin, now)?;
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
        &json!({"role": "admin"}),
        now,
    )?;
    tx.commit()?;
    let key = SecretKey::generate();
    key.save(&key_path)?;
    let province = db::comuni::province(&conn)?.context("province just written")?;
    println!(
        "Initialised the node of {} ({code}) in {}",
        province.name,
        config.data_dir.display()
    );
    println!("  Comuni: {seeded} (Fonte: Istat)");
    println!(
        "  Signing key: {} (key id {})",
        key_path.display(),
        key.key_id()
    );
    println!();
    println!(
        "First administrator (one-time password, shown once: the first login asks for a new one):"
    );
    println!("  username: admin");
    println!("  password: {password}");
    Ok(())
}

fn restore(config: &NodeConfig, file: &Path) -> anyhow::Result<()> {
    let _lock = pico_service::lock::DataDirLock::acquire(&config.lock_path(), "pico-node")?;
    // Check the backup before touching anything: it must be a node database this binary
    // can open.
    Db::open_existing(file, db::MIGRATIONS, 1)
        .with_context(|| format!("{} is not a usable backup", file.display()))?;
    pico_service::db::restore(file, &config.db_path())?;
    println!(
        "restored {} from {}",
        config.db_path().display(),
        file.display()
    );
    Ok(())
}

fn open_db(config: &NodeConfig) -> anyhow::Result<Db> {
    Db::open_existing(&config.db_path(), db::MIGRATIONS, 1).with_context(|| {
        format!(
            "cannot open the node database in {}",
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
            role,
            module,
            comune,
            password,
        } => {
            let role = match (role.as_str(), module, comune) {
                ("admin", None, None) => Role::Admin,
                ("operator", Some(module), None) => {
                    Role::Operator(module.parse::<Module>().map_err(anyhow::Error::msg)?)
                }
                ("comune", None, Some(code)) => {
                    let code = ComuneCode::parse(&code)?;
                    if db::comuni::name_of(&tx, code.as_str())?.is_none() {
                        bail!("{code} is not a Comune of this Province");
                    }
                    Role::Comune(code)
                }
                _ => bail!(
                    "use --role admin, --role operator --module <module>, or --role comune --comune <ISTAT code>"
                ),
            };
            if db::people::user_by_name(&tx, &username)?.is_some() {
                bail!("user {username} already exists");
            }
            let (password, must_change, generated) = password.resolve(&username)?;
            let hash = secrets::hash_password(&password)
                .map_err(|err| anyhow::anyhow!("hashing the password: {err}"))?;
            let id = db::people::insert_user(&tx, &username, &name, &hash, &role, now)?;
            db::people::set_must_change_password(&tx, id, must_change)?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "user.add",
                &format!("user:{id}"),
                &json!({"role": role.to_string(), "must_change_password": must_change}),
                now,
            )?;
            tx.commit()?;
            if generated {
                println!("user {username} ({role}) created; one-time password: {password}");
            } else {
                println!(
                    "user {username} ({role}) created with the password of the file{}",
                    if must_change {
                        " (to be changed at the first login)"
                    } else {
                        ""
                    }
                );
            }
        }
        UserCommand::Disable { username } => {
            let user = db::people::set_disabled(&tx, &username, true, now)?
                .with_context(|| format!("no user {username}"))?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "user.disable",
                &format!("user:{}", user.id),
                &json!({}),
                now,
            )?;
            tx.commit()?;
            println!("user {username} disabled; its sessions and tokens are revoked");
        }
        UserCommand::Enable { username } => {
            let user = db::people::set_disabled(&tx, &username, false, now)?
                .with_context(|| format!("no user {username}"))?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "user.enable",
                &format!("user:{}", user.id),
                &json!({}),
                now,
            )?;
            tx.commit()?;
            println!("user {username} enabled");
        }
        UserCommand::ResetPassword { username, password } => {
            let (password, must_change, generated) = password.resolve(&username)?;
            let hash = secrets::hash_password(&password)
                .map_err(|err| anyhow::anyhow!("hashing the password: {err}"))?;
            let user = db::people::set_password(&tx, &username, &hash, must_change)?
                .with_context(|| format!("no user {username}"))?;
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
                println!("new one-time password for {username}: {password}");
            } else {
                println!("password of {username} set from the file; its sessions are ended");
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
                .with_context(|| format!("no user {username}"))?;
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
                "token {id} for {username} ({}), expires {}:",
                user.role,
                db::rfc3339(expires)
            );
            println!("{token}");
        }
        TokenCommand::Revoke { id } => {
            if !db::people::revoke_token(&tx, id, now)? {
                bail!("no live token with id {id}");
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
            println!("token {id} revoked");
        }
    }
    Ok(())
}

fn signer(
    config: &NodeConfig,
    conn: &rusqlite::Connection,
) -> anyhow::Result<crate::federation::Signer> {
    let province = db::comuni::province(conn)?
        .context("the database has no Province: it was not created by `pico-node init`")?;
    Ok(crate::federation::Signer {
        province: ProvinceCode::parse(&province.code)?,
        key: SecretKey::load(&config.key_path()).with_context(|| {
            format!(
                "cannot load the signing key {}",
                config.key_path().display()
            )
        })?,
    })
}

fn dataset(config: &NodeConfig, command: DatasetCommand) -> anyhow::Result<()> {
    use crate::dati::{Federation, ops};
    let db = open_db(config)?;
    let mut conn = db.get()?;
    match command {
        DatasetCommand::Import {
            name,
            key,
            title,
            replace,
            file,
        } => {
            let csv =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let request = ops::ImportRequest {
                name,
                title,
                key: key.map(|key| key.split(',').map(|k| k.trim().to_owned()).collect()),
                csv,
                replace,
            };
            let signer = signer(config, &conn)?;
            let report = ops::import(&mut conn, &signer, &Actor::cli(), &request)
                .map_err(|e| anyhow::anyhow!("import refused, nothing was changed: {e}"))?;
            println!(
                "{}: {} rows in the file, {} new, {} changed, {} unchanged, {} deleted (schema version {})",
                report.dataset,
                report.rows,
                report.inserted,
                report.updated,
                report.unchanged,
                report.deleted,
                report.schema_version
            );
            if !report.entries.is_empty() {
                println!(
                    "  published as {} signed entries ({} bytes), queued for the hub",
                    report.entries.len(),
                    report.entry_bytes
                );
            }
        }
        DatasetCommand::Federation { name, setting } => {
            let setting: Federation = setting.parse().map_err(anyhow::Error::msg)?;
            let signer = signer(config, &conn)?;
            let report = ops::set_federation(&mut conn, &signer, &Actor::cli(), &name, setting)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{}: federation {} ({} entries queued)",
                report.dataset,
                report.federation.as_str(),
                report.entries.len()
            );
        }
        DatasetCommand::DeleteRows { name, keys } => {
            let keys: Vec<Vec<String>> = keys
                .iter()
                .map(|key| key.split(',').map(str::to_owned).collect())
                .collect();
            let signer = signer(config, &conn)?;
            let report = ops::delete_rows(&mut conn, &signer, &Actor::cli(), &name, &keys)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{}: {} rows deleted ({} entries queued)",
                report.dataset,
                report.deleted,
                report.entries.len()
            );
        }
        DatasetCommand::List => {
            for dataset in db::datasets::list(&conn)? {
                // A derived dataset has no rows while off: say so, lest 0 look like data lost.
                let derived = match (crate::dati::derived_by(&dataset.name), dataset.federation) {
                    (Some(module), Federation::Off) => format!(
                        "\tderived from the {module} records: rows are built when it is federated"
                    ),
                    (Some(module), Federation::National) => {
                        format!("\tderived from the {module} records")
                    }
                    (None, _) => String::new(),
                };
                println!(
                    "{}\t{}\t{} rows\tschema v{}\tfederation {}{derived}",
                    dataset.name,
                    dataset.title,
                    dataset.row_count,
                    dataset.schema_version,
                    dataset.federation.as_str()
                );
            }
        }
    }
    Ok(())
}

fn sape(config: &NodeConfig, command: SapeCommand) -> anyhow::Result<()> {
    use crate::sape::import::{self, ImportError};
    let SapeCommand::Import { json, file } = command;
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let db = open_db(config)?;
    let mut conn = db.get()?;
    let filename = crate::upload::clean_filename(&file.display().to_string());
    let report = match import::import(&mut conn, &Actor::cli(), &bytes, &filename, db::now()) {
        Ok(report) => report,
        Err(ImportError::Rows { errors, count }) => {
            let mut message = format!(
                "importazione rifiutata, nulla è stato importato: {count} righe non valide"
            );
            for error in &errors {
                message.push_str(&format!("\n  {error}"));
            }
            if count > errors.len() as u64 {
                message.push_str(&format!("\n  … e altre {}", count - errors.len() as u64));
            }
            bail!(message);
        }
        Err(err) => bail!("importazione rifiutata, nulla è stato importato: {err}"),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} bandi letti: {} nuovi, {} aggiornati",
            report.total, report.created, report.updated
        );
    }
    Ok(())
}

fn sua(config: &NodeConfig, command: SuaCommand) -> anyhow::Result<()> {
    use crate::sua::import::{self, ImportError, ImportFormat};
    match command {
        SuaCommand::Import { format, json, file } => {
            let mut reader = std::io::BufReader::new(
                std::fs::File::open(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?,
            );
            let format = match format {
                Some(text) => ImportFormat::parse(&text)
                    .with_context(|| format!("--format {text}: use ocds or csv"))?,
                None => {
                    use std::io::BufRead as _;
                    let head = reader.fill_buf()?;
                    ImportFormat::detect(&file.display().to_string(), &head[..head.len().min(64)])
                }
            };
            let db = open_db(config)?;
            let mut conn = db.get()?;
            let signer = signer(config, &conn)?;
            let filename = crate::upload::clean_filename(&file.display().to_string());
            let report = match import::import(
                &mut conn,
                &signer,
                &Actor::cli(),
                format,
                &filename,
                reader,
            ) {
                Ok(report) => report,
                Err(ImportError::Rows { errors, count }) => {
                    let mut message = format!(
                        "import refused, nothing was imported: {count} problems in the file"
                    );
                    for error in &errors {
                        message.push_str(&format!("\n  {error}"));
                    }
                    if count > errors.len() as u64 {
                        message
                            .push_str(&format!("\n  … and {} more", count - errors.len() as u64));
                    }
                    bail!(message);
                }
                Err(err) => bail!("import refused, nothing was imported: {err}"),
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
        }
    }
    Ok(())
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
            let (join, network) = change.context("a join or leave")?;
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
                "{} the network {network}",
                if join { "joined" } else { "left" }
            );
        }
        NetworkCommand::List => {
            let conn = db.get()?;
            let members = store::memberships(&conn)?;
            for name in store::NETWORKS {
                match members.iter().find(|(n, _)| n == name) {
                    Some((_, at)) => println!("{name}\tmember since {}", db::rfc3339(*at)),
                    None => println!("{name}\tnot a member"),
                }
            }
            let province = db::comuni::province(&conn)?.context("no Province")?;
            let inbox = store::inbox_status(&conn, &province.code)?;
            println!(
                "inbox: cursor {}, {} posts received, {} in quarantine, last pull {}",
                inbox.cursor,
                inbox.received,
                inbox.quarantined,
                inbox.last_pull_at.as_deref().unwrap_or("never")
            );
            for key in store::keys(&conn)?.iter().filter(|key| !key.trusted) {
                println!(
                    "HELD KEY {} of {}: listed by the hub without a rotation entry",
                    key.kid, key.province
                );
            }
        }
        NetworkCommand::TrustKey { kid } => {
            let mut conn = db.get()?;
            let Some((province, released)) = crate::networks::inbox::trust_key(&mut conn, &kid)?
            else {
                bail!("no key {kid} is known: see `pico-node network list`");
            };
            db::audit::record(
                &conn,
                &Actor::cli(),
                "network.trust_key",
                &format!("key:{kid}"),
                &json!({"province": province, "released": released}),
                db::now(),
            )?;
            println!("key {kid} of {province} trusted; {released} held posts released");
        }
    }
    Ok(())
}

fn federation(config: &NodeConfig, command: FederationCommand) -> anyhow::Result<()> {
    use crate::db::federation as store;
    let db = open_db(config)?;
    let mut conn = db.get()?;
    match command {
        FederationCommand::Status => {
            let status = store::status(&conn)?;
            let hub = config.federation.hub_url.trim();
            println!(
                "hub: {}",
                if hub.is_empty() {
                    "none configured: publishing is off"
                } else {
                    hub
                }
            );
            println!("{}", serde_json::to_string_pretty(&status)?);
            for alarm in store::alarms(&conn, true, 50)? {
                println!("ALARM {} {}: {}", alarm.at, alarm.kind, alarm.detail);
            }
        }
        FederationCommand::Resync => {
            let signer = signer(config, &conn)?;
            let tx = conn.transaction()?;
            let Some((seq, hash)) = store::adopt_hub_head(&tx)? else {
                bail!("publishing is not blocked: nothing to resync");
            };
            let mut entries = 0;
            for name in db::datasets::national(&tx)? {
                let dataset = db::datasets::get(&tx, &name)?.context("dataset just listed")?;
                entries += crate::dati::ops::emit_snapshot(&tx, &signer, &dataset)
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .len();
            }
            store::resolve_alarms(&tx, crate::federation::alarm::LOG_BEHIND_HUB)?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "federation.resync",
                "federation",
                &json!({"adopted_seq": seq, "snapshot_entries": entries}),
                db::now(),
            )?;
            tx.commit()?;
            println!(
                "the log continues from the hub's head (seq {seq}, {hash}); {entries} snapshot entries queued"
            );
        }
        FederationCommand::Unpin => {
            let tx = conn.transaction()?;
            store::unpin(&tx)?;
            store::resolve_alarms(&tx, crate::federation::alarm::HUB_KEY_CHANGED)?;
            db::audit::record(
                &tx,
                &Actor::cli(),
                "federation.unpin",
                "federation",
                &json!({}),
                db::now(),
            )?;
            tx.commit()?;
            println!("hub key forgotten: the next contact pins the key the hub presents");
        }
    }
    Ok(())
}
