//! The support ledger importer's cell readers: days as staff type them
//! (ISO, 2026/4/1, 和暦, full-width digits, Excel serials) and coded
//! columns. Any cell is a value or a problem staff can read; a day written
//! in any accepted style reads back as that day.

use proptest::prelude::*;
use time::{Date, Month};
use tsunagu::agency::support_ledger::exchange::cells::{self, CellProblem};
use tsunagu::agency::support_ledger::exchange::read::Cell;
use tsunagu::i18n::Lang;
use tsunagu::protocol::day::Day;

/// Eras with the Gregorian year of their first year, in each spelling.
const ERAS: [(&str, &str, i32); 5] = [
    ("令和", "R", 2019),
    ("平成", "H", 1989),
    ("昭和", "S", 1926),
    ("大正", "T", 1912),
    ("明治", "M", 1868),
];

/// Dates an importer meets: from 明治 to the end of the calendar type.
fn date() -> impl Strategy<Value = Date> {
    let first = Date::from_calendar_date(1868, Month::January, 1).unwrap();
    (first.to_julian_day()..=Date::MAX.to_julian_day())
        .prop_map(|j| Date::from_julian_day(j).unwrap())
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap(),
            '/' => '／',
            c => c,
        })
        .collect()
}

/// `date` as staff might type it, chosen by `style`.
fn written(date: Date, style: u8) -> String {
    let (y, m, d) = (date.year(), u8::from(date.month()), date.day());
    // The latest era that had begun by this year.
    let (kanji, letter, base) = ERAS.iter().find(|e| e.2 <= y).copied().unwrap();
    let era_year = y - base + 1;
    match style % 7 {
        0 => format!("{y:04}-{m:02}-{d:02}"),
        1 => format!("{y}/{m}/{d}"),
        2 => format!("{kanji}{era_year}年{m}月{d}日"),
        3 => format!("{letter}{era_year}.{m}.{d}"),
        4 => full_width(&format!("{y}/{m}/{d}")),
        5 => format!(" {y:04}-{m:02}-{d:02}T09:30:00 "),
        _ if era_year == 1 => format!("{kanji}元年{m}月{d}日"),
        _ => format!("{} {era_year} 年 {m} 月 {d} 日", kanji),
    }
}

/// Text a cell could hold: a day written with a part changed, era-shaped
/// text with any numbers, or anything.
fn day_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (date(), any::<u8>(), ".{0,3}", any::<prop::sample::Index>()).prop_map(
            |(d, style, junk, at)| {
                let mut s: Vec<char> = written(d, style).chars().collect();
                let at = at.index(s.len() + 1);
                s.splice(at..at, junk.chars());
                s.into_iter().collect()
            }
        ),
        r"(令和|平成|昭和|大正|明治|R|H|S|T|M|r|h)?(元|-?[0-9]{1,12})(年|\.|/|-)[0-9]{1,4}(月|\.|/|-)[0-9]{1,4}日?",
        // Any era year a number can be, up to the edges of the integer.
        (
            prop::sample::select(ERAS.to_vec()),
            edge_i32(),
            0..14u8,
            0..33u8
        )
            .prop_map(|((kanji, _, _), y, m, d)| format!("{kanji}{y}年{m}月{d}日")),
        "[0-9０-９]{1,8}",
        ".{0,24}",
    ]
}

/// Integers, as often near the ends of the type as anywhere.
fn edge_i32() -> impl Strategy<Value = i32> {
    prop_oneof![
        any::<i32>(),
        (i32::MAX - 3000)..=i32::MAX,
        i32::MIN..=(i32::MIN + 3000),
        -3000..3000,
    ]
}

fn cell() -> impl Strategy<Value = Cell> {
    prop_oneof![
        Just(Cell::Empty),
        day_text().prop_map(Cell::Text),
        any::<f64>().prop_map(Cell::Number),
        (-10.0..3_000_000.0f64).prop_map(Cell::Number),
        any::<bool>().prop_map(Cell::Bool),
        date().prop_map(|d| Cell::Date(Day::from(d))),
        "#(N/A|REF!|VALUE!|DIV/0!)".prop_map(Cell::Error),
    ]
}

/// One of the importer's cell readers, its value dropped.
type Reader = fn(&Cell) -> Result<(), CellProblem>;

/// A problem says in both languages what was wrong.
fn readable(problem: &CellProblem) -> Result<(), TestCaseError> {
    prop_assert!(!problem.text(Lang::Ja).is_empty());
    prop_assert!(!problem.text(Lang::En).is_empty());
    Ok(())
}

proptest! {
    #![proptest_config(crate::config())]

    #[test]
    fn a_day_written_in_any_accepted_style_reads_back_as_that_day(
        date in date(),
        style in any::<u8>(),
    ) {
        let text = written(date, style);
        let read = cells::day_of_text(&text);
        prop_assert_eq!(read, Ok(Day::from(date)), "{}", text);
    }

    #[test]
    fn any_cell_is_a_value_or_a_problem_staff_can_read(cell in cell()) {
        let readers: [Reader; 5] = [
            |c| cells::day(c).map(drop),
            |c| cells::kind(c).map(drop),
            |c| cells::tier(c).map(drop),
            |c| cells::level(c).map(drop),
            |c| cells::yes_no(c).map(drop),
        ];
        for read in readers {
            if let Err(problem) = read(&cell) {
                readable(&problem)?;
            }
        }
    }

    /// Serial numbers count days from Excel's epoch, one day apart each,
    /// fractions (times of day) dropped.
    #[test]
    fn an_excel_serial_is_its_day_and_the_next_is_the_next(n in 61.0..2_958_465.0f64) {
        let day = cells::serial(n).unwrap();
        let next = cells::serial(n + 1.0).unwrap();
        prop_assert_eq!(day.days_until(next), 1);
        prop_assert_eq!(cells::serial(n.floor()), Some(day));
    }
}

/// Found by `any_cell_is_a_value_or_a_problem_staff_can_read`: an era year
/// near the end of the integer overflowed when added to the era's start (a
/// panic in a debug build). It is a day no calendar has.
#[test]
fn an_era_year_past_the_integer_is_no_such_day() {
    for text in [
        "令和2147481629年1月1日",
        "R2147483647.1.1",
        "明治2147483647年12月31日",
    ] {
        assert!(
            matches!(cells::day_of_text(text), Err(CellProblem::NoSuchDay(_))),
            "{text}"
        );
    }
}
