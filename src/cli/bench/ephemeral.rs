//! The ephemeral PKI: a CA, the hub certificate and every agency's keys.

use super::*;

/// An ephemeral CA, hub certificate and agency key sets, written to files
/// the hub and the nodes load as they would in a deployment. The first
/// `shape.senders` agencies are sending clinics; the others receive,
/// centers and child welfare teams in turn.
pub(super) struct Pki {
    pub(super) dir: PathBuf,
    pub(super) ids: Vec<AgencyId>,
    pub(super) materials: Vec<pki::AgencyMaterial>,
    pub(super) directory: Directory,
    pub(super) senders: Vec<usize>,
    pub(super) recipients: Vec<usize>,
    /// Recipients of each envelope.
    pub(super) per_envelope: usize,
}

pub(super) fn kind_of(index: usize, senders: usize) -> AgencyKind {
    match index.checked_sub(senders) {
        None => AgencyKind::ObstetricClinic,
        Some(r) if r % 2 == 0 => AgencyKind::Center,
        Some(_) => AgencyKind::ChildWelfare,
    }
}

impl Pki {
    pub(super) fn generate(dir: &Path, shape: Shape) -> anyhow::Result<Self> {
        let count = shape.agencies;
        let agencies = dir.join("agencies");
        std::fs::create_dir_all(&agencies).context("creating the PKI directory")?;
        let ca = pki::generate_ca("tsunagu bench CA (ephemeral)")?;
        let hub = pki::issue_server(&ca, &["127.0.0.1", "localhost"])?;
        write_file(&dir.join("ca.pem"), &ca.cert_pem)?;
        write_file(&dir.join("hub.pem"), &hub.cert_pem)?;
        // 0600 like every key: the hub refuses a key others could read.
        crate::crypto::files::write_secret(&dir.join("hub-key.pem"), &hub.key_pem)?;
        let hub_entry = provision::write_hub_signing_key(dir, KEY_COMMENT)?;
        let (mut ids, mut materials, mut entries) = (Vec::new(), Vec::new(), Vec::new());
        for index in 0..count {
            let id: AgencyId = format!("bench-{:04}", index + 1).parse()?;
            let material = pki::AgencyMaterial::generate(&ca, &id)?;
            pki::write_agency(&agencies.join(id.as_str()), &material, KEY_COMMENT)?;
            let name = format!("ベンチ機関 {:04}", index + 1);
            entries.push(provision::directory_entry(
                &material,
                &id,
                kind_of(index, shape.senders),
                &name,
            ));
            ids.push(id);
            materials.push(material);
        }
        let directory = Directory::new(entries)?.with_version(1).with_hub(hub_entry);
        provision::write_signed_directory(&dir.join("directory.toml"), &directory.to_toml(), &ca)?;
        let (senders, recipients) = (0..count).partition(|&i| i < shape.senders);
        Ok(Self {
            dir: dir.to_owned(),
            ids,
            materials,
            directory,
            senders,
            recipients,
            per_envelope: shape.recipients,
        })
    }

    /// Node configuration for agency `index`, like
    /// `AgencyConfig::from_example` but over the generated files.
    pub(super) fn config(&self, index: usize, hub: &str, data: &Path) -> AgencyConfig {
        let id = &self.ids[index];
        let own = self.dir.join("agencies").join(id.as_str());
        AgencyConfig {
            id: id.clone(),
            hub: hub.to_owned(),
            database: store::testing::sqlite_url(data, &format!("{id}.db")),
            directory: Some(self.dir.join("directory.toml")),
            tls: NodeTls {
                ca: self.dir.join("ca.pem"),
                cert: own.join("cert.pem"),
                key: own.join("key.pem"),
            },
            keys: NodeKeys {
                age_identity: own.join("age-identity.txt"),
                signing_key: own.join("signing-key.txt"),
                records_key: None,
            },
            request_timeout_secs: None,
            restore_resend_margin_secs: None,
            ui: Default::default(),
        }
    }

    /// Envelope `k` goes from sender `k mod S` to the `per_envelope`
    /// receivers from `k mod R` on, spreading the load evenly over both
    /// sides (`per_envelope <= R`, checked in `workload::shape`).
    pub(super) fn plan(&self, envelopes: usize) -> Vec<Planned> {
        let (s, r) = (self.senders.len(), self.recipients.len());
        (0..envelopes)
            .map(|k| {
                let to = (k..k + self.per_envelope)
                    .map(|i| self.recipients[i % r])
                    .collect();
                Planned {
                    sender: self.senders[k % s],
                    to,
                    case: None,
                }
            })
            .collect()
    }
}

/// A temporary directory in `dir` (`--tmp-dir`), or in the system's.
pub(super) fn temp_dir(dir: Option<&Path>) -> anyhow::Result<tempfile::TempDir> {
    match dir {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .context("creating the temporary directory")
}

pub(super) fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// One envelope to send: node indexes, and the case it is about (opened
/// at the hub before the measured run).
pub(super) struct Planned {
    pub(super) sender: usize,
    pub(super) to: Vec<usize>,
    pub(super) case: Option<CaseId>,
}

pub(super) fn demo_payload() -> Payload {
    let today = time::Date::from(crate::protocol::day::Day::today());
    Payload {
        author: Author {
            name: "佐藤 美咲".into(),
            role: "助産師".into(),
            contact: "03-0000-0000 内線 12".into(),
        },
        body: Body::Referral(Box::new(demo_referral(today))),
        justification: Some("特定妊婦と思われ、早期の支援が必要なため".into()),
    }
}
