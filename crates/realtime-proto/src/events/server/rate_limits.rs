//! The `rate_limits.updated` server event.

use serde::{Deserialize, Serialize};

/// `rate_limits.updated`: the current rate limits. Sent at the start of a response, though not
/// reliably; never wait for it.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/rate_limits/updated)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct RateLimitsUpdated {
    /// One entry per limit.
    pub rate_limits: Vec<RateLimit>,
}

impl RateLimitsUpdated {
    /// Builds the event.
    pub fn new(rate_limits: Vec<RateLimit>) -> Self {
        Self { rate_limits }
    }
}

/// One rate limit.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Serialize)]
pub struct RateLimit {
    /// `requests` or `tokens`.
    #[serde(default, deserialize_with = "crate::warning::lenient_option")]
    pub name: Option<String>,
    /// The maximum.
    #[serde(default, deserialize_with = "crate::warning::lenient_option")]
    pub limit: Option<u64>,
    /// What is left.
    #[serde(default, deserialize_with = "crate::warning::lenient_option")]
    pub remaining: Option<u64>,
    /// Seconds until the limit resets.
    #[serde(default, deserialize_with = "crate::warning::lenient_option")]
    pub reset_seconds: Option<f64>,
}

impl RateLimit {
    /// A limit with every field known.
    pub fn new(name: impl Into<String>, limit: u64, remaining: u64, reset_seconds: f64) -> Self {
        Self {
            name: Some(name.into()),
            limit: Some(limit),
            remaining: Some(remaining),
            reset_seconds: Some(reset_seconds),
        }
    }
}
