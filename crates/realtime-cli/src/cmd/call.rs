//! `realtime call accept|reject|refer|hangup CALL_ID`: control a SIP (or WebRTC) call over REST.
//!
//! Against the bundled mock server (no endpoint configured), the call is made up first, ringing
//! (for accept and reject) or active (for refer and hangup), so that the command shows what it
//! does.

use std::process::ExitCode;

use realtime_mock::CallState;
use realtime_proto::{Model, SessionConfig, Transcription};
use realtime_tokio::rest::{AcceptCall, HangupCall, RealtimeCallId, ReferCall, RejectCall};

use crate::CliError;
use crate::cmd::block_on;
use crate::cmd::rest_flags::{RestFlags, rest_error};

/// Control a call.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(
        flatten,
        next_help_heading = "Endpoint (none given: the bundled mock server)"
    )]
    endpoint: RestFlags,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Accept a ringing SIP call with a session configuration.
    Accept {
        /// The call (`rtc_…`, from the realtime.call.incoming webhook).
        call_id: String,
        /// The session's model.
        #[arg(long, value_name = "MODEL", default_value = "gpt-realtime")]
        model: String,
        /// The session's instructions.
        #[arg(long, value_name = "TEXT")]
        instructions: Option<String>,
        /// The voice.
        #[arg(long, value_name = "VOICE")]
        voice: Option<String>,
        /// Transcribe the caller with this model (whisper-1, gpt-4o-transcribe, ...).
        #[arg(long, value_name = "MODEL")]
        transcription_model: Option<String>,
    },
    /// Reject a ringing SIP call.
    Reject {
        /// The call.
        call_id: String,
        /// The SIP status for the caller (486 busy, ...) [default: the service's, 603].
        #[arg(long, value_name = "CODE")]
        status: Option<u16>,
    },
    /// Transfer an active SIP call (SIP REFER).
    Refer {
        /// The call.
        call_id: String,
        /// Where to: tel:+14155550123, sip:agent@example.com.
        target_uri: String,
    },
    /// Hang up a call (SIP or WebRTC).
    Hangup {
        /// The call.
        call_id: String,
    },
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    let target = args.endpoint.resolve()?;
    let (call_id, state) = match &args.action {
        Action::Accept { call_id, .. } | Action::Reject { call_id, .. } => {
            (call_id, CallState::Ringing)
        }
        Action::Refer { call_id, .. } | Action::Hangup { call_id } => (call_id, CallState::Active),
    };
    let call_id = RealtimeCallId::new(call_id.clone());
    if let Some(mock) = &target.mock {
        mock.add_call(&call_id, state);
        target.note_mock(&format!(", where call {call_id} is waiting"));
    }
    let rest = &target.rest;
    let done = match &args.action {
        Action::Accept {
            model,
            instructions,
            voice,
            transcription_model,
            ..
        } => {
            let mut session = SessionConfig::realtime().with_model(model.as_str());
            if let Some(instructions) = instructions {
                session = session.with_instructions(instructions.clone());
            }
            if let Some(voice) = voice {
                session = session.with_voice(voice.as_str());
            }
            if let Some(model) = transcription_model {
                session = session.with_transcription(Transcription::new(Model::new(model)));
            }
            block_on(realtime_tokio::rest(
                rest,
                &AcceptCall::new(&call_id, session),
            ))?
            .map(|()| "accepted")
        }
        Action::Reject { status, .. } => {
            let mut reject = RejectCall::new(&call_id);
            if let Some(status) = status {
                reject = reject.with_status_code(*status);
            }
            block_on(realtime_tokio::rest(rest, &reject))?.map(|()| "rejected")
        }
        Action::Refer { target_uri, .. } => {
            let refer = ReferCall::new(&call_id, target_uri.clone());
            block_on(realtime_tokio::rest(rest, &refer))?.map(|()| "referred")
        }
        Action::Hangup { .. } => {
            block_on(realtime_tokio::rest(rest, &HangupCall::new(&call_id)))?.map(|()| "hung up")
        }
    }
    .map_err(rest_error)?;
    println!("{done}  {call_id}");
    Ok(ExitCode::SUCCESS)
}
