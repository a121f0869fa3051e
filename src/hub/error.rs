//! The hub's refusals, mapped once to HTTP responses and socket error frames.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::protocol::{ErrorBody, ErrorCode};
use crate::store::StoreError;

/// A refusal: a code, a message for staff in Japanese and in English.
#[derive(Debug, thiserror::Error)]
#[error("{code:?}: {message_en}")]
pub struct HubError {
    /// The code clients act on.
    pub code: ErrorCode,
    /// 日本語の説明
    pub message: String,
    /// English explanation.
    pub message_en: String,
    /// Seconds after which a retry may succeed (`Retry-After`), for a
    /// refusal that only asks the client to wait.
    pub retry_after: Option<u64>,
}

impl HubError {
    pub(crate) fn new(
        code: ErrorCode,
        message: impl Into<String>,
        message_en: impl Into<String>,
    ) -> Self {
        Self {
            code,
            message: message.into(),
            message_en: message_en.into(),
            retry_after: None,
        }
    }

    /// Tell the client to retry after `secs` seconds.
    pub(crate) fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// A failure of the hub itself. The cause goes to the log; the client
    /// gets an opaque message and knows nothing was stored.
    pub(crate) fn internal(cause: &StoreError) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            ErrorCode::Internal,
            "ハブ内部のエラーです。何も保存されていません。再送してください。",
            "internal hub error; nothing was stored, please retry",
        )
    }

    /// A refusal the store's policy returned.
    pub(crate) fn from_body(body: ErrorBody) -> Self {
        Self::new(body.code, body.message, body.message_en)
    }

    /// The body clients receive.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code,
            message: self.message.clone(),
            message_en: self.message_en.clone(),
        }
    }

    fn status(&self) -> StatusCode {
        use ErrorCode::*;
        match self.code {
            UnknownAgency | CertificateRevoked | SenderMismatch | NotPermitted => {
                StatusCode::FORBIDDEN
            }
            BadSignature | Malformed | UnknownFrame | UnsupportedVersion | UnknownSequence => {
                StatusCode::BAD_REQUEST
            }
            UnknownRecipient | NoRecipients | InvalidRecipients => StatusCode::UNPROCESSABLE_ENTITY,
            EnvelopeTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            TooManyConnections | RateLimited => StatusCode::TOO_MANY_REQUESTS,
            EnvelopeIdReused | InvalidTransition | MeetingCancelled | StalePlanVersion => {
                StatusCode::CONFLICT
            }
            UnknownCase | UnknownReferral | UnknownMeeting | UnknownPlan => StatusCode::NOT_FOUND,
            LegalBasisMissing | ConsentNotFound | ConsentNotGranted | ConsentExpired
            | ConsentWithdrawn | RecipientNotCovered | CategoryNotCovered | PurposeNotCovered
            | SenderNotCovered | CaseNotRegistered | NotUrgent | InvalidAction | MeetingTime
            | NotAttended => StatusCode::UNPROCESSABLE_ENTITY,
            // The hub never answers a code it does not know itself.
            Internal | Unknown => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        match self.code {
            ErrorCode::Internal => {}
            // Counted where they are decided: one line each would let a
            // flood write the log.
            ErrorCode::RateLimited | ErrorCode::TooManyConnections => {
                tracing::debug!(code = ?self.code, reason = %self.message_en, "refused")
            }
            _ => tracing::warn!(code = ?self.code, reason = %self.message_en, "refused"),
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}
