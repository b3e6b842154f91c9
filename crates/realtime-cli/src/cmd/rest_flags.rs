//! What the REST commands (`token`, `call`, `answer-calls`) share: where the REST API is (flags,
//! then the environment, then the bundled mock server), the sideband of a call there, and the
//! wording of REST errors.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use realtime_mock::MockServer;
use realtime_tokio::ConnectOptions;
use realtime_tokio::Credential;
use realtime_tokio::net::handshake::Secret;
use realtime_tokio::rest::{RealtimeCallId, RestError, RestOptions};

use crate::CliError;
use crate::endpoint_args::EndpointArgs;
use crate::session::flags::NetworkFlags;

/// Where the REST calls go. With none of these flags and none of their environment variables,
/// the command runs against the bundled mock server.
#[derive(Clone, Debug, Default, clap::Args)]
pub(crate) struct RestFlags {
    /// The REST base URL: `https://api.openai.com/v1`, a relay, or `realtime mock`'s
    /// `http://127.0.0.1:PORT/v1`.
    #[arg(long, value_name = "URL", global = true)]
    base_url: Option<String>,
    /// An Azure OpenAI resource: its name, or `https://NAME.openai.azure.com` (its v1 API)
    /// [env: AZURE_OPENAI_ENDPOINT].
    #[arg(long, value_name = "NAME|URL", global = true)]
    azure_endpoint: Option<String>,
    /// The API key [env: OPENAI_API_KEY, or AZURE_OPENAI_API_KEY for Azure].
    #[arg(long, value_name = "KEY", global = true)]
    api_key: Option<String>,
    #[command(flatten)]
    network: NetworkFlags,
}

/// A resolved REST target: the options, and how to open a call's sideband there.
#[derive(Debug)]
pub(crate) struct RestTarget {
    pub(crate) rest: RestOptions,
    sideband: Sideband,
    /// The proxy and trust flags, for the sideband too.
    network: EndpointArgs,
    /// The bundled mock server, when nothing was configured; it stops when dropped.
    pub(crate) mock: Option<MockServer>,
}

/// The keys are `Secret`s: `Debug` shows `***`.
#[derive(Debug)]
enum Sideband {
    OpenAi(Secret),
    Azure {
        resource: String,
        key: Secret,
    },
    /// A realtime endpoint URL (`ws://…/v1/realtime`) and the key, if any.
    At(String, Option<Secret>),
}

/// An environment variable, if set and not blank.
pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

impl RestFlags {
    /// The target the flags (then the environment) name; the bundled mock server when they
    /// name none.
    pub(crate) fn resolve(&self) -> Result<RestTarget, CliError> {
        let mut target = self.resolve_endpoint()?;
        let mut network = EndpointArgs::default();
        self.network.fill(&mut network);
        let usage =
            |error: crate::endpoint_args::EndpointArgsError| CliError::usage(error.to_string());
        target.rest = target
            .rest
            .with_proxy(network.proxy_options(env).map_err(usage)?)
            .with_tls(network.tls_options().map_err(usage)?);
        target.network = network;
        Ok(target)
    }

    fn resolve_endpoint(&self) -> Result<RestTarget, CliError> {
        let timeout = Duration::from_secs(30);
        if let Some(base) = &self.base_url {
            let mut rest = RestOptions::url(base.clone()).with_timeout(timeout);
            if let Some(key) = &self.api_key {
                rest = rest.with_api_key(key.clone());
            }
            let websocket = format!("{}/realtime", rest.base_url)
                .replacen("https://", "wss://", 1)
                .replacen("http://", "ws://", 1);
            return Ok(RestTarget {
                rest,
                sideband: Sideband::At(websocket, self.api_key.clone().map(Secret::new)),
                network: EndpointArgs::default(),
                mock: None,
            });
        }
        if let Some(resource) = self
            .azure_endpoint
            .clone()
            .or_else(|| env("AZURE_OPENAI_ENDPOINT"))
        {
            let key = self
                .api_key
                .clone()
                .or_else(|| env("AZURE_OPENAI_API_KEY"))
                .ok_or_else(|| {
                    CliError::usage_with_hint(
                        "Azure needs an API key",
                        "pass --api-key KEY or set AZURE_OPENAI_API_KEY",
                    )
                })?;
            return Ok(RestTarget {
                rest: RestOptions::azure(resource.clone(), key.clone()).with_timeout(timeout),
                sideband: Sideband::Azure {
                    resource,
                    key: Secret::new(key),
                },
                network: EndpointArgs::default(),
                mock: None,
            });
        }
        if let Some(key) = self.api_key.clone().or_else(|| env("OPENAI_API_KEY")) {
            return Ok(RestTarget {
                rest: RestOptions::openai(key.clone()).with_timeout(timeout),
                sideband: Sideband::OpenAi(Secret::new(key)),
                network: EndpointArgs::default(),
                mock: None,
            });
        }
        let mock = crate::session::bundled::start().map_err(|error| {
            CliError::usage(format!("could not start the bundled mock server: {error}"))
        })?;
        Ok(RestTarget {
            rest: RestOptions::url(mock.rest_url()).with_timeout(timeout),
            sideband: Sideband::At(mock.realtime_url(), None),
            network: EndpointArgs::default(),
            mock: Some(mock),
        })
    }
}

impl RestTarget {
    /// The sideband WebSocket of a call at this target.
    pub(crate) fn sideband(&self, call_id: &RealtimeCallId) -> ConnectOptions {
        let options = match &self.sideband {
            Sideband::OpenAi(key) => ConnectOptions::sideband(call_id, key.expose()),
            Sideband::Azure { resource, key } => {
                ConnectOptions::azure_sideband(resource.clone(), call_id, key.expose())
            }
            Sideband::At(url, key) => {
                let options = ConnectOptions::sideband_at(url.clone(), call_id);
                match key {
                    Some(key) => options.with_credential(Credential::api_key(key.expose())),
                    None => options,
                }
            }
        };
        // Checked when the target was resolved.
        let proxy = self.network.proxy_options(env).unwrap_or_default();
        let tls = self.network.tls_options().unwrap_or_default();
        options
            .with_proxy(proxy)
            .with_tls(tls)
            .with_connect_timeout(Duration::from_secs(15))
    }

    /// Says, on standard error, that the bundled mock server is in use.
    pub(crate) fn note_mock(&self, what: &str) {
        if self.mock.is_some() {
            eprintln!(
                "note: no endpoint configured: using the bundled mock server{what} (set \
                 OPENAI_API_KEY or pass --base-url to use a real one)"
            );
        }
    }
}

/// A failed REST call, worded for the command line: an error status is the call failing (exit
/// 1), the rest means the command could not run (exit 2).
pub(crate) fn rest_error(error: RestError) -> CliError {
    match error {
        RestError::Status(api) => {
            let hint = match api.status {
                401 | 403 => "check the API key: --api-key, OPENAI_API_KEY or AZURE_OPENAI_API_KEY",
                404 => "check the call id (and --base-url)",
                429 => "rate limited: wait and retry",
                500..=599 => "the service failed: retry later",
                _ => "the server's message says what it did not take",
            };
            CliError::session_with_hint(format!("the server refused: {api}"), hint)
        }
        RestError::Malformed(reason) => {
            CliError::session(format!("the server's answer did not read: {reason}"))
        }
        other @ (RestError::Connect { .. } | RestError::Io { .. } | RestError::Timeout(_)) => {
            CliError::usage_with_hint(
                other.to_string(),
                "is the server reachable? check --base-url / --azure-endpoint (and --proxy or \
                 HTTPS_PROXY behind a corporate proxy)",
            )
        }
        other @ RestError::Proxy(_) => CliError::usage_with_hint(
            other.to_string(),
            "check the proxy: --proxy http://USER:PASSWORD@HOST:PORT, or HTTPS_PROXY and NO_PROXY \
             (--no-proxy to connect directly)",
        ),
        other => CliError::usage(other.to_string()),
    }
}

/// A Unix time as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub(crate) fn utc(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let seconds = unix.rem_euclid(86_400);
    // Days since 1970-01-01 to a civil date (the proleptic Gregorian calendar).
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// Now, in Unix seconds.
pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_756_310_470), "2025-08-27T16:01:10Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(-1), "1969-12-31T23:59:59Z");
    }
}
