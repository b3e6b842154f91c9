//! Webhook deliveries, verified and decoded without I/O: the `realtime.call.incoming` event a
//! SIP call starts with, and any other event the platform sends.
//!
//! OpenAI (and Azure OpenAI) sign webhooks by [Standard Webhooks]: three headers,
//! `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature` (space-separated
//! `v1,<base64>` signatures, several during a key rotation), where a signature is the base64
//! HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed with the secret (`whsec_` then the key in
//! base64). [`WebhookVerifier`] checks them as the standard says: every header present, the
//! timestamp within a tolerance of `now` (five minutes by default; `now` is passed in, this
//! module reads no clock), and one of the `v1` signatures matching, compared in constant time
//! (`ring::hmac::verify`). It accepts what the official `openai` Python SDK's
//! `client.webhooks.verify_signature` accepts, and [`WebhookSecret::sign`] makes signatures it
//! accepts (a test runs it).
//!
//! Each refusal is typed ([`WebhookError`]): a missing header, a bad timestamp, a stale one, a
//! bad signature, a body that does not decode. Secrets never show in `Debug`.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use realtime_net::webhook::{WebhookPayload, WebhookSecret, WebhookVerifier};
//!
//! let secret = WebhookSecret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let body = br#"{"object":"event","id":"evt_1","type":"realtime.call.incoming","created_at":1750287018,
//!   "data":{"call_id":"rtc_123","sip_headers":[{"name":"From","value":"sip:+14155550100@example.com"}]}}"#;
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_287_078);
//! let signature = secret.sign("wh_1", 1_750_287_078, body);
//! let headers = [
//!     ("webhook-id", "wh_1"),
//!     ("webhook-timestamp", "1750287078"),
//!     ("webhook-signature", signature.as_str()),
//! ];
//! let event = WebhookVerifier::new(secret).unwrap(headers, body, now)?;
//! let WebhookPayload::RealtimeCallIncoming(call) = &event.payload else { panic!() };
//! assert_eq!(call.call_id.as_str(), "rtc_123");
//! assert_eq!(call.sip_header("from"), Some("sip:+14155550100@example.com"));
//! # Ok::<(), realtime_net::webhook::WebhookError>(())
//! ```
//!
//! [Standard Webhooks]: https://www.standardwebhooks.com/

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::hmac;
use serde::Deserialize;
use serde_json::Value;

use crate::rest::RealtimeCallId;

/// The prefix of a Standard Webhooks secret.
const SECRET_PREFIX: &str = "whsec_";

/// The tolerance of [`WebhookVerifier::new`]: five minutes either way, as the standard and the
/// SDKs have it.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// A webhook signing secret: `whsec_` and the key in base64 (what the platform shows), or any
/// other string, whose bytes are the key (as the `openai` SDKs take it). Shown as `***` in
/// `Debug`.
#[derive(Clone)]
pub struct WebhookSecret {
    key: hmac::Key,
    raw: Vec<u8>,
}

/// Verifies deliveries signed with a [`WebhookSecret`]; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct WebhookVerifier {
    secret: WebhookSecret,
    tolerance: Duration,
}

/// A verified (or decoded) webhook event: the envelope and the typed payload.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookEvent {
    /// The event's id (`evt_…`), the same on every delivery attempt of it.
    pub id: String,
    /// The event type (`realtime.call.incoming`, `batch.completed`, ...).
    pub event_type: String,
    /// When the event was created (Unix seconds).
    pub created_at: i64,
    /// What it says.
    pub payload: WebhookPayload,
    /// The whole JSON body.
    pub raw: Value,
}

/// What a webhook event says.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum WebhookPayload {
    /// `realtime.call.incoming`: a SIP call waits to be accepted, rejected or referred.
    ///
    /// [API reference](https://platform.openai.com/docs/api-reference/webhook-events/realtime/call/incoming)
    RealtimeCallIncoming(IncomingCall),
    /// Any other event type (the platform's batch, response, fine-tuning, eval and video
    /// events, `live.call.incoming`, and types added later): its `data`, as it came.
    Other(Value),
}

/// An incoming SIP call (`realtime.call.incoming`'s `data`).
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct IncomingCall {
    /// The call, for [`AcceptCall`](crate::rest::AcceptCall) and the other call controls, and
    /// for the sideband WebSocket.
    pub call_id: RealtimeCallId,
    /// The headers of the SIP INVITE, in order.
    pub sip_headers: Vec<SipHeader>,
}

/// A header of a SIP INVITE.
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, Eq, PartialEq)]
pub struct SipHeader {
    /// Its name (`From`, `To`, `Call-ID`, ...).
    pub name: String,
    /// Its value.
    pub value: String,
}

/// Why a delivery was refused.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
pub enum WebhookError {
    /// A required header is missing (`webhook-id`, `webhook-timestamp` or `webhook-signature`).
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not a number of seconds.
    #[error("the webhook-timestamp header {0:?} is not Unix seconds")]
    InvalidTimestamp(String),
    /// The timestamp is further from `now` than the tolerance (too old: a replay, or a late
    /// retry; too new: a clock off).
    #[error(
        "the webhook timestamp {timestamp} is {} s {} now ({now}); the tolerance is {} s",
        timestamp.abs_diff(*now),
        if timestamp < now { "before" } else { "after" },
        tolerance.as_secs()
    )]
    StaleTimestamp {
        /// The delivery's timestamp (Unix seconds).
        timestamp: i64,
        /// The time it was checked at (Unix seconds).
        now: i64,
        /// The tolerance.
        tolerance: Duration,
    },
    /// No `v1` signature matches: the body or a header was changed, or the secret is not
    /// this endpoint's.
    #[error("no webhook signature matches (is the secret this endpoint's?)")]
    BadSignature,
    /// The body is not a webhook event (not JSON, no `type`, or an event missing what its
    /// type requires).
    #[error("malformed webhook body: {0}")]
    MalformedBody(String),
    /// The secret is unusable: empty, or `whsec_` followed by something that is not base64
    /// (the caller's mistake).
    #[error("invalid webhook secret: {0}")]
    InvalidSecret(&'static str),
}

impl WebhookSecret {
    /// Reads a secret: `whsec_<base64 key>`, or any other string, whose UTF-8 bytes are the key
    /// (the `openai` SDKs' rule).
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidSecret`] for an empty key or bad base64 after `whsec_`.
    pub fn new(secret: &str) -> Result<Self, WebhookError> {
        let secret = secret.trim();
        let raw = match secret.strip_prefix(SECRET_PREFIX) {
            Some(encoded) => BASE64
                .decode(encoded)
                .map_err(|_| WebhookError::InvalidSecret("not base64 after whsec_"))?,
            None => secret.as_bytes().to_vec(),
        };
        if raw.is_empty() {
            return Err(WebhookError::InvalidSecret("the key is empty"));
        }
        Ok(Self::from_key(raw))
    }

    /// A secret from its key bytes.
    pub fn from_key(key: impl Into<Vec<u8>>) -> Self {
        let raw = key.into();
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &raw),
            raw,
        }
    }

    /// The secret as the platform writes it: `whsec_` and the key in base64. It is the secret:
    /// be careful where it goes.
    pub fn to_whsec(&self) -> String {
        format!("{SECRET_PREFIX}{}", BASE64.encode(&self.raw))
    }

    /// The `v1,<base64>` signature of a delivery.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = hmac::sign(&self.key, &signed_content(id, &timestamp.to_string(), body));
        format!("v1,{}", BASE64.encode(tag.as_ref()))
    }

    /// The three headers of a signed delivery: `webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`.
    pub fn headers(&self, id: &str, timestamp: i64, body: &[u8]) -> [(&'static str, String); 3] {
        [
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", self.sign(id, timestamp, body)),
        ]
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

impl WebhookVerifier {
    /// A verifier for deliveries signed with `secret`, with the default tolerance (five
    /// minutes).
    pub fn new(secret: WebhookSecret) -> Self {
        Self {
            secret,
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// Sets how far the delivery's timestamp may be from `now`, either way.
    #[must_use]
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Verifies a delivery: the headers (names case-insensitive; other headers are ignored),
    /// the body exactly as received, and the time to check the timestamp against.
    ///
    /// # Errors
    ///
    /// [`WebhookError::MissingHeader`], [`WebhookError::InvalidTimestamp`],
    /// [`WebhookError::StaleTimestamp`] or [`WebhookError::BadSignature`].
    pub fn verify<I, K, V>(
        &self,
        headers: I,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), WebhookError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let (mut id, mut timestamp, mut signatures) = (None, None, None);
        for (name, value) in headers {
            let name = name.as_ref();
            let slot = if name.eq_ignore_ascii_case("webhook-id") {
                &mut id
            } else if name.eq_ignore_ascii_case("webhook-timestamp") {
                &mut timestamp
            } else if name.eq_ignore_ascii_case("webhook-signature") {
                &mut signatures
            } else {
                continue;
            };
            if slot.is_none() {
                *slot = Some(value.as_ref().to_owned());
            }
        }
        let id = id.ok_or(WebhookError::MissingHeader("webhook-id"))?;
        let timestamp = timestamp.ok_or(WebhookError::MissingHeader("webhook-timestamp"))?;
        let signatures = signatures.ok_or(WebhookError::MissingHeader("webhook-signature"))?;
        let seconds: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| WebhookError::InvalidTimestamp(timestamp.clone()))?;
        let now = unix_seconds(now);
        let tolerance = i64::try_from(self.tolerance.as_secs()).unwrap_or(i64::MAX);
        if now.saturating_sub(seconds) > tolerance || seconds.saturating_sub(now) > tolerance {
            return Err(WebhookError::StaleTimestamp {
                timestamp: seconds,
                now,
                tolerance: self.tolerance,
            });
        }
        let content = signed_content(&id, &timestamp, body);
        let matches = signatures.split_whitespace().any(|candidate| {
            let encoded = match candidate.split_once(',') {
                Some(("v1", encoded)) => encoded,
                // Another scheme (`v1a`, asymmetric): not ours to check.
                Some(_) => return false,
                // A bare signature, as the `openai` SDKs accept.
                None => candidate,
            };
            BASE64
                .decode(encoded)
                .is_ok_and(|tag| hmac::verify(&self.secret.key, &content, &tag).is_ok())
        });
        if matches {
            Ok(())
        } else {
            Err(WebhookError::BadSignature)
        }
    }

    /// [`verify`](Self::verify)s a delivery, then decodes its body.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify), and [`WebhookError::MalformedBody`].
    pub fn unwrap<I, K, V>(
        &self,
        headers: I,
        body: &[u8],
        now: SystemTime,
    ) -> Result<WebhookEvent, WebhookError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        self.verify(headers, body, now)?;
        WebhookEvent::decode(body)
    }
}

impl WebhookEvent {
    /// Decodes a body, without verifying anything (use [`WebhookVerifier::unwrap`] for
    /// deliveries).
    ///
    /// # Errors
    ///
    /// [`WebhookError::MalformedBody`] for a body that is not a JSON object with a string
    /// `type`, or a `realtime.call.incoming` without a call id.
    pub fn decode(body: &[u8]) -> Result<Self, WebhookError> {
        #[derive(Deserialize)]
        struct Envelope {
            #[serde(rename = "type")]
            event_type: String,
            #[serde(default)]
            id: String,
            #[serde(default)]
            created_at: i64,
            #[serde(default)]
            data: Value,
        }
        #[derive(Deserialize)]
        struct CallData {
            call_id: RealtimeCallId,
            #[serde(default)]
            sip_headers: Vec<SipHeader>,
        }
        let malformed = |error: serde_json::Error| WebhookError::MalformedBody(error.to_string());
        let raw: Value = serde_json::from_slice(body).map_err(malformed)?;
        let envelope: Envelope = serde_json::from_value(raw.clone()).map_err(malformed)?;
        let payload = match envelope.event_type.as_str() {
            "realtime.call.incoming" => {
                let data: CallData = serde_json::from_value(envelope.data).map_err(|error| {
                    WebhookError::MalformedBody(format!("realtime.call.incoming data: {error}"))
                })?;
                if data.call_id.as_str().is_empty() {
                    return Err(WebhookError::MalformedBody(
                        "realtime.call.incoming has an empty call_id".to_owned(),
                    ));
                }
                WebhookPayload::RealtimeCallIncoming(IncomingCall {
                    call_id: data.call_id,
                    sip_headers: data.sip_headers,
                })
            }
            _ => WebhookPayload::Other(envelope.data),
        };
        Ok(Self {
            id: envelope.id,
            event_type: envelope.event_type,
            created_at: envelope.created_at,
            payload,
            raw,
        })
    }
}

impl IncomingCall {
    /// A SIP header's value (the first, if repeated); the name is case-insensitive.
    pub fn sip_header(&self, name: &str) -> Option<&str> {
        self.sip_headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .map(|header| header.value.as_str())
    }

    /// Who is calling: the `From` header.
    pub fn from(&self) -> Option<&str> {
        self.sip_header("From")
    }

    /// Whom they called: the `To` header.
    pub fn to(&self) -> Option<&str> {
        self.sip_header("To")
    }
}

impl SipHeader {
    /// A header.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// `{id}.{timestamp}.{body}`, what the signature covers.
fn signed_content(id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
    content.extend_from_slice(id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

/// Unix seconds of a time (negative before the epoch).
fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks example: this secret, id, timestamp and body give this signature
    /// (the specification's test vector; recomputed with Python's `hmac` and `hashlib` when
    /// this test was written).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn at(seconds: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap())
    }

    fn headers(signature: &str) -> Vec<(&'static str, String)> {
        vec![
            ("webhook-id", ID.to_owned()),
            ("webhook-timestamp", TIMESTAMP.to_string()),
            ("webhook-signature", signature.to_owned()),
        ]
    }

    fn verifier() -> WebhookVerifier {
        WebhookVerifier::new(WebhookSecret::new(SECRET).unwrap())
    }

    #[test]
    fn the_standard_test_vector() {
        let secret = WebhookSecret::new(SECRET).unwrap();
        assert_eq!(secret.sign(ID, TIMESTAMP, BODY), SIGNATURE);
        assert_eq!(secret.to_whsec(), SECRET);
        assert_eq!(
            verifier().verify(headers(SIGNATURE), BODY, at(TIMESTAMP)),
            Ok(())
        );
        assert!(!format!("{:?}", verifier()).contains("MfKQ"));
    }

    #[test]
    fn several_signatures_one_must_match() {
        let other = WebhookSecret::from_key(b"another key".to_vec()).sign(ID, TIMESTAMP, BODY);
        let rotated = format!("v1a,c29tZXRoaW5n {other} {SIGNATURE}");
        assert_eq!(
            verifier().verify(headers(&rotated), BODY, at(TIMESTAMP)),
            Ok(())
        );
        let bare = SIGNATURE.trim_start_matches("v1,");
        assert_eq!(
            verifier().verify(headers(bare), BODY, at(TIMESTAMP)),
            Ok(())
        );
        assert_eq!(
            verifier().verify(headers(&other), BODY, at(TIMESTAMP)),
            Err(WebhookError::BadSignature)
        );
        for wrong in [
            "",
            "v1,",
            "v1,!!!",
            "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ] {
            assert_eq!(
                verifier().verify(headers(wrong), BODY, at(TIMESTAMP)),
                Err(WebhookError::BadSignature),
                "{wrong:?}"
            );
        }
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let changed_body = br#"{"test": 2432232315}"#;
        assert_eq!(
            verifier().verify(headers(SIGNATURE), changed_body, at(TIMESTAMP)),
            Err(WebhookError::BadSignature)
        );
        let mut changed_id = headers(SIGNATURE);
        changed_id[0].1 = "msg_other".to_owned();
        assert_eq!(
            verifier().verify(changed_id, BODY, at(TIMESTAMP)),
            Err(WebhookError::BadSignature)
        );
        let mut changed_time = headers(SIGNATURE);
        changed_time[1].1 = (TIMESTAMP + 1).to_string();
        assert_eq!(
            verifier().verify(changed_time, BODY, at(TIMESTAMP)),
            Err(WebhookError::BadSignature)
        );
        let raw_secret =
            WebhookVerifier::new(WebhookSecret::new("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap());
        assert_eq!(
            raw_secret.verify(headers(SIGNATURE), BODY, at(TIMESTAMP)),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn timestamps_within_the_tolerance_only() {
        let verifier = verifier();
        for offset in [-300, 0, 300] {
            assert_eq!(
                verifier.verify(headers(SIGNATURE), BODY, at(TIMESTAMP + offset)),
                Ok(())
            );
        }
        for offset in [-301, 301, 100_000] {
            assert!(matches!(
                verifier.verify(headers(SIGNATURE), BODY, at(TIMESTAMP + offset)),
                Err(WebhookError::StaleTimestamp {
                    timestamp: TIMESTAMP,
                    ..
                })
            ));
        }
        let strict = self::verifier().with_tolerance(Duration::from_secs(10));
        assert!(
            strict
                .verify(headers(SIGNATURE), BODY, at(TIMESTAMP + 11))
                .is_err()
        );
        let error = verifier
            .verify(headers(SIGNATURE), BODY, at(TIMESTAMP + 600))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the webhook timestamp 1614265330 is 600 s before now (1614265930); the tolerance is 300 s"
        );
        let mut garbage = headers(SIGNATURE);
        garbage[1].1 = "yesterday".to_owned();
        assert_eq!(
            verifier.verify(garbage, BODY, at(TIMESTAMP)),
            Err(WebhookError::InvalidTimestamp("yesterday".to_owned()))
        );
        assert!(
            verifier
                .verify(
                    headers(SIGNATURE),
                    BODY,
                    UNIX_EPOCH - Duration::from_secs(5)
                )
                .is_err()
        );
    }

    #[test]
    fn missing_headers_and_bad_secrets() {
        for index in 0..3 {
            let mut partial = headers(SIGNATURE);
            let (name, _) = partial.remove(index);
            assert_eq!(
                verifier().verify(partial, BODY, at(TIMESTAMP)),
                Err(WebhookError::MissingHeader(name))
            );
        }
        let shouted: Vec<(String, String)> = headers(SIGNATURE)
            .into_iter()
            .map(|(name, value)| (name.to_ascii_uppercase(), value))
            .collect();
        assert_eq!(verifier().verify(shouted, BODY, at(TIMESTAMP)), Ok(()));
        assert!(matches!(
            WebhookSecret::new("whsec_***"),
            Err(WebhookError::InvalidSecret(_))
        ));
        assert!(matches!(
            WebhookSecret::new("whsec_"),
            Err(WebhookError::InvalidSecret(_))
        ));
        assert!(matches!(
            WebhookSecret::new(""),
            Err(WebhookError::InvalidSecret(_))
        ));
    }

    #[test]
    fn events_decode_and_unknown_types_are_data() {
        let body = br#"{"object":"event","id":"evt_abc123","type":"realtime.call.incoming","created_at":1719168000,"data":{"call_id":"rtc_479a","sip_headers":[{"name":"Max-Forwards","value":"63"},{"name":"From","value":"sip:+1@x"},{"name":"To","value":"sip:+2@x"}]}}"#;
        let event = WebhookEvent::decode(body).unwrap();
        assert_eq!(
            (event.id.as_str(), event.created_at),
            ("evt_abc123", 1_719_168_000)
        );
        let WebhookPayload::RealtimeCallIncoming(call) = &event.payload else {
            panic!("{event:?}");
        };
        assert_eq!(call.call_id.as_str(), "rtc_479a");
        assert_eq!(
            (call.from(), call.to()),
            (Some("sip:+1@x"), Some("sip:+2@x"))
        );
        assert_eq!(call.sip_header("max-forwards"), Some("63"));

        let other =
            br#"{"id":"evt_2","type":"batch.completed","created_at":1,"data":{"id":"batch_1"}}"#;
        let event = WebhookEvent::decode(other).unwrap();
        assert_eq!(
            event.payload,
            WebhookPayload::Other(serde_json::json!({"id": "batch_1"}))
        );

        for bad in [
            &b"not json"[..],
            b"[]",
            br#"{"id":"x"}"#,
            br#"{"type":"realtime.call.incoming","data":{}}"#,
            br#"{"type":"realtime.call.incoming","data":{"call_id":""}}"#,
        ] {
            assert!(
                matches!(
                    WebhookEvent::decode(bad),
                    Err(WebhookError::MalformedBody(_))
                ),
                "{bad:?}"
            );
        }
        // Verified first: a bad signature on a good body is refused before decoding.
        let secret = WebhookSecret::new(SECRET).unwrap();
        let good = secret.headers("wh_1", TIMESTAMP, body);
        let event = verifier()
            .unwrap(good.clone(), body, at(TIMESTAMP))
            .unwrap();
        assert_eq!(event.event_type, "realtime.call.incoming");
        assert_eq!(
            verifier().unwrap(good, other, at(TIMESTAMP)),
            Err(WebhookError::BadSignature)
        );
    }
}
