//! The ledger as a CSV file Excel opens with the Japanese intact: UTF-8
//! with a byte order mark (without it Excel reads Shift_JIS), CRLF line
//! endings, a header row, agencies by name.

use super::fold::LedgerRow;
use crate::agency::spreadsheet;
use crate::i18n::Lang;
use crate::protocol::AgencyId;
use crate::protocol::day::show_local;

/// The byte order mark Excel looks for.
pub const BOM: &str = "\u{feff}";

/// The header row.
pub fn header(lang: Lang) -> [&'static str; 16] {
    [
        lang.pick("ケース番号", "case number"),
        lang.pick("ケースID", "case id"),
        lang.pick("受理日", "received on"),
        lang.pick("受理経路", "route"),
        lang.pick("区分", "classification"),
        lang.pick("虐待種別", "abuse type"),
        lang.pick("危険度", "risk"),
        lang.pick("主担当機関", "lead agency"),
        lang.pick("キーパーソン", "key person"),
        lang.pick("援助方針", "support policy"),
        lang.pick("関係機関", "agencies with a role"),
        lang.pick(
            "前回検討（実務者会議）",
            "last reviewed (practitioners' meeting)",
        ),
        lang.pick("次回見直し", "next review"),
        lang.pick("次回実務者会議", "next practitioners' meeting"),
        lang.pick("状態", "status"),
        lang.pick("理由", "reason"),
    ]
}

/// One row's cells, agencies named by `name`.
pub fn cells(row: &LedgerRow, name: &impl Fn(&AgencyId) -> String, lang: Lang) -> [String; 16] {
    let join = |v: Vec<String>| v.join("・");
    [
        row.case_number.clone().unwrap_or_default(),
        row.case_id.to_string(),
        row.received_on.to_string(),
        row.route
            .map(|r| r.label(lang).to_owned())
            .unwrap_or_default(),
        row.classification.label(lang).to_owned(),
        join(
            row.abuse_types
                .iter()
                .map(|a| a.label(lang).to_owned())
                .collect(),
        ),
        row.risk
            .map(|r| r.label(lang).to_owned())
            .unwrap_or_default(),
        name(&row.lead),
        row.key_person.clone(),
        row.policy.clone(),
        join(row.members.iter().map(name).collect()),
        row.last_reviewed.map(|d| d.to_string()).unwrap_or_default(),
        row.next_review.to_string(),
        row.next_meeting.map(show_local).unwrap_or_default(),
        row.status.label(lang).to_owned(),
        row.status_reason.clone(),
    ]
}

/// The whole file.
pub fn export(
    rows: &[LedgerRow],
    name: impl Fn(&AgencyId) -> String,
    lang: Lang,
) -> Result<String, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(BOM.as_bytes().to_vec());
    out.write_record(header(lang))?;
    for row in rows {
        // Notes and reasons are free text: none may run as a formula.
        out.write_record(cells(row, &name, lang).map(|c| spreadsheet::inert(&c)))?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    // Every cell is a String: the bytes are UTF-8.
    Ok(String::from_utf8(bytes).unwrap_or_default())
}
