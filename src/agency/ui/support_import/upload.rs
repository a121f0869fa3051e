//! An uploaded file waiting for its import to be confirmed: kept beside the
//! node's database (`support-imports/`), owner-only, under a random token
//! bound to the member who uploaded it, deleted when the import is
//! confirmed or cancelled, or after an hour.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::agency::staff::StaffMember;
use crate::crypto::files::{write_secret, write_secret_bytes};
use crate::protocol::Timestamp;

/// How long an upload waits for its confirmation.
const KEPT_FOR_MS: i64 = 60 * 60 * 1000;

/// What is kept with an upload.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Meta {
    /// The member it belongs to (their staff id).
    pub staff: String,
    pub file_name: String,
    pub uploaded_at: Timestamp,
    /// The columns a person mapped: (heading, field; blank: ignore).
    #[serde(default)]
    pub overrides: Vec<(String, String)>,
}

/// The uploads of one node.
pub struct Uploads {
    dir: PathBuf,
}

/// A token as the URL carries it: 32 hex digits, nothing else (it names a file).
fn valid(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Uploads {
    /// The uploads kept beside `database` (the node's records file).
    pub fn beside(database: &Path) -> Self {
        let parent = database.parent().unwrap_or(Path::new("."));
        Self {
            dir: parent.join("support-imports"),
        }
    }

    fn paths(&self, token: &str) -> (PathBuf, PathBuf) {
        (
            self.dir.join(format!("{token}.upload")),
            self.dir.join(format!("{token}.json")),
        )
    }

    /// Keep `bytes` for `member`; the token names them from now on.
    pub fn keep(
        &self,
        member: &StaffMember,
        file_name: &str,
        bytes: &[u8],
        now: Timestamp,
    ) -> std::io::Result<String> {
        self.sweep(now);
        std::fs::create_dir_all(&self.dir)?;
        let token = uuid::Uuid::new_v4().simple().to_string();
        let meta = Meta {
            staff: member.id.to_string(),
            file_name: file_name.into(),
            uploaded_at: now,
            overrides: Vec::new(),
        };
        let (data, info) = self.paths(&token);
        write_secret_bytes(&data, bytes).map_err(|e| e.source)?;
        self.save(&info, &meta)?;
        Ok(token)
    }

    fn save(&self, info: &Path, meta: &Meta) -> std::io::Result<()> {
        let text = serde_json::to_string(meta).map_err(std::io::Error::other)?;
        write_secret(info, &text).map_err(|e| e.source)
    }

    /// The upload's meta and bytes, if `token` is `member`'s and not expired.
    pub fn get(
        &self,
        member: &StaffMember,
        token: &str,
        now: Timestamp,
    ) -> Option<(Meta, Vec<u8>)> {
        let meta = self.meta(member, token, now)?;
        let (data, _) = self.paths(token);
        Some((meta, std::fs::read(data).ok()?))
    }

    fn meta(&self, member: &StaffMember, token: &str, now: Timestamp) -> Option<Meta> {
        if !valid(token) {
            return None;
        }
        let (_, info) = self.paths(token);
        let meta: Meta = serde_json::from_slice(&std::fs::read(info).ok()?).ok()?;
        let fresh = now.unix_millis() - meta.uploaded_at.unix_millis() < KEPT_FOR_MS;
        (meta.staff == member.id.to_string() && fresh).then_some(meta)
    }

    /// Replace the upload's column mapping.
    pub fn set_overrides(
        &self,
        member: &StaffMember,
        token: &str,
        overrides: Vec<(String, String)>,
        now: Timestamp,
    ) -> std::io::Result<bool> {
        let Some(mut meta) = self.meta(member, token, now) else {
            return Ok(false);
        };
        meta.overrides = overrides;
        let (_, info) = self.paths(token);
        self.save(&info, &meta)?;
        Ok(true)
    }

    /// Forget the upload (confirmed or cancelled).
    pub fn remove(&self, token: &str) {
        if valid(token) {
            let (data, info) = self.paths(token);
            let _ = std::fs::remove_file(data);
            let _ = std::fs::remove_file(info);
        }
    }

    /// Delete every upload older than an hour.
    fn sweep(&self, now: Timestamp) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(token) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            let expired = std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<Meta>(&b).ok())
                .is_none_or(|m| now.unix_millis() - m.uploaded_at.unix_millis() >= KEPT_FOR_MS);
            if expired {
                self.remove(token);
            }
        }
    }
}
