//! The `tracing` output (issue 17), captured at TRACE over whole sessions against the mock on
//! every adapter: the connection's life is there (connect, handshake, session, close), and no
//! secret ever is (API keys in a header or the query, a bearer token, a client secret, an Entra
//! token, a refused key).
//!
//! One test in its own binary: the subscriber is global, so that the events of the adapters'
//! driver tasks and I/O threads are captured too.

use std::io;
use std::sync::{Mutex, PoisonError};

use realtime_conformance::{Adapter, Client, LIMIT, is, until};
use realtime_mock::{MockServer, Reply, Script};
use realtime_net::handshake::{Credential, Endpoint, Handshake, Secret};
use realtime_net::rest::{CreateClientSecret, RestOptions};
use realtime_net::{ConnectError, ConnectOptions};
use realtime_proto::{ClientEvent, Event, Item, SessionConfig};
use tracing_subscriber::fmt::MakeWriter;

/// Everything the subscriber wrote.
static CAPTURED: Mutex<Vec<u8>> = Mutex::new(Vec::new());

const API_KEY: &str = "sk-proj-SECRET-api-key-7a1f93";
const AZURE_KEY: &str = "SECRET-azure-key-55e0c2";
const ENTRA_TOKEN: &str = "eyJ0eXAiOiJKV1Qi.SECRET-entra-token.c2lnbmF0dXJl";
const WRONG_KEY: &str = "sk-proj-SECRET-wrong-key-0b77d4";

/// The subscriber's writer: appends to [`CAPTURED`].
#[derive(Clone, Copy)]
struct Capture;

impl io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        CAPTURED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Self;

    fn make_writer(&'a self) -> Self {
        *self
    }
}

/// What was captured since the last call.
fn take_captured() -> String {
    let bytes = std::mem::take(&mut *CAPTURED.lock().unwrap_or_else(PoisonError::into_inner));
    String::from_utf8_lossy(&bytes).into_owned()
}

fn server() -> MockServer {
    MockServer::builder()
        .api_key(API_KEY)
        .script(Script::new().with_default(Reply::say("Hello there.")))
        .seed(5)
        .start()
        .unwrap()
}

/// A whole session: a spoken turn, then the application closes.
fn session(client: &mut dyn Client) {
    until(client, |event| is(event, "session.created"));
    client
        .send(ClientEvent::create_item(Item::user_text("hi")))
        .unwrap();
    client.send(ClientEvent::create_response()).unwrap();
    until(client, |event| is(event, "response.done"));
    client.close().unwrap();
    until(client, |event| matches!(event, Event::Closed(_)));
}

fn connect(adapter: Adapter, options: ConnectOptions) -> Box<dyn Client> {
    adapter
        .connect(options)
        .unwrap_or_else(|error| panic!("{}: {error}", adapter.name()))
}

#[test]
fn the_trace_shows_each_connection_s_life_and_never_a_secret() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(Capture)
        .with_ansi(false)
        .init();
    let mut all = String::new();
    let mut secrets = vec![API_KEY, AZURE_KEY, ENTRA_TOKEN, WRONG_KEY]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    for adapter in Adapter::SOCKETS {
        let server = server();
        let http = server.base_url().replacen("ws://", "http://", 1);

        // An API key as a bearer token.
        let mut client = connect(
            adapter,
            ConnectOptions::new(
                Handshake::new(Endpoint::url(server.url()))
                    .with_credential(Credential::api_key(API_KEY)),
            ),
        );
        session(client.as_mut());
        let log = take_captured();
        for expected in [
            "connecting",
            "host=\"127.0.0.1\"",
            "connected",
            "session created",
            "session_id=",
            "response.output_audio.delta",
            "TRACE",
            "closing",
            "connection closed",
        ] {
            assert!(
                log.contains(expected),
                "{}: no {expected:?} in the trace:\n{log}",
                adapter.name()
            );
        }
        all.push_str(&log);

        // Azure: the key in the api-key header, then in the query; an Entra token.
        for options in [
            ConnectOptions::azure(http.clone(), "dep", API_KEY),
            ConnectOptions::new(
                Handshake::new(Endpoint::azure(http.clone(), "dep"))
                    .with_credential(Credential::AzureApiKeyQuery(Secret::new(API_KEY))),
            ),
        ] {
            let mut client = connect(adapter, options);
            session(client.as_mut());
        }
        let log = take_captured();
        assert!(log.contains("api-key=***"), "{}:\n{log}", adapter.name());
        all.push_str(&log);

        // A client secret minted by the server.
        let rest = RestOptions::url(server.rest_url())
            .with_api_key(API_KEY)
            .with_timeout(LIMIT);
        let secret = adapter
            .rest(&rest, &CreateClientSecret::new(SessionConfig::realtime()))
            .unwrap();
        secrets.push(secret.value.expose().to_owned());
        let mut client = connect(
            adapter,
            ConnectOptions::url(server.url())
                .with_credential(Credential::bearer(secret.value.expose())),
        );
        session(client.as_mut());

        // A refused key: the refusal's body quotes part of it.
        match adapter.connect(
            ConnectOptions::url(server.url()).with_credential(Credential::api_key(WRONG_KEY)),
        ) {
            Err(ConnectError::Rejected(rejection)) => assert_eq!(rejection.status, 401),
            Err(other) => panic!("{}: {other}", adapter.name()),
            Ok(_) => panic!("{}: a wrong key was accepted", adapter.name()),
        }
        let log = take_captured();
        assert!(
            log.contains("handshake refused") && log.contains("status=401"),
            "{}:\n{log}",
            adapter.name()
        );
        all.push_str(&log);

        // An Entra ID token on a server that takes any bearer.
        let open = MockServer::builder().seed(5).start().unwrap();
        let http = open.base_url().replacen("ws://", "http://", 1);
        let mut client = connect(
            adapter,
            ConnectOptions::azure(http, "dep", "unused")
                .with_credential(Credential::bearer(ENTRA_TOKEN)),
        );
        session(client.as_mut());
        all.push_str(&take_captured());
    }

    // The bare machine in the pair: the session's events, without a connect.
    let opened = Adapter::Pair
        .open(
            MockServer::builder().script(Script::new().with_default(Reply::say("Hello there."))),
            ConnectOptions::url,
        )
        .unwrap();
    let mut client = opened.client;
    session(client.as_mut());
    let log = take_captured();
    assert!(
        log.contains("session created") && log.contains("connection closed"),
        "pair:\n{log}"
    );
    all.push_str(&log);

    for secret in &secrets {
        assert!(
            !all.contains(secret.as_str()),
            "a secret was recorded: {secret}"
        );
        // Nor a telling part of it (the refusal masks all but a few characters).
        let middle = &secret[secret.len() / 4..secret.len() * 3 / 4];
        assert!(
            !all.contains(middle),
            "part of a secret was recorded: {middle}"
        );
    }
}
