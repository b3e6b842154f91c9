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

/// One rate limit.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Serialize)]
pub struct RateLimit {
    /// `requests` or `tokens`.
    #[serde(default)]
    pub name: Option<String>,
    /// The maximum.
    #[serde(default)]
    pub limit: Option<u64>,
    /// What is left.
    #[serde(default)]
    pub remaining: Option<u64>,
    /// Seconds until the limit resets.
    #[serde(default)]
    pub reset_seconds: Option<f64>,
}
