//! Project tasks behind the README's two commands.
//!
//! - `cargo xtask run`: the main job (from the federation issue on, the local federation).
//! - `cargo xtask test`: installs what the tests need on a fresh machine, then runs them all.
//!
//! Kept in Rust so that the only prerequisite on a Province's or a developer's machine is cargo.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("fuzz") => fuzz(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\n  run    start the main job\n  test   install test prerequisites and run the whole test suite\n  fuzz   only the API fuzzing of `test`"
            );
            std::process::exit(2);
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

fn status(mut command: Command, what: &str) -> Result<()> {
    eprintln!("xtask: {what}");
    let status = command
        .status()
        .with_context(|| format!("could not start: {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// The partner Provinces of the programme: ISTAT code, name, port of their node.
const PARTNERS: [(&str, &str, u16); 3] = [
    ("026", "Treviso", 8726),
    ("017", "Brescia", 8717),
    ("041", "Pesaro e Urbino", 8741),
];

/// Port of the hub in the local federation.
const HUB_PORT: u16 = 8700;

/// The main job: a local federation of the UPI hub and the three partner Province nodes, each
/// with its real Comuni, on embedded SQLite under one data folder. Running it again reuses
/// the data; Ctrl-C stops every service cleanly.
fn run(_args: &[String]) -> Result<()> {
    let mut build = cargo();
    build.args(["build", "--release", "-p", "pico-node", "-p", "pico-hub"]);
    status(build, "build the hub and the node (release)")?;
    let release = target_dir().join("release");
    let hub_bin = release.join("pico-hub");
    let node_bin = release.join("pico-node");

    let data = std::env::var_os("PICO_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("pico-data"));
    std::fs::create_dir_all(&data)?;
    let hub_dir = data.join("hub");
    let hub_is_new = !hub_dir.exists();
    // `init` keeps what exists (key, registry, a BES edition already held): run every time, it
    // also brings a hub made by an older version up to date (the BES edition it ships).
    capture(&hub_bin, &hub_dir, &["init"])?;
    if hub_is_new {
        eprintln!("xtask: hub inizializzato in {}", hub_dir.display());
    }

    let mut logins = Vec::new();
    let mut new_nodes = Vec::new();
    for (code, name, port) in PARTNERS {
        let dir = data.join(code);
        let node_is_new = !dir.exists();
        if node_is_new {
            init_partner(&node_bin, &dir, code, name)?;
            new_nodes.push((code, port, dir.clone()));
        }
        if node_is_new || hub_is_new {
            let shown = capture(&node_bin, &dir, &["key", "show"])?;
            let key = shown
                .lines()
                .find_map(|line| line.strip_prefix("chiave pubblica:"))
                .map(str::trim)
                .context("`pico-node key show` printed no public key")?;
            capture(
                &hub_bin,
                &hub_dir,
                &["enrol", "--province", code, "--key", key],
            )?;
            eprintln!("xtask: {name} ({code}) registrata sull'hub");
        }
        logins.push((code, name, std::fs::read_to_string(dir.join(LOGINS_FILE))?));
    }

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst))?;

    let hub_url = format!("http://127.0.0.1:{HUB_PORT}");
    let mut services = Vec::new();
    services.push(spawn_service(
        &hub_bin,
        &hub_dir,
        HUB_PORT,
        &data.join("hub.log"),
        &[],
    )?);
    for (code, _, port) in PARTNERS {
        services.push(spawn_service(
            &node_bin,
            &data.join(code),
            port,
            &data.join(format!("node-{code}.log")),
            &[("PICO_NODE_FEDERATION__HUB_URL", hub_url.as_str())],
        )?);
    }
    for port in std::iter::once(HUB_PORT).chain(PARTNERS.iter().map(|p| p.2)) {
        wait_ready(port, &mut services)?;
    }
    let seeded = new_nodes.iter().try_for_each(|(code, port, dir)| {
        seed_helpdesk(&node_bin, dir, *port)
            .with_context(|| format!("demo Help Desk requests of {code}"))?;
        seed_network(&node_bin, dir, *port, &hub_url, *code == "026")
            .with_context(|| format!("demo network thread of {code}"))?;
        seed_sua(&node_bin, dir, *port, code)
            .with_context(|| format!("demo SUA procedures of {code}"))?;
        seed_sape(&node_bin, dir, *port, code)
            .with_context(|| format!("demo SAPE calls and proposal of {code}"))?;
        seed_formazione(&node_bin, dir, *port)
            .with_context(|| format!("demo Formazione courses of {code}"))?;
        seed_sit(&node_bin, dir, *port, code)
            .with_context(|| format!("demo SIT catalogue and subscriptions of {code}"))
    });
    // Once every node is in the SAPE network, Treviso looks for partners on the call they
    // all hold: the others see the search on that call's page.
    let seeded = seeded.and_then(
        |()| match new_nodes.iter().find(|(code, ..)| *code == "026") {
            Some((_, port, dir)) => seed_partner_search(&node_bin, dir, *port)
                .context("demo SAPE partner search of Treviso"),
            None => Ok(()),
        },
    );
    if let Err(error) = seeded {
        // Leave nothing running behind a failed start.
        stop_all(&mut services);
        return Err(error);
    }

    println!(
        "\nLa federazione locale Pi.Co. è avviata (dati in {}, log accanto).",
        data.display()
    );
    for line in [
        "Ogni nodo pubblica sull'hub i propri indicatori BES Istat (dataset bes_indicatori) e i",
        "dati nazionali di ogni modulo. I tre nodi sono nella rete SUA, dove Treviso ha aperto",
        "una discussione; la buona pratica di Treviso sulla convenzione SUA è nella biblioteca",
        "nazionale. Ogni SUA ha una convenzione con il capoluogo, una procedura aggiudicata,",
        "quattro procedure passate importate da CSV (vista nazionale /appalti dell'hub) e una",
        "richiesta in attesa dell'operatore SUA. Ogni SAPE ha i 1.907 topic reali di Horizon",
        "Europe, un bando regionale segnalato al capoluogo (che lo segue e chiede supporto),",
        "una proposta con budget e un progetto finanziato con il suo esito (/sape dell'hub); sul",
        "bando LIFE dimostrativo ogni nodo mostra la ricerca partner di Treviso. Formazione ha",
        "un corso per settore, un'edizione, iscrizioni e un attestato (/formazione dell'hub;",
        "il corso Appalti è aperto alle altre Province: /formazione/corsi); SIT un catalogo di",
        "servizi, le adesioni del capoluogo e il quadro digitale (/sit). L'hub ha gli indicatori",
        "BES dell'Istat di tutte le Province (/bes; quelli calcolati da Treviso accanto, in",
        "/bes/province/026), il rapporto sul patrimonio informativo (/dati/rapporto) e ogni",
        "dataset nazionale scaricabile intero in CSV e Parquet.",
    ] {
        println!("{line}");
    }
    println!("\n  Hub UPI                 http://127.0.0.1:{HUB_PORT}/");
    for (code, name, port) in PARTNERS {
        println!("  {name:<23} http://127.0.0.1:{port}/   (nodo {code})");
    }
    println!("\nAccessi dimostrativi (anche nel file {LOGINS_FILE} di ogni nodo):");
    for (code, name, text) in &logins {
        println!("  {name} ({code}):");
        for line in text.lines() {
            println!("    {line}");
        }
    }
    println!("\nCtrl-C ferma tutto.");

    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        for service in &mut services {
            if let Some(exit) = service.try_wait()? {
                stop_all(&mut services);
                bail!(
                    "un servizio si è fermato inaspettatamente ({exit}); vedi i log in {}",
                    data.display()
                );
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    eprintln!("\nxtask: arresto della federazione…");
    stop_all(&mut services);
    Ok(())
}

/// Demo logins of a node, written at its first start (mode 0600: they are passwords).
const LOGINS_FILE: &str = "demo-logins.txt";

/// A random password for a demo account (24 hex digits from the system's generator).
fn demo_password() -> Result<String> {
    use std::io::Read as _;
    let mut bytes = [0u8; 12];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Runs a `user` command of `pico-node` that takes `--password-file`: the password goes
/// through a private file, never on a command line, and is removed right after.
fn with_password_file(node_bin: &Path, dir: &Path, password: &str, args: &[&str]) -> Result<()> {
    let file = dir.join(".demo-password");
    // A leftover of an interrupted run would make `create_new` fail.
    let _ = std::fs::remove_file(&file);
    write_private(&file, &format!("{password}\n"))?;
    let file_arg = file.to_string_lossy().into_owned();
    let mut command = args.to_vec();
    command.extend(["--password-file", &file_arg, "--no-change"]);
    let outcome = capture(node_bin, dir, &command);
    std::fs::remove_file(&file)?;
    outcome.map(drop)
}

/// The sigla of a partner Province, lower case (its IPA code is `p_` and this).
fn sigla_of(code: &str) -> &'static str {
    match code {
        "026" => "tv",
        "017" => "bs",
        "041" => "pu",
        _ => "xx",
    }
}

/// Initialises a partner node with its Comuni and demo users, and saves their logins.
///
/// `init` and `user add` give one-time passwords, which must be changed at the first login;
/// the demo's accounts instead get passwords of their own through `--password-file
/// --no-change` (the option meant for demos), so the logins of `demo-logins.txt` work as
/// they are.
fn init_partner(node_bin: &Path, dir: &Path, code: &str, name: &str) -> Result<()> {
    capture(node_bin, dir, &["init", "--province", code])?;
    let admin = demo_password()?;
    with_password_file(node_bin, dir, &admin, &["user", "reset-password", "admin"])?;
    // The capital's Comune code: the ISTAT codes of Treviso, Brescia and Pesaro.
    let capital = match code {
        "026" => "026086",
        "017" => "017029",
        _ => "041044",
    };
    let mut text = format!("admin / {admin}   (amministratore della Provincia)\n");
    for (user, label, args) in [
        (
            "helpdesk",
            "operatore Help Desk",
            vec!["--role", "operator", "--module", "helpdesk"],
        ),
        (
            "sua",
            "operatore SUA",
            vec!["--role", "operator", "--module", "sua"],
        ),
        (
            "sape",
            "operatore SAPE (fondi europei)",
            vec!["--role", "operator", "--module", "sape"],
        ),
        (
            "formazione",
            "operatore Formazione",
            vec!["--role", "operator", "--module", "formazione"],
        ),
        (
            "sit",
            "operatore SIT (servizi innovativi)",
            vec!["--role", "operator", "--module", "sit"],
        ),
        (
            "comune",
            "utente del Comune",
            vec!["--role", "comune", "--comune", capital],
        ),
    ] {
        let display = format!("{label} — {name}");
        let mut command = vec!["user", "add", user, "--name", &display];
        command.extend(args);
        let password = demo_password()?;
        with_password_file(node_bin, dir, &password, &command)?;
        text.push_str(&format!("{user} / {password}   ({label})\n"));
    }
    write_private(&dir.join(LOGINS_FILE), &text)?;

    // A real dataset, published nationally: the Province's ISTAT BES indicators.
    let demo = workspace_root().join(format!("deploy/demo/bes_{code}.csv"));
    let demo = demo.to_string_lossy();
    capture(
        node_bin,
        dir,
        &[
            "dataset",
            "import",
            "--name",
            "bes_indicatori",
            "--key",
            "codice,sesso,anno",
            "--title",
            "Indicatori BES dei territori (Istat, edizione 2020)",
            &demo,
        ],
    )?;
    // Its DCAT-AP_IT metadata, so that it is open data in the node's and the hub's catalogues.
    let metadata = dir.join("bes_indicatori.metadata.json");
    std::fs::write(
        &metadata,
        serde_json::json!({
            "open": true,
            "identifier": format!("p_{}:bes_indicatori", sigla_of(code)),
            "title": "Indicatori BES dei territori (Istat, edizione 2020)",
            "description": "Gli indicatori del Benessere equo e sostenibile dei territori che l'Istat \
                calcola per la Provincia, per sesso e anno (Fonte: Istat, CC BY 4.0). Dati dimostrativi.",
            "themes": [
                "http://publications.europa.eu/resource/authority/data-theme/SOCI",
                "http://publications.europa.eu/resource/authority/data-theme/REGI"
            ],
            "keywords": ["BES", "benessere equo e sostenibile", "Istat"],
            "contact_point": "opendata@example.it",
            "accrual_periodicity": "http://publications.europa.eu/resource/authority/frequency/ANNUAL",
            "spatial": [code],
            "license": "https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40"
        })
        .to_string(),
    )?;
    capture(
        node_bin,
        dir,
        &[
            "dataset",
            "metadata",
            "--name",
            "bes_indicatori",
            &metadata.to_string_lossy(),
        ],
    )?;
    capture(
        node_bin,
        dir,
        &[
            "dataset",
            "federation",
            "--name",
            "bes_indicatori",
            "national",
        ],
    )?;
    // Treviso also computes indicators of its own (the "BES delle Province", demonstration
    // values), shown by the hub beside ISTAT's in its profile (/bes/province/026).
    if code == "026" {
        let own = workspace_root().join("deploy/demo/bes_provincia_026.csv");
        for args in [
            vec![
                "dataset",
                "import",
                "--name",
                "bes_provincia",
                "--key",
                "codice,sesso,anno",
                "--title",
                "Indicatori BES calcolati dalla Provincia (dati dimostrativi)",
                &own.to_string_lossy(),
            ],
            vec![
                "dataset",
                "federation",
                "--name",
                "bes_provincia",
                "national",
            ],
        ] {
            capture(node_bin, dir, &args)?;
        }
    }
    eprintln!("xtask: {name} ({code}) inizializzata con i suoi Comuni Istat e gli indicatori BES");
    Ok(())
}

/// Two Help Desk requests opened by the Comune user through the real API.
fn seed_helpdesk(node_bin: &Path, dir: &Path, port: u16) -> Result<()> {
    let out = capture(
        node_bin,
        dir,
        &["token", "create", "comune", "--name", "demo", "--days", "1"],
    )?;
    let token = out
        .lines()
        .last()
        .context("`pico-node token create` printed no token")?
        .trim();
    let id = out
        .split_whitespace()
        .nth(1)
        .context("`pico-node token create` printed no token id")?
        .to_owned();
    for (category, subject, description) in [
        (
            "technical",
            "Protocollo informatico non raggiungibile",
            "Da stamattina il protocollo informatico risponde con un errore di certificato: non riusciamo a protocollare le PEC in arrivo.",
        ),
        (
            "procurement",
            "Supporto per la gara di manutenzione delle strade comunali",
            "Vorremmo delegare alla SUA la procedura aperta per la manutenzione straordinaria delle strade comunali (circa 450.000 euro, fondi PNRR).",
        ),
    ] {
        let body = format!(
            r#"{{"category":"{category}","subject":"{subject}","description":"{description}"}}"#
        );
        let status = post_json(port, "/v1/helpdesk/requests", token, &body)?;
        if status != 201 {
            bail!("opening a demo Help Desk request answered {status}");
        }
    }
    capture(node_bin, dir, &["token", "revoke", &id])?;
    Ok(())
}

/// Joins the SUA and SAPE networks (requests signed with the node's key) and, for the node that opens
/// the conversation, posts a thread that the other members receive through their inbox.
fn seed_network(node_bin: &Path, dir: &Path, port: u16, hub_url: &str, opens: bool) -> Result<()> {
    let env = [("PICO_NODE_FEDERATION__HUB_URL", hub_url)];
    capture_env(node_bin, dir, &["network", "join", "sua"], &env)?;
    capture_env(node_bin, dir, &["network", "join", "sape"], &env)?;
    if !opens {
        return Ok(());
    }
    let out = capture(
        node_bin,
        dir,
        &["token", "create", "admin", "--name", "demo", "--days", "1"],
    )?;
    let token = out
        .lines()
        .last()
        .context("`pico-node token create` printed no token")?
        .trim();
    let id = out
        .split_whitespace()
        .nth(1)
        .context("`pico-node token create` printed no token id")?
        .to_owned();
    let body = r#"{"subject":"Qualificazione delle stazioni appaltanti: come vi siete organizzati?","body":"A Treviso la SUA ha ottenuto la qualificazione per lavori e servizi: condividiamo il modello di convenzione con i Comuni e la ripartizione dei costi. Come avete organizzato l'ufficio gare?"}"#;
    let status = post_json(port, "/v1/networks/sua/posts", token, body)?;
    if status != 201 {
        bail!("posting the demo thread answered {status}");
    }
    // A best practice, public and published nationally: the hub's library shows it. It is the
    // node's first document, so its id is 1.
    let practice = r#"{"title":"Convenzione tipo per l'adesione dei Comuni alla Stazione Unica Appaltante","summary":"Schema di convenzione SUA–Comuni con ripartizione dei costi per fasce di popolazione.","module":"sua","comuni":["026086"],"tags":["convenzione","d.lgs. 36/2023","qualificazione"],"body":"La Provincia svolge per i Comuni aderenti le funzioni di centrale di committenza (art. 62 del d.lgs. 36/2023). La convenzione fissa oggetto, durata, obblighi delle parti e ripartizione dei costi.","public":true}"#;
    let status = post_json(port, "/v1/practices", token, practice)?;
    if status != 201 {
        bail!("creating the demo best practice answered {status}");
    }
    let status = send_json(
        "PUT",
        port,
        "/v1/practices/1/federation",
        token,
        r#"{"federation":"national"}"#,
    )?;
    capture(node_bin, dir, &["token", "revoke", &id])?;
    if status != 200 {
        bail!("publishing the demo best practice answered {status}");
    }
    Ok(())
}

/// A short-lived API token acting as `user`; returns (token id, token).
fn demo_token(node_bin: &Path, dir: &Path, user: &str) -> Result<(String, String)> {
    let out = capture(
        node_bin,
        dir,
        &["token", "create", user, "--name", "demo", "--days", "1"],
    )?;
    let token = out
        .lines()
        .last()
        .context("`pico-node token create` printed no token")?
        .trim()
        .to_owned();
    let id = out
        .split_whitespace()
        .nth(1)
        .context("`pico-node token create` printed no token id")?
        .to_owned();
    Ok((id, token))
}

/// The SUA at work, through the real API: a convenzione with the capital, a request of the
/// capital run by the SUA operator to award (with its lot and CIG), a second request left
/// waiting for the operator, four past procedures imported from CSV with `pico-node sua
/// import`, and the national `appalti` dataset switched on.
fn seed_sua(node_bin: &Path, dir: &Path, port: u16, code: &str) -> Result<()> {
    let (sua_id, sua) = demo_token(node_bin, dir, "sua")?;
    let (comune_id, comune) = demo_token(node_bin, dir, "comune")?;
    let capital = match code {
        "026" => "026086",
        "017" => "017029",
        _ => "041044",
    };
    let expect = |what: &str, (status, body): (u16, serde_json::Value), want: u16| {
        if status == want {
            Ok(body)
        } else {
            Err(anyhow::anyhow!("{what} answered {status}: {body}"))
        }
    };
    let convention = format!(
        r#"{{"comune_code":"{capital}","scope":"all","valid_from":"2024-01-01","document_ref":"Convenzione SUA approvata con delibera del Consiglio comunale"}}"#
    );
    expect(
        "creating the demo convenzione",
        call_json("POST", port, "/v1/sua/conventions", &sua, &convention)?,
        201,
    )?;
    let request = |object: &str,
                   kind: &str,
                   cpv: &str,
                   amount: &str,
                   procedure: u16,
                   pnrr: bool| {
        format!(
            r#"{{"object":"{object}","description":"{object}. Richiesta di delega alla Stazione Unica Appaltante.","contract_type":"{kind}","cpv_main":"{cpv}","cpv_other":[],"estimated_amount":"{amount}","procedure_code":{procedure},"award_criterion":"lowest_price","funding_source":"{}","pnrr":{pnrr},"cup":{},"rup_name":"Responsabile del Servizio Lavori Pubblici","rup_email":"lavori.pubblici@comune.example.it"}}"#,
            if pnrr {
                "PNRR M2C4 I2.2"
            } else {
                "Bilancio comunale"
            },
            // A PNRR project needs its CUP; this one says it is demo data.
            if pnrr { r#""DEMO00000000001""# } else { "null" }
        )
    };
    let awarded = expect(
        "submitting the demo SUA request",
        call_json(
            "POST",
            port,
            "/v1/sua/requests",
            &comune,
            &request(
                "Manutenzione straordinaria delle strade comunali",
                "works",
                "45233140-2",
                "450000.00",
                34,
                true,
            ),
        )?,
        201,
    )?;
    let id = awarded["id"].as_i64().context("the request has no id")?;
    let base = format!("/v1/sua/procedures/{id}");
    let step = |to: &str, extra: &str| -> Result<()> {
        let body = format!(r#"{{"to":"{to}","reason":"Avanzamento della procedura"{extra}}}"#);
        expect(
            &format!("moving the demo procedure to {to}"),
            call_json("POST", port, &format!("{base}/transitions"), &sua, &body)?,
            200,
        )
        .map(|_| ())
    };
    step("received", "")?;
    step("in_preparation", "")?;
    // A CIG that says it is demo data: ten letters and digits, as ANAC's.
    let lot = format!(
        r#"{{"cig":"DEMO{code}001","description":"Lotto unico: strade comunali","amount":"450000.00"}}"#
    );
    let lot = expect(
        "adding the demo lot",
        call_json("POST", port, &format!("{base}/lots"), &sua, &lot)?,
        201,
    )?;
    let lot_id = lot["id"].as_i64().context("the lot has no id")?;
    step(
        "published",
        r#","anac_gara":"9000001","published_on":"2025-03-03","deadline_on":"2025-04-02""#,
    )?;
    step("bids_closed", "")?;
    step("evaluation", "")?;
    // Demo data: the all-zero partita IVA is well formed and belongs to nobody.
    let award = r#"{"supplier_name":"Impresa di esempio S.r.l. (dati dimostrativi)","supplier_cf":"00000000000","amount":"396000.00","awarded_on":"2025-05-06","bids_count":7}"#;
    expect(
        "awarding the demo lot",
        call_json(
            "PUT",
            port,
            &format!("{base}/lots/{lot_id}/award"),
            &sua,
            award,
        )?,
        200,
    )?;
    step("awarded", r#","awarded_on":"2025-05-06""#)?;
    expect(
        "submitting the second demo SUA request",
        call_json(
            "POST",
            port,
            "/v1/sua/requests",
            &comune,
            &request(
                "Servizio di refezione scolastica 2026-2028",
                "services",
                "55524000-9",
                "820000.00",
                1,
                false,
            ),
        )?,
        201,
    )?;
    // The SUA's history, imported as a Province imports its past procedures: the requests
    // made through the API are dated today, these give the dashboards years, amounts and
    // durations from request to award.
    let history = dir.join("demo-sua-storico.csv");
    std::fs::write(&history, sua_history_csv(code, capital))
        .with_context(|| format!("cannot write {}", history.display()))?;
    let path = history.to_string_lossy().into_owned();
    capture(node_bin, dir, &["sua", "import", "--format", "csv", &path])?;
    publish_nationally(node_bin, dir, port, &["appalti"])?;
    for id in [sua_id, comune_id] {
        capture(node_bin, dir, &["token", "revoke", &id])?;
    }
    Ok(())
}

/// The SAPE at work: the real Horizon Europe topics imported with `pico-node sape import`,
/// a regional call typed by hand and flagged to the capital (whose user follows it, so it is
/// in the Comune's calendar), and a proposal for it with the Province, the capital and a
/// foreign partner, budget and work packages, all through the real API.
fn seed_sape(node_bin: &Path, dir: &Path, port: u16, code: &str) -> Result<()> {
    let topics = workspace_root().join("node/data/eu_ft_horizon_europe_topics_2024-07-11.csv");
    capture(
        node_bin,
        dir,
        &["sape", "import", &topics.to_string_lossy()],
    )?;
    let (sape_id, sape) = demo_token(node_bin, dir, "sape")?;
    let (comune_id, comune) = demo_token(node_bin, dir, "comune")?;
    let (capital, region, fund) = match code {
        "026" => ("026086", "Veneto", "FESR"),
        "017" => ("017029", "Lombardia", "FESR"),
        _ => ("041044", "Marche", "FSE+"),
    };
    let expect = |what: &str, (status, body): (u16, serde_json::Value), want: u16| {
        if status == want {
            Ok(body)
        } else {
            Err(anyhow::anyhow!("{what} answered {status}: {body}"))
        }
    };
    let programme = if fund == "FESR" { "fesr" } else { "fse_plus" };
    let call = format!(
        r#"{{"identifier":"DEMO-{code}-{programme}-2027-01","title":"{fund} {region} 2021-2027: efficienza energetica degli edifici pubblici dei Comuni","programme":"{programme}","management":"indirect","type_of_action":"Contributo a fondo perduto","keywords":"energia; edifici pubblici; scuole; Comuni","deadline_model":"multiple_cutoff","opening_date":"2026-01-15","deadlines":["2027-03-31","2027-09-30"],"budget":"12000000","funding_rate":80}}"#
    );
    let call = expect(
        "entering the demo regional call",
        call_json("POST", port, "/v1/sape/calls", &sape, &call)?,
        201,
    )?;
    let call = call["id"].as_i64().context("the call has no id")?;
    expect(
        "flagging the demo call",
        call_json(
            "PUT",
            port,
            &format!("/v1/sape/calls/{call}/flags"),
            &sape,
            &format!(
                r#"{{"comuni":["{capital}"],"note":"Adatto al piano di efficientamento delle scuole comunali"}}"#
            ),
        )?,
        200,
    )?;
    expect(
        "following the demo call",
        call_json(
            "PUT",
            port,
            &format!("/v1/sape/calls/{call}/follow"),
            &comune,
            "",
        )?,
        200,
    )?;
    let proposal = format!(
        r#"{{"call_id":{call},"title":"Scuole a energia quasi zero nei Comuni della Provincia","acronym":"SCUOLE-NZ-{code}","province_role":"coordinator","comuni":["{capital}"],"partners":[{{"name":"Provincia (demo {code})","country":"IT","pic":"999999999","role":"coordinator","personnel_unit":"month","personnel_quantity":"18","personnel_rate":"3800","subcontracting":"25000","travel":"4000","equipment":"12000","other_goods":"6000","other_costs":"1500"}},{{"name":"Comune capoluogo (demo)","country":"IT","pic":"999999998","role":"beneficiary","comune_code":"{capital}","personnel_unit":"day","personnel_quantity":"120","personnel_rate":"210","equipment":"180000"}},{{"name":"Energy agency (demo)","country":"AT","pic":"999999997","role":"beneficiary","personnel_unit":"month","personnel_quantity":"6","personnel_rate":"5200","travel":"3000"}}],"work_packages":[{{"number":1,"title":"Coordinamento e rendicontazione","lead":"Provincia (demo {code})","start_month":1,"end_month":36}},{{"number":2,"title":"Diagnosi energetiche e progetti","lead":"Energy agency (demo)","start_month":1,"end_month":12}},{{"number":3,"title":"Lavori negli edifici scolastici","lead":"Comune capoluogo (demo)","start_month":10,"end_month":33}}]}}"#
    );
    expect(
        "creating the demo proposal",
        call_json("POST", port, "/v1/sape/proposals", &sape, &proposal)?,
        201,
    )?;
    expect(
        "the capital asking for support",
        call_json(
            "POST",
            port,
            &format!("/v1/sape/calls/{call}/support"),
            &comune,
            r#"{"message":"Vorremmo candidare le due scuole medie: ci aiutate a verificare i requisiti e a preparare il budget? (dati dimostrativi)"}"#,
        )?,
        201,
    )?;
    // A real 2024 Horizon Europe topic, won and running: the outcome with its CUP and the
    // contribution obtained and received.
    let (_, found) = call_json(
        "GET",
        port,
        "/v1/sape/calls?q=HORIZON-CL5-2024-D3-01-01",
        &sape,
        "",
    )?;
    let topic = found["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|c| c["identifier"] == "HORIZON-CL5-2024-D3-01-01")
        })
        .and_then(|c| c["id"].as_i64())
        .context("the Horizon Europe topic HORIZON-CL5-2024-D3-01-01 is not in the catalogue")?;
    let won = format!(
        r#"{{"call_id":{topic},"title":"Comunità energetiche negli edifici municipali (dati dimostrativi)","acronym":"CER-{code}","province_role":"partner","comuni":["{capital}"],"partners":[{{"name":"Provincia (demo {code})","country":"IT","pic":"999999999","role":"beneficiary","personnel_unit":"month","personnel_quantity":"10","personnel_rate":"4000","travel":"3000"}},{{"name":"Comune capoluogo (demo)","country":"IT","pic":"999999998","role":"beneficiary","comune_code":"{capital}","personnel_unit":"day","personnel_quantity":"45","personnel_rate":"250"}}]}}"#
    );
    let won = expect(
        "creating the demo funded project",
        call_json("POST", port, "/v1/sape/proposals", &sape, &won)?,
        201,
    )?;
    let won = won["id"].as_i64().context("the project has no id")?;
    for state in [
        "in_preparation",
        "submitted",
        "evaluated",
        "funded",
        "grant_signed",
        "in_execution",
    ] {
        expect(
            "moving the demo funded project",
            call_json(
                "POST",
                port,
                &format!("/v1/sape/proposals/{won}/transitions"),
                &sape,
                &format!(r#"{{"state":"{state}"}}"#),
            )?,
            200,
        )?;
    }
    expect(
        "recording the demo outcome",
        call_json(
            "PUT",
            port,
            &format!("/v1/sape/proposals/{won}/outcome"),
            &sape,
            r#"{"score":"13,5","threshold":"10","cup":"J00D00000000000","partners":[{"obtained":"36000","received":"14400"},{"obtained":"9800","received":"3920"}]}"#,
        )?,
        200,
    )?;
    // The LIFE call every demo node holds (the identifier joins them across Provinces).
    expect(
        "entering the demo LIFE call",
        call_json("POST", port, "/v1/sape/calls", &sape, DEMO_LIFE_CALL)?,
        201,
    )?;
    // The proposals in the national EU-funds view (the hub's /sape).
    publish_nationally(node_bin, dir, port, &["sape_progetti"])?;
    for id in [sape_id, comune_id] {
        capture(node_bin, dir, &["token", "revoke", &id])?;
    }
    Ok(())
}

/// Switches a node's derived datasets to national publication, as its administrator would
/// from the Dati pages: the node then signs and pushes them to the hub's national views.
fn publish_nationally(node_bin: &Path, dir: &Path, port: u16, datasets: &[&str]) -> Result<()> {
    let (admin_id, admin) = demo_token(node_bin, dir, "admin")?;
    for dataset in datasets {
        let (status, body) = call_json(
            "PUT",
            port,
            &format!("/v1/datasets/{dataset}/federation"),
            &admin,
            r#"{"federation":"national"}"#,
        )?;
        if status != 200 {
            bail!("publishing the {dataset} dataset answered {status}: {body}");
        }
    }
    capture(node_bin, dir, &["token", "revoke", &admin_id])?;
    Ok(())
}

/// A LIFE call entered on every demo node, as each SAPE would copy it from the portal.
const DEMO_LIFE_CALL: &str = r#"{"identifier":"DEMO-LIFE-2027-CET-LOCAL","title":"LIFE 2027: transizione energetica dei piccoli Comuni (dati dimostrativi)","programme":"life","management":"direct","type_of_action":"LIFE-SAP","keywords":"energia; piccoli Comuni; comunità energetiche","deadline_model":"single_stage","opening_date":"2027-01-15","deadlines":["2027-09-30"],"funding_rate":60}"#;

/// Treviso's SAPE looks for partners on the demo LIFE call, in the SAPE network.
fn seed_partner_search(node_bin: &Path, dir: &Path, port: u16) -> Result<()> {
    let (sape_id, sape) = demo_token(node_bin, dir, "sape")?;
    let (_, found) = call_json(
        "GET",
        port,
        "/v1/sape/calls?q=DEMO-LIFE-2027-CET-LOCAL",
        &sape,
        "",
    )?;
    let call = found["items"][0]["id"]
        .as_i64()
        .context("the demo LIFE call is not in Treviso's catalogue")?;
    let (status, body) = call_json(
        "POST",
        port,
        &format!("/v1/sape/calls/{call}/partner-searches"),
        &sape,
        r#"{"profile":"Un ente locale spagnolo o portoghese con esperienza nelle comunità energetiche, come beneficiario (dati dimostrativi)","deadline":"2027-06-30"}"#,
    )?;
    if status != 201 {
        bail!("the demo partner search answered {status}: {body}");
    }
    capture(node_bin, dir, &["token", "revoke", &sape_id])?;
    Ok(())
}

/// Formazione at work: one course per sector (the digital one on a Syllabus area and level),
/// an edition of the Appalti course with two sessions and an open enrolment window, three
/// people of the capital's staff list (kept by the Comune's user) enrolled: two by the Comune
/// (waiting for the Province's approval, as the course asks) and one approved; a past
/// edition of the security course that one of them completed, with her certificate of
/// attendance; the Appalti course is open to other Provinces' staff; all through the real API.
fn seed_formazione(node_bin: &Path, dir: &Path, port: u16) -> Result<()> {
    let (office_id, office) = demo_token(node_bin, dir, "formazione")?;
    let (comune_id, comune) = demo_token(node_bin, dir, "comune")?;
    let expect = |what: &str, (status, body): (u16, serde_json::Value), want: u16| {
        if status == want {
            Ok(body)
        } else {
            Err(anyhow::anyhow!("{what} answered {status}: {body}"))
        }
    };
    let courses = [
        r#"{"title":"Il nuovo codice dei contratti pubblici (D.Lgs. 36/2023) per i RUP","sector":"appalti","description":"Programmazione, progettazione e affidamento dopo il nuovo codice; il ruolo del RUP.","objectives":"Gestire una procedura negoziata e un affidamento diretto.","hours":6,"mode":"online","tags":["codice dei contratti","RUP"],"audience":"both","needs_approval":true,"min_attendance_percent":75,"min_score":60,"open_to_provinces":true}"#,
        r#"{"title":"Progettare con i fondi europei: dal bando alla rendicontazione","sector":"europa","hours":12,"mode":"presence","tags":["progettazione europea","rendicontazione"],"audience":"both","min_attendance_percent":80}"#,
        r#"{"title":"Sicurezza informatica per il lavoro d'ufficio","sector":"innovazione","hours":4,"mode":"elearning","syllabus_area":"sicurezza","syllabus_level":"base","audience":"both","min_attendance_percent":100,"moodle_shortname":"SICUR-BASE"}"#,
        r#"{"title":"Il piano dei fabbisogni di personale nel PIAO","sector":"personale","hours":3,"mode":"online","tags":["PIAO","fabbisogni"],"audience":"comuni","min_attendance_percent":75}"#,
        r#"{"title":"Scrivere testi amministrativi chiari","sector":"altro","hours":5,"mode":"presence","tags":["linguaggio amministrativo"],"audience":"both","min_attendance_percent":75}"#,
    ];
    let mut ids = Vec::new();
    for course in courses {
        let created = expect(
            "adding a demo course",
            call_json("POST", port, "/v1/formazione/courses", &office, course)?,
            201,
        )?;
        ids.push(created["id"].as_i64().context("the course has no id")?);
    }
    let course = *ids.first().context("no demo course")?;
    let edition = expect(
        "adding the demo edition",
        call_json(
            "POST",
            port,
            &format!("/v1/formazione/courses/{course}/editions"),
            &office,
            r#"{"teacher":"Docente della Provincia (demo)","link":"https://meet.example.org/contratti-pubblici","seats":25,"enrol_opens":"2026-01-01","enrol_closes":"2027-12-31","sessions":[{"starts_at":"2027-03-09T09:00:00+01:00","ends_at":"2027-03-09T12:00:00+01:00"},{"starts_at":"2027-03-16T09:00:00+01:00","ends_at":"2027-03-16T12:00:00+01:00"}]}"#,
        )?,
        201,
    )?;
    let edition = edition["id"].as_i64().context("the edition has no id")?;
    let mut enrolments = Vec::new();
    let mut people = Vec::new();
    for (name, email) in [
        ("Giulia Rossi (demo)", "giulia.rossi@comune.example.it"),
        ("Marco Bianchi (demo)", "marco.bianchi@comune.example.it"),
        ("Anna Verdi (demo)", "anna.verdi@comune.example.it"),
    ] {
        let person = expect(
            "adding a demo person of the capital",
            call_json(
                "POST",
                port,
                "/v1/formazione/staff",
                &comune,
                &format!(r#"{{"name":"{name}","office":"Ufficio tecnico","email":"{email}"}}"#),
            )?,
            201,
        )?;
        people.push(person["id"].as_i64().context("the person has no id")?);
        let enrolment = expect(
            "enrolling a demo person",
            call_json(
                "POST",
                port,
                &format!("/v1/formazione/editions/{edition}/enrolments"),
                &comune,
                &format!(r#"{{"staff_id":{}}}"#, person["id"]),
            )?,
            201,
        )?;
        enrolments.push(
            enrolment["id"]
                .as_i64()
                .context("the enrolment has no id")?,
        );
    }
    expect(
        "approving a demo enrolment",
        call_json(
            "POST",
            port,
            &format!("/v1/formazione/enrolments/{}/approve", enrolments[0]),
            &office,
            "{}",
        )?,
        200,
    )?;
    // A past edition of the security course that Giulia completed, with her certificate of
    // attendance (its public page is /attestati/{code}).
    let past = expect(
        "adding the demo past edition",
        call_json(
            "POST",
            port,
            &format!("/v1/formazione/courses/{}/editions", ids[2]),
            &office,
            r#"{"teacher":"Piattaforma e-learning della Provincia (demo)","link":"https://elearning.example.org/sicurezza","seats":30,"enrol_opens":"2026-01-01","enrol_closes":"2027-12-31","sessions":[{"starts_at":"2026-02-10T09:00:00+01:00","ends_at":"2026-02-10T11:00:00+01:00"},{"starts_at":"2026-02-17T09:00:00+01:00","ends_at":"2026-02-17T11:00:00+01:00"}]}"#,
        )?,
        201,
    )?;
    let enrolment = expect(
        "enrolling Giulia in the past edition",
        call_json(
            "POST",
            port,
            &format!("/v1/formazione/editions/{}/enrolments", past["id"]),
            &office,
            &format!(r#"{{"staff_id":{}}}"#, people[0]),
        )?,
        201,
    )?;
    for session in past["sessions"]
        .as_array()
        .context("the edition has no sessions")?
    {
        expect(
            "filling a demo register",
            call_json(
                "PUT",
                port,
                &format!("/v1/formazione/sessions/{}/attendance", session["id"]),
                &office,
                &format!(
                    r#"{{"entries":[{{"enrolment_id":{},"minutes":120}}]}}"#,
                    enrolment["id"]
                ),
            )?,
            200,
        )?;
    }
    expect(
        "issuing the demo certificate",
        call_json(
            "POST",
            port,
            &format!("/v1/formazione/enrolments/{}/certificate", enrolment["id"]),
            &office,
            "",
        )?,
        201,
    )?;
    // Counts and hours only (no names) in the hub's national progress view (/formazione), and
    // the Appalti course, open to other Provinces' staff, in its catalogue (/formazione/corsi).
    publish_nationally(
        node_bin,
        dir,
        port,
        &["formazione_aggregati", "formazione_corsi"],
    )?;
    for id in [office_id, comune_id] {
        capture(node_bin, dir, &["token", "revoke", &id])?;
    }
    Ok(())
}

/// The SIT at work, through the real API: a catalogue of four shared digital services (a
/// digital-transition office for small Comuni, pagoPA and App IO, ANPR, a territorial GIS),
/// the capital's subscriptions (pagoPA accepted with its agreement, ANPR waiting for the
/// office), and the digital picture of the capital and two other Comuni.
fn seed_sit(node_bin: &Path, dir: &Path, port: u16, code: &str) -> Result<()> {
    let (sit_id, sit) = demo_token(node_bin, dir, "sit")?;
    let (comune_id, comune) = demo_token(node_bin, dir, "comune")?;
    let capital = match code {
        "026" => "026086",
        "017" => "017029",
        _ => "041044",
    };
    let expect = |what: &str, (status, body): (u16, serde_json::Value), want: u16| {
        if status == want {
            Ok(body)
        } else {
            Err(anyhow::anyhow!("{what} answered {status}: {body}"))
        }
    };
    let office = format!(
        r#""contact_office":"Servizi innovativi territoriali (demo {code})","contact_email":"sit@provincia-demo-{code}.it","contact_phone":"0422 656000""#
    );
    let services = [
        format!(
            r#"{{"code":"ufficio-transizione-digitale","name":"Ufficio associato per la transizione digitale","description":"Il Responsabile per la transizione al digitale (art. 17 CAD) condiviso tra i Comuni più piccoli: piano triennale, adempimenti AgID, formazione del personale.","category":"digital_office","theme":12,"channels":["desk","email","video"],"audience":"under_threshold","population_threshold":15000,"conditions":"Delibera di adesione della Giunta comunale.","cost_model":"fixed","fee":"1500.00","first_answer_hours":8,"resolution_hours":80,"availability":"99","inputs":["Delibera di adesione"],"outputs":["Nomina del RTD associato","Piano triennale per l'informatica"],{office}}}"#
        ),
        format!(
            r#"{{"code":"adesione-pagopa-app-io","name":"Adesione a pagoPA e App IO","description":"Attivazione dei servizi di pagamento del Comune su pagoPA e della loro pubblicazione in App IO, con l'assistenza per le misure PNRR 1.4.3.","category":"payments","theme":9,"channels":["online","email","phone"],"audience":"all","cost_model":"per_inhabitant","fee":"0.10","first_answer_hours":4,"resolution_hours":24,"availability":"99.5","documents":[{{"title":"Avviso PNRR misura 1.4.3 pagoPA","url":"https://padigitale2026.gov.it/misure/"}}],"inputs":["Elenco dei servizi di incasso"],"outputs":["Servizi attivi su pagoPA e App IO"],"publiccode_url":"https://github.com/pagopa/io-app/blob/master/publiccode.yml",{office}}}"#
        ),
        format!(
            r#"{{"code":"assistenza-anpr","name":"Assistenza ANPR e certificati online","description":"Supporto agli uffici anagrafe per ANPR: certificati online, variazioni, allineamento dei dati.","category":"anpr","theme":6,"channels":["phone","email"],"audience":"all","cost_model":"free","first_answer_hours":8,"resolution_hours":40,"availability":"99","outputs":["Certificati anagrafici online per i cittadini"],{office}}}"#
        ),
        format!(
            r#"{{"code":"sit-gis-territoriale","name":"Sistema informativo territoriale condiviso","description":"Cartografia, catasto e piani urbanistici dei Comuni su una piattaforma GIS comune, con i dati aperti pubblicati.","category":"gis","theme":5,"channels":["online","desk"],"audience":"all","cost_model":"per_inhabitant","fee":"0.05","first_answer_hours":16,"resolution_hours":120,"availability":"98",{office}}}"#
        ),
    ];
    for service in &services {
        expect(
            "adding a demo SIT service",
            call_json("POST", port, "/v1/sit/services", &sit, service)?,
            201,
        )?;
    }
    let mut subscriptions = Vec::new();
    for service in ["adesione-pagopa-app-io", "assistenza-anpr"] {
        let body = expect(
            "the capital's demo subscription",
            call_json(
                "POST",
                port,
                "/v1/sit/subscriptions",
                &comune,
                &format!(
                    r#"{{"service":"{service}","note":"Richiesta dell'ufficio anagrafe e tributi (dati dimostrativi)"}}"#
                ),
            )?,
            201,
        )?;
        subscriptions.push(body["id"].as_i64().context("the subscription has no id")?);
    }
    expect(
        "accepting the demo subscription",
        call_json(
            "POST",
            port,
            &format!("/v1/sit/subscriptions/{}/transitions", subscriptions[0]),
            &sit,
            r#"{"state":"active","agreement_ref":"Accordo prot. 1234/2026 (demo)","start_date":"2026-02-01"}"#,
        )?,
        200,
    )?;
    let pictures = [
        (
            capital.to_owned(),
            r#"{"platforms":[{"platform":"spid","since":"2020-03-01"},{"platform":"cie","since":"2021-06-15"},{"platform":"pagopa","since":"2019-11-30"},{"platform":"app_io","since":"2022-04-01"},{"platform":"anpr","since":"2018-10-22"},{"platform":"pdnd","since":"2024-02-12"}],"measures":[{"measure":"1.2","status":"obtained","amount":"344000.00"},{"measure":"1.4.1","status":"obtained","amount":"155234.00"},{"measure":"1.4.3","status":"obtained","amount":"47000.00"},{"measure":"1.4.4","status":"obtained","amount":"14000.00"},{"measure":"1.4.5","status":"applied"}]}"#,
        ),
        (
            format!("{code}001"),
            r#"{"platforms":[{"platform":"spid","since":"2021-02-28"},{"platform":"pagopa","since":"2020-12-01"},{"platform":"anpr","since":"2019-05-06"}],"measures":[{"measure":"1.4.4","status":"obtained","amount":"14000.00"},{"measure":"1.2","status":"applied"}]}"#,
        ),
        (
            format!("{code}002"),
            r#"{"platforms":[{"platform":"spid","since":"2021-09-30"},{"platform":"anpr","since":"2019-01-14"}],"measures":[]}"#,
        ),
    ];
    for (comune_code, picture) in &pictures {
        expect(
            "a demo digital picture",
            call_json(
                "PUT",
                port,
                &format!("/v1/sit/comuni/{comune_code}/picture"),
                &sit,
                picture,
            )?,
            200,
        )?;
    }
    // The catalogue and the digital picture in the hub's national SIT view (/sit).
    publish_nationally(node_bin, dir, port, &["sit_servizi", "sit_quadro_digitale"])?;
    for id in [sit_id, comune_id] {
        capture(node_bin, dir, &["token", "revoke", &id])?;
    }
    Ok(())
}

/// Four past procedures of the capital (2024–2025, one with two lots), in the CSV import's
/// columns, marked as demo data.
fn sua_history_csv(code: &str, capital: &str) -> String {
    const HEADER: &str = "procedure_key,comune_code,object,contract_type,cpv,procedure_code,\
        award_criterion,pnrr,requested_on,published_on,deadline_on,cig,lot_amount,supplier_name,\
        supplier_cf,award_amount,awarded_on,contract_signed_on\n";
    // Procedure number, its cells after the Comune (empty on a further lot), the lot's cells
    // after the CIG.
    const ROWS: [(u8, &str, &str); 5] = [
        (
            1,
            "Riqualificazione della viabilità comunale (dati dimostrativi),works,45233162-2,34,lowest_price,true,2024-02-12,2024-03-04,2024-04-03",
            "320000.00,SUPPLIER,281600.00,2024-05-20,2024-06-17",
        ),
        (
            2,
            "Servizio di igiene urbana 2025-2027 (dati dimostrativi),services,90000000-7,1,best_value,false,2024-09-02,2024-10-01,2024-11-04",
            "540000.00,SUPPLIER,497000.00,2025-01-15,2025-02-10",
        ),
        (
            3,
            "Arredi per le scuole comunali (dati dimostrativi),supplies,39000000-2,24,lowest_price,false,2025-03-10,2025-03-20,2025-04-10",
            "60000.00,SUPPLIER,55800.00,2025-05-05,2025-05-26",
        ),
        (3, "", "45000.00,SUPPLIER,42300.00,2025-05-05,2025-05-26"),
        (
            4,
            "Adeguamento sismico della scuola primaria (dati dimostrativi),works,45331000-6,4,lowest_price,true,2025-06-16,2025-07-07,2025-08-04",
            "210000.00,SUPPLIER,189000.00,2025-09-22,",
        ),
    ];
    // Demo data: the all-zero partita IVA is well formed and belongs to nobody.
    let supplier = "Impresa di esempio S.r.l. (dati dimostrativi),00000000000";
    let mut csv = HEADER.to_owned();
    for (row, (n, procedure, lot)) in ROWS.iter().enumerate() {
        let procedure = if procedure.is_empty() {
            ",,,,,,,,,".to_owned()
        } else {
            format!("{capital},{procedure}")
        };
        let lot = lot.replace("SUPPLIER", supplier);
        // A CIG that says it is demo data, ten characters as ANAC's.
        csv.push_str(&format!(
            "DEMO-{code}-{n},{procedure},DEMO{code}2{row:02},{lot}\n"
        ));
    }
    csv
}

/// A JSON `POST` over plain HTTP/1.1 to the local node; returns the status code.
fn post_json(port: u16, path: &str, token: &str, body: &str) -> Result<u16> {
    send_json("POST", port, path, token, body)
}

/// A JSON request over plain HTTP/1.1 to the local node; returns the status code.
fn send_json(method: &str, port: u16, path: &str, token: &str, body: &str) -> Result<u16> {
    Ok(call_json(method, port, path, token, body)?.0)
}

/// A JSON request over plain HTTP/1.1 to the local node; returns the status code and the
/// JSON body (`null` when there is none).
fn call_json(
    method: &str,
    port: u16,
    path: &str,
    token: &str,
    body: &str,
) -> Result<(u16, serde_json::Value)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .get(9..12)
        .context("the node answered something that is not HTTP")?
        .parse()?;
    let json = text
        .split_once("\r\n\r\n")
        .map(|(_, body)| serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
        .unwrap_or(serde_json::Value::Null);
    Ok((status, json))
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())?;
    Ok(())
}

/// Runs `binary --data-dir dir args…` and returns its output, failing with its messages.
fn capture(binary: &Path, dir: &Path, args: &[&str]) -> Result<String> {
    capture_env(binary, dir, args, &[])
}

/// [`capture`] with extra environment variables.
fn capture_env(binary: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<String> {
    let output = Command::new(binary)
        .envs(env.iter().copied())
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    if !output.status.success() {
        bail!(
            "{} {} failed:\n{}{}",
            binary.display(),
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn spawn_service(
    binary: &Path,
    dir: &Path,
    port: u16,
    log: &Path,
    env: &[(&str, &str)],
) -> Result<std::process::Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    Command::new(binary)
        .envs(env.iter().copied())
        .arg("--data-dir")
        .arg(dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))
}

/// Waits until the service on `port` answers `/readyz` with 200.
fn wait_ready(port: u16, services: &mut [std::process::Child]) -> Result<()> {
    use std::io::{Read, Write};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    while std::time::Instant::now() < deadline {
        let ready =
            std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_millis(200))
                .ok()
                .and_then(|mut stream| {
                    write!(
                        stream,
                        "GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                    )
                    .ok()?;
                    let mut head = [0u8; 12];
                    stream.read_exact(&mut head).ok()?;
                    Some(&head[9..12] == b"200")
                })
                .unwrap_or(false);
        if ready {
            return Ok(());
        }
        if services
            .iter_mut()
            .any(|s| matches!(s.try_wait(), Ok(Some(_))))
        {
            stop_all(services);
            bail!(
                "un servizio si è fermato all'avvio (porta {port} occupata? vedi i log in pico-data/)"
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    stop_all(services);
    bail!("il servizio sulla porta {port} non era pronto dopo 30 s")
}

/// Asks every service to shut down gracefully (SIGTERM), then waits for it.
fn stop_all(services: &mut [std::process::Child]) {
    for service in services.iter() {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(service.id().to_string())
            .status();
    }
    for service in services.iter_mut() {
        let _ = service.wait();
    }
}

/// The whole test suite, with its prerequisites installed when missing.
fn test(extra: &[String]) -> Result<()> {
    let python = python_with(&PYTHON_REQUIREMENTS)?;
    ensure_chromium()?;
    let axe = npm_package("axe-core@4.10.3", "axe-core/axe.min.js")?;

    // The whole-system tests in tests/ start the real binaries: build them first.
    build_binaries()?;

    let mut tests = cargo();
    tests
        .args(["test", "--workspace"])
        .args(extra)
        .env("PICO_AXE_CORE", &axe)
        .env("PICO_PYTHON", &python);
    status(tests, "cargo test --workspace")?;

    // Interoperability: the protocol's test vectors must verify with an independent JOSE
    // implementation in another language.
    let mut interop = Command::new(&python);
    interop.current_dir(workspace_root()).args([
        "protocol/interop/verify_with_jwcrypto.py",
        "protocol/vectors/entries.json",
    ]);
    status(interop, "verify the entry vectors with Python jwcrypto")?;

    fuzz_apis(&python)
}

/// `cargo xtask fuzz`: only the API fuzzing of `cargo xtask test`.
fn fuzz(_args: &[String]) -> Result<()> {
    let python = python_with(&PYTHON_REQUIREMENTS)?;
    build_binaries()?;
    fuzz_apis(&python)
}

/// The test tools from PyPI, pinned: jwcrypto for the interoperability check, schemathesis
/// for the API fuzzing, and the independent readers the tests check our output with
/// (`PICO_PYTHON`): icalendar (SAPE's feeds), rdflib and pySHACL (RDF catalogues), pypdf
/// (certificates), pyarrow (the hub's Parquet downloads); cryptography (Ed25519) comes with
/// jwcrypto.
const PYTHON_REQUIREMENTS: [&str; 7] = [
    "jwcrypto==1.5.6",
    "schemathesis==4.32.5",
    "icalendar==7.3.2",
    "rdflib==7.6.0",
    "pyshacl==0.40.1",
    "pypdf==7.1.1",
    "pyarrow==26.0.1",
];

fn build_binaries() -> Result<()> {
    let mut binaries = cargo();
    binaries.args(["build", "-p", "pico-hub", "-p", "pico-node"]);
    status(
        binaries,
        "build the hub and node binaries (whole-system tests, API fuzzing)",
    )
}

/// Where cargo puts what it builds: `CARGO_TARGET_DIR` (relative to the workspace, as cargo
/// reads it from here) or `target/`.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| workspace_root().join(dir))
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// A Python interpreter with every `requirements` installed, in a virtual environment under
/// `target/` so that nothing is installed into the system's Python.
fn python_with(requirements: &[&str]) -> Result<PathBuf> {
    let venv = workspace_root().join("target/interop-venv");
    let python = venv.join("bin/python3");
    // Every pin installed at its exact version (a changed pin reinstalls).
    let check = format!(
        "import importlib.metadata as m, sys\nsys.exit(any(m.version(n) != v for n, v in {:?}))",
        requirements
            .iter()
            .filter_map(|r| r.split_once("=="))
            .collect::<Vec<_>>()
    );
    let ready = Command::new(&python)
        .args(["-c", &check])
        .output()
        .is_ok_and(|out| out.status.success());
    if ready {
        return Ok(python);
    }
    if !python.exists() {
        let mut create = Command::new("python3");
        create.args(["-m", "venv"]).arg(&venv);
        status(
            create,
            "create a Python virtual environment in target/interop-venv (needs python3 and python3-venv)",
        )?;
    }
    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ])
    .args(requirements);
    status(
        pip,
        &format!("install {} from PyPI", requirements.join(" ")),
    )?;
    Ok(python)
}

/// The checks schemathesis runs on every answer: no 5xx, only documented statuses and content
/// types, bodies matching their schema, and requests that violate the schema refused.
const FUZZ_CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                           response_schema_conformance,negative_data_rejection";

/// Seed of every fuzzing run, so that a failure found in CI replays on a developer's machine.
const FUZZ_SEED: &str = "20261206";

/// Test cases per operation and phase: with the seed, what bounds each run's time (about a
/// minute per service and identity on two cores).
const FUZZ_MAX_EXAMPLES: &str = "20";

/// The API fuzzer (schemathesis) against a real node and a real hub, each initialised in a
/// temporary directory and served on a free port with the rate limit raised (so that 429 does
/// not hide everything else), as the public and with an administrator's (the hub's operator's)
/// bearer token. Every run is reported; any failure fails the task after all of them ran.
fn fuzz_apis(python: &Path) -> Result<()> {
    let schemathesis = python.with_file_name("schemathesis");
    let binaries = target_dir().join("debug");
    let mut failed = fuzz_node(&binaries.join("pico-node"), &schemathesis)?;
    failed.extend(fuzz_hub(&binaries.join("pico-hub"), &schemathesis)?);
    if !failed.is_empty() {
        bail!(
            "the API fuzzer found problems ({}): see its reports above",
            failed.join(", ")
        );
    }
    Ok(())
}

/// Rate limits high enough for a fuzzer, as environment overrides of the `[http]` table.
fn fuzz_rate_limits(prefix: &str) -> Vec<(String, String)> {
    vec![
        (
            format!("{prefix}_HTTP__RATE_LIMIT_BURST"),
            "1000000".to_owned(),
        ),
        (
            format!("{prefix}_HTTP__RATE_LIMIT_PER_MINUTE"),
            "1000000".to_owned(),
        ),
    ]
}

/// Fuzzes a fresh node (the Province of Treviso, with its Comuni); returns the runs that
/// failed.
fn fuzz_node(node_bin: &Path, schemathesis: &Path) -> Result<Vec<String>> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let data = dir.path().join("node");
    capture(node_bin, &data, &["init", "--province", "026"])?;
    // `init` gives the administrator a one-time password, and until it is changed every call
    // answers 403: give it a lasting one, so the fuzzer reaches what an administrator sees.
    let password = dir.path().join("admin-password");
    std::fs::write(&password, "fuzz-administrator-password\n")?;
    let password = password.to_string_lossy().into_owned();
    capture(
        node_bin,
        &data,
        &[
            "user",
            "reset-password",
            "admin",
            "--password-file",
            &password,
            "--no-change",
        ],
    )?;
    let (_, token) = demo_token(node_bin, &data, "admin")?;
    let env = fuzz_rate_limits("PICO_NODE");
    fuzz_service(
        "node",
        node_bin,
        dir.path(),
        &data,
        &env,
        &token,
        schemathesis,
    )
}

/// Fuzzes a fresh hub, with its operator token set; returns the runs that failed.
fn fuzz_hub(hub_bin: &Path, schemathesis: &Path) -> Result<Vec<String>> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let data = dir.path().join("hub");
    capture(hub_bin, &data, &["init"])?;
    // Unguessable enough for a hub that lives a minute on loopback.
    let token = format!(
        "fuzz-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    );
    let mut env = fuzz_rate_limits("PICO_HUB");
    env.push(("PICO_HUB_OPERATOR_TOKEN".to_owned(), token.clone()));
    fuzz_service(
        "hub",
        hub_bin,
        dir.path(),
        &data,
        &env,
        &token,
        schemathesis,
    )
}

/// Serves `data` with `binary` on a free port and runs schemathesis over its whole
/// `/v1/openapi.json` twice at once, as the public and with `token`, seeded; prints each
/// report and returns the runs that failed. The service is stopped however this ends.
fn fuzz_service(
    service: &str,
    binary: &Path,
    work: &Path,
    data: &Path,
    env: &[(String, String)],
    token: &str,
    schemathesis: &Path,
) -> Result<Vec<String>> {
    let port = free_port()?;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let log = work.join(format!("{service}.log"));
    let mut running = Running(vec![spawn_service(binary, data, port, &log, &env)?]);
    wait_ready(port, &mut running.0)?;
    eprintln!(
        "xtask: fuzz the {service} API as the public and with a token (schemathesis, seed {FUZZ_SEED})"
    );
    let started = std::time::Instant::now();
    let runs = [("the public", None), ("a token", Some(token))]
        .into_iter()
        .map(|(who, token)| {
            let report = work.join(format!(
                "schemathesis-{}.txt",
                token.map_or("public", |_| "token")
            ));
            let child = schemathesis_run(schemathesis, work, port, token, &report)?;
            Ok((who, report, child))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut failed = Vec::new();
    for (who, report, mut child) in runs {
        let passed = child.wait()?.success();
        let text = std::fs::read_to_string(&report).unwrap_or_default();
        eprintln!("\n---- schemathesis: the {service} API, {who} ----");
        if passed {
            // The summary is enough when nothing was found.
            let summary = text
                .find("SUMMARY")
                .map_or(0, |at| text[..at].rfind('\n').map_or(0, |nl| nl + 1));
            eprint!("{}", &text[summary..]);
        } else {
            eprint!("{text}");
            failed.push(format!("{service} with {who}"));
        }
    }
    eprintln!(
        "xtask: fuzzing the {service} API took {:.0} s",
        started.elapsed().as_secs_f64()
    );
    drop(running);
    Ok(failed)
}

/// Starts one seeded schemathesis run with the checks of [`FUZZ_CHECKS`], its report written
/// to `report`.
fn schemathesis_run(
    schemathesis: &Path,
    work: &Path,
    port: u16,
    token: Option<&str>,
    report: &Path,
) -> Result<std::process::Child> {
    let mut command = Command::new(schemathesis);
    // Run in the temporary directory: nothing (reports, example databases) lands in the repo.
    command.current_dir(work).args([
        "run",
        &format!("http://127.0.0.1:{port}/v1/openapi.json"),
        "--checks",
        FUZZ_CHECKS,
        "--seed",
        FUZZ_SEED,
        "--max-examples",
        FUZZ_MAX_EXAMPLES,
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
    ]);
    if let Some(token) = token {
        command.args(["--header", &format!("Authorization: Bearer {token}")]);
    }
    let output = std::fs::File::create(report)?;
    command
        .stdin(std::process::Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output)
        .spawn()
        .with_context(|| format!("cannot start {}", schemathesis.display()))
}

/// A port free on loopback now (the OS picks it; the service binds it a moment later).
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

/// Services started by a task, stopped (SIGTERM, then waited for) however the task ends.
struct Running(Vec<std::process::Child>);

impl Drop for Running {
    fn drop(&mut self) {
        stop_all(&mut self.0);
    }
}

/// `package` (name@version) from the npm registry, installed under `target/npm` (nothing global);
/// returns the path of its file `file`. The page tests inject axe-core into headless Chromium.
fn npm_package(package: &str, file: &str) -> Result<PathBuf> {
    let prefix = workspace_root().join("target/npm");
    let path = prefix.join("node_modules").join(file);
    let version = package.rsplit('@').next().unwrap_or_default();
    let manifest = prefix
        .join("node_modules")
        .join(package.rsplit_once('@').map_or(package, |(name, _)| name))
        .join("package.json");
    let installed = std::fs::read_to_string(&manifest)
        .is_ok_and(|text| text.contains(&format!("\"version\": \"{version}\"")));
    if installed && path.exists() {
        return Ok(path);
    }
    let has_npm = Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !has_npm {
        apt_install(&["nodejs", "npm"], "the accessibility checks (axe-core)")?;
    }
    let mut npm = Command::new("npm");
    npm.arg("install").arg("--prefix").arg(&prefix).args([
        "--no-save",
        "--no-audit",
        "--no-fund",
        package,
    ]);
    status(
        npm,
        &format!("install {package} from the npm registry (needs npm)"),
    )?;
    Ok(path)
}

/// Debian's Chromium and ChromeDriver, for the browser tests of the web pages.
fn ensure_chromium() -> Result<()> {
    let present = |binary: &str| Path::new("/usr/bin").join(binary).exists();
    if present("chromium") && present("chromedriver") {
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"], "the browser tests")
}

/// Installs Debian `packages` when run as root (as CI is); otherwise says what to install.
fn apt_install(packages: &[&str], needed_by: &str) -> Result<()> {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0"));
    let list = packages.join(" ");
    if !is_root {
        bail!(
            "{needed_by} need {list}: run `sudo apt-get install {list}`, then `cargo xtask test` again"
        );
    }
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    status(update, "apt-get update")?;
    let mut install = Command::new("apt-get");
    install
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages);
    status(install, &format!("install Debian's {list}"))
}
