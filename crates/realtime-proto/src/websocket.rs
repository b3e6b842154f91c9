//! Conversions between tungstenite messages and the machine's transport-neutral frames
//! (feature `tungstenite`). Every adapter uses tungstenite (directly or through
//! async-tungstenite), so the mapping lives here once.

use bytes::Bytes;
use tungstenite::Message;
use tungstenite::client::IntoClientRequest;
use tungstenite::error::{CapacityError, Error};
use tungstenite::handshake::client::Request;
use tungstenite::http::{HeaderName, HeaderValue};
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::protocol::frame::coding::CloseCode;

use crate::connection::{Frame, Transmit};
use crate::handshake::{HandshakeRejection, HandshakeRequest};
use crate::shared_str::SharedStr;
use crate::transport::{ConnectError, ConnectOptions};

/// The upgrade request: the URL and headers of the handshake (credentials marked sensitive, so
/// `http`'s `Debug` hides them), plus tungstenite's WebSocket headers.
pub fn upgrade_request(request: &HandshakeRequest) -> Result<Request, ConnectError> {
    let mut upgrade = request
        .url()
        .into_client_request()
        .map_err(|error| ConnectError::Protocol(error.to_string()))?;
    for header in request.headers() {
        let name = HeaderName::from_bytes(header.name().as_bytes()).map_err(|_| {
            ConnectError::Protocol(format!("invalid header name {:?}", header.name()))
        })?;
        let mut value = HeaderValue::from_str(header.value()).map_err(|_| {
            ConnectError::Protocol(format!("invalid value for header {:?}", header.name()))
        })?;
        value.set_sensitive(header.is_sensitive());
        upgrade.headers_mut().insert(name, value);
    }
    Ok(upgrade)
}

/// The WebSocket settings: the message and frame size limits of the options.
pub fn config(options: &ConnectOptions) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(options.max_message_bytes))
        .max_frame_size(Some(options.max_message_bytes))
}

/// A failed upgrade as a [`ConnectError`]: the server's HTTP answer when there is one, typed.
pub fn connect_error(error: Error, host: &str, port: u16) -> ConnectError {
    match error {
        Error::Http(response) => {
            let status = response.status().as_u16();
            let body = response.body().as_deref().unwrap_or_default();
            ConnectError::Rejected(HandshakeRejection::from_response(status, body))
        }
        Error::Io(source) => ConnectError::Io {
            host: format!("{host}:{port}"),
            source,
        },
        other => ConnectError::Protocol(other.to_string()),
    }
}

/// What the socket delivered, as a [`Frame`]. `None` is the end of the stream without a close
/// frame.
pub fn frame(read: Option<Result<Message, Error>>) -> Frame {
    match read {
        Some(Ok(Message::Text(text))) => match SharedStr::from_utf8_bytes(Bytes::from(text)) {
            Ok(text) => Frame::Text(text),
            // tungstenite validates text frames' UTF-8 itself; keep going rather than panic.
            Err(_) => Frame::Lost {
                reason: "invalid UTF-8 in a text frame".to_owned(),
            },
        },
        Some(Ok(Message::Binary(data))) => Frame::Binary { size: data.len() },
        Some(Ok(Message::Close(Some(frame)))) => Frame::Close {
            code: Some(u16::from(frame.code)),
            reason: frame.reason.to_string(),
        },
        Some(Ok(Message::Close(None))) => Frame::Close {
            code: None,
            reason: String::new(),
        },
        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Frame::Control,
        Some(Err(Error::Capacity(CapacityError::MessageTooLong { size, max_size }))) => {
            Frame::TooLarge {
                size,
                limit: max_size,
            }
        }
        Some(Err(error)) => Frame::Lost {
            reason: error.to_string(),
        },
        None => Frame::Lost {
            reason: "the server ended the connection without a close frame".to_owned(),
        },
    }
}

/// What to write for a [`Transmit`].
pub fn message(transmit: Transmit) -> Message {
    match transmit {
        Transmit::Text { text, .. } => Message::text(text),
        Transmit::Close { code, reason } => Message::Close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        })),
    }
}

/// A normal close frame (code 1000), for closing when every handle is gone.
pub fn normal_close() -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_messages() {
        assert!(matches!(frame(Some(Ok(Message::text("{}")))), Frame::Text(text) if text == "{}"));
        assert!(matches!(
            frame(Some(Ok(Message::binary(vec![1, 2])))),
            Frame::Binary { size: 2 }
        ));
        assert!(matches!(frame(None), Frame::Lost { .. }));
        assert!(matches!(
            frame(Some(Err(Error::ConnectionClosed))),
            Frame::Lost { .. }
        ));
        let close = message(Transmit::Close {
            code: 4000,
            reason: "x".into(),
        });
        assert!(matches!(
            frame(Some(Ok(close))),
            Frame::Close {
                code: Some(4000),
                ..
            }
        ));
    }
}
