//! Every indicator's definition in the staff's words: what is counted, its
//! numerator and denominator, the unit, and whether more is better. The
//! report, the target form and `docs/indicators.md` all read this list.

use serde::Serialize;

use crate::i18n::{Lang, labeled};

labeled!(
    /// 事業評価の区分 (and the 伴走型相談支援 rates).
    Category {
        /// アウトプット
        Output => "output", "アウトプット", "output";
        /// プロセス
        Process => "process", "プロセス", "process";
        /// ストラクチャー
        Structure => "structure", "ストラクチャー", "structure";
        /// アウトカム
        Outcome => "outcome", "アウトカム", "outcome";
        /// 伴走型相談支援
        Companion => "companion", "伴走型相談支援", "companion-style support";
    }
);

/// Which way an indicator improves (for 達成割合).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// The unit of an indicator's 実績値.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// 件 / 機関 / 人 / 種類: a count.
    Count,
    /// A rate, in per cent.
    Percent,
    /// A median number of days.
    Days,
}

impl Unit {
    /// The unit as shown after the number.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Unit::Count => lang.pick("件", ""),
            Unit::Percent => "%",
            Unit::Days => lang.pick("日", "days"),
        }
    }
}

/// One indicator's definition; each text is (Japanese, English).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Def {
    /// Stable id (targets are stored by it; `--json` carries it).
    pub id: &'static str,
    pub category: Category,
    pub unit: Unit,
    pub better: Better,
    pub name: (&'static str, &'static str),
    pub definition: (&'static str, &'static str),
    pub numerator: (&'static str, &'static str),
    /// Empty for a count or a duration.
    pub denominator: (&'static str, &'static str),
}

const NONE: (&str, &str) = ("", "");

const fn count(
    id: &'static str,
    category: Category,
    name: (&'static str, &'static str),
    definition: (&'static str, &'static str),
) -> Def {
    Def {
        id,
        category,
        unit: Unit::Count,
        better: Better::Higher,
        name,
        definition,
        numerator: name,
        denominator: NONE,
    }
}

const fn rate(
    id: &'static str,
    category: Category,
    better: Better,
    name: (&'static str, &'static str),
    definition: (&'static str, &'static str),
    numerator: (&'static str, &'static str),
    denominator: (&'static str, &'static str),
) -> Def {
    Def {
        id,
        category,
        unit: Unit::Percent,
        better,
        name,
        definition,
        numerator,
        denominator,
    }
}

const fn days(
    id: &'static str,
    name: (&'static str, &'static str),
    definition: (&'static str, &'static str),
) -> Def {
    Def {
        id,
        category: Category::Process,
        unit: Unit::Days,
        better: Better::Lower,
        name,
        definition,
        numerator: (
            "中央値（日）。90パーセンタイルと件数を併記",
            "median days, with the 90th percentile and how many",
        ),
        denominator: NONE,
    }
}

/// Every indicator, in the order the report shows them.
pub const DEFS: &[Def] = &[
    count(
        "consultations",
        Category::Output,
        ("相談・接触件数", "Consultations"),
        (
            "期間内の日付で支援台帳に記録した接触（電話・面接・訪問・来所・関係機関から）の件数。",
            "Contacts recorded on the ledger with a day in the period (phone, interview, visit, walk-in, from an agency).",
        ),
    ),
    count(
        "referrals_received",
        Category::Output,
        ("受けた連絡票", "Referrals received"),
        (
            "期間内に作成され、このノードが受け取った連絡票の件数。送り手の機関種別と連絡票の理由で内訳（理由は1件に複数あり得る）。",
            "Referrals created in the period that this node received, by the sender's kind and by reason (one referral may give several).",
        ),
    ),
    count(
        "referrals_sent",
        Category::Output,
        ("送った連絡票", "Referrals sent"),
        (
            "期間内に作成され、ハブが受け付けたこのノードからの連絡票の件数。宛先の機関種別（宛先ごとに1件）と理由で内訳。",
            "Referrals created in the period that this node sent and the hub accepted, by each recipient's kind and by reason.",
        ),
    ),
    count(
        "meetings_held",
        Category::Output,
        ("開催した会議", "Meetings held"),
        (
            "このノードが知る会議のうち、取り消されておらず、開始日時が期間内かつ集計日までのものの件数。会議の種類で内訳。",
            "Meetings this node knows of, not cancelled, starting in the period and by the report day, by kind.",
        ),
    ),
    count(
        "plans_created",
        Category::Output,
        ("作成した支援プラン", "Plans created"),
        (
            "期間内に記録された支援プランの第1版の件数。",
            "First versions of support plans recorded in the period.",
        ),
    ),
    count(
        "plans_revised",
        Category::Output,
        ("見直した支援プラン", "Plans revised"),
        (
            "期間内に記録された支援プランの第2版以降の件数。",
            "Second and later versions of support plans recorded in the period.",
        ),
    ),
    rate(
        "reviewed_on_time",
        Category::Process,
        Better::Higher,
        ("期限内に見直した台帳の行", "Ledger rows reviewed on time"),
        (
            "自立以外の行について、起点（妊娠届出日・生年月日、以後は直前の接触日）に区分の間隔（特定妊婦等1か月・支援プラン2か月・セルフプラン3か月）を足した次回接触予定日のうち、期間内かつ集計日より前に来たもの。その予定日以前に次の接触があれば期限内。終結日より後の予定日は数えない。",
            "For rows not 自立: each next-contact day the rules give (the anchor — notification or birth, then each contact — plus the tier's interval: 1, 2 or 3 months) falling in the period and before the report day. On time when the next contact came on or before it. None after the row was closed.",
        ),
        (
            "予定日以前に接触した回数",
            "due days met by a contact on or before them",
        ),
        (
            "期間内に来た次回接触予定日の数",
            "next-contact days that fell in the period",
        ),
    ),
    days(
        "receipt_days_sent",
        (
            "受理までの日数（送った連絡票）",
            "Days to 受理 (referrals sent)",
        ),
        (
            "期間内に送った連絡票について、作成から宛先が受理するまでの日数（宛先ごと）。",
            "For referrals sent in the period: days from creation to each recipient's 受理.",
        ),
    ),
    days(
        "receipt_days_received",
        (
            "受理までの日数（受けた連絡票）",
            "Days to 受理 (referrals received)",
        ),
        (
            "期間内に受けた連絡票について、作成からこのノードが受理するまでの日数。",
            "For referrals received in the period: days from creation to this node's 受理.",
        ),
    ),
    days(
        "reply_days_sent",
        (
            "返信までの日数（送った連絡票）",
            "Days to 返信 (referrals sent)",
        ),
        (
            "期間内に送った連絡票について、作成から宛先が返信（完了）するまでの日数（宛先ごと）。",
            "For referrals sent in the period: days from creation to each recipient's reply (completed).",
        ),
    ),
    days(
        "reply_days_received",
        (
            "返信までの日数（受けた連絡票）",
            "Days to 返信 (referrals received)",
        ),
        (
            "期間内に受けた連絡票について、作成からこのノードが返信（完了）するまでの日数。",
            "For referrals received in the period: days from creation to this node's reply (completed).",
        ),
    ),
    rate(
        "past_deadline",
        Category::Process,
        Better::Lower,
        (
            "受理期限を過ぎた連絡票",
            "Referrals past their 受理 deadline",
        ),
        (
            "期間内に送った・受けた連絡票のうち、ハブから受理期限超過の通知（1回目）が届いたもの。",
            "Referrals sent or received in the period for which the hub's missed-deadline notice came.",
        ),
        ("受理期限を過ぎた連絡票", "referrals past the deadline"),
        (
            "期間内に送った・受けた連絡票",
            "referrals sent or received in the period",
        ),
    ),
    rate(
        "plans_reviewed_on_time",
        Category::Process,
        Better::Higher,
        (
            "見直し日までに見直した支援プラン",
            "Plans reviewed by their review day",
        ),
        (
            "見直し日が期間内かつ集計日より前の支援プランの版のうち、見直し日までに次の版が記録されたもの。",
            "Plan versions whose review day fell in the period, before the report day, followed by a new version on or before it.",
        ),
        (
            "見直し日までに次の版があった版",
            "versions revised by their review day",
        ),
        (
            "見直し日が期間内に来た版",
            "versions whose review day fell in the period",
        ),
    ),
    count(
        "agencies_connected",
        Category::Structure,
        ("連携している機関", "Agencies connected"),
        (
            "ハブのディレクトリにある、このセンター以外の機関の数（集計日時点）。機関種別で内訳。",
            "Agencies in the hub's directory other than this center (as of the report day), by kind.",
        ),
    ),
    count(
        "staff_accounts",
        Category::Structure,
        ("アカウントのある職員", "Staff with accounts"),
        (
            "このノードで有効な（停止されていない）職員アカウントの数（集計日時点）。",
            "Staff accounts on this node that are not disabled (as of the report day).",
        ),
    ),
    count(
        "meeting_bodies",
        Category::Structure,
        ("使われた会議体", "Meeting bodies in use"),
        (
            "期間内に開催した会議の種類の数。",
            "Kinds of meeting held in the period.",
        ),
    ),
    rate(
        "toward_independent",
        Category::Outcome,
        Better::Higher,
        ("自立の方向への区分変更", "Tier changes toward 自立"),
        (
            "期間内の支援区分の変更（最初の区分付けを除く）のうち、より支援の少ない区分（自立の方向）への変更。",
            "Tier changes in the period (not a row's first tier) that moved to a tier with less support (toward 自立).",
        ),
        ("自立の方向への変更", "changes toward 自立"),
        ("期間内の区分変更", "tier changes in the period"),
    ),
    rate(
        "epds_follow_up",
        Category::Outcome,
        Better::Higher,
        (
            "EPDS 9点以上の2週間以内フォロー",
            "EPDS ≥ 9 followed up within 2 weeks",
        ),
        (
            "期間内に受けた、EPDS 合計9点以上の連絡票で、ケースが台帳の行につながっているもの。受けた日から14日以内（集計日までに14日経ったもの）にその行へ接触があればフォロー済み。",
            "Referrals received in the period with an EPDS total of 9 or more, about a case linked to a row, whose 14 days have passed by the report day; followed up when the row has a contact within 14 days of receipt.",
        ),
        (
            "14日以内に接触した連絡票",
            "referrals followed by a contact within 14 days",
        ),
        ("EPDS 9点以上の連絡票", "referrals with EPDS ≥ 9"),
    ),
    rate(
        "point_notification",
        Category::Companion,
        Better::Higher,
        ("妊娠届出時の面接率", "Interview at notification"),
        (
            "妊婦の行のうち、妊娠届出時の面接の実施期間（届出日から1か月）が期間内かつ集計日より前に終わったもの。期間の終わりまでに面接を記録していれば実施。期間が終わる前に終結した行は除く。",
            "Pregnant women's rows whose window for the interview at notification (the notification day plus a month) closed in the period, before the report day; done when recorded by the window's close. Rows closed before it closed are left out.",
        ),
        ("実施した人", "done"),
        (
            "実施期間が期間内に終わった人",
            "whose window closed in the period",
        ),
    ),
    rate(
        "point_month8",
        Category::Companion,
        Better::Higher,
        ("妊娠8か月頃の面接率", "Interview around the 8th month"),
        (
            "妊婦の行のうち、8か月頃の面接の実施期間（分娩予定日の12週前から4週前まで、出生が早ければ出生日まで）が期間内かつ集計日より前に終わったもの。期間の終わりまでに面接を記録していれば実施。",
            "Pregnant women's rows whose 8th-month window (12 to 4 weeks before the due date, or to an earlier birth) closed in the period, before the report day; done when recorded by the window's close.",
        ),
        ("実施した人", "done"),
        (
            "実施期間が期間内に終わった人",
            "whose window closed in the period",
        ),
    ),
    rate(
        "point_infant_visit",
        Category::Companion,
        Better::Higher,
        ("乳児家庭全戸訪問率", "Infant home visits"),
        (
            "妊婦の行のうち、乳児家庭全戸訪問の実施期間（出生日、未登録なら分娩予定日から4か月）が期間内かつ集計日より前に終わったもの。期間の終わりまでに訪問を記録していれば実施。",
            "Pregnant women's rows whose infant-visit window (four months from the birth, or the due date while no birth is on the ledger) closed in the period, before the report day; done when recorded by the window's close.",
        ),
        ("実施した世帯", "done"),
        (
            "実施期間が期間内に終わった世帯",
            "whose window closed in the period",
        ),
    ),
];
