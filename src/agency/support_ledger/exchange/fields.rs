//! How each field of [`Subject`] is written in a sheet and read back: the
//! one table the import and the export share, so a round trip cannot drift.

use serde_json::{Map, Value};

use super::cells::{self, CellProblem};
use super::read::Cell;
use crate::agency::support_ledger::{Subject, SubjectKind, Tier};
use crate::i18n::Lang;
use crate::protocol::day::Day;
use crate::protocol::meeting::Level;

/// What kind of value a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Text,
    /// Text, absent when blank.
    OptionalText,
    Day,
    Kind,
    Tier,
    Level,
    YesNo,
}

/// The shape of a field (by its serde name).
pub fn shape(field: &str) -> Shape {
    match field {
        "mother" => Shape::OptionalText,
        "birth_date" | "notified_on" | "handbook_on" | "due_date" | "next_contact_on"
        | "checkup_month3" | "checkup_month18" | "checkup_year3" | "closed_on" => Shape::Day,
        "kind" => Shape::Kind,
        "tier" => Shape::Tier,
        "urgency" | "severity" => Shape::Level,
        "needs_support" => Shape::YesNo,
        _ => Shape::Text,
    }
}

/// The Japanese labels a coded field's pull-down offers.
pub fn choices(shape: Shape) -> Option<Vec<&'static str>> {
    match shape {
        Shape::Kind => Some(SubjectKind::ALL.iter().map(|k| k.label(Lang::Ja)).collect()),
        Shape::Tier => Some(Tier::ALL.iter().map(|t| t.label(Lang::Ja)).collect()),
        Shape::Level => Some(
            [Level::High, Level::Medium, Level::Low]
                .iter()
                .map(|l| l.label(Lang::Ja))
                .collect(),
        ),
        Shape::YesNo => Some(vec![YES, NO]),
        Shape::Text | Shape::OptionalText | Shape::Day => None,
    }
}

pub const YES: &str = "有";
pub const NO: &str = "無";

/// A field's value as the sheet shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shown {
    Blank,
    Text(String),
    Day(Day),
}

/// The row as a map of field to JSON value (what the import overlays).
pub fn as_map(subject: &Subject) -> Map<String, Value> {
    match serde_json::to_value(subject) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// How the sheet shows `field` of a row.
pub fn shown(map: &Map<String, Value>, field: &str) -> Shown {
    let value = map.get(field).unwrap_or(&Value::Null);
    let text = value.as_str().unwrap_or_default();
    match shape(field) {
        Shape::YesNo => Shown::Text(
            if value.as_bool() == Some(true) {
                YES
            } else {
                NO
            }
            .into(),
        ),
        _ if text.is_empty() => Shown::Blank,
        Shape::Text | Shape::OptionalText => Shown::Text(text.into()),
        Shape::Day => text.parse().map_or(Shown::Text(text.into()), Shown::Day),
        Shape::Kind => Shown::Text(
            SubjectKind::parse(text)
                .map_or(text, |k| k.label(Lang::Ja))
                .into(),
        ),
        Shape::Tier => Shown::Text(Tier::parse(text).map_or(text, |t| t.label(Lang::Ja)).into()),
        Shape::Level => Shown::Text(
            Level::parse(text)
                .map_or(text, |l| l.label(Lang::Ja))
                .into(),
        ),
    }
}

/// A cell read as `field`'s JSON value (null: absent).
pub fn value(field: &str, cell: &Cell) -> Result<Value, CellProblem> {
    let string = |s: &str| Value::String(s.to_owned());
    Ok(match shape(field) {
        Shape::Text => Value::String(cells::text(cell)?),
        Shape::OptionalText => {
            let t = cells::text(cell)?;
            match t.trim() {
                "" => Value::Null,
                t => string(t),
            }
        }
        Shape::Day => cells::day(cell)?.map_or(Value::Null, |d| Value::String(d.to_string())),
        Shape::Kind => cells::kind(cell)?.map_or(Value::Null, |k| string(k.as_str())),
        Shape::Tier => cells::tier(cell)?.map_or(Value::Null, |t| string(t.as_str())),
        Shape::Level => cells::level(cell)?.map_or(Value::Null, |l| string(l.as_str())),
        Shape::YesNo => Value::Bool(cells::yes_no(cell)?),
    })
}
