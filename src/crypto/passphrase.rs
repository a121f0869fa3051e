//! Key files protected by a passphrase, in age's own scrypt format (the
//! format `age -p` writes, so `age -d` opens one by hand), and where that
//! passphrase comes from.
//!
//! The passphrase is looked for, in order: a systemd credential
//! (`$CREDENTIALS_DIRECTORY/tsunagu-passphrase`, so `LoadCredentialEncrypted=`
//! keeps it sealed to the machine's TPM or host key), a file named by
//! `TSUNAGU_PASSPHRASE_FILE`, a prompt when standard input is a terminal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;

use super::CryptoError;

/// The name of the systemd credential that holds the passphrase.
pub const CREDENTIAL: &str = "tsunagu-passphrase";
/// The environment variable naming a file that holds the passphrase.
pub const FILE_VAR: &str = "TSUNAGU_PASSPHRASE_FILE";

const BINARY_HEADER: &[u8] = b"age-encryption.org/v1\n";
const ARMOR_HEADER: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

/// Where the passphrase comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A systemd credential or a passphrase file (its first line).
    File(PathBuf),
    /// Asked on the terminal.
    Terminal,
}

impl Source {
    /// The first source this process has, in the documented order; `None`
    /// when there is none (a service without a credential, a script without
    /// a terminal).
    pub fn from_env() -> Option<Self> {
        if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
            let credential = Path::new(&dir).join(CREDENTIAL);
            if credential.exists() {
                return Some(Self::File(credential));
            }
        }
        if let Some(file) = std::env::var_os(FILE_VAR) {
            return Some(Self::File(file.into()));
        }
        std::io::stdin().is_terminal().then_some(Self::Terminal)
    }

    /// The passphrase, for the key file `key` (named in the prompt). A
    /// passphrase file others can read is refused like a key file.
    pub fn read(&self, key: &Path) -> Result<SecretString, CryptoError> {
        let failed = |source| CryptoError::KeyFile {
            path: self.describe(key),
            source,
        };
        let text = match self {
            Self::File(path) => super::files::owner_only(path)
                .and_then(|()| std::fs::read_to_string(path))
                .map_err(failed)?,
            Self::Terminal => rpassword::prompt_password(format!(
                "{} のパスフレーズ / passphrase for {}: ",
                key.display(),
                key.display()
            ))
            .map_err(failed)?,
        };
        let line = text.lines().next().unwrap_or("").to_owned();
        if line.is_empty() {
            return Err(CryptoError::NoPassphrase {
                path: key.to_owned(),
            });
        }
        Ok(SecretString::from(line))
    }

    fn describe(&self, key: &Path) -> PathBuf {
        match self {
            Self::File(path) => path.clone(),
            Self::Terminal => key.to_owned(),
        }
    }
}

/// Whether a key file's bytes are age-encrypted (binary or armored).
pub fn is_protected(bytes: &[u8]) -> bool {
    bytes.starts_with(BINARY_HEADER) || bytes.trim_ascii_start().starts_with(ARMOR_HEADER)
}

/// Encrypt a key file's text with a passphrase, armored (a key file stays
/// text). The work factor is age's default (about a second to open).
pub fn protect(text: &str, passphrase: SecretString) -> Result<Vec<u8>, CryptoError> {
    let recipient = age::scrypt::Recipient::new(passphrase);
    age::encrypt_and_armor(&recipient, text.as_bytes())
        .map(String::into_bytes)
        .map_err(|e| CryptoError::Encrypt(e.to_string()))
}

/// Decrypt a protected key file's bytes. A wrong passphrase is its own
/// error naming the file; the file is not changed.
pub fn open(path: &Path, bytes: &[u8], passphrase: SecretString) -> Result<String, CryptoError> {
    let identity = age::scrypt::Identity::new(passphrase);
    let plain = age::decrypt(&identity, bytes).map_err(|e| match e {
        age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
            CryptoError::WrongPassphrase {
                path: path.to_owned(),
            }
        }
        other => CryptoError::KeyFormat {
            path: path.to_owned(),
            reason: format!("cannot decrypt: {other}"),
        },
    })?;
    String::from_utf8(plain).map_err(|_| CryptoError::KeyFormat {
        path: path.to_owned(),
        reason: "the decrypted key is not text".into(),
    })
}

/// Decrypt a protected key file's bytes with the passphrase from this
/// process's [`Source`].
pub fn open_with_env(path: &Path, bytes: &[u8]) -> Result<String, CryptoError> {
    let source = Source::from_env().ok_or_else(|| CryptoError::NoPassphrase {
        path: path.to_owned(),
    })?;
    open(path, bytes, source.read(path)?)
}

/// What [`protect_in_place`] or [`unprotect_in_place`] did to one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Rewritten (encrypted, or decrypted).
    Rewritten,
    /// Already as asked: left alone.
    Unchanged,
}

/// Encrypt key files in place with `passphrase`. Each encrypted file is
/// written 0600 beside its plain one, read back and decrypted; only when
/// every file has been is each renamed over its plain one (atomically, so a
/// crash leaves every key readable, plain or protected). Files already
/// protected are left alone.
pub fn protect_in_place(
    paths: &[PathBuf],
    passphrase: &SecretString,
) -> Result<Vec<Change>, CryptoError> {
    rewrite_in_place(paths, |path, bytes| {
        if is_protected(bytes) {
            return Ok(None);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| CryptoError::KeyFormat {
            path: path.to_owned(),
            reason: "not a text file".into(),
        })?;
        let sealed = protect(text, passphrase.clone())?;
        // Re-read what will replace the plain key before it does.
        if open(path, &sealed, passphrase.clone())? != text {
            return Err(CryptoError::Encrypt(format!(
                "{} did not read back as written",
                path.display()
            )));
        }
        Ok(Some(sealed))
    })
}

/// Decrypt protected key files in place (the reverse of
/// [`protect_in_place`]). A wrong passphrase changes no file.
pub fn unprotect_in_place(
    paths: &[PathBuf],
    passphrase: &SecretString,
) -> Result<Vec<Change>, CryptoError> {
    rewrite_in_place(paths, |path, bytes| {
        if !is_protected(bytes) {
            return Ok(None);
        }
        open(path, bytes, passphrase.clone()).map(|text| Some(text.into_bytes()))
    })
}

/// Compute every file's new bytes first (any error: nothing written), write
/// them beside the originals, then rename each over its original.
fn rewrite_in_place(
    paths: &[PathBuf],
    mut rewrite: impl FnMut(&Path, &[u8]) -> Result<Option<Vec<u8>>, CryptoError>,
) -> Result<Vec<Change>, CryptoError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| CryptoError::KeyFile { path, source }
    };
    let mut planned = Vec::with_capacity(paths.len());
    for path in paths {
        let bytes = super::files::owner_only(path)
            .and_then(|()| std::fs::read(path))
            .map_err(io(path))?;
        planned.push(rewrite(path, &bytes)?);
    }
    let mut staged = Vec::new();
    for (path, new) in paths.iter().zip(&planned) {
        if let Some(bytes) = new {
            let next = staging(path);
            super::files::write_secret_bytes(&next, bytes).map_err(|e| CryptoError::KeyFile {
                path: e.path,
                source: e.source,
            })?;
            std::fs::File::open(&next)
                .and_then(|f| f.sync_all())
                .map_err(io(&next))?;
            staged.push((next, path));
        }
    }
    for (next, path) in staged {
        std::fs::rename(&next, path).map_err(io(path))?;
    }
    Ok(planned
        .iter()
        .map(|p| match p {
            Some(_) => Change::Rewritten,
            None => Change::Unchanged,
        })
        .collect())
}

fn staging(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tsunagu-new");
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn a_protected_key_opens_with_its_passphrase_and_names_the_file_with_a_wrong_one() {
        let text = "# example\nAGE-SECRET-KEY-1XYZ\n";
        let sealed = protect(text, secret("correct horse")).unwrap();
        assert!(is_protected(&sealed));
        assert!(!is_protected(text.as_bytes()));
        let path = Path::new("/keys/age-identity.txt");
        assert_eq!(open(path, &sealed, secret("correct horse")).unwrap(), text);
        let wrong = open(path, &sealed, secret("battery staple")).unwrap_err();
        assert!(
            matches!(wrong, CryptoError::WrongPassphrase { .. }),
            "{wrong}"
        );
        let message = wrong.to_string();
        assert!(
            message.contains("パスフレーズ")
                && message.contains("wrong passphrase")
                && message.contains("/keys/age-identity.txt"),
            "{message}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_passphrase_file_gives_its_first_line_and_a_readable_one_is_refused() {
        use age::secrecy::ExposeSecret;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("passphrase");
        super::super::files::write_secret(&file, "open sesame\n").unwrap();
        let source = Source::File(file.clone());
        let key = Path::new("key.txt");
        assert_eq!(source.read(key).unwrap().expose_secret(), "open sesame");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(source.read(key).is_err());
        super::super::files::write_secret(&file, "\n").unwrap();
        assert!(matches!(
            source.read(key),
            Err(CryptoError::NoPassphrase { .. })
        ));
    }

    #[test]
    fn keys_are_protected_in_place_and_a_wrong_passphrase_unprotects_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = ["a.txt", "b.txt"]
            .iter()
            .map(|n| dir.path().join(n))
            .collect();
        for (path, text) in paths.iter().zip(["key a\n", "key b\n"]) {
            super::super::files::write_secret(path, text).unwrap();
        }
        let pass = secret("pass");
        assert_eq!(
            protect_in_place(&paths, &pass).unwrap(),
            [Change::Rewritten, Change::Rewritten]
        );
        let sealed: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
        assert!(sealed.iter().all(|b| is_protected(b)));
        // Protecting again changes nothing; a wrong passphrase neither.
        assert_eq!(
            protect_in_place(&paths, &pass).unwrap(),
            [Change::Unchanged, Change::Unchanged]
        );
        let wrong = unprotect_in_place(&paths, &secret("nope")).unwrap_err();
        assert!(matches!(wrong, CryptoError::WrongPassphrase { .. }));
        let after: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
        assert_eq!(after, sealed);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        unprotect_in_place(&paths, &pass).unwrap();
        assert_eq!(super::super::files::read(&paths[1]).unwrap(), "key b\n");
    }
}
