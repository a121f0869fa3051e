//! The ledger from plain data: registrations, meetings, minutes and plans
//! built here, folded, filtered, put on an agenda and exported.

use std::collections::BTreeMap;

use super::sources::{CaseChange, CaseEvent, PlanFacts, Sources};
use super::*;
use crate::agency::meetings::{HeldMinutes, MeetingView};
use crate::i18n::Lang;
use crate::protocol::case::{CaseClassification, Registration};
use crate::protocol::ids::{MeetingId, PlanId};
use crate::protocol::meeting::{Invitation, Level, MeetingKind, Minutes, MinutesExcerpt, Role};
use crate::protocol::{AgencyId, CaseId, EnvelopeId, Timestamp};

const CENTER: &str = "minato-center";
const WELFARE: &str = "minato-child-welfare";
const NURSERY: &str = "hikari-nursery";
const CLINIC: &str = "sakura-clinic";
const YOTAIKYO: &str = "minato-yotaikyo";

fn at(s: &str) -> Timestamp {
    crate::protocol::day::parse_local(s).unwrap()
}

fn day(s: &str) -> Day {
    s.parse().unwrap()
}

fn id(s: &str) -> AgencyId {
    s.parse().unwrap()
}

fn case(s: &str) -> CaseId {
    s.parse().unwrap()
}

fn registered(c: &str, on: &str, classification: CaseClassification, lead: &str) -> CaseEvent {
    CaseEvent {
        case: case(c),
        at: at(on),
        change: CaseChange::Registered(Registration {
            classification,
            lead: id(lead),
            members: vec![id(CENTER), id(NURSERY)],
        }),
        note: "実務者会議で登録".into(),
    }
}

/// A 実務者会議 on `cases` as the 要対協 organised it, not yet minuted.
fn practitioners(cases: &[&str], starts: &str) -> MeetingView {
    MeetingView {
        meeting_id: MeetingId::new(),
        kind: MeetingKind::Practitioners,
        case_id: case(cases[0]),
        more_cases: cases[1..].iter().map(|c| case(c)).collect(),
        organiser: id(YOTAIKYO),
        starts_at: at(starts),
        duration_minutes: 90,
        invitation: Invitation::default(),
        invitees: Vec::new(),
        cancelled: None,
        moved: None,
        minutes: None,
        minutes_at: None,
        invitation_id: EnvelopeId::new(),
    }
}

fn ledger(sources: &Sources, entries: &[(&str, LedgerEntry)], now: &str) -> Vec<LedgerRow> {
    let entries: BTreeMap<CaseId, LedgerEntry> =
        entries.iter().map(|(c, e)| (case(c), e.clone())).collect();
    fold::fold(sources, &entries, at(now))
}

fn one(sources: &Sources, entries: &[(&str, LedgerEntry)], now: &str) -> LedgerRow {
    let rows = ledger(sources, entries, now);
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.into_iter().next().unwrap()
}

#[test]
fn a_registered_case_is_received_and_due_three_months_after_registration() {
    let sources = Sources {
        cases: vec![registered(
            "c-1",
            "2026-11-20 10:00",
            CaseClassification::SpecifiedExpectantMother,
            CENTER,
        )],
        ..Sources::default()
    };
    let row = one(&sources, &[], "2026-12-01 09:00");
    assert_eq!(row.received_on, day("2026-11-20"));
    assert_eq!(row.next_review, day("2027-02-20"));
    assert_eq!(row.last_reviewed, None);
    assert_eq!(row.status, ProgressStatus::Received);
    assert_eq!(row.lead, id(CENTER));
    assert_eq!(row.members, [id(CENTER), id(NURSERY)]);
}

#[test]
fn the_last_held_practitioners_meeting_sets_the_next_review_three_months_on() {
    let held = practitioners(&["c-1", "c-2"], "2027-01-15 14:00");
    let cancelled = MeetingView {
        cancelled: Some("議題の整理のため".into()),
        ..practitioners(&["c-1"], "2027-01-25 14:00")
    };
    let coming = practitioners(&["c-2", "c-1"], "2027-02-10 14:00");
    let sources = Sources {
        cases: vec![
            registered(
                "c-1",
                "2026-11-20 10:00",
                CaseClassification::SupportNeeded,
                CENTER,
            ),
            registered(
                "c-2",
                "2026-11-21 10:00",
                CaseClassification::SupportNeeded,
                CENTER,
            ),
        ],
        meetings: vec![held, cancelled, coming],
        ..Sources::default()
    };
    let rows = ledger(&sources, &[], "2027-02-01 09:00");
    for row in &rows {
        // Held (its start has passed) and not cancelled: reviewed then.
        assert_eq!(row.last_reviewed, Some(day("2027-01-15")), "{row:?}");
        assert_eq!(row.next_review, day("2027-04-15"));
        assert_eq!(row.next_meeting, Some(at("2027-02-10 14:00")));
    }
}

#[test]
fn a_moved_meeting_counts_from_its_new_start_and_minutes_decide_the_next_review() {
    // Scheduled for 01-15, then moved: the view holds the new start.
    let moved = MeetingView {
        starts_at: at("2027-03-01 14:00"),
        moved: Some("関係機関の都合".into()),
        ..practitioners(&["c-1"], "2027-01-15 14:00")
    };
    let sources = Sources {
        cases: vec![registered(
            "c-1",
            "2026-11-20 10:00",
            CaseClassification::ProtectionNeeded,
            CENTER,
        )],
        meetings: vec![moved],
        ..Sources::default()
    };
    // Moved past "now": not yet a review, but the next meeting.
    let row = one(&sources, &[], "2027-02-01 09:00");
    assert_eq!(row.last_reviewed, None);
    assert_eq!(row.next_meeting, Some(at("2027-03-01 14:00")));
    assert_eq!(row.next_review, day("2027-02-20"));

    // Minuted: reviewed, and the meeting's own next date, lead, key person,
    // risk and policy win over the registration's.
    let mut sources = sources;
    let minuted = &mut sources.meetings[0];
    minuted.minutes = Some(HeldMinutes::Full(Box::new(Minutes {
        held_at: Some(at("2027-03-01 14:00")),
        risk: Some(Level::High),
        lead: Some(id(WELFARE)),
        key_person: "母方祖母".into(),
        next_support: "週1回の家庭訪問を継続".into(),
        next_review: Some(day("2027-04-01")),
        roles: vec![Role {
            agency: id(CLINIC),
            task: "乳児健診で体重を確認".into(),
        }],
        ..Minutes::default()
    })));
    minuted.minutes_at = Some(at("2027-03-02 09:00"));
    let row = one(&sources, &[], "2027-03-05 09:00");
    assert_eq!(row.last_reviewed, Some(day("2027-03-01")));
    assert_eq!(row.next_review, day("2027-04-01"));
    assert_eq!(row.next_meeting, None);
    assert_eq!(row.lead, id(WELFARE));
    assert_eq!(row.key_person, "母方祖母");
    assert_eq!(row.risk, Some(Level::High));
    assert_eq!(row.policy, "週1回の家庭訪問を継続");
    assert_eq!(
        row.members,
        [id(WELFARE), id(CENTER), id(NURSERY), id(CLINIC)]
    );
}

#[test]
fn an_excerpt_of_a_case_meeting_names_the_lead_and_roles_but_is_no_review() {
    let excerpt = MinutesExcerpt {
        held_at: Some(at("2027-01-10 10:00")),
        roles: vec![Role {
            agency: id(CLINIC),
            task: "乳児健診で体重を確認".into(),
        }],
        lead: Some(id(WELFARE)),
        next_review: Some(day("2027-02-01")),
        ..MinutesExcerpt::default()
    };
    let meeting = MeetingView {
        kind: MeetingKind::IndividualCase,
        organiser: id(CENTER),
        minutes: Some(HeldMinutes::Excerpt(excerpt)),
        minutes_at: Some(at("2027-01-11 09:00")),
        ..practitioners(&["c-1"], "2027-01-10 10:00")
    };
    let sources = Sources {
        cases: vec![registered(
            "c-1",
            "2026-11-20 10:00",
            CaseClassification::SupportNeeded,
            CENTER,
        )],
        meetings: vec![meeting],
        ..Sources::default()
    };
    let row = one(&sources, &[], "2027-01-20 09:00");
    assert_eq!(row.lead, id(WELFARE));
    assert_eq!(
        row.members,
        [id(WELFARE), id(CENTER), id(NURSERY), id(CLINIC)]
    );
    // Not a 実務者会議: the review stays three months after registration.
    assert_eq!(row.last_reviewed, None);
    assert_eq!(row.next_review, day("2027-02-20"));
    assert_eq!((row.risk, row.key_person.as_str()), (None, ""));
}

#[test]
fn a_later_plan_names_the_lead_and_its_roles_join_the_members() {
    let plan = |version: u32, at_: &str, lead: &str, roles: &[&str]| PlanFacts {
        case: case("c-1"),
        at: at(at_),
        plan_id: PlanId(uuid::Uuid::nil()),
        version,
        lead: id(lead),
        key_person: if version == 2 {
            "本人".into()
        } else {
            String::new()
        },
        review_on: day("2027-06-01"),
        roles: roles.iter().map(|r| id(r)).collect(),
    };
    let sources = Sources {
        cases: vec![registered(
            "c-1",
            "2026-11-20 10:00",
            CaseClassification::SpecifiedExpectantMother,
            CENTER,
        )],
        plans: vec![
            plan(1, "2026-12-01 10:00", CENTER, &[CLINIC]),
            plan(2, "2026-12-10 10:00", WELFARE, &[WELFARE]),
        ],
        ..Sources::default()
    };
    let row = one(&sources, &[], "2026-12-15 09:00");
    assert_eq!(row.lead, id(WELFARE));
    assert_eq!(row.key_person, "本人");
    // Only the latest version's roles: the clinic's part ended with v1.
    assert_eq!(row.members, [id(WELFARE), id(CENTER), id(NURSERY)]);
}

#[test]
fn staff_entries_fill_the_ledger_and_their_next_review_holds_until_a_review_passes_it() {
    let meeting = practitioners(&["c-1"], "2027-01-15 14:00");
    let registration = registered(
        "c-1",
        "2026-11-20 10:00",
        CaseClassification::ProtectionNeeded,
        CENTER,
    );
    let entry = LedgerEntry {
        case_number: Some("2026-012".into()),
        received_on: Some(day("2026-11-18")),
        route: Some(Route::Notification),
        abuse_types: vec![AbuseType::Neglect],
        risk: Some(Level::Medium),
        policy: "在宅支援".into(),
        status: ProgressStatus::Supporting,
        next_review: Some(day("2027-01-10")),
        updated_at: Some(at("2026-11-25 10:00")),
        ..LedgerEntry::default()
    };
    let mut sources = Sources {
        cases: vec![registration],
        ..Sources::default()
    };
    let row = one(&sources, &[("c-1", entry.clone())], "2026-12-01 09:00");
    assert_eq!(row.case_number.as_deref(), Some("2026-012"));
    assert_eq!(row.received_on, day("2026-11-18"));
    assert_eq!(row.registered_on, day("2026-11-20"));
    assert_eq!(row.next_review, day("2027-01-10"));
    assert_eq!(
        (row.status, row.risk, row.policy.as_str()),
        (ProgressStatus::Supporting, Some(Level::Medium), "在宅支援")
    );
    // The meeting on the 15th reviewed it: the hand-set date is spent.
    sources.meetings.push(meeting);
    let row = one(&sources, &[("c-1", entry)], "2027-01-20 09:00");
    assert_eq!(row.next_review, day("2027-04-15"));
}

#[test]
fn a_case_closed_with_the_council_is_closed_on_the_ledger_with_its_reason() {
    let mut sources = Sources {
        cases: vec![registered(
            "c-1",
            "2026-11-20 10:00",
            CaseClassification::SupportNeeded,
            CENTER,
        )],
        ..Sources::default()
    };
    sources.cases.push(CaseEvent {
        case: case("c-1"),
        at: at("2027-03-01 10:00"),
        change: CaseChange::Closed,
        note: "転出のため".into(),
    });
    let supporting = LedgerEntry {
        status: ProgressStatus::Supporting,
        ..LedgerEntry::default()
    };
    let row = one(&sources, &[("c-1", supporting)], "2027-03-02 09:00");
    assert_eq!(row.status, ProgressStatus::Closed);
    assert_eq!(row.status_reason, "転出のため");
    assert!(!fold::is_due(&row, day("2099-01-01")));
}

fn three_cases() -> Vec<LedgerRow> {
    let sources = Sources {
        cases: vec![
            registered(
                "c-1",
                "2026-09-01 10:00",
                CaseClassification::ProtectionNeeded,
                CENTER,
            ),
            registered(
                "c-2",
                "2026-10-01 10:00",
                CaseClassification::SupportNeeded,
                WELFARE,
            ),
            registered(
                "c-3",
                "2026-11-01 10:00",
                CaseClassification::SupportNeeded,
                CENTER,
            ),
        ],
        ..Sources::default()
    };
    let watching = LedgerEntry {
        status: ProgressStatus::Watching,
        risk: Some(Level::High),
        updated_at: Some(at("2026-11-01 10:00")),
        ..LedgerEntry::default()
    };
    ledger(&sources, &[("c-2", watching)], "2026-12-20 09:00")
}

#[test]
fn filters_pick_cases_due_by_classification_lead_and_status() {
    let rows = three_cases();
    let pick = |f: Filter| -> Vec<String> {
        rows.iter()
            .filter(|r| f.matches(r))
            .map(|r| r.case_id.to_string())
            .collect()
    };
    // Due 12-01 and 01-01; c-3 not until 02-01.
    let due = Filter {
        due_by: Some(day("2027-01-03")),
        ..Filter::default()
    };
    assert_eq!(pick(due), ["c-1", "c-2"]);
    let support = Filter {
        classification: Some(CaseClassification::SupportNeeded),
        ..Filter::default()
    };
    assert_eq!(pick(support), ["c-2", "c-3"]);
    let center = Filter {
        lead: Some(id(CENTER)),
        ..Filter::default()
    };
    assert_eq!(pick(center), ["c-1", "c-3"]);
    let watching = Filter {
        status: Some(ProgressStatus::Watching),
        classification: Some(CaseClassification::SupportNeeded),
        ..Filter::default()
    };
    assert_eq!(pick(watching), ["c-2"]);
    assert_eq!(pick(Filter::default()).len(), 3);
}

#[test]
fn the_agenda_lists_due_cases_oldest_first_and_invites_every_agency_with_a_role() {
    let mut rows = three_cases();
    // The clinic has a part in c-1 too (a plan action, say).
    for r in rows.iter_mut().filter(|r| r.case_id.as_str() == "c-1") {
        r.members.push(id(CLINIC));
    }
    let agenda = Agenda::of(&rows, day("2027-01-03"));
    let cases: Vec<&str> = agenda.cases.iter().map(|c| c.case_id.as_str()).collect();
    assert_eq!(cases, ["c-1", "c-2"]);
    assert_eq!(agenda.cases[1].risk, Some(Level::High));
    let directory = crate::directory::Directory::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("certs-example/directory.toml"),
    )
    .unwrap();
    assert!(
        agenda.cases.iter().any(|c| c.members.contains(&id(CLINIC))),
        "the clinic has a role in a due case"
    );
    // Council members only: the clinic, with a role but no membership, is
    // told under her consent, not invited to the 実務者会議.
    assert_eq!(
        agenda.invitees(&id(YOTAIKYO), &directory),
        [id(CENTER), id(NURSERY), id(WELFARE)]
    );
    // The organiser is never its own invitee.
    assert_eq!(
        agenda.invitees(&id(CENTER), &directory),
        [id(NURSERY), id(WELFARE)]
    );
    assert!(Agenda::of(&rows, day("2026-11-01")).cases.is_empty());
}

#[test]
fn the_csv_export_reads_back_with_its_bom_crlf_and_japanese_intact() {
    let mut rows = three_cases();
    rows[0].case_number = Some("2026-012".into());
    rows[0].abuse_types = vec![AbuseType::Physical, AbuseType::Neglect];
    rows[0].key_person = "母方祖母, 「同居」".into();
    let names = |a: &AgencyId| match a.as_str() {
        CENTER => "みなと市こども家庭センター".to_owned(),
        other => other.to_owned(),
    };
    let text = csv::export(&rows, names, Lang::Ja).unwrap();
    assert!(text.starts_with(csv::BOM));
    assert!(text.contains("\r\n"));
    assert_eq!(text.matches("\r\n").count(), rows.len() + 1);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.csv");
    crate::crypto::files::write_secret(&path, &text).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..3], [0xEF, 0xBB, 0xBF]);
    let mut reader = ::csv::Reader::from_reader(&bytes[3..]);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[0], "ケース番号");
    assert_eq!(header[4], "区分");
    let records: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 3);
    let first = &records[0];
    assert_eq!(&first[0], "2026-012");
    assert_eq!(&first[4], "要保護児童");
    assert_eq!(&first[5], "身体的虐待・ネグレクト");
    assert_eq!(&first[7], "みなと市こども家庭センター");
    assert_eq!(&first[8], "母方祖母, 「同居」");
    assert_eq!(&first[12], "2026-12-01");
    assert_eq!(&first[14], "受理");
}
