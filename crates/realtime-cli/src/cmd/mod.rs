//! One module per subcommand.

use std::future::Future;

pub(crate) mod answer_calls;
pub(crate) mod call;
pub(crate) mod chat;
pub(crate) mod decode;
pub(crate) mod demo;
pub(crate) mod encode;
pub(crate) mod mock;
pub(crate) mod replay;
pub(crate) mod rest_flags;
pub(crate) mod say;
pub(crate) mod send_audio;
pub(crate) mod talk;
pub(crate) mod token;
pub(crate) mod transcribe;
pub(crate) mod webhook;

/// Runs a session command on a single-threaded tokio runtime.
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output, crate::CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| crate::CliError::usage(format!("cannot start the runtime: {error}")))?;
    Ok(runtime.block_on(future))
}
