//! `RUST_LOG`: the libraries' diagnostics (`tracing`: the connection's span, its connect, its
//! handshake, its events, its close) as readable lines on standard error, for when something
//! goes wrong. Unset, nothing is installed and the libraries' call sites stay disabled.
//!
//! The value is a list of `target=level` directives, or a bare level for everything:
//! `RUST_LOG=debug`, `RUST_LOG=realtime_proto=trace,realtime_net=info`. Targets are the crates'
//! module paths (`realtime_proto`, `realtime_net`). No credential is ever recorded.

use std::io;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the subscriber `RUST_LOG` asks for, if any. A value that does not parse is
/// reported and otherwise ignored: logging never stops the command.
pub(crate) fn init() {
    let Ok(spec) = std::env::var("RUST_LOG") else {
        return;
    };
    if spec.trim().is_empty() {
        return;
    }
    let targets: Targets = match spec.parse() {
        Ok(targets) => targets,
        Err(error) => {
            eprintln!(
                "warning: RUST_LOG={spec:?} is not a list of target=level directives ({error}); logging is off"
            );
            return;
        }
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(io::stderr)
        .with_target(true);
    // Another subscriber already installed (none is, in the binary) keeps its place.
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(targets)
        .try_init();
}
