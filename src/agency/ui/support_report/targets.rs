//! `POST /support/report/targets`: a fiscal year's 目標値 for one
//! indicator (replacing the one set before). A bad entry is refused at its
//! field with 400, and nothing is stored.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{PeriodQuery, View, render};
use crate::agency::support_ledger::report::{Period, TargetError, checked_target};
use crate::agency::ui::UiState;
use crate::agency::ui::auth::SignedIn;
use crate::agency::ui::error::{PageError, center_only};
use crate::agency::ui::lang::PageLang;
use crate::agency::ui::meetings::form::Problems;

/// The target form as entered (shown again when refused).
#[derive(Deserialize, Default)]
pub struct Entered {
    #[serde(default)]
    pub year: String,
    #[serde(default)]
    pub indicator: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Deserialize)]
pub struct TargetForm {
    #[serde(default)]
    csrf: String,
    /// The period the page showed, to go back to.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(flatten)]
    entered: Entered,
}

/// Keep the target, then back to the report of the same period.
#[tracing::instrument(skip_all)]
pub async fn set(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Form(form): Form<TargetForm>,
) -> Result<Response, PageError> {
    center_only(&state.node)?;
    signed.check_csrf(&form.csrf)?;
    let checked = match form.entered.year.trim().parse::<i32>() {
        Ok(year) => {
            checked_target(year, &form.entered.indicator, &form.entered.value).map(|v| (year, v))
        }
        Err(_) => Err(TargetError::Year(0)),
    };
    let (year, value) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            let unreadable = form.entered.year.trim().parse::<i32>().is_err();
            let text = match &e {
                TargetError::Year(_) if unreadable => lang
                    .pick(
                        "年度を 2026 のように数字で入力してください。",
                        "Enter the fiscal year as a number, e.g. 2026.",
                    )
                    .to_owned(),
                e => e.text(lang),
            };
            let mut problems = Problems::default();
            problems.add(e.field(), text);
            let view = View {
                q: PeriodQuery {
                    from: form.from,
                    to: form.to,
                    saved: String::new(),
                },
                target: form.entered,
                target_problems: problems,
            };
            return render(&state, &signed, lang, view).await;
        }
    };
    state
        .node
        .records()
        .set_support_target(year, form.entered.indicator.trim(), value)
        .await?;
    // Only a period that parses goes back into the address.
    let back = match Period::parse(&form.from, &form.to) {
        Ok(p) => format!("/support/report?from={}&to={}&saved=1", p.from, p.to),
        Err(_) => "/support/report?saved=1".to_owned(),
    };
    Ok(Redirect::to(&back).into_response())
}
