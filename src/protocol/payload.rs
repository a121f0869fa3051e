//! What is inside the ciphertext: the author and the message body. The hub
//! never sees any of this.

use serde::{Deserialize, Serialize};

use super::referral::Referral;

/// The member of staff who wrote the message: supporters name themselves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// 氏名
    pub name: String,
    /// 職種・役職, e.g. 助産師
    pub role: String,
    /// 連絡先 (phone or extension)
    pub contact: String,
}

/// The decrypted content of an envelope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// Who wrote it.
    pub author: Author,
    /// The message itself; its variant matches the envelope's `kind`.
    pub body: Body,
}

/// The message body, one variant per [`super::MessageKind`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// A referral (連絡票).
    Referral(Box<Referral>),
}

impl Body {
    /// The envelope kind this body travels as.
    pub fn kind(&self) -> super::MessageKind {
        match self {
            Body::Referral(_) => super::MessageKind::Referral,
        }
    }
}

impl Body {
    /// The information categories this body actually contains.
    pub fn categories(&self) -> std::collections::BTreeSet<super::InfoCategory> {
        match self {
            Body::Referral(r) => r.categories(),
        }
    }
}
