//! A workbook (.xlsx, through calamine) or a CSV file (UTF-8 with or
//! without a BOM, or Shift_JIS as older Excel writes it) read into sheets
//! of cells, each row with the number the spreadsheet shows for it.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

use crate::i18n::Lang;
use crate::protocol::day::Day;

/// The largest file read: anything larger is refused before it is parsed.
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;

/// The sheet of rows and the sheet of contacts.
pub const ROWS_SHEET: &str = "台帳";
pub const CONTACTS_SHEET: &str = "接触記録";

/// One cell as the file held it.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A cell Excel formats as a date.
    Date(Day),
    /// #N/A, #REF!, …
    Error(String),
}

/// One row of a sheet.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// The row number the spreadsheet shows (1 is the first row).
    pub number: usize,
    pub cells: Vec<Cell>,
}

impl Line {
    /// The cell in column `i` (blank past the row's end).
    pub fn cell(&self, i: usize) -> &Cell {
        self.cells.get(i).unwrap_or(&Cell::Empty)
    }
}

/// A sheet: its heading row and the rows under it (blank rows skipped).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sheet {
    pub headings: Vec<String>,
    pub lines: Vec<Line>,
}

/// What a file held.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Book {
    pub rows: Sheet,
    /// The 接触記録 sheet, when the workbook has one.
    pub contacts: Option<Sheet>,
}

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the file is {0} bytes, over the limit")]
    TooLarge(usize),
    #[error("the workbook cannot be read: {0}")]
    Workbook(String),
    #[error("an old .xls workbook")]
    OldWorkbook,
    #[error("the CSV's character encoding is neither UTF-8 nor Shift_JIS")]
    Encoding,
    #[error("the CSV cannot be read: {0}")]
    Csv(String),
    #[error("the file has no heading row")]
    Empty,
}

impl ReadError {
    /// What is wrong and what to do, in staff's words.
    pub fn text(&self, lang: Lang) -> String {
        let mb = MAX_FILE_BYTES / (1024 * 1024);
        match (self, lang) {
            (ReadError::TooLarge(n), Lang::Ja) => format!(
                "ファイルが大きすぎます（{} MB、上限 {mb} MB）。台帳を分けて、{mb} MB 以下のファイルにしてから取り込んでください",
                n / (1024 * 1024)
            ),
            (ReadError::TooLarge(n), Lang::En) => format!(
                "the file is too large ({} MB, limit {mb} MB); split the ledger into files of {mb} MB or less",
                n / (1024 * 1024)
            ),
            (ReadError::Workbook(e), Lang::Ja) => format!(
                "Excel ファイルとして読めません（{e}）。Excel で開いて「.xlsx」形式で保存し直すか、CSV で保存してください"
            ),
            (ReadError::Workbook(e), Lang::En) => format!(
                "the workbook cannot be read ({e}); save it again as .xlsx, or as CSV"
            ),
            (ReadError::OldWorkbook, Lang::Ja) => {
                "古い Excel 形式（.xls）は読めません。Excel で開いて「.xlsx」形式で保存し直してください".into()
            }
            (ReadError::OldWorkbook, Lang::En) => {
                "old .xls workbooks are not read; save it as .xlsx in Excel".into()
            }
            (ReadError::Encoding, Lang::Ja) => {
                "CSV の文字コードを読み取れません（UTF-8 か Shift_JIS で保存してください）".into()
            }
            (ReadError::Encoding, Lang::En) => {
                "the CSV is neither UTF-8 nor Shift_JIS; save it in one of those".into()
            }
            (ReadError::Csv(e), Lang::Ja) => format!("CSV として読めません（{e}）"),
            (ReadError::Csv(e), Lang::En) => format!("the CSV cannot be read ({e})"),
            (ReadError::Empty, Lang::Ja) => {
                "見出し行がありません。1行目に台帳番号・氏名などの列名を入れてください".into()
            }
            (ReadError::Empty, Lang::En) => {
                "there is no heading row; put the column names (台帳番号, 氏名, …) in the first row".into()
            }
        }
    }
}

/// Read a file: a workbook when its bytes are one (a zip), otherwise CSV.
pub fn read(bytes: &[u8]) -> Result<Book, ReadError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge(bytes.len()));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        workbook(bytes)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        Err(ReadError::OldWorkbook)
    } else {
        Ok(Book {
            rows: csv(bytes)?,
            contacts: None,
        })
    }
}

fn workbook(bytes: &[u8]) -> Result<Book, ReadError> {
    let bad = |e: calamine::XlsxError| ReadError::Workbook(e.to_string());
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(bad)?;
    let names = book.sheet_names();
    let rows_name = names
        .iter()
        .find(|n| n.trim() == ROWS_SHEET)
        .or_else(|| names.first())
        .cloned()
        .ok_or(ReadError::Empty)?;
    let rows = sheet_of(&book.worksheet_range(&rows_name).map_err(bad)?)?;
    let contacts = match names.iter().find(|n| n.trim() == CONTACTS_SHEET) {
        Some(name) if *name != rows_name => {
            Some(sheet_of(&book.worksheet_range(name).map_err(bad)?).unwrap_or_default())
        }
        _ => None,
    };
    Ok(Book { rows, contacts })
}

fn sheet_of(range: &calamine::Range<Data>) -> Result<Sheet, ReadError> {
    // Row numbers as Excel shows them, even when the used range starts lower.
    let first = range.start().map_or(0, |(row, _)| row as usize);
    let first_col = range.start().map_or(0, |(_, col)| col as usize);
    let lines = range.rows().enumerate().map(|(i, row)| Line {
        number: first + i + 1,
        cells: std::iter::repeat_n(Cell::Empty, first_col)
            .chain(row.iter().map(cell_of))
            .collect(),
    });
    sheet_from(lines)
}

fn cell_of(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(d) => {
            let (y, m, day, ..) = d.to_ymd_hms_milli();
            time::Month::try_from(m)
                .ok()
                .and_then(|m| time::Date::from_calendar_date(i32::from(y), m, day).ok())
                .map_or_else(|| Cell::Text(d.to_string()), |d| Cell::Date(Day::from(d)))
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

/// The heading row is the first row that is not blank; blank rows after it
/// are skipped.
fn sheet_from(lines: impl Iterator<Item = Line>) -> Result<Sheet, ReadError> {
    let blank = |l: &Line| {
        l.cells
            .iter()
            .all(|c| matches!(c, Cell::Empty) || matches!(c, Cell::Text(t) if t.trim().is_empty()))
    };
    let mut lines = lines.filter(|l| !blank(l));
    let heading = lines.next().ok_or(ReadError::Empty)?;
    let headings = heading
        .cells
        .iter()
        .map(|c| super::cells::text(c).unwrap_or_default().trim().to_owned())
        .collect();
    Ok(Sheet {
        headings,
        lines: lines.collect(),
    })
}

/// The text of a CSV file: UTF-8 (a BOM or none), else Shift_JIS as
/// Windows writes it (encoding_rs's SHIFT_JIS is Windows-31J, so ①, ㈱, 髙
/// and 﨑 decode as themselves).
pub fn decode(bytes: &[u8]) -> Result<String, ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    encoding_rs::SHIFT_JIS
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|t| t.into_owned())
        .ok_or(ReadError::Encoding)
}

fn csv(bytes: &[u8]) -> Result<Sheet, ReadError> {
    let text = decode(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut lines = Vec::new();
    // Excel shows each record as one row, even one with a line break in a cell.
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| ReadError::Csv(e.to_string()))?;
        lines.push(Line {
            number: i + 1,
            cells: record
                .iter()
                .map(|v| match v {
                    "" => Cell::Empty,
                    v => Cell::Text(uninert(v).to_owned()),
                })
                .collect(),
        });
    }
    sheet_from(lines.into_iter())
}

/// A cell the export made inert (`'=…`, see `agency::spreadsheet::inert`),
/// as it was.
fn uninert(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}
