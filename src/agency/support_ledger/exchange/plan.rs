//! What an import would do, row by row: new, unchanged, changed (which
//! fields) or refused (why, by column), and the same for the contacts on
//! the 接触記録 sheet. Computed against the ledger as it stands; nothing
//! here writes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::cells::{self, CellProblem, folded};
use super::fields;
use super::mapping::{self, Mapping, MappingProblem, Override, Target};
use super::read::{Book, Line, Sheet};
use crate::agency::support_ledger::subject::field_label;
use crate::agency::support_ledger::{
    ContactKind, ContactPoint, FIELDS, Ledger, Subject, SubjectProblem, Tier,
};
use crate::i18n::Lang;
use crate::protocol::day::Day;

/// Why one row (or contact) cannot be imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowProblem {
    /// A cell that cannot be read as its column's field.
    Cell {
        heading: String,
        problem: CellProblem,
    },
    /// The row is not fit to keep (a blank name, a future date, …).
    Subject(SubjectProblem),
    /// A required value is blank.
    Blank(&'static str),
    /// The same 台帳番号 on an earlier line of the file.
    NumberTwice { line: usize },
    /// The same person (name and birth date) as another row, under another number.
    SamePerson { number: String },
    /// A contact for a 台帳番号 neither the ledger nor the file has.
    NoSuchRow(String),
    /// A contact dated after today.
    FutureContact(Day),
}

impl RowProblem {
    /// The problem in staff's words.
    pub fn text(&self, lang: Lang) -> String {
        match (self, lang) {
            (RowProblem::Cell { heading, problem }, Lang::Ja) => {
                format!("列「{heading}」: {}", problem.text(lang))
            }
            (RowProblem::Cell { heading, problem }, Lang::En) => {
                format!("column {heading:?}: {}", problem.text(lang))
            }
            (RowProblem::Subject(p), _) => p.text(lang),
            (RowProblem::Blank(what), Lang::Ja) => format!("「{what}」が空です"),
            (RowProblem::Blank(what), Lang::En) => format!("{what} is blank"),
            (RowProblem::NumberTwice { line }, Lang::Ja) => {
                format!("台帳番号が{line}行目と同じです（1つの番号は1行だけにしてください）")
            }
            (RowProblem::NumberTwice { line }, Lang::En) => {
                format!("the same ledger number as row {line} (one row per number)")
            }
            (RowProblem::SamePerson { number }, Lang::Ja) => format!(
                "氏名と生年月日が台帳番号 {number} の行と同じです（同じ人を別の番号で二重に登録しようとしています。番号をそろえるか、別人なら氏名・生年月日を確かめてください）"
            ),
            (RowProblem::SamePerson { number }, Lang::En) => format!(
                "the same name and birth date as ledger number {number} (the same person under two numbers; use one number, or check the name and birth date)"
            ),
            (RowProblem::NoSuchRow(n), Lang::Ja) => {
                format!("台帳番号 {n} の行が台帳にもファイルにもありません")
            }
            (RowProblem::NoSuchRow(n), Lang::En) => {
                format!("no row {n} on the ledger or in the file")
            }
            (RowProblem::FutureContact(d), Lang::Ja) => format!("接触日 {d} が未来の日付です"),
            (RowProblem::FutureContact(d), Lang::En) => {
                format!("the contact day {d} is in the future")
            }
        }
    }
}

/// What the import does with one row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    New,
    Unchanged,
    /// The fields that change, by serde name.
    Changed(Vec<&'static str>),
    Refused(Vec<RowProblem>),
}

/// One row of the sheet, planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowPlan {
    /// The spreadsheet's row number.
    pub line: usize,
    pub number: String,
    pub name: String,
    pub outcome: Outcome,
    /// The row as it would be written.
    pub subject: Option<Subject>,
    /// The ledger's row it replaces: (id, version).
    pub existing: Option<(String, i64)>,
    /// The tier that row has.
    pub tier_before: Option<Tier>,
}

/// What the import does with one contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContactOutcome {
    New,
    /// The ledger (or an earlier line) already has this contact.
    AlreadyKept,
    Refused(Vec<RowProblem>),
}

/// One line of the 接触記録 sheet, planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactPlan {
    pub line: usize,
    pub number: String,
    pub outcome: ContactOutcome,
    pub contact: Option<PlannedContact>,
}

/// A contact as the sheet gives it (who imported it, and when, is added
/// when it is written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedContact {
    pub day: Day,
    pub kind: ContactKind,
    pub staff: String,
    pub summary: String,
    pub point: Option<ContactPoint>,
}

/// How many rows and contacts each outcome has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub refused: usize,
    pub contacts_new: usize,
    pub contacts_kept: usize,
    pub contacts_refused: usize,
}

/// The whole import, planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub mapping: Mapping,
    /// Problems with the columns: nothing is imported while there is one.
    pub mapping_problems: Vec<MappingProblem>,
    pub rows: Vec<RowPlan>,
    pub contacts: Vec<ContactPlan>,
    /// Required columns the 接触記録 sheet lacks.
    pub contact_columns_missing: Vec<&'static str>,
}

impl Plan {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.rows {
            match r.outcome {
                Outcome::New => c.new += 1,
                Outcome::Changed(_) => c.changed += 1,
                Outcome::Unchanged => c.unchanged += 1,
                Outcome::Refused(_) => c.refused += 1,
            }
        }
        for k in &self.contacts {
            match k.outcome {
                ContactOutcome::New => c.contacts_new += 1,
                ContactOutcome::AlreadyKept => c.contacts_kept += 1,
                ContactOutcome::Refused(_) => c.contacts_refused += 1,
            }
        }
        c
    }

    /// Whether the import may be written: no problem with the columns, no
    /// row or contact refused.
    pub fn importable(&self) -> bool {
        let c = self.counts();
        self.mapping_problems.is_empty()
            && self.contact_columns_missing.is_empty()
            && c.refused == 0
            && c.contacts_refused == 0
    }

    /// Every refusal as a line of the report: row number, column, reason.
    pub fn refusals(&self, lang: Lang) -> Vec<String> {
        let mut out: Vec<String> = self.mapping_problems.iter().map(|p| p.text(lang)).collect();
        for f in &self.contact_columns_missing {
            out.push(match lang {
                Lang::Ja => format!("シート「接触記録」に必須の列「{f}」がありません"),
                Lang::En => format!("the 接触記録 sheet has no {f:?} column"),
            });
        }
        let line = |sheet: &str, n: usize, p: &RowProblem| match lang {
            Lang::Ja => format!("{sheet}{n}行目 {}", p.text(lang)),
            Lang::En => format!("{sheet}row {n}: {}", p.text(lang)),
        };
        for r in &self.rows {
            if let Outcome::Refused(problems) = &r.outcome {
                out.extend(problems.iter().map(|p| line("", r.line, p)));
            }
        }
        let sheet = lang.pick("接触記録 ", "contacts sheet, ");
        for k in &self.contacts {
            if let ContactOutcome::Refused(problems) = &k.outcome {
                out.extend(problems.iter().map(|p| line(sheet, k.line, p)));
            }
        }
        out
    }
}

/// The contacts sheet's columns: (heading, English heading, required).
pub const CONTACT_COLUMNS: [(&str, &str, bool); 6] = [
    ("台帳番号", "Ledger number", true),
    ("日付", "Date", true),
    ("種別", "Kind", true),
    ("対応者", "Staff", true),
    ("内容", "Summary", false),
    ("伴走型の区分", "Contact point", false),
];

/// Plan the import of `book` into `ledger` on `today`; `progress` is told
/// of each row planned.
pub fn plan(
    book: &Book,
    overrides: &[Override],
    ledger: &Ledger,
    today: Day,
    progress: &mut dyn FnMut(),
) -> Plan {
    let (mapping, mapping_problems) = mapping::map(&book.rows.headings, overrides);
    let mut rows = Vec::with_capacity(book.rows.lines.len());
    if mapping_problems.is_empty() {
        let mut ctx = RowContext::new(ledger);
        for line in &book.rows.lines {
            rows.push(ctx.row(&mapping, line, today));
            progress();
        }
    }
    let mut contact_columns_missing = Vec::new();
    let contacts = match &book.contacts {
        Some(sheet) if mapping_problems.is_empty() => {
            contacts(sheet, ledger, &rows, today, &mut contact_columns_missing)
        }
        _ => Vec::new(),
    };
    Plan {
        mapping,
        mapping_problems,
        rows,
        contacts,
        contact_columns_missing,
    }
}

/// What a row is checked against: the ledger, and the rows before it.
struct RowContext<'a> {
    ledger: &'a Ledger,
    /// 台帳番号 → the line that had it.
    numbers: BTreeMap<String, usize>,
    /// (name, birth date) → 台帳番号, from the ledger and the file.
    people: BTreeMap<(String, Day), String>,
}

fn person(s: &Subject) -> Option<(String, Day)> {
    s.birth_date.map(|b| (folded(&s.name), b))
}

impl<'a> RowContext<'a> {
    fn new(ledger: &'a Ledger) -> Self {
        let people = ledger
            .subjects
            .iter()
            .filter_map(|v| person(&v.subject).map(|p| (p, v.subject.number.clone())))
            .collect();
        Self {
            ledger,
            numbers: BTreeMap::new(),
            people,
        }
    }

    fn row(&mut self, mapping: &Mapping, line: &Line, today: Day) -> RowPlan {
        let number = mapping
            .column_of("number")
            .map(|i| {
                cells::text(line.cell(i))
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default();
        let existing = self.ledger.by_number(&number);
        let mut map = existing.map_or_else(serde_json::Map::new, |v| fields::as_map(&v.subject));
        let mut problems = Vec::new();
        for (i, column) in mapping.columns.iter().enumerate() {
            let Target::Field(field) = column.target else {
                continue;
            };
            match fields::value(field, line.cell(i)) {
                Ok(Value::Null) if matches!(field, "kind" | "tier") => {
                    problems.push(RowProblem::Blank(field_label(field, Lang::Ja)));
                }
                Ok(Value::String(s)) if matches!(field, "number" | "name") => {
                    map.insert(field.into(), Value::String(s.trim().into()));
                }
                Ok(value) => {
                    map.insert(field.into(), value);
                }
                Err(problem) => problems.push(RowProblem::Cell {
                    heading: column.heading.clone(),
                    problem,
                }),
            }
        }
        let subject = match problems.is_empty() {
            true => serde_json::from_value::<Subject>(Value::Object(map)).ok(),
            false => None,
        };
        // As the file has it, so a refused row is recognisable too.
        let name = mapping
            .column_of("name")
            .map(|i| {
                cells::text(line.cell(i))
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            })
            .unwrap_or_default();
        let mut plan = RowPlan {
            line: line.number,
            number: number.clone(),
            name,
            outcome: Outcome::Unchanged,
            subject: None,
            existing: existing.map(|v| (v.id.clone(), v.version)),
            tier_before: existing.map(|v| v.subject.tier),
        };
        if let Some(first) = self.numbers.get(&number).filter(|_| !number.is_empty()) {
            problems.push(RowProblem::NumberTwice { line: *first });
        } else {
            self.numbers.insert(number.clone(), line.number);
        }
        let Some(subject) = subject else {
            plan.outcome = Outcome::Refused(problems);
            return plan;
        };
        let before = existing.map(|v| &v.subject);
        if before != Some(&subject) {
            problems.extend(subject.problems(today).into_iter().map(RowProblem::Subject));
        }
        if let Some(key) = person(&subject) {
            match self.people.get(&key) {
                Some(other) if *other != subject.number => problems.push(RowProblem::SamePerson {
                    number: other.clone(),
                }),
                _ => {
                    self.people.insert(key, subject.number.clone());
                }
            }
        }
        plan.outcome = match (problems.is_empty(), before) {
            (false, _) => Outcome::Refused(problems),
            (true, None) => Outcome::New,
            (true, Some(b)) if *b == subject => Outcome::Unchanged,
            (true, Some(b)) => Outcome::Changed(changed_fields(b, &subject)),
        };
        plan.subject = Some(subject);
        plan
    }
}

fn changed_fields(before: &Subject, after: &Subject) -> Vec<&'static str> {
    let (b, a) = (fields::as_map(before), fields::as_map(after));
    FIELDS
        .iter()
        .map(|(f, _, _)| *f)
        .filter(|f| b.get(*f) != a.get(*f))
        .collect()
}

/// Plan the 接触記録 sheet.
fn contacts(
    sheet: &Sheet,
    ledger: &Ledger,
    rows: &[RowPlan],
    today: Day,
    missing: &mut Vec<&'static str>,
) -> Vec<ContactPlan> {
    let column: Vec<Option<usize>> = CONTACT_COLUMNS
        .iter()
        .map(|(ja, en, _)| {
            sheet
                .headings
                .iter()
                .position(|h| folded(h) == folded(ja) || folded(h) == folded(en))
        })
        .collect();
    for ((ja, _, required), at) in CONTACT_COLUMNS.iter().zip(&column) {
        if *required && at.is_none() {
            missing.push(ja);
        }
    }
    if !missing.is_empty() {
        return Vec::new();
    }
    let known: BTreeSet<&str> = ledger
        .subjects
        .iter()
        .map(|v| v.subject.number.as_str())
        .chain(rows.iter().map(|r| r.number.as_str()))
        .collect();
    let mut kept: BTreeSet<(
        String,
        Day,
        ContactKind,
        String,
        String,
        Option<ContactPoint>,
    )> = ledger
        .subjects
        .iter()
        .flat_map(|v| {
            v.contacts.iter().map(|c| {
                let number = v.subject.number.clone();
                (
                    number,
                    c.day,
                    c.kind,
                    c.staff.clone(),
                    c.summary.clone(),
                    c.point,
                )
            })
        })
        .collect();
    let mut out = Vec::with_capacity(sheet.lines.len());
    for line in &sheet.lines {
        let cell = |i: usize| column[i].map_or(&super::read::Cell::Empty, |c| line.cell(c));
        let mut problems = Vec::new();
        let mut read = |i: usize, problem: Result<(), CellProblem>| {
            if let Err(problem) = problem {
                problems.push(RowProblem::Cell {
                    heading: CONTACT_COLUMNS[i].0.into(),
                    problem,
                });
            }
        };
        let text = |i: usize| cells::text(cell(i)).map(|t| t.trim().to_owned());
        let number = text(0).unwrap_or_default();
        let day = cells::day(cell(1));
        let kind = contact_kind(cell(2));
        let staff = text(3);
        let summary = text(4);
        let point = contact_point(cell(5));
        read(1, day.as_ref().map(|_| ()).map_err(Clone::clone));
        read(2, kind.as_ref().map(|_| ()).map_err(Clone::clone));
        read(3, staff.as_ref().map(|_| ()).map_err(Clone::clone));
        read(4, summary.as_ref().map(|_| ()).map_err(Clone::clone));
        read(5, point.as_ref().map(|_| ()).map_err(Clone::clone));
        if !known.contains(number.as_str()) {
            problems.push(RowProblem::NoSuchRow(number.clone()));
        }
        let (day, kind) = (day.ok().flatten(), kind.ok().flatten());
        if day.is_none() && problems.is_empty() {
            problems.push(RowProblem::Blank("日付"));
        }
        if kind.is_none() && problems.is_empty() {
            problems.push(RowProblem::Blank("種別"));
        }
        let staff = staff.unwrap_or_default();
        if staff.is_empty() {
            problems.push(RowProblem::Blank("対応者"));
        }
        if let Some(d) = day.filter(|d| *d > today) {
            problems.push(RowProblem::FutureContact(d));
        }
        let (Some(day), Some(kind), true) = (day, kind, problems.is_empty()) else {
            out.push(ContactPlan {
                line: line.number,
                number,
                outcome: ContactOutcome::Refused(problems),
                contact: None,
            });
            continue;
        };
        let summary = summary.unwrap_or_default();
        let point = point.ok().flatten();
        let key = (
            number.clone(),
            day,
            kind,
            staff.clone(),
            summary.clone(),
            point,
        );
        let outcome = match kept.insert(key) {
            true => ContactOutcome::New,
            false => ContactOutcome::AlreadyKept,
        };
        out.push(ContactPlan {
            line: line.number,
            number,
            outcome,
            contact: Some(PlannedContact {
                day,
                kind,
                staff,
                summary,
                point,
            }),
        });
    }
    out
}

fn contact_kind(cell: &super::read::Cell) -> Result<Option<ContactKind>, CellProblem> {
    cells::coded(cell, ContactKind::ALL, |k| {
        vec![k.label(Lang::Ja), k.as_str(), k.label(Lang::En)]
    })
}

fn contact_point(cell: &super::read::Cell) -> Result<Option<ContactPoint>, CellProblem> {
    cells::coded(cell, ContactPoint::ALL, |p| {
        vec![p.label(Lang::Ja), p.as_str(), p.label(Lang::En)]
    })
}
