//! What the center's Excel formulas compute today, each result naming the
//! rule that produced it: the next contact from the tier and the last
//! contact, the age in months, a 特定妊婦's child followed as 要支援, the
//! 伴走型相談支援 contact points and the checkups. Pure functions of the
//! row, its contacts and the day: nothing here reads the database.

use serde::Serialize;

use super::subject::{Checkup, ContactPoint, Subject, SubjectKind, Tier};
use crate::i18n::labeled;
use crate::protocol::day::Day;

labeled!(
    /// Which rule produced a computed date or tier.
    Rule {
        /// 手入力
        Manual => "manual", "手入力の予定日", "set by hand";
        /// 特定妊婦・要支援・要保護: 1か月ごと
        SpecifiedMonthly => "specified_monthly", "特定妊婦・要支援・要保護: 最終接触から1か月", "specified: one month after the last contact";
        /// 支援プラン対象: 2か月ごと
        SupportPlanBimonthly => "support_plan_bimonthly", "支援プラン対象: 最終接触から2か月", "support plan: two months after the last contact";
        /// セルフプラン: 3か月ごと
        SelfPlanQuarterly => "self_plan_quarterly", "セルフプラン: 最終接触から3か月", "self plan: three months after the last contact";
        /// 伴走型相談支援の次の面接・訪問
        ContactPointDue => "contact_point", "伴走型相談支援の次の面接・訪問", "the next 伴走型 contact point";
        /// 特定妊婦の子は3歳まで要支援として継続
        FollowedChild => "followed_child", "特定妊婦の子: 3歳まで要支援として継続", "a specified mother's child: followed as needing support until 3";
    }
);

/// Months between the last contact and the next one, by tier (自立 has
/// none: only the contact points bring it up).
pub fn interval(tier: Tier) -> Option<(u32, Rule)> {
    match tier {
        Tier::Specified => Some((1, Rule::SpecifiedMonthly)),
        Tier::SupportPlan => Some((2, Rule::SupportPlanBimonthly)),
        Tier::SelfPlan => Some((3, Rule::SelfPlanQuarterly)),
        Tier::Independent => None,
    }
}

/// How long a 特定妊婦's child stays followed as 要支援.
pub const FOLLOWED_CHILD_MONTHS: u32 = 36;

/// A computed day and the rule behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Dated {
    pub day: Day,
    pub rule: Rule,
}

/// Where a contact point or a checkup stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Progress {
    /// The day it is scheduled from is not known yet (no 妊娠届出日, …).
    Unscheduled,
    /// Its window has not opened.
    Upcoming { from: Day, due: Day, until: Day },
    /// Its window is open.
    Due { from: Day, due: Day, until: Day },
    /// Its window closed without it.
    Missed { due: Day, until: Day },
    /// Done on `day` (by `staff`, for a contact point).
    Done { day: Day, staff: String },
}

impl Progress {
    /// The label staff see for the state.
    pub fn label(&self, lang: crate::i18n::Lang) -> &'static str {
        match self {
            Progress::Unscheduled => lang.pick("未設定", "unscheduled"),
            Progress::Upcoming { .. } => lang.pick("予定", "upcoming"),
            Progress::Due { .. } => lang.pick("実施時期", "due"),
            Progress::Missed { .. } => lang.pick("未実施", "missed"),
            Progress::Done { .. } => lang.pick("実施済", "done"),
        }
    }

    fn of_window(from: Day, due: Day, until: Day, today: Day) -> Self {
        if today > until {
            Progress::Missed { due, until }
        } else if today >= from {
            Progress::Due { from, due, until }
        } else {
            Progress::Upcoming { from, due, until }
        }
    }
}

/// A contact, as the rules need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactFact {
    pub day: Day,
    pub staff: String,
    pub point: Option<ContactPoint>,
}

/// What the rules compute for one row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Computed {
    /// 月齢 (a row with a birth date).
    pub age_months: Option<u32>,
    /// The tier the row is followed at: its own, or raised by a rule.
    pub tier: Tier,
    /// The rule that raised it, if one did.
    pub tier_rule: Option<Rule>,
    /// 最終接触日
    pub last_contact: Option<Day>,
    /// 次回接触予定日 and why; none once the row is closed.
    pub next_contact: Option<Dated>,
    /// 伴走型相談支援 (a pregnant woman's row).
    pub points: Vec<(ContactPoint, Progress)>,
    /// 乳幼児健診 (a child's row).
    pub checkups: Vec<(Checkup, Progress)>,
}

/// Everything about a row's neighbours that its rules read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// A child's row: its mother was ever 特定妊婦 (now, or in her tier
    /// history).
    pub mother_was_specified: bool,
    /// A pregnant woman's row: the earliest birth date among her children's rows.
    pub child_born_on: Option<Day>,
    /// The day the row was added: what a tier's interval counts from when
    /// nothing else is known (a woman referred before her notification, not
    /// yet seen), so that she never drops off the morning list.
    pub added_on: Option<Day>,
}

/// Compute a row's dates on `today`. `contacts` are the row's own, in any order.
pub fn compute(s: &Subject, contacts: &[ContactFact], ctx: &Context, today: Day) -> Computed {
    let age_months = s.birth_date.map(|b| months_between(b, today));
    let followed = s.kind == SubjectKind::Child
        && ctx.mother_was_specified
        && age_months.is_some_and(|m| m < FOLLOWED_CHILD_MONTHS)
        && s.tier < Tier::Specified;
    let (tier, tier_rule) = if followed {
        (Tier::Specified, Some(Rule::FollowedChild))
    } else {
        (s.tier, None)
    };
    let last_contact = contacts.iter().map(|c| c.day).max();
    let points = if s.kind == SubjectKind::Pregnant {
        ContactPoint::ALL
            .iter()
            .map(|&p| (p, point(s, p, contacts, ctx, today)))
            .collect()
    } else {
        Vec::new()
    };
    let checkups = match (s.kind, s.birth_date) {
        (SubjectKind::Child, Some(born)) => Checkup::ALL
            .iter()
            .map(|&c| (c, checkup(s, c, born, today)))
            .collect(),
        _ => Vec::new(),
    };
    let next_contact = if s.closed_on.is_some() {
        None
    } else if let Some(day) = s.next_contact_on {
        Some(Dated {
            day,
            rule: Rule::Manual,
        })
    } else {
        let by_tier = interval(tier).and_then(|(months, rule)| {
            // A child's row counts from the birth; a woman's own birth
            // date is no contact (her row counts from the notification, or
            // from the day the center learned of her).
            let born = s.birth_date.filter(|_| s.kind == SubjectKind::Child);
            let from = last_contact.or(s.notified_on).or(born).or(ctx.added_on)?;
            Some(Dated {
                day: from.plus_months(months),
                rule: tier_rule.unwrap_or(rule),
            })
        });
        let by_point = points
            .iter()
            .filter_map(|(_, p)| match p {
                Progress::Upcoming { due, .. } | Progress::Due { due, .. } => Some(Dated {
                    day: *due,
                    rule: Rule::ContactPointDue,
                }),
                _ => None,
            })
            .min_by_key(|d| d.day);
        [by_tier, by_point]
            .into_iter()
            .flatten()
            .min_by_key(|d| d.day)
    };
    Computed {
        age_months,
        tier,
        tier_rule,
        last_contact,
        next_contact,
        points,
        checkups,
    }
}

/// The window of a contact point, if the day it is scheduled from is known:
/// (opens, due, closes).
pub fn point_window(s: &Subject, p: ContactPoint, ctx: &Context) -> Option<(Day, Day, Day)> {
    match p {
        // 妊娠届出時: on the day of the notification, within a month.
        ContactPoint::Notification => s.notified_on.map(|d| (d, d, d.plus_months(1))),
        // 妊娠8か月頃 (28–31 weeks): opens at 28 weeks (12 weeks before the
        // due date), due at 30, closes at 36 or at the birth.
        ContactPoint::Month8 => s.due_date.map(|due| {
            let closes = due.plus_days(-28);
            let closes = ctx.child_born_on.map_or(closes, |b| b.min(closes));
            (due.plus_days(-84), due.plus_days(-70), closes)
        }),
        // こんにちは赤ちゃん訪問: within four months of the birth (of the due
        // date while the birth is not on the ledger).
        ContactPoint::InfantVisit => ctx
            .child_born_on
            .or(s.due_date)
            .map(|b| (b, b.plus_months(1), b.plus_months(4))),
    }
}

fn point(
    s: &Subject,
    p: ContactPoint,
    contacts: &[ContactFact],
    ctx: &Context,
    today: Day,
) -> Progress {
    if let Some(c) = contacts
        .iter()
        .filter(|c| c.point == Some(p))
        .min_by_key(|c| c.day)
    {
        return Progress::Done {
            day: c.day,
            staff: c.staff.clone(),
        };
    }
    match point_window(s, p, ctx) {
        Some((from, due, until)) => Progress::of_window(from, due, until, today),
        None => Progress::Unscheduled,
    }
}

/// The ages (in months) a checkup is offered from and until.
pub fn checkup_ages(c: Checkup) -> (u32, u32) {
    match c {
        Checkup::Month3 => (3, 6),
        Checkup::Month18 => (18, 24),
        Checkup::Year3 => (36, 48),
    }
}

fn checkup(s: &Subject, c: Checkup, born: Day, today: Day) -> Progress {
    if let Some(day) = s.checkup(c) {
        return Progress::Done {
            day,
            staff: String::new(),
        };
    }
    let (from, until) = checkup_ages(c);
    let (from, until) = (born.plus_months(from), born.plus_months(until));
    Progress::of_window(from, from, until, today)
}

/// Whole months from `from` to `to` (0 when `to` is earlier), as 月齢 is
/// counted: the month is complete on the same day of the month.
pub fn months_between(from: Day, to: Day) -> u32 {
    if to < from {
        return 0;
    }
    let mut months = 0;
    // At most a few hundred steps for any living person.
    while from.plus_months(months + 1) <= to {
        months += 1;
    }
    months
}
