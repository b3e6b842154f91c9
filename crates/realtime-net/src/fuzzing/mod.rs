//! Fuzzing support (internal feature `__fuzzing`; not part of the API): the body of the fuzz
//! target `net_answer`, which the regression test `tests/fuzz_regressions.rs` runs on stable too.
//!
//! [`net_answer`] takes the fuzzer's bytes and panics when a property fails; that panic is the
//! crash the fuzzer reports. Nothing here is meant for production use.
//!
//! # The input
//!
//! The first byte (modulo 4) picks what is fed; the second holds options:
//!
//! | first byte % 4 | fed to | options (second byte) |
//! |---|---|---|
//! | 0 | [`ResponseReader`] | `% 3`: the body cap: 0 small (the third byte, 0 to 255, is the cap), 1 the default ([`ResponseReader::new`]), 2 `usize::MAX` |
//! | 1 | [`ClientUpgrade`] for `ws://127.0.0.1:9/v1/realtime` | bit 0: end with [`ClientUpgrade::read_failed`] rather than [`ClientUpgrade::eof`] |
//! | 2 | [`ProxyConnect`] to `127.0.0.1:8080`, for `api.openai.com:443` | bit 0: with Basic credentials |
//! | 3 | [`WebhookVerifier`] | see below |
//!
//! For the three readers, the third byte (after the cap byte for a small cap) holds the number
//! of split points (`% 8`), then come that many split points (two bytes each, big-endian, taken
//! modulo the answer's length plus one), and the rest is the answer. In the answer, `@ACCEPT@`
//! is replaced with the `Sec-WebSocket-Accept` value that matches the upgrade's key (one fixed
//! key for both runs, [`KEY`]), so that a 101 can succeed.
//!
//! The checks: nothing panics, and the outcome (the `Debug` text of the first `Ok(Some(..))` or
//! `Err(..)` the pushes return, else of the end's result) is the same whether the answer is
//! pushed whole or in the pieces the split points make (for a tunnel or an upgrade, with the
//! pieces not pushed yet added to its `leftover`, which holds only what was read with the
//! answer).
//!
//! For the webhook, the rest of the input is lines (`\n`): the secret (read with
//! [`WebhookSecret::new`], else its bytes are the key), the `webhook-id`, `webhook-timestamp`
//! and `webhook-signature` headers, and the body (the rest, newlines included). The checks:
//! nothing panics; [`WebhookVerifier::unwrap`] succeeds exactly when `verify` and
//! [`WebhookEvent::decode`] do; a delivery of that id and body signed with the secret
//! ([`WebhookSecret::headers`]) verifies, and with one byte of its body changed it does not.

// A failed property is a panic: that is how the fuzzer (and the regression test) sees it.
#![allow(clippy::panic)]

use std::fmt::Debug;
use std::time::{Duration, SystemTime};

use crate::handshake::{Endpoint, Handshake};
use crate::http::ResponseReader;
use crate::proxy::{Proxy, ProxyConnect};
use crate::webhook::{WebhookError, WebhookEvent, WebhookSecret, WebhookVerifier};
use crate::websocket::ClientUpgrade;

/// The marker replaced with the upgrade's expected `Sec-WebSocket-Accept` value.
const ACCEPT_MARKER: &[u8] = b"@ACCEPT@";

/// The instant the webhook deliveries are checked against (2023-11-14).
const NOW_SECONDS: u64 = 1_700_000_000;

/// Target `net_answer`: an answer of a server or a proxy, or a webhook delivery (see the module
/// docs for what the bytes mean).
pub fn net_answer(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Some((&options, rest)) = rest.split_first() else {
        return;
    };
    match which % 4 {
        0 => response(options, rest),
        1 => upgrade(options, rest),
        2 => proxy(options, rest),
        _ => webhook(rest),
    }
}

/// The answer and the pieces it is pushed in.
struct Answer {
    /// The answer's bytes.
    bytes: Vec<u8>,
    /// Sorted split points, each at most `bytes.len()`.
    splits: Vec<usize>,
}

impl Answer {
    /// Reads the split points and the answer from the rest of the input.
    fn read(data: &[u8]) -> Self {
        let Some((&count, rest)) = data.split_first() else {
            return Self {
                bytes: Vec::new(),
                splits: Vec::new(),
            };
        };
        let count = usize::from(count % 8).min(rest.len() / 2);
        let (points, bytes) = rest.split_at(count * 2);
        let bytes = bytes.to_vec();
        let mut splits: Vec<usize> = points
            .chunks_exact(2)
            .map(|pair| usize::from(u16::from_be_bytes([pair[0], pair[1]])) % (bytes.len() + 1))
            .collect();
        splits.sort_unstable();
        Self { bytes, splits }
    }

    /// The pieces the split points make. Empty pieces are left out: a socket read never
    /// returns zero bytes but at its end, which is `eof`.
    fn pieces(&self) -> Vec<&[u8]> {
        let mut pieces = Vec::new();
        let mut start = 0;
        for &split in self.splits.iter().chain(std::iter::once(&self.bytes.len())) {
            if split > start {
                pieces.push(&self.bytes[start..split]);
                start = split;
            }
        }
        pieces
    }
}

/// Pushes `pieces` until the first final result (`Some` from `push`), else ends with `end`:
/// the outcome's `Debug` text.
///
/// `push` is also given the bytes of the pieces not pushed yet: a tunnel or an upgrade hands
/// the caller the bytes read behind the answer (`leftover`), and the caller reads the rest from
/// the socket itself, so the leftover and those bytes together are what must not depend on
/// where the reads end.
fn outcome<R, T: Debug>(
    reader: &mut R,
    pieces: &[&[u8]],
    mut push: impl FnMut(&mut R, &[u8], Vec<u8>) -> Option<T>,
    end: impl FnOnce(&mut R) -> T,
) -> String {
    for (index, piece) in pieces.iter().enumerate() {
        if let Some(result) = push(reader, piece, pieces[index + 1..].concat()) {
            return format!("{result:?}");
        }
    }
    format!("{:?}", end(reader))
}

/// The same outcome whole and in pieces.
fn check_same(kind: &str, answer: &Answer, whole: &str, in_pieces: &str) {
    assert_eq!(
        whole,
        in_pieces,
        "{kind}: pushed whole and in pieces {:?}, the outcomes differ for {:?}",
        answer.splits,
        String::from_utf8_lossy(&answer.bytes)
    );
}

/// The REST reader, with a cap chosen by `options`.
fn response(options: u8, data: &[u8]) {
    let (max_body, data) = match options % 3 {
        0 => match data.split_first() {
            Some((&cap, rest)) => (Some(usize::from(cap)), rest),
            None => (Some(0), data),
        },
        1 => (None, data),
        _ => (Some(usize::MAX), data),
    };
    let reader = || max_body.map_or_else(ResponseReader::new, ResponseReader::with_max_body);
    let answer = Answer::read(data);
    let run = |pieces: &[&[u8]]| {
        outcome(
            &mut reader(),
            pieces,
            |reader, piece, _| reader.push(piece).transpose(),
            ResponseReader::eof,
        )
    };
    let whole = run(&[answer.bytes.as_slice()]);
    check_same("ResponseReader", &answer, &whole, &run(&answer.pieces()));
}

/// The `Sec-WebSocket-Key` of both upgrades an answer goes through (RFC 6455's example): a
/// fresh key at each would give each its own accept value, which a refusal's body or the bytes
/// behind a 101 may hold in part (the fuzzer found a body cut inside it).
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// The answer with every [`ACCEPT_MARKER`] replaced with `accept`.
fn with_accept(answer: &Answer, accept: &str) -> Answer {
    // The marker and the value differ in length; split points are kept where they fall, cut to
    // the new length (both runs use the same value's length, so the same pieces).
    let bytes = replace(&answer.bytes, ACCEPT_MARKER, accept.as_bytes());
    let splits = answer
        .splits
        .iter()
        .map(|&split| split.min(bytes.len()))
        .collect();
    Answer { bytes, splits }
}

/// `bytes` with every `from` replaced with `to`.
fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut replaced = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&first, tail)) = rest.split_first() {
        if !from.is_empty() && rest.starts_with(from) {
            replaced.extend_from_slice(to);
            rest = &rest[from.len()..];
        } else {
            replaced.push(first);
            rest = tail;
        }
    }
    replaced
}

/// The WebSocket upgrade's reader.
fn upgrade(options: u8, data: &[u8]) {
    let request = Handshake::new(Endpoint::url("ws://127.0.0.1:9/v1/realtime"))
        .request()
        .unwrap_or_else(|error| panic!("the loopback handshake request: {error}"));
    let read_failed = options & 1 == 1;
    let accept = tungstenite::handshake::derive_accept_key(KEY.as_bytes());
    let answer = with_accept(&Answer::read(data), &accept);
    let run = |whole: bool| {
        let mut upgrade = ClientUpgrade::with_key(&request, KEY)
            .unwrap_or_else(|error| panic!("the loopback upgrade: {error}"));
        let pieces = if whole {
            vec![answer.bytes.as_slice()]
        } else {
            answer.pieces()
        };
        outcome(
            &mut upgrade,
            &pieces,
            |upgrade, piece, unread| {
                upgrade
                    .push(piece)
                    .map(|upgraded| {
                        upgraded.map(|mut upgraded| {
                            upgraded.leftover.extend(unread);
                            upgraded
                        })
                    })
                    .transpose()
            },
            |upgrade| {
                Err(if read_failed {
                    upgrade.read_failed(
                        std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset"),
                        "127.0.0.1",
                    )
                } else {
                    upgrade.eof()
                })
            },
        )
    };
    let whole = run(true);
    let in_pieces = run(false);
    check_same("ClientUpgrade", &answer, &whole, &in_pieces);
}

/// The proxy's answer to `CONNECT`.
fn proxy(options: u8, data: &[u8]) {
    let mut proxy = Proxy::parse("http://127.0.0.1:8080")
        .unwrap_or_else(|error| panic!("the loopback proxy: {error}"));
    if options & 1 == 1 {
        proxy = proxy.with_basic_auth("user", "pass word");
    }
    let connect = || ProxyConnect::new(&proxy, "api.openai.com", 443);
    let answer = Answer::read(data);
    let run = |pieces: &[&[u8]]| {
        outcome(
            &mut connect(),
            pieces,
            |connect, piece, unread| {
                connect
                    .push(piece)
                    .map(|tunnel| {
                        tunnel.map(|mut tunnel| {
                            tunnel.leftover.extend(unread);
                            tunnel
                        })
                    })
                    .transpose()
            },
            |connect| Err(connect.eof()),
        )
    };
    let whole = run(&[answer.bytes.as_slice()]);
    let pieces = answer.pieces();
    check_same("ProxyConnect", &answer, &whole, &run(&pieces));

    // `push_before_speaking` cannot give the same outcome whole and in pieces: it refuses a
    // tunnel with bytes behind the answer, and which bytes are behind it when the tunnel opens
    // depends on where the reads end (the rest of a later read has not arrived yet). What does
    // hold: the bytes read with the tunnel's opening are some of those behind the whole answer,
    // so a tunnel that opens clean whole opens clean in pieces, and an answer that does not open
    // a tunnel gives the same outcome either way.
    let run_before_speaking = |pieces: &[&[u8]]| {
        outcome(
            &mut connect(),
            pieces,
            |connect, piece, _| match connect.push_before_speaking(piece) {
                Ok(false) => None,
                other => Some(other),
            },
            |connect| Err(connect.eof()),
        )
    };
    let whole_first = run_before_speaking(&[answer.bytes.as_slice()]);
    let in_pieces = run_before_speaking(&pieces);
    if whole.starts_with("Ok(") {
        if whole_first == "Ok(true)" {
            check_same(
                "ProxyConnect before speaking",
                &answer,
                &whole_first,
                &in_pieces,
            );
        }
    } else {
        check_same(
            "ProxyConnect before speaking",
            &answer,
            &whole_first,
            &in_pieces,
        );
    }
}

/// A webhook delivery: verified as it is, and signed with the same secret.
fn webhook(data: &[u8]) {
    let mut lines = data.splitn(5, |&b| b == b'\n');
    let mut line = || String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let secret_text = line();
    let id = line();
    let timestamp = line();
    let signature = line();
    let body = lines.next().unwrap_or_default().to_vec();
    let secret = WebhookSecret::new(&secret_text)
        .unwrap_or_else(|_| WebhookSecret::from_key(secret_text.clone().into_bytes()));
    let verifier = WebhookVerifier::new(secret);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_SECONDS);

    let headers = [
        ("webhook-id", id.as_str()),
        ("Webhook-Timestamp", timestamp.as_str()),
        ("webhook-signature", signature.as_str()),
    ];
    let verified = verifier.verify(headers, &body, now);
    let decoded = WebhookEvent::decode(&body);
    let unwrapped = verifier.unwrap(headers, &body, now);
    assert_eq!(
        unwrapped.is_ok(),
        verified.is_ok() && decoded.is_ok(),
        "unwrap disagrees with verify ({verified:?}) and decode ({decoded:?})"
    );

    // The same delivery signed with the secret verifies; one byte of its body changed, it does
    // not. The secret is read again: the verifier owns the first.
    let secret = WebhookSecret::new(&secret_text)
        .unwrap_or_else(|_| WebhookSecret::from_key(secret_text.clone().into_bytes()));
    let seconds = i64::try_from(NOW_SECONDS).unwrap_or(i64::MAX);
    let signed = secret.headers(&id, seconds, &body);
    let signed_headers = signed.iter().map(|(name, value)| (*name, value.as_str()));
    if let Err(error) = verifier.verify(signed_headers.clone(), &body, now) {
        panic!("a delivery signed with the secret did not verify: {error}");
    }
    let mut changed = body.clone();
    let at = usize::from(signature.bytes().next().unwrap_or(0)) % (changed.len() + 1);
    match changed.get_mut(at) {
        Some(byte) => *byte ^= 1,
        None => changed.push(b'x'),
    }
    let refused = verifier.verify(signed_headers, &changed, now);
    assert!(
        matches!(refused, Err(WebhookError::BadSignature)),
        "a signed body with one byte changed was not refused: {refused:?}"
    );
}
