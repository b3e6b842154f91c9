//! The opening handshake: endpoints, authentication (HTTP 401 with a JSON body before the
//! upgrade), 404 for other paths, dialect selection, and the recorded handshake.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;
use realtime_mock::{AuthMethod, DialectMode, Endpoint, MockServer};
use realtime_proto::Dialect;
use serde_json::{Value, json};

/// Sends a raw HTTP request; returns the status code, the headers and the JSON body.
fn raw_request(server: &MockServer, target: &str, headers: &[&str]) -> (u16, String, Value) {
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    let mut request = format!(
        "GET {target} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
        server.local_addr()
    );
    for header in headers {
        request.push_str(header);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = serde_json::from_str(body).unwrap_or(Value::Null);
    (status, head.to_owned(), body)
}

#[test]
fn wrong_or_missing_keys_get_401_before_the_upgrade() {
    let _guard = watchdog("auth_401", Duration::from_secs(30));
    let server = MockServer::builder()
        .api_key("sk-test-right-key")
        .start()
        .unwrap();
    let target = "/v1/realtime?model=gpt-realtime";
    let (status, head, body) = raw_request(
        &server,
        target,
        &["Authorization: Bearer sk-test-wrong-key"],
    );
    assert_eq!(status, 401);
    assert!(head.contains("Content-Type: application/json"), "{head}");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["code"], "invalid_api_key");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Incorrect API key provided: sk-t")
    );
    assert!(!body.to_string().contains("wrong-key"), "the key is masked");
    let (status, _, body) = raw_request(&server, target, &[]);
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "invalid_api_key");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("You didn't provide an API key")
    );
    // A WebSocket client sees the refusal as an HTTP error, and no session opens.
    let error = tungstenite::connect(server.url()).unwrap_err();
    match error {
        tungstenite::Error::Http(response) => {
            assert_eq!(response.status(), 401);
            let body: Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            assert_eq!(body["error"]["code"], "invalid_api_key");
        }
        other => panic!("expected an HTTP error, got {other}"),
    }
    assert_eq!(server.session_count(), 0);
    let rejected = server.rejected();
    assert_eq!(rejected.len(), 3);
    assert_eq!(rejected[0].status, 401);
    assert_eq!(
        rejected[0].header("authorization"),
        Some("Bearer <redacted>")
    );

    // Every accepted way of giving the right key opens a session.
    let right = "sk-test-right-key";
    let mut clients = vec![
        Client::connect_with(
            &server.url(),
            &[("Authorization", &format!("Bearer {right}"))],
        ),
        Client::connect_with(&server.azure_url("my-deployment"), &[("api-key", right)]),
        Client::connect(&format!("{}&api-key={right}", server.url())),
        Client::connect_with(
            &server.url(),
            &[(
                "Sec-WebSocket-Protocol",
                &format!("realtime, openai-insecure-api-key.{right}"),
            )],
        ),
    ];
    for client in &mut clients {
        assert_eq!(client.recv()["type"], "session.created");
    }
    let methods: Vec<_> = server.sessions().iter().map(|s| s.handshake.auth).collect();
    assert_eq!(
        methods,
        [
            Some(AuthMethod::Bearer),
            Some(AuthMethod::ApiKeyHeader),
            Some(AuthMethod::ApiKeyQuery),
            Some(AuthMethod::Subprotocol)
        ]
    );
    for record in server.sessions() {
        let text = format!("{:?}", record.handshake);
        assert!(!text.contains(right), "secrets are redacted: {text}");
    }
    for client in clients {
        client.close();
    }
}

#[test]
fn other_paths_get_404_and_bad_requests_400() {
    let _guard = watchdog("paths_404", Duration::from_secs(30));
    let server = MockServer::start().unwrap();
    let (status, _, body) = raw_request(&server, "/v1/chat/completions", &[]);
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": {"message": "Invalid URL (GET /v1/chat/completions)", "type": "invalid_request_error", "param": null, "code": null}})
    );
    let (status, _, body) = raw_request(&server, "/v1/realtime", &[]);
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "missing_required_parameter");
    assert_eq!(body["error"]["param"], "model");
    let (status, _, body) = raw_request(&server, "/openai/realtime?deployment=d", &[]);
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "api-version");
    let (status, _, _) = raw_request(
        &server,
        "/openai/v1/realtime?model=d&api-version=2025-04-01-preview",
        &[],
    );
    assert_eq!(status, 401, "Azure GA refuses api-version");
    // A plain HTTP GET (no upgrade) on a real endpoint.
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    stream
        .write_all(b"GET /v1/realtime?model=m HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    // Garbage instead of HTTP.
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    stream
        .write_all(b"\x16\x03\x01 not http at all\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    assert_eq!(server.session_count(), 0);
    assert_eq!(server.rejected().len(), 5);
}

#[test]
fn endpoints_and_dialects_are_recorded() {
    let _guard = watchdog("endpoints", Duration::from_secs(30));
    let server = MockServer::builder()
        .dialect(DialectMode::Auto)
        .start()
        .unwrap();
    let mut clients = vec![
        Client::connect_with(
            &format!("{}&x=a%20b", server.url()),
            &[("OpenAI-Project", "proj_1")],
        ),
        Client::connect(&server.azure_url("dep-1")),
        Client::connect(&server.azure_preview_url("dep-2", "2024-10-01-preview")),
        Client::connect_with(&server.url(), &[("OpenAI-Beta", "realtime=v1")]),
        Client::connect_with(
            &server.url(),
            &[(
                "Sec-WebSocket-Protocol",
                "realtime, openai-beta.realtime-v1",
            )],
        ),
    ];
    for client in &mut clients {
        assert_eq!(client.recv()["type"], "session.created");
    }
    let sessions = server.sessions();
    let summary: Vec<_> = sessions
        .iter()
        .map(|s| {
            (
                s.handshake.endpoint,
                s.dialect,
                s.handshake.model().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                Some(Endpoint::OpenAi),
                Dialect::Ga,
                Some("gpt-realtime".to_owned())
            ),
            (
                Some(Endpoint::AzureGa),
                Dialect::Ga,
                Some("dep-1".to_owned())
            ),
            (
                Some(Endpoint::AzurePreview),
                Dialect::Beta,
                Some("dep-2".to_owned())
            ),
            (
                Some(Endpoint::OpenAi),
                Dialect::Beta,
                Some("gpt-realtime".to_owned())
            ),
            (
                Some(Endpoint::OpenAi),
                Dialect::Beta,
                Some("gpt-realtime".to_owned())
            ),
        ]
    );
    let first = &sessions[0].handshake;
    assert_eq!(first.path, "/v1/realtime");
    assert_eq!(first.query_param("x"), Some("a b"));
    assert_eq!(first.header("openai-project"), Some("proj_1"));
    assert_eq!(first.status, 101);
    assert_eq!(
        sessions[2].handshake.query_param("api-version"),
        Some("2024-10-01-preview")
    );
    // The session reports the deployment as its model.
    let created = server
        .session(1)
        .unwrap()
        .server_frames()
        .next()
        .unwrap()
        .text
        .clone();
    assert!(created.contains(r#""model":"dep-1""#), "{created}");
    for client in clients {
        client.close();
    }
    // Forced dialects ignore what the client asks for.
    for (mode, dialect) in [
        (DialectMode::Ga, Dialect::Ga),
        (DialectMode::Beta, Dialect::Beta),
    ] {
        let server = MockServer::builder().dialect(mode).start().unwrap();
        let mut client = connect_beta(&server);
        client.recv();
        assert_eq!(server.session(0).unwrap().dialect, dialect);
        client.close();
    }
}

#[test]
fn shutdown_closes_open_sessions_with_1001() {
    let _guard = watchdog("shutdown", Duration::from_secs(30));
    let server = MockServer::start().unwrap();
    let mut client = Client::connect(&server.url());
    client.recv();
    let shutdown = std::thread::spawn(move || server.shutdown());
    let (frame, _, _) = client.until_closed();
    assert_eq!(
        frame.unwrap().code,
        tungstenite::protocol::frame::coding::CloseCode::Away
    );
    shutdown.join().unwrap().unwrap();
}
