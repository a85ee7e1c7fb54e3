//! Encrypted archives at the binary's edge: where a passphrase comes from (the environment,
//! else a prompt on the terminal that does not echo), and the commands `init`, `encrypt`,
//! `decrypt` and `passphrase`.

use std::path::Path;

use anyhow::{Context, Result, bail};

use fieldnotes::Archive;
use fieldnotes::crypt::{self, ArchiveKey, CryptError, Passphrase};

use super::output::Out;

/// The passphrase of an existing archive (FIELDNOTES_PASSPHRASE names it for scripts).
pub const PASSPHRASE_VAR: &str = "FIELDNOTES_PASSPHRASE";
/// A new passphrase for `fieldnotes passphrase`, for scripts.
pub const NEW_PASSPHRASE_VAR: &str = "FIELDNOTES_NEW_PASSPHRASE";

/// Reads a passphrase from `var`, else asks on the terminal without echo; `None` when there is
/// neither (no terminal to ask on).
fn passphrase_from(var: &str, prompt: &str) -> Result<Option<Passphrase>> {
    if let Ok(text) = std::env::var(var) {
        return Ok(Some(Passphrase::new(text)?));
    }
    // rpassword reads the controlling terminal, so a pipe on stdin does not stop the prompt.
    match rpassword::prompt_password(prompt) {
        Ok(text) => Ok(Some(Passphrase::new(text)?)),
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => bail!("no passphrase given"),
        Err(_) => Ok(None),
    }
}

/// The passphrase of the encrypted archive in `dir`.
pub fn passphrase(dir: &Path) -> Result<Passphrase> {
    passphrase_from(
        PASSPHRASE_VAR,
        &format!("passphrase for the archive at {}: ", dir.display()),
    )?
    .ok_or_else(|| {
        CryptError::Locked {
            dir: dir.to_path_buf(),
        }
        .into()
    })
}

/// A new passphrase: from `var`, else typed twice on the terminal.
fn new_passphrase(var: &str, dir: &Path) -> Result<Passphrase> {
    if let Ok(text) = std::env::var(var) {
        return Ok(Passphrase::new(text)?);
    }
    let prompt = format!("new passphrase for the archive at {}: ", dir.display());
    let no_terminal = || {
        anyhow::anyhow!(
            "a new passphrase is typed in a terminal, or given in {var} when there is none"
        )
    };
    let first = passphrase_from(var, &prompt)?.ok_or_else(no_terminal)?;
    let again = passphrase_from(var, "the same passphrase again: ")?.ok_or_else(no_terminal)?;
    if first.as_str() != again.as_str() {
        bail!("the two passphrases differ: nothing changed");
    }
    Ok(first)
}

/// The archive key of the archive in `dir`, asking for its passphrase only when it is
/// encrypted; `None` for a plain archive.
pub fn unlock(dir: &Path) -> Result<Option<ArchiveKey>> {
    if !crypt::is_encrypted(dir) {
        return Ok(None);
    }
    let pass = passphrase(dir)?;
    Ok(crypt::unlock(dir, &pass)?)
}

/// The key of another encrypted archive to merge: this archive's passphrase is tried first
/// (the same researcher's archives), then the other's is asked for.
pub fn unlock_other(other: &Path) -> Result<Option<ArchiveKey>> {
    if !crypt::is_encrypted(other) {
        return Ok(None);
    }
    if let Ok(text) = std::env::var(PASSPHRASE_VAR)
        && let Ok(key) = crypt::unlock(other, &Passphrase::new(text)?)
    {
        return Ok(key);
    }
    let pass = passphrase_from(
        "FIELDNOTES_OTHER_PASSPHRASE",
        &format!("passphrase for the archive at {}: ", other.display()),
    )?
    .ok_or_else(|| {
        anyhow::anyhow!(
            "the archive at {} is encrypted with another passphrase: give it in FIELDNOTES_OTHER_PASSPHRASE or type it in a terminal",
            other.display()
        )
    })?;
    Ok(crypt::unlock(other, &pass)?)
}

pub fn init(dir: &Path, encrypt: bool, out: &Out) -> Result<()> {
    if encrypt {
        Archive::refuse_existing(dir)?;
        let pass = new_passphrase(PASSPHRASE_VAR, dir)?;
        let archive = Archive::create_encrypted(dir, &pass)
            .with_context(|| format!("cannot make an encrypted archive in {}", dir.display()))?;
        drop(archive);
        return out.done(
            &serde_json::json!({ "archive": dir, "encrypted": true }),
            &format!(
                "made an encrypted archive in {}: keep the passphrase safe, a lost one cannot be recovered",
                dir.display()
            ),
        );
    }
    let key = unlock(dir)?;
    drop(Archive::open_unlocked(dir, key.as_ref(), |_| {})?);
    out.done(
        &serde_json::json!({ "archive": dir, "encrypted": key.is_some() }),
        &format!("the archive in {} is ready", dir.display()),
    )
}

pub fn encrypt(dir: &Path, out: &Out) -> Result<()> {
    if crypt::is_encrypted(dir) {
        return Err(CryptError::AlreadyEncrypted {
            dir: dir.to_path_buf(),
        }
        .into());
    }
    let pass = new_passphrase(PASSPHRASE_VAR, dir)?;
    let converted = Archive::encrypt(dir, &pass)
        .with_context(|| format!("cannot encrypt the archive {}", dir.display()))?;
    out.done(
        &converted,
        &format!(
            "encrypted the archive in {} ({} notes): keep the passphrase safe, a lost one cannot be recovered",
            dir.display(),
            converted.notes
        ),
    )
}

pub fn decrypt(dir: &Path, out: &Out) -> Result<()> {
    let Some(key) = unlock(dir)? else {
        return Err(CryptError::NotEncrypted {
            dir: dir.to_path_buf(),
        }
        .into());
    };
    let converted = Archive::decrypt(dir, &key)
        .with_context(|| format!("cannot decrypt the archive {}", dir.display()))?;
    out.done(
        &converted,
        &format!(
            "decrypted the archive in {} ({} notes): its notes are plain on disk again",
            dir.display(),
            converted.notes
        ),
    )
}

pub fn change_passphrase(dir: &Path, out: &Out) -> Result<()> {
    if !crypt::is_encrypted(dir) {
        return Err(CryptError::NotEncrypted {
            dir: dir.to_path_buf(),
        }
        .into());
    }
    let old = passphrase(dir)?;
    // Checked before a new one is asked for.
    crypt::unlock(dir, &old)?;
    let new = new_passphrase(NEW_PASSPHRASE_VAR, dir)?;
    Archive::change_passphrase(dir, &old, &new)?;
    out.done(
        &serde_json::json!({ "archive": dir, "changed": true }),
        &format!("changed the passphrase of the archive in {}", dir.display()),
    )
}
