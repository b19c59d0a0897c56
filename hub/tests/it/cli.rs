//! The operator commands of the real binary.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pico-hub");

fn run(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn init_enrol_list_revoke_backup_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(dir.path(), &["init"]);
    assert!(ok, "{err}");
    assert!(out.contains("107 unità ISTAT"), "{out}");
    assert!(out.contains("86 nel programma UPI"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("hub.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the key is readable by its owner only");
    }
    let (ok, again, _) = run(dir.path(), &["init"]);
    assert!(
        ok && again.contains("esiste già: conservata"),
        "init never replaces the key"
    );

    let (ok, key, _) = run(dir.path(), &["key", "show"]);
    assert!(ok);
    assert!(key.contains("hub_key         ed25519:"));
    assert!(key.contains("checkpoint_vkey pico.upi.it/federation+"));

    let node = crate::support::key("treviso").public_key().to_string();
    let (ok, out, err) = run(dir.path(), &["enrol", "--province", "026", "--key", &node]);
    assert!(ok, "{err}");
    assert!(out.contains("dalla seq 1"));
    let (ok, _, err) = run(dir.path(), &["enrol", "--province", "026", "--key", &node]);
    assert!(!ok && err.contains("è già registrata"), "{err}");
    let (ok, _, err) = run(dir.path(), &["enrol", "--province", "999", "--key", &node]);
    assert!(
        !ok && err.contains("non è nell'elenco ISTAT delle Province"),
        "{err}"
    );
    let (ok, _, err) = run(dir.path(), &["enrol", "--province", "26", "--key", &node]);
    assert!(!ok && err.contains("compresi gli zeri iniziali"), "{err}");

    let (ok, list, _) = run(dir.path(), &["list"]);
    assert!(ok);
    assert!(
        list.lines()
            .any(|l| l.starts_with("026") && l.contains("enrolled")),
        "{list}"
    );

    let backup = dir.path().join("backup.db");
    assert!(run(dir.path(), &["backup", backup.to_str().unwrap()]).0);
    let kid = crate::support::key("treviso").key_id().to_string();
    let (ok, out, err) = run(
        dir.path(),
        &["revoke-key", "--province", "026", "--kid", &kid],
    );
    assert!(ok, "{err}");
    assert!(out.contains("revocata dalla seq 1"));
    let (_, list, _) = run(dir.path(), &["list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("026") && l.contains("revoked"))
    );
    assert!(run(dir.path(), &["restore", backup.to_str().unwrap()]).0);
    let (_, list, _) = run(dir.path(), &["list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("026") && l.contains("enrolled")),
        "restored"
    );

    let (ok, out, _) = run(dir.path(), &["migrate"]);
    assert!(
        ok && out.contains(&format!(
            "versione di schema {}",
            pico_hub::db::SCHEMA_VERSION
        ))
    );
    let (ok, example, _) = run(dir.path(), &["config-example"]);
    assert!(ok && example.contains("log_origin"));
    let output = Command::new(BIN)
        .args(["--data-dir", dir.path().to_str().unwrap(), "check-config"])
        .env("PICO_HUB_CHECKPOINT_INTERVAL_MS", "0")
        .env("PICO_HUB_NO_SUCH_KEY", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(err.contains("PICO_HUB_NO_SUCH_KEY"), "{err}");
}

#[tokio::test]
async fn restore_is_refused_while_the_hub_serves_the_data_directory() {
    let app = crate::support::TestApp::spawn().await;
    // One real request: the hub is serving (and holds its lock) before the CLI runs.
    assert_eq!(app.get_json("/readyz").await.0, 200);
    let dir = app.state.config.data_dir.clone();
    let backup = dir.join("backup.db");
    assert!(run(&dir, &["backup", backup.to_str().unwrap()]).0);
    let (ok, _, err) = run(&dir, &["restore", backup.to_str().unwrap()]);
    assert!(!ok, "restore must not replace a live hub's database");
    assert!(
        err.contains("un pico-hub è in servizio") && err.contains("fermatelo prima"),
        "{err}"
    );
}
