//! An indicator's numbers as staff read them, the same in the CLI's table
//! and on the page: whole numbers without decimals, others to one place.

use super::{Indicator, Value};
use crate::i18n::Lang;

/// A number as staff read it.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

impl Indicator {
    /// 実績値 with its unit, or a dash when there was nothing to measure.
    pub fn actual_text(&self, lang: Lang) -> String {
        match self.actual {
            Some(a) => format!("{}{}", number(a), self.unit),
            None => lang.pick("—（対象なし）", "— (none)").into(),
        }
    }

    /// 目標値 with its unit, or a dash.
    pub fn target_text(&self) -> String {
        self.target
            .map_or("—".into(), |t| format!("{}{}", number(t), self.unit))
    }

    /// 達成割合, or a dash.
    pub fn achievement_text(&self) -> String {
        self.achievement.map_or("—".into(), |a| format!("{a:.1}%"))
    }

    /// 判定, or a dash.
    pub fn judgement_text(&self, lang: Lang) -> &'static str {
        self.judgement.map_or("—", |j| j.label(lang))
    }
}

impl Value {
    /// The numerator and denominator of a rate, the count, or a duration's
    /// 90th percentile and how many were measured.
    pub fn detail(&self, lang: Lang) -> String {
        match self {
            Value::Count { count } => count.to_string(),
            Value::Rate {
                numerator,
                denominator,
            } => format!("{numerator}/{denominator}"),
            Value::Days { measured, p90, .. } => match p90 {
                Some(p) => format!(
                    "{} {}{} / {measured}{}",
                    lang.pick("90%点", "p90"),
                    number(*p),
                    lang.pick("日", " days"),
                    lang.pick("件", ""),
                ),
                None => format!("0{}", lang.pick("件", "")),
            },
        }
    }
}
