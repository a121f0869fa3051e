//! One cell of an imported sheet, read as the field its column maps to:
//! days as staff write them (ISO, 2026/4/1, 和暦, Excel serial numbers and
//! date cells), coded columns by their Japanese label or wire name, and
//! 要支援の有無 as 有/無/○/true/….

use time::{Date, Month};

use super::read::Cell;
use crate::agency::support_ledger::{SubjectKind, Tier};
use crate::i18n::Lang;
use crate::protocol::day::Day;
use crate::protocol::meeting::Level;

/// Why a cell cannot be read as its column's field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CellProblem {
    /// Not a day at all.
    NotADay(String),
    /// Looks like a day, but the calendar has no such day (2026-02-30).
    NoSuchDay(String),
    /// Not one of the column's values.
    Unknown { value: String, allowed: Vec<String> },
    /// A spreadsheet error (#N/A, #REF!, …) where a value should be.
    SheetError(String),
}

impl CellProblem {
    /// The problem in staff's words (the row and column are added by the caller).
    pub fn text(&self, lang: Lang) -> String {
        match (self, lang) {
            (CellProblem::NotADay(v), Lang::Ja) => format!(
                "「{v}」は日付として読めません（2026-04-01、2026/4/1、令和8年4月1日、R8.4.1 のように書いてください）"
            ),
            (CellProblem::NotADay(v), Lang::En) => format!(
                "{v:?} is not a date (write it like 2026-04-01, 2026/4/1, 令和8年4月1日 or R8.4.1)"
            ),
            (CellProblem::NoSuchDay(v), Lang::Ja) => {
                format!("「{v}」は存在しない日付です")
            }
            (CellProblem::NoSuchDay(v), Lang::En) => format!("{v:?} is not a day on the calendar"),
            (CellProblem::Unknown { value, allowed }, Lang::Ja) => format!(
                "「{value}」は使えない値です（使える値: {}）",
                allowed.join("、")
            ),
            (CellProblem::Unknown { value, allowed }, Lang::En) => {
                format!("{value:?} is not allowed (allowed: {})", allowed.join(", "))
            }
            (CellProblem::SheetError(v), Lang::Ja) => {
                format!("セルが Excel のエラー値（{v}）です。正しい値を入れてください")
            }
            (CellProblem::SheetError(v), Lang::En) => {
                format!("the cell holds a spreadsheet error ({v}); put the value in")
            }
        }
    }
}

/// The cell as text, as a person would read it (a whole number without
/// `.0`: a 台帳番号 typed as a number is still that number).
pub fn text(cell: &Cell) -> Result<String, CellProblem> {
    Ok(match cell {
        Cell::Empty => String::new(),
        Cell::Text(s) => s.clone(),
        Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
        Cell::Number(n) => n.to_string(),
        Cell::Bool(b) => b.to_string(),
        Cell::Date(d) => d.to_string(),
        Cell::Error(e) => return Err(CellProblem::SheetError(e.clone())),
    })
}

/// A day, or none for a blank cell.
pub fn day(cell: &Cell) -> Result<Option<Day>, CellProblem> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Date(d) => Ok(Some(*d)),
        Cell::Number(n) => serial(*n)
            .map(Some)
            .ok_or_else(|| CellProblem::NotADay(text(cell).unwrap_or_default())),
        Cell::Text(s) if s.trim().is_empty() => Ok(None),
        Cell::Text(s) => day_of_text(s).map(Some),
        Cell::Bool(b) => Err(CellProblem::NotADay(b.to_string())),
        Cell::Error(e) => Err(CellProblem::SheetError(e.clone())),
    }
}

/// An Excel serial day number (1900 date system; 1 = 1900-01-01, with
/// Excel's phantom 1900-02-29 at 60).
pub fn serial(n: f64) -> Option<Day> {
    if !(1.0..2_958_466.0).contains(&n) {
        return None;
    }
    let whole = n.floor() as i64;
    // Days after 1899-12-30 for serials past the phantom leap day.
    let days = if whole >= 61 { whole } else { whole + 1 };
    let epoch = Date::from_calendar_date(1899, Month::December, 30).ok()?;
    epoch.checked_add(time::Duration::days(days)).map(Day::from)
}

/// The eras a 和暦 date may name, with the Gregorian year of their first year.
const ERAS: &[(&[&str], i32)] = &[
    (&["令和", "R", "r"], 2019),
    (&["平成", "H", "h"], 1989),
    (&["昭和", "S", "s"], 1926),
    (&["大正", "T", "t"], 1912),
    (&["明治", "M", "m"], 1868),
];

/// A day written as text.
pub fn day_of_text(raw: &str) -> Result<Day, CellProblem> {
    let s = ascii_digits(raw.trim());
    let not_a_day = || CellProblem::NotADay(raw.trim().to_owned());
    // 2026-04-01T00:00:00 (an ISO date-time cell): the day is enough.
    let s: String = match s.get(..10) {
        Some(date)
            if s.len() > 10 && s.as_bytes()[4] == b'-' && s[10..].starts_with(['T', ' ']) =>
        {
            date.to_owned()
        }
        _ => s.chars().filter(|c| !c.is_whitespace()).collect(),
    };
    if !s.is_empty() && s.len() <= 7 && s.chars().all(|c| c.is_ascii_digit()) {
        // A serial number that came through as text (a CSV Excel wrote).
        return s.parse().ok().and_then(serial).ok_or_else(not_a_day);
    }
    let (base, rest) = match ERAS.iter().find_map(|(names, base)| {
        names
            .iter()
            .find_map(|n| s.strip_prefix(n))
            .map(|r| (Some(*base), r))
    }) {
        Some((base, rest)) => (base, rest.to_owned()),
        None => (None, s.clone()),
    };
    // 元年 is year 1 of the era.
    let rest = rest.replacen('元', "1", 1);
    let parts: Vec<&str> = rest
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.is_empty())
        .collect();
    let [y, m, d] = parts[..] else {
        return Err(not_a_day());
    };
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>()) else {
        return Err(not_a_day());
    };
    let no_such_day = || CellProblem::NoSuchDay(raw.trim().to_owned());
    let year = match base {
        // An era year past what an i32 holds after the era's start is no
        // day on any calendar (unchecked, 令和2147481629年 overflowed).
        Some(base) if y >= 1 => base.checked_add(y - 1).ok_or_else(no_such_day)?,
        Some(_) => return Err(not_a_day()),
        None if y >= 1000 => y,
        None => return Err(not_a_day()),
    };
    let month = Month::try_from(m).map_err(|_| no_such_day())?;
    Date::from_calendar_date(year, month, d)
        .map(Day::from)
        .map_err(|_| no_such_day())
}

/// Full-width digits (２０２６) as ASCII.
fn ascii_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '／' => '/',
            '－' => '-',
            '．' => '.',
            other => other,
        })
        .collect()
}

/// Text as it is compared with the labels: no spaces, ASCII lower case.
pub fn folded(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// A coded value: by any of its names (wire name, Japanese and English
/// label, and the `extra` spellings staff use).
pub fn coded<T: Copy>(
    cell: &Cell,
    all: &[T],
    names: impl Fn(T) -> Vec<&'static str>,
) -> Result<Option<T>, CellProblem> {
    let value = text(cell)?;
    let key = folded(&value);
    if key.is_empty() {
        return Ok(None);
    }
    all.iter()
        .copied()
        .find(|v| names(*v).iter().any(|n| folded(n) == key))
        .map(Some)
        .ok_or_else(|| CellProblem::Unknown {
            value: value.trim().to_owned(),
            allowed: all.iter().map(|v| names(*v)[0].to_owned()).collect(),
        })
}

/// 対象.
pub fn kind(cell: &Cell) -> Result<Option<SubjectKind>, CellProblem> {
    coded(cell, SubjectKind::ALL, |k| {
        let mut names = vec![k.label(Lang::Ja), k.as_str(), k.label(Lang::En)];
        names.extend(match k {
            SubjectKind::Pregnant => &["妊産婦", "産婦"][..],
            SubjectKind::Child => &["子", "児", "乳幼児"][..],
            SubjectKind::Family => &["家庭"][..],
        });
        names
    })
}

/// 支援区分.
pub fn tier(cell: &Cell) -> Result<Option<Tier>, CellProblem> {
    coded(cell, Tier::ALL, |t| {
        let mut names = vec![t.label(Lang::Ja), t.as_str(), t.label(Lang::En)];
        names.extend(match t {
            Tier::Independent => &["自立（一般）", "一般"][..],
            Tier::SelfPlan => &["セルフ"][..],
            Tier::SupportPlan => &["支援プラン"][..],
            Tier::Specified => &["特定妊婦", "要支援", "要保護"][..],
        });
        names
    })
}

/// 緊急度 / 重症度.
pub fn level(cell: &Cell) -> Result<Option<Level>, CellProblem> {
    coded(cell, &[Level::High, Level::Medium, Level::Low], |l| {
        vec![l.label(Lang::Ja), l.as_str()]
    })
}

/// 要支援の有無 (blank: no).
pub fn yes_no(cell: &Cell) -> Result<bool, CellProblem> {
    if let Cell::Bool(b) = cell {
        return Ok(*b);
    }
    let value = text(cell)?;
    match folded(&value).as_str() {
        "有" | "あり" | "有り" | "○" | "〇" | "true" | "yes" | "1" => Ok(true),
        "無" | "なし" | "無し" | "×" | "false" | "no" | "0" | "" => Ok(false),
        _ => Err(CellProblem::Unknown {
            value: value.trim().to_owned(),
            allowed: ["有", "無", "あり", "なし", "○", "true", "false"]
                .map(str::to_owned)
                .to_vec(),
        }),
    }
}
