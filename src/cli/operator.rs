//! Who runs a command: recorded in the audit chain and in the support
//! ledger's history. The account comes from the process's user id, not from
//! `USER`, which is unset under systemd and cron and can be set to anything.

/// The OS account running this process, with the person behind `sudo`:
/// `alice`, `root (sudo: alice)`, or `uid 10001` for an account with no
/// name (a container's).
pub fn operator() -> String {
    let account = whoami::username().unwrap_or_else(|_| match own_uid() {
        Some(uid) => format!("uid {uid}"),
        None => "unknown".into(),
    });
    match std::env::var("SUDO_USER") {
        Ok(person) if !person.is_empty() && person != account => {
            format!("{account} (sudo: {person})")
        }
        _ => account,
    }
}

/// Who a change to the 支援台帳 is recorded under from the command line: the
/// person `USER` names (staff may share one OS account and set it), else
/// the OS account — never "unknown". The audit chain uses [`operator`],
/// which an environment variable cannot change.
pub fn person() -> String {
    std::env::var("USER")
        .ok()
        .filter(|user| !user.is_empty())
        .unwrap_or_else(operator)
}

/// The process's user id, read from what it owns (no `unsafe` getuid).
fn own_uid() -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").ok().map(|m| m.uid())
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    /// The account is found without `USER` (as under systemd or cron).
    #[test]
    fn the_operator_is_named_without_user_in_the_environment() {
        let name = super::operator();
        assert!(!name.is_empty() && name != "unknown", "{name}");
    }
}
