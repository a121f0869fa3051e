//! Placeholder: the referral form is being written (see issue 2 part 6).
use serde::{Deserialize, Serialize};
/// 連絡票
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Referral {}
