//! The REST endpoints the mock serves beside the WebSocket, under `/v1` (OpenAI) and
//! `/openai/v1` (Azure OpenAI's v1 API):
//!
//! | request | answer |
//! |---|---|
//! | `POST /realtime/client_secrets` | 200, `{value: "ek_…", expires_at, session}`; the secret then opens WebSocket sessions and WebRTC calls |
//! | `POST /realtime/calls` (`multipart/form-data` `sdp` + `session`, or `application/sdp`) | 201, a canned SDP answer, `Location: …/realtime/calls/rtc_…` |
//! | `POST /realtime/calls/{id}/accept` (JSON session, `type: "realtime"`) | 200; a ringing call becomes active |
//! | `POST /realtime/calls/{id}/reject` (`{status_code?}`) | 200; a ringing call is rejected (603 by default) |
//! | `POST /realtime/calls/{id}/refer` (`{target_uri}`, `tel:` or `sip:`) | 200; an active call is transferred, its sideband closes |
//! | `POST /realtime/calls/{id}/hangup` | 200; the call ends, its sideband closes |
//!
//! With an [API key](crate::MockServerBuilder::api_key) set, every request needs it (Bearer or
//! `api-key` header): HTTP 401 `invalid_api_key` otherwise; a minted client secret is taken
//! only where the service takes one, `POST /realtime/calls`. Errors are the service's JSON
//! error bodies. Where the service's exact answer is not documented (an unknown call, a call
//! in the wrong state), the mock answers 404 `call_not_found` and 400 `invalid_call_state`:
//! its own choices, said in `docs/mock.md`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use realtime_net::rest::RealtimeCallId;
use realtime_proto::events::server::SessionCreated;
use realtime_proto::{Dialect, ServerEvent, SessionConfig};
use serde_json::{Map, Value, json};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::calls::{CallKind, CallState, MintedSecret, MockCall};
use crate::core::settings;
use crate::handshake::{self, Request};
use crate::server::Shared;

/// The largest request body read.
const MAX_BODY: usize = 1024 * 1024;
/// How long a client may take to send its body.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The SDP the mock answers every WebRTC offer with.
const SDP_ANSWER: &str = "v=0\r\no=- 4227147428 1719357865 IN IP4 127.0.0.1\r\ns=realtime-mock\r\n\
c=IN IP4 127.0.0.1\r\nt=0 0\r\na=group:BUNDLE 0 1\r\na=msid-semantic:WMS *\r\n\
a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8\r\na=mid:0\r\na=ice-ufrag:mock\r\na=ice-pwd:mockmockmockmockmockmock\r\n\
a=setup:active\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n\
a=candidate:1 1 udp 2130706431 127.0.0.1 3478 typ host ufrag mock\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\na=sctp-port:5000\r\n";

/// Whether a request is for a REST endpoint (any method: a wrong one is answered there).
pub(crate) fn is_rest(path: &str) -> bool {
    route_path(path).is_some_and(|rest| rest.starts_with("/realtime/"))
}

/// `/realtime/...` under `/v1` or `/openai/v1`.
fn route_path(path: &str) -> Option<&str> {
    path.strip_prefix("/v1")
        .or_else(|| path.strip_prefix("/openai/v1"))
        .filter(|rest| rest.starts_with('/'))
}

/// Reads the body of a REST request, answers it, and writes the answer.
pub(crate) async fn serve(
    stream: &mut TcpStream,
    request: &Request,
    mut body: Vec<u8>,
    shared: &Shared,
) {
    let header = |name: &str| request.header(name);
    let response = if header("transfer-encoding").is_some() {
        error(
            411,
            "Length Required",
            "Send the body with a Content-Length.",
            None,
            None,
        )
    } else {
        let length = header("content-length").map_or(Ok(0), |value| value.trim().parse());
        match length {
            Ok(length) if length <= MAX_BODY => {
                let read = async {
                    let mut chunk = [0u8; 8192];
                    while body.len() < length {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return false,
                            Ok(read) => body.extend_from_slice(&chunk[..read]),
                        }
                    }
                    true
                };
                match tokio::time::timeout(BODY_TIMEOUT, read).await {
                    Ok(true) => {
                        body.truncate(length);
                        answer(request, &body, shared)
                    }
                    _ => return,
                }
            }
            Ok(_) => error(
                413,
                "Payload Too Large",
                "The body is too large.",
                None,
                None,
            ),
            Err(_) => handshake::bad_request_response("Invalid Content-Length."),
        }
    };
    handshake::write_response(stream, &response).await;
}

/// The answer to a REST request with its whole body.
pub(crate) fn answer(request: &Request, body: &[u8], shared: &Shared) -> String {
    let path = request.target.split('?').next().unwrap_or_default();
    let prefix = if path.starts_with("/openai/v1") {
        "/openai/v1"
    } else {
        "/v1"
    };
    let segments: Vec<&str> = route_path(path)
        .unwrap_or_default()
        .trim_matches('/')
        .split('/')
        .collect();
    let now = shared.config.wall_clock.unwrap_or_else(SystemTime::now);
    let unix = now.duration_since(UNIX_EPOCH).map_or(0, |since| {
        i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
    });
    let route = match segments.as_slice() {
        ["realtime", "client_secrets"] => Route::Mint,
        ["realtime", "calls"] => Route::Create,
        ["realtime", "calls", id, action] if !id.is_empty() => {
            let id = percent_decode(id);
            match *action {
                "accept" => Route::Accept(id),
                "reject" => Route::Reject(id),
                "refer" => Route::Refer(id),
                "hangup" => Route::Hangup(id),
                _ => Route::Unknown,
            }
        }
        _ => Route::Unknown,
    };
    if matches!(route, Route::Unknown) || request.method != "POST" {
        let message = format!("Invalid URL ({} {path})", request.method);
        return error(404, "Not Found", &message, None, None);
    }
    if let Some(refusal) = authenticate(request, shared, &route, unix) {
        return refusal;
    }
    match route {
        Route::Mint => mint(body, shared, unix),
        Route::Create => create(request, body, shared, prefix),
        Route::Accept(id) => accept(&id, body, shared),
        Route::Reject(id) => reject(&id, body, shared),
        Route::Refer(id) => refer(&id, body, shared),
        Route::Hangup(id) => hangup(&id, shared),
        Route::Unknown => error(404, "Not Found", "Invalid URL", None, None),
    }
}

enum Route {
    Mint,
    Create,
    Accept(String),
    Reject(String),
    Refer(String),
    Hangup(String),
    Unknown,
}

/// A 401 when a key is required and not given; `None` to go on.
fn authenticate(request: &Request, shared: &Shared, route: &Route, unix: i64) -> Option<String> {
    let expected = shared.config.api_key.as_deref()?;
    let bearer = request.header("authorization").and_then(|value| {
        let (scheme, token) = value.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    let offered = bearer.or_else(|| request.header("api-key").map(str::trim));
    let accepted = offered.is_some_and(|key| {
        key == expected
            || (matches!(route, Route::Create) && shared.calls().secret_valid(key, unix))
    });
    if accepted {
        return None;
    }
    let message = match offered {
        None => "You didn't provide an API key. You need to provide your API key in an \
                 Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            .to_owned(),
        Some(key) => format!(
            "Incorrect API key provided: {}. You can find your API key at \
             https://platform.openai.com/account/api-keys.",
            handshake::mask(key)
        ),
    };
    Some(error(
        401,
        "Unauthorized",
        &message,
        None,
        Some("invalid_api_key"),
    ))
}

fn mint(body: &[u8], shared: &Shared, unix: i64) -> String {
    let Some(request) = json_object(body) else {
        return unparsable();
    };
    let seconds = match request.get("expires_after") {
        None | Some(Value::Null) => 600,
        Some(Value::Object(after)) => match after.get("seconds") {
            None => 600,
            Some(Value::Number(number)) => {
                match number.as_i64().filter(|s| (10..=7200).contains(s)) {
                    Some(seconds) => seconds,
                    None => {
                        let message = format!(
                            "Invalid 'expires_after.seconds': {number}. Expected a value between 10 \
                         and 7200."
                        );
                        return invalid("invalid_value", &message, "expires_after.seconds");
                    }
                }
            }
            Some(_) => {
                return invalid(
                    "invalid_type",
                    "Invalid type for 'expires_after.seconds': expected an integer.",
                    "expires_after.seconds",
                );
            }
        },
        Some(_) => {
            return invalid(
                "invalid_type",
                "Invalid type for 'expires_after': expected an object.",
                "expires_after",
            );
        }
    };
    let session = request
        .get("session")
        .cloned()
        .unwrap_or_else(|| json!({"type": "realtime"}));
    let kind = session
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("realtime");
    if kind != "realtime" && kind != "transcription" {
        let message = format!(
            "Invalid value: '{kind}'. Supported values are: 'realtime' and 'transcription'."
        );
        return invalid("invalid_value", &message, "session.type");
    }
    let Some(config) = session_config(&session) else {
        return invalid("invalid_value", "Invalid session configuration.", "session");
    };
    let (value, session_id) = {
        let mut calls = shared.calls();
        let rng = calls.rng(shared.seed);
        let value = rng.id("ek");
        let session_id = rng.id("sess");
        let expires_at = unix.saturating_add(seconds);
        calls.secrets.push(MintedSecret {
            value: value.clone(),
            expires_at,
        });
        (value, session_id)
    };
    let mut object = settings::initial(
        Dialect::Ga,
        kind == "transcription",
        session_id,
        shared.config.model(),
        &shared.config.instructions,
        Some(0),
    );
    settings::merge(&mut object.config, config);
    let event: ServerEvent = SessionCreated::new(object).into();
    let session = event
        .to_json(Dialect::Ga, None)
        .get_mut("session")
        .map(Value::take)
        .unwrap_or(Value::Null);
    let answer =
        json!({"value": value, "expires_at": unix.saturating_add(seconds), "session": session});
    json_response(200, "OK", &answer)
}

fn create(request: &Request, body: &[u8], shared: &Shared, prefix: &str) -> String {
    let content_type = request
        .header("content-type")
        .unwrap_or_default()
        .to_owned();
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let (sdp, session) = match media.as_str() {
        "application/sdp" => (String::from_utf8_lossy(body).into_owned(), None),
        "multipart/form-data" => {
            let Some(parts) = multipart(&content_type, body) else {
                return invalid("invalid_value", "Malformed multipart body.", "sdp");
            };
            let mut sdp = None;
            let mut session = None;
            for (name, content) in parts {
                match name.as_str() {
                    "sdp" => sdp = Some(String::from_utf8_lossy(&content).into_owned()),
                    "session" => match serde_json::from_slice::<Value>(&content) {
                        Ok(value @ Value::Object(_)) => session = Some(value),
                        _ => {
                            return invalid(
                                "invalid_value",
                                "Invalid 'session': expected a JSON object.",
                                "session",
                            );
                        }
                    },
                    _ => {}
                }
            }
            let Some(sdp) = sdp else {
                return invalid(
                    "missing_required_parameter",
                    "Missing required parameter: 'sdp'.",
                    "sdp",
                );
            };
            (sdp, session)
        }
        _ => {
            let message = format!(
                "Unsupported content type '{content_type}': send multipart/form-data or \
                 application/sdp."
            );
            return error(415, "Unsupported Media Type", &message, None, None);
        }
    };
    if !sdp.trim_start().starts_with("v=0") {
        return invalid(
            "invalid_value",
            "Invalid SDP offer: it must start with 'v=0'.",
            "sdp",
        );
    }
    if let Some(session) = &session {
        if session_config(session).is_none() {
            return invalid("invalid_value", "Invalid session configuration.", "session");
        }
    }
    let call_id = {
        let mut calls = shared.calls();
        let id = RealtimeCallId::new(calls.rng(shared.seed).id("rtc"));
        let mut call = MockCall::new(id.clone(), CallKind::WebRtc);
        call.state = CallState::Active;
        call.session = session;
        calls.calls.push(call);
        id
    };
    format!(
        "HTTP/1.1 201 Created\r\nContent-Type: application/sdp\r\nLocation: {prefix}/realtime/calls/{}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{SDP_ANSWER}",
        call_id.as_str(),
        SDP_ANSWER.len()
    )
}

fn accept(id: &str, body: &[u8], shared: &Shared) -> String {
    let Some(session) = json_object(body) else {
        return unparsable();
    };
    match session.get("type").and_then(Value::as_str) {
        Some("realtime") => {}
        None => {
            return invalid(
                "missing_required_parameter",
                "Missing required parameter: 'type'.",
                "type",
            );
        }
        Some(other) => {
            let message = format!("Invalid value: '{other}'. Supported values are: 'realtime'.");
            return invalid("invalid_value", &message, "type");
        }
    }
    let session = Value::Object(session);
    if session_config(&session).is_none() {
        return invalid("invalid_value", "Invalid session configuration.", "session");
    }
    with_call(shared, id, |call| {
        if call.state != CallState::Ringing {
            return Err(wrong_state(call));
        }
        call.state = CallState::Active;
        call.session = Some(session);
        Ok(())
    })
}

fn reject(id: &str, body: &[u8], shared: &Shared) -> String {
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        let Some(request) = json_object(body) else {
            return unparsable();
        };
        request
    };
    let status_code = match request.get("status_code") {
        None | Some(Value::Null) => 603,
        Some(value) => match value.as_u64().filter(|code| (400..=699).contains(code)) {
            Some(code) => u16::try_from(code).unwrap_or(603),
            None => {
                return invalid(
                    "invalid_value",
                    "Invalid 'status_code': expected a SIP status between 400 and 699.",
                    "status_code",
                );
            }
        },
    };
    with_call(shared, id, |call| {
        if call.state != CallState::Ringing {
            return Err(wrong_state(call));
        }
        call.state = CallState::Rejected { status_code };
        Ok(())
    })
}

fn refer(id: &str, body: &[u8], shared: &Shared) -> String {
    let Some(request) = json_object(body) else {
        return unparsable();
    };
    let Some(target) = request.get("target_uri").and_then(Value::as_str) else {
        return invalid(
            "missing_required_parameter",
            "Missing required parameter: 'target_uri'.",
            "target_uri",
        );
    };
    let scheme_ok = ["tel:", "sip:", "sips:"]
        .iter()
        .any(|scheme| target.len() > scheme.len() && target.starts_with(scheme));
    if !scheme_ok {
        let message = format!("Invalid 'target_uri': '{target}'. Expected a tel: or sip: URI.");
        return invalid("invalid_value", &message, "target_uri");
    }
    let target = target.to_owned();
    let answer = with_call(shared, id, |call| {
        if call.state != CallState::Active || call.kind != CallKind::Sip {
            return Err(wrong_state(call));
        }
        call.state = CallState::Referred { target_uri: target };
        Ok(())
    });
    shared.end_call_sessions(id, "the call was transferred");
    answer
}

fn hangup(id: &str, shared: &Shared) -> String {
    let answer = with_call(shared, id, |call| {
        if !matches!(call.state, CallState::Ringing | CallState::Active) {
            return Err(wrong_state(call));
        }
        call.state = CallState::HungUp;
        Ok(())
    });
    shared.end_call_sessions(id, "the call was hung up");
    answer
}

/// Runs `change` on the call: 200 when it succeeds, its refusal otherwise, 404 without a call.
fn with_call(
    shared: &Shared,
    id: &str,
    change: impl FnOnce(&mut MockCall) -> Result<(), String>,
) -> String {
    let mut calls = shared.calls();
    let Some(call) = calls.get_mut(id) else {
        let message = format!("Call '{id}' not found.");
        return error(
            404,
            "Not Found",
            &message,
            Some("call_id"),
            Some("call_not_found"),
        );
    };
    match change(call) {
        Ok(()) => "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
        Err(refusal) => refusal,
    }
}

fn wrong_state(call: &MockCall) -> String {
    let state = match &call.state {
        CallState::Ringing => "ringing",
        CallState::Active => "active",
        CallState::Rejected { .. } => "rejected",
        CallState::Referred { .. } => "referred",
        CallState::HungUp | CallState::CallerHungUp => "ended",
    };
    let message = format!("Call '{}' cannot do that: it is {state}.", call.call_id);
    error(
        400,
        "Bad Request",
        &message,
        Some("call_id"),
        Some("invalid_call_state"),
    )
}

/// A session configuration in the GA shape, if it decodes.
fn session_config(session: &Value) -> Option<SessionConfig> {
    SessionConfig::from_json(session.clone(), None, Some(Dialect::Ga)).ok()
}

fn json_object(body: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

fn unparsable() -> String {
    error(
        400,
        "Bad Request",
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't \
         using your HTTP library correctly.)",
        None,
        None,
    )
}

fn invalid(code: &str, message: &str, param: &str) -> String {
    error(400, "Bad Request", message, Some(param), Some(code))
}

fn error(
    status: u16,
    phrase: &str,
    message: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> String {
    handshake::http_error(status, phrase, message, param, code)
}

fn json_response(status: u16, phrase: &str, body: &Value) -> String {
    let body = body.to_string();
    format!(
        "HTTP/1.1 {status} {phrase}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The named parts of a `multipart/form-data` body; `None` when it does not parse.
fn multipart(content_type: &str, body: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let boundary = content_type.split(';').find_map(|param| {
        let (name, value) = param.trim().split_once('=')?;
        name.eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
    })?;
    let delimiter = format!("--{boundary}");
    let text = body;
    let mut parts = Vec::new();
    let mut rest = find(text, delimiter.as_bytes()).map(|at| &text[at + delimiter.len()..])?;
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        let rest_after = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest_after, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&rest_after[..head_end]).into_owned();
        let content_start = &rest_after[head_end + 4..];
        let next = find(content_start, format!("\r\n{delimiter}").as_bytes())?;
        let name = head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            if !key.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            value.split(';').find_map(|param| {
                let (key, value) = param.trim().split_once('=')?;
                (key == "name").then(|| value.trim_matches('"').to_owned())
            })
        })?;
        parts.push((name, content_start[..next].to_vec()));
        rest = &content_start[next + 2 + delimiter.len()..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len().max(1))
        .position(|window| window == needle)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_bodies_split_into_their_parts() {
        let body = "--b\r\nContent-Disposition: form-data; name=\"sdp\"\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nx\r\n--b\r\nContent-Disposition: form-data; name=\"session\"\r\n\r\n{}\r\n--b--\r\n";
        let parts = multipart("multipart/form-data; boundary=b", body.as_bytes()).unwrap();
        assert_eq!(
            parts,
            [
                ("sdp".to_owned(), b"v=0\r\nx".to_vec()),
                ("session".to_owned(), b"{}".to_vec())
            ]
        );
        assert!(multipart("multipart/form-data", body.as_bytes()).is_none());
        assert!(multipart("multipart/form-data; boundary=b", b"--b\r\nbroken").is_none());
    }

    #[test]
    fn paths_route_under_both_prefixes() {
        assert!(is_rest("/v1/realtime/calls/rtc_1/accept"));
        assert!(is_rest("/openai/v1/realtime/client_secrets"));
        assert!(!is_rest("/v1/realtime"));
        assert!(!is_rest("/v2/realtime/calls"));
        assert_eq!(percent_decode("rtc%201%zz"), "rtc 1%zz");
    }
}
