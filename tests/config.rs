//! Settings in layers: defaults, the config file, the environment, flags; a bad file is an
//! error naming its line.

mod common;

use common::{TestArchive, write};

fn config_file(a: &TestArchive, text: &str) -> std::path::PathBuf {
    let path = a.config_dir().join("fieldnotes").join("config.toml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    write(&path, text);
    path
}

/// A command without `--archive`, so the file's archive can count.
fn bare(a: &TestArchive) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("fieldnotes").unwrap();
    cmd.env_remove("FIELDNOTES_ARCHIVE")
        .env_remove("FIELDNOTES_CONFIG")
        .env_remove("FIELDNOTES_DRAFT_INTERVAL_MS")
        .env("XDG_CONFIG_HOME", a.config_dir())
        .env("NO_COLOR", "1")
        .env("FIELDNOTES_LOG_DIR", a.log_dir());
    cmd
}

fn json(cmd: &mut assert_cmd::Command) -> serde_json::Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_file_sets_the_archive_and_the_environment_and_flags_win() {
    let a = TestArchive::new();
    let file = config_file(&a, "archive = \"research\"\ndraft-interval-ms = 250\n");
    let shown = json(bare(&a).args(["config", "--json"]));
    assert_eq!(shown["file"], file.display().to_string());
    // Relative to the file, not to where the command runs.
    assert_eq!(
        shown["archive"],
        file.parent()
            .unwrap()
            .join("research")
            .display()
            .to_string()
    );
    assert_eq!(shown["draft_interval_ms"], 250);

    // The file's archive is where notes go.
    bare(&a)
        .args(["session", "start", "--kind", "interview", "--study", "S"])
        .assert()
        .success();
    assert!(
        file.parent()
            .unwrap()
            .join("research/fieldnotes.db")
            .exists()
    );

    let shown = json(
        bare(&a)
            .env("FIELDNOTES_ARCHIVE", "/from/env")
            .env("FIELDNOTES_DRAFT_INTERVAL_MS", "1000")
            .args(["config", "--json"]),
    );
    assert_eq!(shown["archive"], "/from/env");
    assert_eq!(shown["draft_interval_ms"], 1000);
    let shown = json(bare(&a).env("FIELDNOTES_ARCHIVE", "/from/env").args([
        "--archive",
        "/from/flag",
        "config",
        "--json",
    ]));
    assert_eq!(shown["archive"], "/from/flag");

    // --config names another file, which must exist.
    let other = a.path("other.toml");
    write(&other, "colour = false\n");
    let shown = json(bare(&a).args(["--config", other.to_str().unwrap(), "config", "--json"]));
    assert_eq!(shown["colour"], false);
    let out = bare(&a)
        .args(["--config", "/nowhere/config.toml", "config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nowhere/config.toml"));
}

#[test]
fn an_unknown_setting_is_an_error_naming_its_line() {
    let a = TestArchive::new();
    let file = config_file(&a, "colour = true\n\ndraft-intervall = 3\n");
    for args in [&["config"][..], &["search", "x"][..]] {
        let out = a.cmd().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("{}:3:", file.display())) && err.contains("draft-intervall"),
            "{err}"
        );
    }
}

#[test]
fn a_bad_key_binding_is_an_error_naming_its_line() {
    let a = TestArchive::new();
    let file = config_file(
        &a,
        "[keys.note-list]\ntrash-note = \"ctrl+w\"\nedit-note = \"e\"\n",
    );
    let out = a.cmd().args(["config"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:3:", file.display())) && err.contains("typed as text"),
        "{err}"
    );
    config_file(&a, "[keys.note-list]\ntrash-note = \"ctrl+w\"\n");
    let text = a.ok(&["config"]);
    assert!(
        text.contains("keys of trash-note in note-list: ctrl+w"),
        "{text}"
    );
}

#[test]
fn a_bad_colour_is_an_error_naming_its_line() {
    let a = TestArchive::new();
    let file = config_file(
        &a,
        "[colours]\npersona = \"#ff8800\"\nquote = \"blurple\"\n",
    );
    let out = a.cmd().args(["config"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:3:", file.display())) && err.contains("not a colour"),
        "{err}"
    );
}
