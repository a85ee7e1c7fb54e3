//! Encrypted archives end to end, with the real binary: no note text reaches the disk in
//! plain form (and the same steps on a plain archive do leave it there, so the check can
//! fail), wrong passphrases, damaged index chunks and foreign databases give clear errors,
//! passphrases change, archives convert both ways and survive a crash mid-conversion.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{TestArchive, write};
use fieldnotes::crypt::{self, Passphrase};
use fieldnotes::model::NoteKind;

const PASSPHRASE: &str = "correct horse battery staple";

/// A word no fixture holds: lowercase letters only, so the index keeps it whole.
fn marker(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let letters: String = format!("{nanos}")
        .bytes()
        .map(|d| char::from(b'q' + (d - b'0')))
        .collect();
    format!("zq{tag}{letters}")
}

/// An archive whose commands get the passphrase and a temporary folder of their own, which
/// the leak check reads too.
struct Field {
    a: TestArchive,
    /// Where the researcher's own files are (imports, exports): outside what is checked.
    own: tempfile::TempDir,
    encrypted: bool,
}

impl Field {
    fn new(encrypted: bool) -> Field {
        let a = TestArchive::new();
        let tmp = a.path("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let a = a
            .with_env("TMPDIR", tmp)
            .with_env("FIELDNOTES_PASSPHRASE", PASSPHRASE);
        a.ok(if encrypted {
            &["init", "--encrypt"]
        } else {
            &["init"]
        });
        a.start_session();
        Field {
            a,
            own: tempfile::tempdir().unwrap(),
            encrypted,
        }
    }

    fn own(&self, name: &str) -> PathBuf {
        self.own.path().join(name)
    }

    /// Hits for `query` on a plain archive, with no passphrase given.
    fn hits_without_passphrase(&self, query: &str) -> u64 {
        let out = self
            .a
            .cmd()
            .env_remove("FIELDNOTES_PASSPHRASE")
            .args(["search", query, "--json", "--limit", "1000"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        found["total"].as_u64().unwrap()
    }

    fn hits(&self, query: &str) -> u64 {
        self.a.json(&["search", query, "--limit", "1000"])["total"]
            .as_u64()
            .unwrap()
    }

    /// Every file the archive, its log and its processes' temporary folder hold, with the
    /// ones holding `word`, forwards or backwards (an index's term dictionary, a finite-state
    /// transducer, keeps a word's last letters first).
    fn files_holding(&self, word: &str) -> (usize, Vec<PathBuf>) {
        let mut files = Vec::new();
        walk(self.a.tmp.path(), &mut files);
        let forwards = word.to_lowercase().into_bytes();
        let backwards: Vec<u8> = forwards.iter().rev().copied().collect();
        let holding = files
            .iter()
            .filter(|f| {
                std::fs::read(f).is_ok_and(|bytes| {
                    bytes.windows(word.len()).any(|w| {
                        let w = w.to_ascii_lowercase();
                        w == forwards || w == backwards
                    })
                })
            })
            .cloned()
            .collect();
        (files.len(), holding)
    }
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// Starts an import of `rows` notes holding `word` and kills it (`kill -9`) part way.
fn kill_an_import(field: &Field, word: &str, rows: usize) {
    let csv = field.own(&format!("big-{rows}.csv"));
    let mut text = String::from("text,persona\n");
    for i in 0..rows {
        text.push_str(&format!(
            "row {i} of the survey says {word} about the long queue at the tills,shopper\n"
        ));
    }
    write(&csv, text);
    let mut child = field
        .a
        .process()
        .args(["import", csv.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(900));
    let _ = child.kill();
    let _ = child.wait();
}

/// Every command that writes a note's words, run on `field` with `word` in the notes.
fn exercise_every_command(field: &Field, word: &str) {
    let session = field.a.json(&["session", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let session = session.as_str();
    // Capture, and an edit (the old version is kept as a revision).
    let id = field.a.add(&[&format!(
        "Waited at the counter, {word} said the staff #checkout !frustrated"
    )]);
    let id = id.trim();
    field.a.ok(&[
        "edit",
        id,
        &format!("Waited ten minutes at the counter, {word} #checkout !frustrated"),
    ]);
    for i in 0..30 {
        field.a.add(&[&format!(
            "Note {i}: the queue at the tills was long, {word} again #checkout @busy-parent ={word}"
        )]);
    }
    // A draft, as the app keeps one while the researcher types.
    {
        let key = if field.encrypted {
            crypt::unlock(&field.a.dir, &Passphrase::new(PASSPHRASE.into()).unwrap()).unwrap()
        } else {
            None
        };
        let archive =
            fieldnotes::Archive::open_unlocked(&field.a.dir, key.as_ref(), |_| {}).unwrap();
        archive
            .save_draft(
                session,
                None,
                NoteKind::Observation,
                &format!("half-typed {word} when the lid closed"),
            )
            .unwrap();
    }
    // An import, and one killed half-way.
    let csv = field.own("survey.csv");
    write(
        &csv,
        format!(
            "text,persona\n\"The app froze at payment, {word}\",shopper\n\"Delivery was late, {word}\",commuter\n"
        ),
    );
    field
        .a
        .ok(&["import", csv.to_str().unwrap(), "--study", "Survey"]);
    kill_an_import(field, word, 200_000);
    // Reindex, themes, search, check, a merge and an export.
    field.a.ok(&["reindex"]);
    field.a.ok(&["themes"]);
    assert!(field.hits(word) >= 33, "the notes are found");
    // A phrase reads the words' positions, a file of its own.
    assert_eq!(field.hits(&format!("\"{word} again\"")), 30);
    field.a.ok(&["check"]);
    let jsonl = field.own("from-sam.jsonl");
    field.a.ok(&["export", "-o", jsonl.to_str().unwrap()]);
    field.a.ok(&["merge", jsonl.to_str().unwrap()]);
    // A merge from another researcher's archive (encrypted like this one, under the same
    // passphrase) reads it through a private copy in the temporary folder.
    let sam = Field::new(field.encrypted);
    sam.a
        .add(&[&format!("Sam saw {word} at the returns desk #returns")]);
    field.a.ok(&["merge", sam.a.dir.to_str().unwrap()]);
    assert!(field.hits("returns") >= 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&jsonl).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "exports are the researcher's alone");
        for dir in [field.a.dir.clone(), field.a.dir.join("index")] {
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "{}", dir.display());
        }
    }
}

#[test]
fn no_note_text_reaches_the_disk_of_an_encrypted_archive_and_a_plain_one_shows_it() {
    let secret = marker("enc");
    let encrypted = Field::new(true);
    exercise_every_command(&encrypted, &secret);
    let (files, holding) = encrypted.files_holding(&secret);
    assert!(files > 10, "the archive has files ({files})");
    assert!(holding.is_empty(), "plain note text in: {holding:?}");
    // The same steps on a plain archive leave the word on disk: the check can fail.
    let shown = marker("plain");
    let plain = Field::new(false);
    exercise_every_command(&plain, &shown);
    let (_, holding) = plain.files_holding(&shown);
    assert!(
        holding
            .iter()
            .any(|p| p.ends_with("fieldnotes.db")
                || p.to_string_lossy().contains("fieldnotes.db-wal")),
        "a plain database holds the word: {holding:?}"
    );
    assert!(
        holding
            .iter()
            .any(|p| p.to_string_lossy().contains("/index/")),
        "a plain index holds the word: {holding:?}"
    );
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The command failed (exit 1, not a panic) saying `text`.
fn fails_saying(out: &std::process::Output, text: &str) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    assert!(stderr(out).contains(text), "{}", stderr(out));
}

#[test]
fn a_wrong_or_missing_passphrase_is_one_clear_sentence() {
    let field = Field::new(true);
    field.a.add(&["a note"]);
    let out = field
        .a
        .cmd()
        .env("FIELDNOTES_PASSPHRASE", "not it")
        .args(["search", "note"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        format!(
            "fieldnotes: wrong passphrase for the archive at {}",
            field.a.dir.display()
        )
    );
    // No passphrase and no terminal to ask on (a new session has none).
    let out = std::process::Command::new("setsid")
        .arg(assert_cmd::cargo::cargo_bin("fieldnotes"))
        .args(["--archive", field.a.dir.to_str().unwrap(), "search", "note"])
        .env_remove("FIELDNOTES_PASSPHRASE")
        .env("FIELDNOTES_LOG_DIR", field.a.log_dir())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    fails_saying(&out, "is encrypted: give its passphrase");
    // The library refuses to open it without its key, in the same words.
    let err = fieldnotes::Archive::open(&field.a.dir).err().unwrap();
    assert!(err.to_string().contains("is encrypted"), "{err}");
}

/// The index's files with the given extension, biggest last.
fn index_files(index: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(index)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).unwrap().len());
    files
}

/// A search after the index was damaged either says so (and how to mend it) or, when the
/// damage was found on opening, rebuilds the index and says that: never a panic, never a
/// wrong answer.
fn search_after_damage(field: &Field, word: &str, expected: u64) {
    let out = field
        .a
        .cmd()
        .args(["search", word, "--json", "--limit", "1000"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    if out.status.success() {
        assert!(
            err.contains("the search index was damaged"),
            "{err} / {}",
            String::from_utf8_lossy(&out.stdout)
                .chars()
                .take(300)
                .collect::<String>()
        );
        let found: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(found["total"].as_u64(), Some(expected));
    } else {
        assert_eq!(out.status.code(), Some(1));
        assert!(
            err.contains("the search index is damaged") && err.contains("fieldnotes reindex"),
            "{err}"
        );
    }
    field.a.ok(&["reindex"]);
    assert_eq!(field.hits(word), expected);
}

#[test]
fn a_tampered_or_truncated_index_chunk_is_a_clear_error_never_a_wrong_answer() {
    let field = Field::new(true);
    let csv = field.own("many.csv");
    let mut text = String::from("text\n");
    for i in 0..20_000 {
        text.push_str(&format!(
            "queue number {i} at the tills and item {} waiting\n",
            i * 7
        ));
    }
    write(&csv, text);
    field.a.ok(&["import", csv.to_str().unwrap()]);
    assert_eq!(field.hits("queue"), 20_000);
    let index = field.a.dir.join("index");

    // A byte changed in every chunk of the postings but the last (which holds the footer,
    // read on opening), in every segment: whatever a search reads of them is damaged.
    let chunk = fieldnotes::crypt::directory::CHUNK + 40;
    for postings in index_files(&index, "idx") {
        let mut bytes = std::fs::read(&postings).unwrap();
        for at in (8 + 100..bytes.len().saturating_sub(chunk)).step_by(chunk) {
            bytes[at] ^= 0x40;
        }
        std::fs::write(&postings, &bytes).unwrap();
    }
    search_after_damage(&field, "queue", 20_000);

    // The term dictionaries cut short.
    for terms in index_files(&index, "term") {
        let bytes = std::fs::read(&terms).unwrap();
        std::fs::write(&terms, &bytes[..bytes.len() - 100]).unwrap();
    }
    search_after_damage(&field, "queue", 20_000);

    // The index's meta.json swapped for another file's content.
    let meta = index.join("meta.json");
    std::fs::copy(index.join(".managed.json"), &meta).unwrap();
    search_after_damage(&field, "queue", 20_000);
}

#[test]
fn a_database_from_another_archive_is_refused_with_a_clear_error() {
    let ours = Field::new(true);
    ours.a.add(&["ours"]);
    let theirs = Field::new(true);
    theirs.a.add(&["theirs"]);
    let plain = Field::new(false);
    plain.a.add(&["plain"]);

    let put = |from: &Field, into: &Field| {
        for suffix in ["", "-wal", "-shm"] {
            let name = format!("fieldnotes.db{suffix}");
            let _ = std::fs::remove_file(into.a.dir.join(&name));
            if from.a.dir.join(&name).exists() {
                std::fs::copy(from.a.dir.join(&name), into.a.dir.join(&name)).unwrap();
            }
        }
    };
    // Another encrypted archive's database (same passphrase, another key), then a plain one.
    for from in [&theirs, &plain] {
        put(from, &ours);
        let out = ours.a.cmd().args(["search", "ours"]).output().unwrap();
        fails_saying(
            &out,
            "cannot be read with this archive's key: it belongs to another archive",
        );
    }
    // An encrypted database in a plain archive (its key file left behind).
    put(&theirs, &plain);
    let out = plain.a.cmd().args(["search", "x"]).output().unwrap();
    fails_saying(&out, "no key file is beside it");
}

#[test]
fn a_new_passphrase_rewraps_the_key_and_the_old_one_stops_working() {
    let field = Field::new(true);
    field.a.add(&["before the change"]);
    let db_before = std::fs::read(field.a.dir.join("fieldnotes.db")).unwrap();
    let out = field
        .a
        .cmd()
        .env("FIELDNOTES_NEW_PASSPHRASE", "a brand new one")
        .arg("passphrase")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(field.a.dir.join("fieldnotes.db")).unwrap(),
        db_before,
        "only the key file changes"
    );
    let old = field.a.cmd().args(["search", "change"]).output().unwrap();
    fails_saying(&old, "wrong passphrase");
    let new = field
        .a
        .cmd()
        .env("FIELDNOTES_PASSPHRASE", "a brand new one")
        .args(["search", "change", "--json"])
        .output()
        .unwrap();
    assert!(new.status.success(), "{}", stderr(&new));
    let found: serde_json::Value = serde_json::from_slice(&new.stdout).unwrap();
    assert_eq!(found["total"], 1);
    // A wrong old passphrase changes nothing.
    let out = field
        .a
        .cmd()
        .env("FIELDNOTES_NEW_PASSPHRASE", "x")
        .arg("passphrase")
        .output()
        .unwrap();
    fails_saying(&out, "wrong passphrase");
}

#[test]
fn an_archive_encrypts_and_decrypts_in_place_keeping_every_note() {
    let word = marker("conv");
    let field = Field::new(false);
    for i in 0..20 {
        field.a.add(&[&format!("note {i} says {word} #checkout")]);
    }
    field
        .a
        .ok(&["rm", field.a.add(&[&format!("trashed {word}")]).trim()]);
    assert!(!field.files_holding(&word).1.is_empty());

    // A new encrypted archive is never made over one: `encrypt` converts it.
    let out = field.a.cmd().args(["init", "--encrypt"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`fieldnotes encrypt` encrypts it"),
        "{}",
        stderr(&out)
    );

    field.a.ok(&["encrypt"]);
    assert!(field.a.dir.join("key.json").exists());
    let (_, holding) = field.files_holding(&word);
    assert!(
        holding.is_empty(),
        "plain text left after encrypting: {holding:?}"
    );
    assert_eq!(field.hits(&word), 20);
    field.a.ok(&["check"]);
    assert_eq!(field.a.json(&["trash"]).as_array().unwrap().len(), 1);
    let out = field.a.cmd().arg("encrypt").output().unwrap();
    fails_saying(&out, "already encrypted");

    field.a.ok(&["decrypt"]);
    assert!(!field.a.dir.join("key.json").exists());
    assert_eq!(field.hits_without_passphrase(&word), 20);
    field.a.ok(&["check"]);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn a_conversion_cut_short_leaves_a_usable_archive_either_side_of_its_commit() {
    let word = marker("crash");
    let field = Field::new(false);
    for i in 0..5 {
        field.a.add(&[&format!("note {i} {word}")]);
    }
    // What an encryption leaves when it is killed at its last step: the staged copies, made
    // here by encrypting a copy of the archive.
    let copy = field.a.path("copy");
    copy_dir(&field.a.dir, &copy);
    fieldnotes::Archive::encrypt(&copy, &Passphrase::new(PASSPHRASE.into()).unwrap()).unwrap();
    let stage = |with_key_as: &str| {
        std::fs::copy(
            copy.join("fieldnotes.db"),
            field.a.dir.join("fieldnotes.db.encrypting"),
        )
        .unwrap();
        copy_dir(&copy.join("index"), &field.a.dir.join("index.encrypting"));
        std::fs::copy(copy.join("key.json"), field.a.dir.join(with_key_as)).unwrap();
    };

    // Killed before the commit point: the plain archive stays, the staged files go.
    stage("key.json.encrypting");
    assert_eq!(field.hits_without_passphrase(&word), 5);
    assert!(!field.a.dir.join("fieldnotes.db.encrypting").exists());
    assert!(!field.a.dir.join("index.encrypting").exists());
    assert!(!field.a.dir.join("key.json").exists());

    // Killed after it: the next open finishes the encryption.
    stage("key.json");
    assert_eq!(field.hits(&word), 5);
    assert!(!field.a.dir.join("fieldnotes.db.encrypting").exists());
    let (_, holding) = field.files_holding(&word);
    assert!(
        holding.iter().all(|p| !p.starts_with(&field.a.dir)),
        "plain text left: {holding:?}"
    );
}

#[test]
fn several_processes_write_an_encrypted_archive_at_once() {
    let field = Field::new(true);
    let children: Vec<std::process::Child> = (0..8)
        .map(|i| {
            field
                .a
                .process()
                .args(["add", &format!("writer {i} adds a note concurrently")])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(field.hits("concurrently"), 8);
    field.a.ok(&["check"]);
}
