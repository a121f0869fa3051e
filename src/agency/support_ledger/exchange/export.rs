//! The ledger written out: an .xlsx workbook (sheet 台帳 with real dates,
//! pull-downs on the coded columns and the computed columns after the
//! data; sheet 接触記録) and a CSV of the 台帳 sheet (UTF-8 with a BOM, cells
//! made inert against formula injection). The import reads both back
//! unchanged.

use rust_xlsxwriter::{
    Color, DataValidation, ExcelDateTime, Format, FormatBorder, Note, Workbook, Worksheet,
    XlsxError,
};

use super::fields::{self, Shown};
use super::mapping::COMPUTED;
use super::plan::CONTACT_COLUMNS;
use super::read::{CONTACTS_SHEET, ROWS_SHEET};
use crate::agency::spreadsheet::inert;
use crate::agency::support_ledger::{FIELDS, Ledger, SubjectView};
use crate::i18n::Lang;
use crate::protocol::day::Day;

/// Rows below the data that still get the pull-downs, for rows staff add.
const SPARE_ROWS: u32 = 1000;

/// Why the workbook could not be written.
#[derive(Debug, thiserror::Error)]
#[error("the workbook cannot be written: {0}")]
pub struct ExportError(#[from] XlsxError);

/// The computed columns of a row: 月齢, 次回接触予定日（計算）, 根拠.
fn computed(v: &SubjectView) -> [Shown; 3] {
    let c = &v.computed;
    [
        c.age_months
            .map_or(Shown::Blank, |m| Shown::Text(m.to_string())),
        c.next_contact.map_or(Shown::Blank, |d| Shown::Day(d.day)),
        c.next_contact.map_or(Shown::Blank, |d| {
            Shown::Text(d.rule.label(Lang::Ja).to_owned())
        }),
    ]
}

/// Every cell of a row as the sheet shows it: the fields, then the computed.
fn row(v: &SubjectView) -> Vec<Shown> {
    let map = fields::as_map(&v.subject);
    FIELDS
        .iter()
        .map(|(f, _, _)| fields::shown(&map, f))
        .chain(computed(v))
        .collect()
}

fn headings() -> Vec<&'static str> {
    FIELDS
        .iter()
        .map(|(_, ja, _)| *ja)
        .chain(COMPUTED.iter().map(|(ja, _)| *ja))
        .collect()
}

/// The ledger as CSV text (a BOM, CRLF), the 台帳 sheet only.
pub fn csv(ledger: &Ledger) -> Result<String, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(headings())?;
    for v in &ledger.subjects {
        writer.write_record(row(v).iter().map(|cell| match cell {
            Shown::Blank => String::new(),
            Shown::Text(t) => inert(t),
            Shown::Day(d) => d.to_string(),
        }))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(format!("\u{feff}{}", String::from_utf8_lossy(&bytes)))
}

/// The ledger as an .xlsx workbook.
pub fn xlsx(ledger: &Ledger) -> Result<Vec<u8>, ExportError> {
    let mut book = Workbook::new();
    let heading = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xD9E2F3))
        .set_border_bottom(FormatBorder::Thin);
    let computed_heading = heading
        .clone()
        .set_background_color(Color::RGB(0xE7E6E6))
        .set_italic();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let computed_cell = Format::new().set_background_color(Color::RGB(0xF2F2F2));
    let computed_date = computed_cell.clone().set_num_format("yyyy-mm-dd");

    let sheet = book.add_worksheet();
    sheet.set_name(ROWS_SHEET)?;
    let fields_count = FIELDS.len();
    for (col, h) in headings().iter().enumerate() {
        let format = if col < fields_count {
            &heading
        } else {
            &computed_heading
        };
        sheet.write_string_with_format(0, col as u16, *h, format)?;
        sheet.set_column_width(col as u16, 14)?;
    }
    // Shaded and noted rather than locked: a protected sheet cannot be
    // sorted across locked cells, and staff sort the ledger every day. The
    // import never reads these columns, so an edit to them changes nothing.
    for col in fields_count..fields_count + COMPUTED.len() {
        let note = Note::new("計算列: 台帳が計算した値です。取り込みでは読みません（書き換えても台帳は変わりません）。")
            .add_author_prefix(false);
        sheet.insert_note(0, col as u16, &note)?;
    }
    for (i, v) in ledger.subjects.iter().enumerate() {
        let r = i as u32 + 1;
        for (col, cell) in row(v).into_iter().enumerate() {
            let computed = col >= fields_count;
            let (text_format, date_format) = match computed {
                true => (Some(&computed_cell), &computed_date),
                false => (None, &date),
            };
            write(sheet, r, col as u16, &cell, text_format, date_format)?;
        }
    }
    let last = ledger.subjects.len() as u32 + SPARE_ROWS;
    for (col, (field, _, _)) in FIELDS.iter().enumerate() {
        if let Some(choices) = fields::choices(fields::shape(field)) {
            let rule = DataValidation::new()
                .allow_list_strings(&choices)?
                .set_error_message(format!("次から選んでください: {}", choices.join("、")))?;
            sheet.add_data_validation(1, col as u16, last, col as u16, &rule)?;
        }
    }
    sheet.set_freeze_panes(1, 3)?;

    let sheet = book.add_worksheet();
    sheet.set_name(CONTACTS_SHEET)?;
    for (col, (h, _, _)) in CONTACT_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *h, &heading)?;
        sheet.set_column_width(col as u16, if col == 4 { 40 } else { 14 })?;
    }
    let mut r = 1;
    for v in &ledger.subjects {
        for c in &v.contacts {
            let cells = [
                Shown::Text(v.subject.number.clone()),
                Shown::Day(c.day),
                Shown::Text(c.kind.label(Lang::Ja).into()),
                Shown::Text(c.staff.clone()),
                Shown::Text(c.summary.clone()),
                c.point
                    .map_or(Shown::Blank, |p| Shown::Text(p.label(Lang::Ja).into())),
            ];
            for (col, cell) in cells.iter().enumerate() {
                write(sheet, r, col as u16, cell, None, &date)?;
            }
            r += 1;
        }
    }
    let kinds: Vec<&str> = crate::agency::support_ledger::ContactKind::ALL
        .iter()
        .map(|k| k.label(Lang::Ja))
        .collect();
    let points: Vec<&str> = crate::agency::support_ledger::ContactPoint::ALL
        .iter()
        .map(|p| p.label(Lang::Ja))
        .collect();
    let last = r + SPARE_ROWS;
    sheet.add_data_validation(
        1,
        2,
        last,
        2,
        &DataValidation::new().allow_list_strings(&kinds)?,
    )?;
    sheet.add_data_validation(
        1,
        5,
        last,
        5,
        &DataValidation::new().allow_list_strings(&points)?,
    )?;
    sheet.set_freeze_panes(1, 0)?;
    Ok(book.save_to_buffer()?)
}

fn write(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Shown,
    text_format: Option<&Format>,
    date_format: &Format,
) -> Result<(), XlsxError> {
    match cell {
        Shown::Blank => {
            if let Some(f) = text_format {
                sheet.write_blank(row, col, f)?;
            }
        }
        // Written as text, never as a formula: a cell that begins with `=`
        // stays the words someone typed.
        Shown::Text(t) => {
            match text_format {
                Some(f) => sheet.write_string_with_format(row, col, t, f)?,
                None => sheet.write_string(row, col, t)?,
            };
        }
        Shown::Day(d) => {
            sheet.write_datetime_with_format(row, col, excel_day(*d)?, date_format)?;
        }
    }
    Ok(())
}

fn excel_day(d: Day) -> Result<ExcelDateTime, XlsxError> {
    let d: time::Date = d.into();
    ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day())
}
