//! Recording a consent (`GET|POST /consents/new`): a multipart form, since
//! a written consent carries the signed form's scan. Every field is checked
//! here, each fault shown in the staff's language at its field; only a form
//! that passes becomes a [`ConsentRequest`], sent as the CLI sends it.

use std::collections::BTreeMap;

use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use axum::http::StatusCode;

use crate::agency::Node;
use crate::agency::consents::ConsentRequest;
use crate::i18n::Lang;
use crate::protocol::attachment::{self, AttachmentError, MAX_ATTACHMENT_BYTES};
use crate::protocol::consent::{ConsentDecision, ConsentGiver, ConsentMethod, ConsentRecipient};
use crate::protocol::day::Day;
use crate::protocol::payload::Attachment;
use crate::protocol::{AgencyId, AgencyKind, CaseId, InfoCategory, Purpose, Timestamp};

/// The request body limit of the form: the 5 MB scan, the other fields and
/// room to read an oversize scan to its end, so its sender is told why
/// rather than cut off. Beyond this the upload is stopped.
pub const BODY_LIMIT: usize = 4 * MAX_ATTACHMENT_BYTES;

/// The longest name or note accepted.
const MAX_NAME: usize = 100;
const MAX_NOTE: usize = 4000;

/// What the form sent, as text, kept to show it again.
#[derive(Clone, Debug, Default)]
pub struct Values {
    pub csrf: String,
    pub case: String,
    pub given_by: String,
    pub given_by_name: String,
    pub method: String,
    pub decision: String,
    pub recipients: Vec<String>,
    pub categories: Vec<String>,
    pub purposes: Vec<String>,
    pub to: Vec<String>,
    pub until: String,
    pub note: String,
}

impl Values {
    /// The defaults of a new form: 本人, 書面, 同意, for referrals.
    pub fn new(case: String) -> Self {
        Values {
            case,
            given_by: "person".into(),
            method: "written".into(),
            decision: "granted".into(),
            purposes: vec![Purpose::Referral.as_str().into()],
            ..Values::default()
        }
    }

    fn set(&mut self, name: &str, value: String) {
        match name {
            "csrf" => self.csrf = value,
            "case" => self.case = value,
            "given_by" => self.given_by = value,
            "given_by_name" => self.given_by_name = value,
            "method" => self.method = value,
            "decision" => self.decision = value,
            "recipient" => self.recipients.push(value),
            "category" => self.categories.push(value),
            "purpose" => self.purposes.push(value),
            "to" => self.to.push(value),
            "until" => self.until = value,
            "note" => self.note = value,
            _ => {}
        }
    }
}

/// The scan as uploaded: its bytes up to just past the limit, and how many
/// there were in all.
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub total: usize,
}

/// The form as read.
pub struct Submitted {
    pub values: Values,
    pub scan: Option<Upload>,
    /// The body could not be read to its end: too large (413) or broken.
    pub unread: Option<StatusCode>,
}

/// Read every part; a scan is kept only up to just past the 5 MB limit and
/// the rest read and dropped, so an oversize scan costs no memory.
pub async fn read(mut multipart: Multipart) -> Submitted {
    let mut values = Values::default();
    let mut scan = None;
    let unread = loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break None,
            Err(e) => break Some(status(&e)),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name != "scan" {
            match field.text().await {
                Ok(text) => values.set(&name, text),
                Err(e) => break Some(status(&e)),
            }
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let mut upload = Upload {
            file_name,
            bytes: Vec::new(),
            total: 0,
        };
        let failed = loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    upload.total += chunk.len();
                    if upload.bytes.len() <= MAX_ATTACHMENT_BYTES {
                        upload.bytes.extend_from_slice(&chunk);
                    }
                }
                Ok(None) => break None,
                Err(e) => break Some(status(&e)),
            }
        };
        // A browser sends an empty, nameless part when no file was chosen.
        if upload.total > 0 || !upload.file_name.is_empty() {
            scan = Some(upload);
        }
        if failed.is_some() {
            break failed;
        }
    };
    Submitted {
        values,
        scan,
        unread,
    }
}

fn status(e: &MultipartError) -> StatusCode {
    match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Each field's fault, in the staff's language, by field name.
pub type Faults = BTreeMap<&'static str, String>;

/// The message for a body that could not be read.
pub fn unread_fault(status: StatusCode, lang: Lang) -> (&'static str, String) {
    let text = match status {
        StatusCode::PAYLOAD_TOO_LARGE => lang.pick(
            "送信されたファイルが大きすぎます。同意書のスキャンは5MBまでです。解像度を下げるかページを分けて、5MB以下にしてから添付してください。",
            "The file sent is too large. The consent form's scan may be 5 MB at most: lower its resolution or split it, then attach it again.",
        ),
        _ => lang.pick(
            "フォームを最後まで読み取れませんでした。ページを開き直して、もう一度送信してください。",
            "The form could not be read to its end. Reload the page and send it again.",
        ),
    };
    ("scan", text.to_owned())
}

/// The consent the form describes, or every fault in it.
pub fn check(
    node: &Node,
    v: &Values,
    scan: Option<Upload>,
    lang: Lang,
) -> Result<ConsentRequest, Faults> {
    let mut faults = Faults::new();
    let mut fault = |field: &'static str, ja: &str, en: &str| {
        faults
            .entry(field)
            .or_insert_with(|| lang.pick(ja, en).to_owned());
    };
    let case = match v.case.trim() {
        "" => {
            fault(
                "case",
                "ケースIDを入力してください。ケースの画面から開くと入力済みになります。",
                "Enter the case id. Opening this form from the case's page fills it in.",
            );
            None
        }
        text => text.parse::<CaseId>().ok().or_else(|| {
            fault(
                "case",
                "ケースIDの形式が正しくありません。ケース一覧から対象のケースを開き、そこからこのフォームを開いてください。",
                "This is not a case id. Open the case from the case list and open this form from there.",
            );
            None
        }),
    };
    let given_by = match v.given_by.as_str() {
        "person" => Some(ConsentGiver::Person),
        "guardian" => Some(ConsentGiver::Guardian),
        _ => {
            fault(
                "given_by",
                "同意した人（本人・保護者）を選んでください。",
                "Choose who gave it (the person or a guardian).",
            );
            None
        }
    };
    let name = v.given_by_name.trim();
    if name.is_empty() {
        fault(
            "given_by_name",
            "同意した人の氏名を入力してください。",
            "Enter the name of the person who gave it.",
        );
    } else if name.chars().count() > MAX_NAME {
        fault(
            "given_by_name",
            "氏名は100文字以内で入力してください。",
            "The name may be 100 characters at most.",
        );
    }
    let method = match v.method.as_str() {
        "written" => Some(ConsentMethod::Written),
        "oral" => Some(ConsentMethod::Oral),
        _ => {
            fault(
                "method",
                "同意の方法（書面・口頭）を選んでください。",
                "Choose how it was given (written or oral).",
            );
            None
        }
    };
    let decision = match v.decision.as_str() {
        "granted" => Some(ConsentDecision::Granted),
        "refused" => Some(ConsentDecision::Refused),
        "not_told" => Some(ConsentDecision::NotTold),
        _ => {
            fault(
                "decision",
                "結果（同意・拒否・未説明）を選んでください。",
                "Choose the decision (granted, refused or not told).",
            );
            None
        }
    };
    let mut scan_fault = None;
    let scan = match (method, scan) {
        (Some(ConsentMethod::Oral), Some(_)) => {
            fault(
                "scan",
                "口頭の同意には同意書を添付できません。署名された同意書を受け取った場合は「書面」を選んでください。",
                "An oral consent has no form to attach. If she signed a form, choose written.",
            );
            None
        }
        (Some(ConsentMethod::Written), None) => {
            fault(
                "scan",
                "書面の場合は、署名された同意書のスキャン（PDF・PNG・JPEG）を添付してください。",
                "For a written consent, attach the scan of the signed form (PDF, PNG or JPEG).",
            );
            None
        }
        (_, Some(upload)) => match checked_scan(upload, lang) {
            Ok(a) => Some(a),
            Err(text) => {
                scan_fault = Some(text);
                None
            }
        },
        (_, None) => None,
    };
    if let Some(text) = scan_fault {
        faults.insert("scan", text);
    }
    let mut fault = |field: &'static str, ja: &str, en: &str| {
        faults
            .entry(field)
            .or_insert_with(|| lang.pick(ja, en).to_owned());
    };
    let recipients = parse_all(&v.recipients, |r| recipient(node, r));
    let categories = parse_all(&v.categories, category);
    let purposes = parse_all(&v.purposes, |p| {
        Purpose::ALL.into_iter().find(|x| x.as_str() == p)
    });
    let to = parse_all(&v.to, |a| {
        let id = a.parse::<AgencyId>().ok()?;
        (node.directory().get(&id).is_some() && id != *node.id()).then_some(id)
    });
    let granted = decision == Some(ConsentDecision::Granted);
    match &recipients {
        None => fault(
            "recipient",
            "選べない提供先が含まれています。ページを開き直してから選び直してください。",
            "A recipient cannot be chosen. Reload the page and choose again.",
        ),
        Some(r) if r.is_empty() && granted => fault(
            "recipient",
            "情報を共有してよい機関を1つ以上選んでください。",
            "Choose at least one agency the information may go to.",
        ),
        _ => {}
    }
    match &categories {
        Some(c) if !(c.is_empty() && granted) => {}
        _ => fault(
            "category",
            "共有してよい情報の区分を1つ以上選んでください。",
            "Choose at least one kind of information that may be shared.",
        ),
    }
    match &purposes {
        Some(p) if !(p.is_empty() && granted) => {}
        _ => fault(
            "purpose",
            "利用目的を1つ以上選んでください。",
            "Choose at least one purpose.",
        ),
    }
    if to.is_none() {
        fault(
            "to",
            "選べない送付先が含まれています。ページを開き直してから選び直してください。",
            "An agency cannot be chosen. Reload the page and choose again.",
        );
    }
    let until = match v.until.trim() {
        "" => None,
        text => match text.parse::<Day>() {
            Err(_) => {
                fault(
                    "until",
                    "有効期限は年月日で入力してください（例: 2027-03-31）。",
                    "Enter the end date as a date (e.g. 2027-03-31).",
                );
                None
            }
            Ok(day) if day < Day::of(Timestamp::now()) => {
                fault(
                    "until",
                    "有効期限には今日以降の日付を入力してください。",
                    "The end date must be today or later.",
                );
                None
            }
            Ok(day) => Some(end_of(day)),
        },
    };
    if v.note.chars().count() > MAX_NOTE {
        fault(
            "note",
            "メモは4000文字以内で入力してください。",
            "The note may be 4,000 characters at most.",
        );
    }
    match (
        case, given_by, method, decision, recipients, categories, purposes, to,
    ) {
        (
            Some(case),
            Some(given_by),
            Some(method),
            Some(decision),
            Some(recipients),
            Some(categories),
            Some(purposes),
            Some(to),
        ) if faults.is_empty() => Ok(ConsentRequest {
            case,
            to,
            recipients,
            categories,
            purposes,
            given_by,
            given_by_name: name.to_owned(),
            method,
            decision,
            valid_until: until,
            scan,
            note: v.note.trim().to_owned(),
        }),
        _ => Err(faults),
    }
}

/// The last instant of `day` in Japan: valid through that whole day.
fn end_of(day: Day) -> Timestamp {
    let next = day.plus_days(1).start();
    Timestamp::from_unix_millis(next.unix_millis() - 1).unwrap_or(next)
}

/// Every value parsed, or `None` if any is not one of the choices.
fn parse_all<T>(values: &[String], parse: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
    values.iter().map(|v| parse(v)).collect()
}

/// `agency:ID` for one agency in the directory, `kind:KIND` for every
/// agency of a kind.
fn recipient(node: &Node, value: &str) -> Option<ConsentRecipient> {
    match value.split_once(':')? {
        ("agency", id) => {
            let id = id.parse::<AgencyId>().ok()?;
            node.directory()
                .get(&id)
                .is_some()
                .then_some(ConsentRecipient::Agency(id))
        }
        ("kind", kind) => kind_of(kind).map(ConsentRecipient::Kind),
        _ => None,
    }
}

pub fn kind_of(wire: &str) -> Option<AgencyKind> {
    serde_json::from_value(serde_json::Value::String(wire.to_owned())).ok()
}

pub fn wire_name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn category(value: &str) -> Option<InfoCategory> {
    InfoCategory::ALL
        .into_iter()
        .find(|c| wire_name(*c) == value)
}

/// The scan checked by its bytes (`protocol::attachment`), its fault in
/// the staff's language.
fn checked_scan(upload: Upload, lang: Lang) -> Result<Attachment, String> {
    if upload.total > MAX_ATTACHMENT_BYTES {
        return Err(too_large(upload.total, lang));
    }
    attachment::attach(&upload.file_name, upload.bytes).map_err(|e| match e {
        AttachmentError::TooLarge(n) => too_large(n, lang),
        AttachmentError::WrongType(name) => match lang {
            Lang::Ja => format!(
                "添付できるのはPDFと画像（PNG・JPEG）だけです。「{name}」はそのどれでもありません。同意書をPDFかPNG・JPEGで保存し直して添付してください。"
            ),
            Lang::En => format!(
                "Only PDF, PNG and JPEG files can be attached; {name} is none of these. Save the form as PDF, PNG or JPEG and attach it again."
            ),
        },
        AttachmentError::Empty(name) => match lang {
            Lang::Ja => format!(
                "添付されたファイル「{name}」は空です。スキャンしたファイルを選び直してください。"
            ),
            Lang::En => format!("The attached file {name} is empty. Choose the scanned file again."),
        },
    })
}

fn too_large(bytes: usize, lang: Lang) -> String {
    let mb = bytes as f64 / (1024.0 * 1024.0);
    match lang {
        Lang::Ja => format!(
            "同意書のスキャンは5MBまでです（このファイルは{mb:.1}MBあります）。解像度を下げるかページを分けて、5MB以下にしてから添付してください。"
        ),
        Lang::En => format!(
            "The scan may be 5 MB at most (this file is {mb:.1} MB). Lower its resolution or split it, then attach it again."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consent_until_a_day_is_valid_through_that_whole_day_in_japan() {
        let day: Day = "2027-03-31".parse().unwrap();
        let end = end_of(day);
        assert_eq!(Day::of(end), day);
        let next = Timestamp::from_unix_millis(end.unix_millis() + 1).unwrap();
        assert_eq!(Day::of(next), day.plus_days(1));
    }
}
