//! The log file: commands and errors are in it, the text of notes is not.

mod common;

use common::TestArchive;

#[test]
fn the_log_names_commands_and_errors_but_never_a_notes_text() {
    let a = TestArchive::new();
    a.start_session();
    a.add(&["A private remark only this note holds: marigold"]);
    let out = a.fails(&["show", "NOPE"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no note with id NOPE"));
    let log = a.log();
    assert!(log.contains("command=\"add\""), "{log}");
    assert!(
        log.contains("ERROR") && log.contains("no note with id NOPE"),
        "{log}"
    );
    assert!(
        !log.contains("marigold"),
        "a note's text reached the log:\n{log}"
    );
}

#[test]
fn verbose_also_prints_the_log_on_stderr() {
    let a = TestArchive::new();
    a.start_session();
    let out = a
        .cmd()
        .args(["session", "list", "--verbose"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("INFO") && err.contains("command=\"session\""),
        "{err}"
    );
    // Without it, stderr stays quiet.
    let out = a.cmd().args(["session", "list"]).output().unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
