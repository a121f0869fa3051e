//! The cells, the mapping and the files, without a database; the import
//! into a real node is tested end to end in tests/e2e/support_exchange.rs.

use super::cells::{self, CellProblem};
use super::mapping::{self, MappingProblem, Target};
use super::read::{self, Cell, ReadError};
use crate::i18n::Lang;
use crate::protocol::day::Day;

fn day(s: &str) -> Day {
    s.parse().expect("a test day")
}

#[test]
fn days_are_read_as_iso_slashes_wareki_and_excel_serials() {
    for (text, want) in [
        ("2026-04-01", "2026-04-01"),
        ("2026/4/1", "2026-04-01"),
        ("2026年4月1日", "2026-04-01"),
        ("２０２６／４／１", "2026-04-01"),
        ("令和6年4月1日", "2024-04-01"),
        ("令和 6年 4月 1日", "2024-04-01"),
        ("R6.4.1", "2024-04-01"),
        ("R6/4/1", "2024-04-01"),
        ("平成31年4月30日", "2019-04-30"),
        ("H31.4.30", "2019-04-30"),
        ("令和元年5月1日", "2019-05-01"),
        ("昭和60年1月15日", "1985-01-15"),
        ("45383", "2024-04-01"),
        ("2026-04-01T00:00:00", "2026-04-01"),
    ] {
        assert_eq!(cells::day_of_text(text), Ok(day(want)), "{text}");
    }
    assert_eq!(
        cells::day(&Cell::Number(45383.0)),
        Ok(Some(day("2024-04-01")))
    );
    assert_eq!(cells::serial(1.0), Some(day("1900-01-01")));
    assert_eq!(cells::serial(61.0), Some(day("1900-03-01")));
    assert_eq!(cells::day(&Cell::Empty), Ok(None));
}

#[test]
fn an_impossible_day_is_named_as_such_and_words_are_not_days() {
    for text in ["2026-02-30", "令和6年13月1日", "R6.2.30", "2026/4/31"] {
        assert_eq!(
            cells::day_of_text(text),
            Err(CellProblem::NoSuchDay(text.into())),
            "{text}"
        );
    }
    for text in ["来月", "4月1日", "令和0年4月1日", "2026-04"] {
        assert!(
            matches!(cells::day_of_text(text), Err(CellProblem::NotADay(_))),
            "{text}"
        );
    }
    let text = CellProblem::NoSuchDay("2026-02-30".into()).text(Lang::Ja);
    assert_eq!(text, "「2026-02-30」は存在しない日付です");
}

#[test]
fn coded_columns_take_the_label_or_the_wire_name_and_list_the_allowed_values() {
    use crate::agency::support_ledger::{SubjectKind, Tier};
    let t = |s: &str| cells::tier(&Cell::Text(s.into()));
    assert_eq!(t("自立"), Ok(Some(Tier::Independent)));
    assert_eq!(t("セルフプラン"), Ok(Some(Tier::SelfPlan)));
    assert_eq!(t("支援プラン対象"), Ok(Some(Tier::SupportPlan)));
    assert_eq!(t("特定妊婦・要支援・要保護"), Ok(Some(Tier::Specified)));
    assert_eq!(t("specified"), Ok(Some(Tier::Specified)));
    assert_eq!(t(""), Ok(None));
    let Err(CellProblem::Unknown { allowed, .. }) = t("要注意") else {
        panic!("an unknown tier is refused");
    };
    assert_eq!(
        allowed,
        [
            "自立",
            "セルフプラン",
            "支援プラン対象",
            "特定妊婦・要支援・要保護"
        ]
    );
    assert_eq!(
        cells::kind(&Cell::Text("子ども".into())),
        Ok(Some(SubjectKind::Child))
    );
    for yes in ["有", "あり", "○", "true", "TRUE"] {
        assert_eq!(cells::yes_no(&Cell::Text(yes.into())), Ok(true), "{yes}");
    }
    for no in ["無", "なし", "false", ""] {
        assert_eq!(cells::yes_no(&Cell::Text(no.into())), Ok(false), "{no}");
    }
    assert!(cells::yes_no(&Cell::Text("たぶん".into())).is_err());
}

#[test]
fn headings_map_by_japanese_english_and_common_variants_and_overrides_win() {
    let headings: Vec<String> = [
        "台帳番号",
        "Name",
        "氏名（ふりがな）",
        "出産予定日",
        "対象",
        "支援区分",
        "備考",
        "月齢",
    ]
    .map(String::from)
    .to_vec();
    let (m, problems) = mapping::map(&headings, &[]);
    assert!(problems.is_empty(), "{problems:?}");
    let targets: Vec<Target> = m.columns.iter().map(|c| c.target).collect();
    assert_eq!(
        targets,
        [
            Target::Field("number"),
            Target::Field("name"),
            Target::Field("furigana"),
            Target::Field("due_date"),
            Target::Field("kind"),
            Target::Field("tier"),
            Target::Ignored,
            Target::Computed,
        ]
    );
    let over = [mapping::parse_override("備考=既往歴・出産歴").expect("an override")];
    let (m, _) = mapping::map(&headings, &over);
    assert_eq!(m.columns[6].target, Target::Field("history"));
    assert!(m.columns[6].chosen);
}

#[test]
fn a_sheet_without_a_required_column_is_refused_naming_it() {
    let headings: Vec<String> = ["台帳番号", "氏名", "対象"].map(String::from).to_vec();
    let (_, problems) = mapping::map(&headings, &[]);
    assert_eq!(problems, [MappingProblem::Missing("tier")]);
    assert!(
        problems[0]
            .text(Lang::Ja)
            .contains("必須の列「支援区分」がありません")
    );
}

#[test]
fn shift_jis_csv_with_nec_and_ibm_extension_characters_decodes_intact() {
    let text = "台帳番号,氏名\r\nA-1,髙橋 﨑子\r\nA-2,①㈱テスト\r\n";
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable, "Windows-31J encodes every character");
    assert_eq!(read::decode(&bytes).expect("Shift_JIS"), text);
    let book = read::read(&bytes).expect("a CSV");
    assert_eq!(book.rows.lines[0].cells[1], Cell::Text("髙橋 﨑子".into()));
    assert_eq!(book.rows.lines[1].cells[1], Cell::Text("①㈱テスト".into()));
    assert_eq!(book.rows.lines[1].number, 3);
}

#[test]
fn a_utf8_csv_with_a_bom_reads_and_inert_cells_come_back_as_written() {
    let text = "\u{feff}台帳番号,氏名\r\n1,'=1+1\r\n";
    let book = read::read(text.as_bytes()).expect("a CSV");
    assert_eq!(book.rows.headings, ["台帳番号", "氏名"]);
    assert_eq!(book.rows.lines[0].cells[1], Cell::Text("=1+1".into()));
}

#[test]
fn a_file_over_the_limit_is_refused_before_it_is_parsed() {
    let bytes = vec![b'a'; read::MAX_FILE_BYTES + 1];
    let e = read::read(&bytes).expect_err("too large");
    assert!(matches!(e, ReadError::TooLarge(_)));
    assert!(e.text(Lang::Ja).contains("上限 50 MB"));
}
