//! The year's target for an indicator (目標値), the achievement (達成割合)
//! and the progress judgement of the PDCA 検証票 (様式1): at least 100 %
//! 順調, at least 80 % やや遅れ, below that 遅れ.

use super::defs::{Better, DEFS, Unit};
use crate::i18n::{Lang, labeled};

labeled!(
    /// 進捗の判定.
    Judgement {
        /// 達成割合 100 % 以上
        OnTrack => "on_track", "順調", "on track";
        /// 80 % 以上 100 % 未満
        SlightlyBehind => "slightly_behind", "やや遅れ", "slightly behind";
        /// 80 % 未満
        Behind => "behind", "遅れ", "behind";
    }
);

/// 達成割合 (per cent) at or above which progress is 順調.
pub const ON_TRACK: f64 = 100.0;
/// 達成割合 (per cent) at or above which progress is やや遅れ (below: 遅れ).
pub const SLIGHTLY_BEHIND: f64 = 80.0;

/// 達成割合 in per cent: actual ÷ target where more is better, target ÷
/// actual where less is better (days to 受理: a target of 2 days met in 1
/// is 200 %). None when the division has no meaning (a zero divisor); a
/// smaller-is-better actual of 0 meets any target.
pub fn achievement(actual: f64, target: f64, better: Better) -> Option<f64> {
    match better {
        Better::Higher if target > 0.0 => Some(actual * 100.0 / target),
        Better::Higher => None,
        Better::Lower if actual > 0.0 => Some(target * 100.0 / actual),
        Better::Lower => Some(ON_TRACK),
    }
}

/// The judgement of an achievement.
pub fn judge(achievement: f64) -> Judgement {
    if achievement >= ON_TRACK {
        Judgement::OnTrack
    } else if achievement >= SLIGHTLY_BEHIND {
        Judgement::SlightlyBehind
    } else {
        Judgement::Behind
    }
}

/// Why a target was refused; nothing was stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("no indicator {0:?}")]
    UnknownIndicator(String),
    #[error("{0:?} is not a number")]
    NotANumber(String),
    #[error("a target cannot be negative")]
    Negative,
    #[error("a rate's target is at most 100")]
    OverHundred,
    #[error("fiscal year {0} is out of range")]
    Year(i32),
}

impl TargetError {
    /// The form field the problem is about.
    pub fn field(&self) -> &'static str {
        match self {
            TargetError::UnknownIndicator(_) => "indicator",
            TargetError::Year(_) => "year",
            _ => "value",
        }
    }

    /// The problem in staff's words, with what to do.
    pub fn text(&self, lang: Lang) -> String {
        match (self, lang) {
            (TargetError::UnknownIndicator(id), Lang::Ja) => {
                format!("指標「{id}」はありません。一覧の指標から選んでください。")
            }
            (TargetError::UnknownIndicator(id), Lang::En) => {
                format!("There is no indicator {id:?}. Choose one from the list.")
            }
            (TargetError::NotANumber(v), Lang::Ja) => {
                format!("目標値「{v}」は数値として読めません。80 や 2.5 のように入力してください。")
            }
            (TargetError::NotANumber(v), Lang::En) => {
                format!("The target {v:?} is not a number. Enter it as 80 or 2.5.")
            }
            (TargetError::Negative, Lang::Ja) => "目標値は0以上にしてください。".into(),
            (TargetError::Negative, Lang::En) => "The target must be 0 or more.".into(),
            (TargetError::OverHundred, Lang::Ja) => {
                "割合（%）の目標値は100以下にしてください。".into()
            }
            (TargetError::OverHundred, Lang::En) => "A rate's target is at most 100 (%).".into(),
            (TargetError::Year(y), Lang::Ja) => {
                format!("年度 {y} は範囲外です。2000〜2100 の年度（例: 2026）を入力してください。")
            }
            (TargetError::Year(y), Lang::En) => {
                format!("Fiscal year {y} is out of range. Enter a year from 2000 to 2100.")
            }
        }
    }
}

/// A target as staff typed it, checked: a known indicator, a year from
/// 2000 to 2100, a finite value of 0 or more (at most 100 for a rate).
pub fn checked_target(year: i32, indicator: &str, value: &str) -> Result<f64, TargetError> {
    let def = DEFS
        .iter()
        .find(|d| d.id == indicator.trim())
        .ok_or_else(|| TargetError::UnknownIndicator(indicator.trim().into()))?;
    if !(2000..=2100).contains(&year) {
        return Err(TargetError::Year(year));
    }
    let v: f64 = value
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| TargetError::NotANumber(value.trim().into()))?;
    if v < 0.0 {
        return Err(TargetError::Negative);
    }
    if def.unit == Unit::Percent && v > 100.0 {
        return Err(TargetError::OverHundred);
    }
    Ok(v)
}
