//! Writing the files that hold keys: public ones plainly, secret ones created
//! new and readable by their owner only. The PKI writes key files with these,
//! and so does provisioning (example sets, `certs issue`, `certs ca`).

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file that could not be read, created or written. The path is named;
/// the I/O error is the `source()`.
#[derive(Debug, thiserror::Error)]
#[error("could not {action} {path}")]
pub struct FileError {
    /// What was attempted, e.g. `create`.
    pub action: &'static str,
    /// The file or directory.
    pub path: PathBuf,
    /// Why it failed.
    pub source: std::io::Error,
}

fn failed(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> FileError {
    move |source| FileError {
        action,
        path: path.to_owned(),
        source,
    }
}

/// Refuse a secret key file that users other than its owner can read, with
/// the fix named. The example set (`certs-example/`) is exempt: its keys are
/// published with the source, and a checkout cannot give a file mode 0600.
pub fn owner_only(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let example = path.components().any(|c| c.as_os_str() == "certs-example");
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 && !example {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "other users can read it (mode {mode:o}): run `chmod 600 {}` as its owner, then start again",
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Read a secret key file, refused if others can read it ([`owner_only`]).
pub fn read_secret(path: &Path) -> Result<String, FileError> {
    owner_only(path).map_err(failed("use", path))?;
    read(path)
}

/// Read a text file.
pub fn read(path: &Path) -> Result<String, FileError> {
    std::fs::read_to_string(path).map_err(failed("read", path))
}

/// Create a directory and its parents.
pub fn create_dir(path: &Path) -> Result<(), FileError> {
    std::fs::create_dir_all(path).map_err(failed("create directory", path))
}

/// Write a file anyone may read (certificates, the directory).
pub fn write_public(path: &Path, text: &str) -> Result<(), FileError> {
    std::fs::write(path, text).map_err(failed("write", path))
}

/// Write a secret file readable by its owner only (0600 on unix). An existing
/// file is removed first so that it never holds new secrets under old modes.
pub fn write_secret(path: &Path, text: &str) -> Result<(), FileError> {
    write_secret_bytes(path, text.as_bytes())
}

/// [`write_secret`] for bytes that are not text (a workbook, an upload, a
/// chart's PNG).
pub fn write_secret_bytes(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(failed("replace", path)(e));
        }
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(failed("create", path))?;
    file.write_all(bytes).map_err(failed("write", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused_with_the_fix_but_the_example_set_is_not() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        std::fs::write(&key, "secret").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = read_secret(&key).unwrap_err();
        let text = format!("{refused}: {}", refused.source);
        assert!(
            text.contains("mode 644") && text.contains("chmod 600"),
            "{text}"
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_secret(&key).unwrap(), "secret");
        // The published example keys load whatever their mode.
        let example = dir.path().join("certs-example");
        std::fs::create_dir(&example).unwrap();
        let public = example.join("key.pem");
        std::fs::write(&public, "example").unwrap();
        std::fs::set_permissions(&public, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(read_secret(&public).unwrap(), "example");
    }

    #[cfg(unix)]
    #[test]
    fn a_secret_replaces_a_readable_file_and_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_secret(&path, "new").unwrap();
        assert_eq!(read(&path).unwrap(), "new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn errors_name_the_file_and_what_was_attempted() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such-dir").join("key.pem");
        let err = write_secret(&missing, "x").unwrap_err();
        assert_eq!(err.action, "create");
        assert!(err.to_string().contains("no-such-dir"), "{err}");
        let err = read(&missing).unwrap_err();
        assert_eq!(err.action, "read");
    }
}
