//! Everything the CLI prints for people or scripts goes through here, so a
//! reader that closes the pipe early (`tsunagu agency show … | head -1`)
//! ends the command quietly instead of panicking in `println!` (exit 101).
//! Resetting SIGPIPE to its default would also do it, but needs `unsafe`,
//! which the crate forbids.

use std::fmt;
use std::io::{self, Write};
use std::path::Path;

use crate::i18n::Lang;

/// Print one line on stdout; exit quietly when the reader has gone.
macro_rules! say {
    () => { $crate::cli::output::line(format_args!("")) };
    ($($arg:tt)*) => { $crate::cli::output::line(format_args!($($arg)*)) };
}
pub(crate) use say;

/// Write one line to stdout. A closed pipe means nobody reads any more: the
/// command has nothing left to say, so it exits with success at once (what
/// `head`, `grep -q` and `less` expect). Any other write error is reported.
pub fn line(args: fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    if let Err(e) = writeln!(out, "{args}").and_then(|()| out.flush()) {
        quit_on(&e);
    }
}

fn quit_on(e: &io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    // stderr may be gone too; nothing more to try then.
    let _ = writeln!(io::stderr(), "cannot write to stdout: {e}");
    std::process::exit(1);
}

/// Print a value as pretty JSON (the `--json` form of a command).
pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    say!("{text}");
    Ok(())
}

/// Write a ledger export to `--out`. It is plaintext about people: created
/// new and owner-only; a failure says what to do next.
pub fn write_export(out: &Path, bytes: &[u8], lang: Lang) -> anyhow::Result<()> {
    crate::crypto::files::write_secret_bytes(out, bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} {}: {}\n{}",
            lang.pick("書き出せません:", "cannot write"),
            out.display(),
            e.source,
            lang.pick(
                "次の手順: 書き込めるフォルダーのファイル名を --out に指定してください。",
                "next: name a file in a folder you can write to with --out.",
            )
        )
    })
}
