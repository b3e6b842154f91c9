//! The trace of connecting: the connection's span from the first step, and the events at the
//! connect and at the handshake's result (feature `tracing`, on by default; see
//! `docs/observability.md`).
//!
//! Every adapter connects through the same three calls, so the events read the same on every
//! runtime:
//!
//! 1. [`ConnectTrace::start`] when the attempt starts: makes the span
//!    ([`realtime_proto::trace::connection_span`]) and says `connecting` (INFO) with the host,
//!    the port, whether TLS, and the path and query with every value but the harmless ones
//!    hidden (`model`, `deployment`, `api-version`, `intent`, `call_id`);
//! 2. [`ConnectTrace::failed`] if it fails: `connect failed` (WARN) with the error, or
//!    `handshake refused` (WARN) with the HTTP status and the error code, never the body (a
//!    refusal of a key may quote part of it);
//! 3. [`ConnectTrace::connected`] once the WebSocket is open: `connected` (INFO) with how long
//!    it took, and the session machine, whose events go into the same span.
//!
//! No header is ever recorded, so neither is the credential.

#[cfg(feature = "tracing")]
use std::time::Instant;

use realtime_proto::{Config, Connection};

use crate::handshake::HandshakeRequest;
use crate::options::ConnectError;

/// One connection attempt's trace (see the [module docs](self)). Without the `tracing` feature
/// it is empty and every method does nothing but its job.
#[derive(Debug)]
pub struct ConnectTrace {
    #[cfg(feature = "tracing")]
    span: tracing::Span,
    #[cfg(feature = "tracing")]
    started: Instant,
}

impl ConnectTrace {
    /// An attempt to connect starts: the connection's span is made, and `connecting` said in
    /// it.
    ///
    /// ```
    /// use realtime_net::ConnectOptions;
    /// use realtime_net::trace::ConnectTrace;
    ///
    /// let options = ConnectOptions::openai("gpt-realtime", "sk-secret");
    /// let request = options.handshake.request()?;
    /// let trace = ConnectTrace::start(&options.machine_config(), &request);
    /// // ... TCP, TLS and the upgrade, then:
    /// let machine = trace.connected(options.machine_config());
    /// assert!(!machine.is_closed());
    /// # Ok::<(), realtime_net::ConnectError>(())
    /// ```
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub fn start(config: &Config, request: &HandshakeRequest) -> Self {
        #[cfg(feature = "tracing")]
        {
            let host = request.host_port().ok();
            let span = realtime_proto::trace::connection_span(
                host.as_ref().map_or("", |(host, _)| host.as_str()),
                request.dialect(),
                config.profile,
            );
            Self::connecting(span, request)
        }
        #[cfg(not(feature = "tracing"))]
        Self {}
    }

    /// An attempt to connect again, for a session that goes on (a reconnect): its events go
    /// into the session machine's span.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub fn restart(machine: &Connection, request: &HandshakeRequest) -> Self {
        #[cfg(feature = "tracing")]
        {
            Self::connecting(machine.span().clone(), request)
        }
        #[cfg(not(feature = "tracing"))]
        Self {}
    }

    /// Says `connecting` in `span`, and starts the attempt's clock.
    #[cfg(feature = "tracing")]
    fn connecting(span: tracing::Span, request: &HandshakeRequest) -> Self {
        let host = request.host_port().ok();
        tracing::info!(
            target: "realtime_net",
            parent: &span,
            host = host.as_ref().map(|(host, _)| host.as_str()),
            port = host.as_ref().map(|(_, port)| *port),
            tls = request.is_tls(),
            target = %public_target(request.url()),
            "connecting"
        );
        Self {
            span,
            started: Instant::now(),
        }
    }

    /// [`restart`](Self::restart) for an attempt with `options`; `None` when their handshake
    /// cannot even be asked for (the attempt then fails with that error, untraced).
    pub fn reconnecting(machine: &Connection, options: &crate::ConnectOptions) -> Option<Self> {
        let request = options.handshake.request().ok()?;
        Some(Self::restart(machine, &request))
    }

    /// The attempt failed with `error`: said, and `error` handed back (for `map_err`).
    pub fn failed(&self, error: ConnectError) -> ConnectError {
        #[cfg(feature = "tracing")]
        {
            let elapsed_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            match &error {
                ConnectError::Rejected(rejection) => tracing::warn!(
                    target: "realtime_net",
                    parent: &self.span,
                    status = rejection.status,
                    code = rejection.code.as_deref(),
                    kind = rejection.kind.as_deref(),
                    elapsed_ms,
                    "handshake refused"
                ),
                // The provider's own message may say anything: only that it failed.
                ConnectError::Token(_) => tracing::warn!(
                    target: "realtime_net",
                    parent: &self.span,
                    elapsed_ms,
                    "connect failed: the token provider failed"
                ),
                other => tracing::warn!(
                    target: "realtime_net",
                    parent: &self.span,
                    error = %other,
                    elapsed_ms,
                    "connect failed"
                ),
            }
        }
        error
    }

    /// The WebSocket is open (the server accepted the upgrade): said, and the session machine
    /// made with `config`, its events in this attempt's span.
    pub fn connected(self, config: Config) -> Connection {
        #[cfg(feature = "tracing")]
        {
            let elapsed_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            tracing::info!(target: "realtime_net", parent: &self.span, elapsed_ms, "connected");
            Connection::with_span(config, self.span)
        }
        #[cfg(not(feature = "tracing"))]
        Connection::new(config)
    }

    /// The attempt to connect again succeeded: said (the machine is told by the adapter, with
    /// [`Connection::handle_connected`]).
    pub fn reconnected(self) {
        #[cfg(feature = "tracing")]
        {
            let elapsed_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            tracing::info!(target: "realtime_net", parent: &self.span, elapsed_ms, "connected");
        }
    }
}

/// The URL as it may be recorded: scheme, host, port and path, and the query with the value
/// of every parameter hidden but the harmless ones. No user information.
#[cfg(feature = "tracing")]
fn public_target(url: &str) -> String {
    const SHOWN: [&str; 5] = ["model", "deployment", "api-version", "intent", "call_id"];
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split('#').next().unwrap_or_default();
    let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = address.split_once('/').unwrap_or((address, ""));
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let mut target = format!("{scheme}://{authority}/{path}");
    for (index, pair) in query.split('&').filter(|pair| !pair.is_empty()).enumerate() {
        target.push(if index == 0 { '?' } else { '&' });
        match pair.split_once('=') {
            Some((name, value)) if SHOWN.contains(&name) => {
                target.push_str(name);
                target.push('=');
                target.push_str(value);
            }
            Some((name, _)) => {
                target.push_str(name);
                target.push_str("=***");
            }
            None => target.push_str(pair),
        }
    }
    target
}

#[cfg(all(test, feature = "tracing"))]
mod tests {
    use super::*;

    #[test]
    fn the_target_shows_no_secret() {
        assert_eq!(
            public_target(
                "wss://user:pw@h.example:8443/openai/realtime?api-key=SECRET&deployment=d&api-version=2025-04-01-preview#frag"
            ),
            "wss://h.example:8443/openai/realtime?api-key=***&deployment=d&api-version=2025-04-01-preview"
        );
        assert_eq!(
            public_target("ws://127.0.0.1:1/v1/realtime?model=gpt-realtime&token=T"),
            "ws://127.0.0.1:1/v1/realtime?model=gpt-realtime&token=***"
        );
        assert_eq!(public_target("wss://h"), "wss://h/");
    }
}
