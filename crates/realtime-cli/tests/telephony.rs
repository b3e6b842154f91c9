//! The telephony commands (`token`, `call`, `webhook verify`, `answer-calls`), run as a user
//! would: the built binary, loopback only, against the bundled mock (no endpoint flags) and
//! against an in-process `MockServer` given with `--base-url`. Every run is killed after
//! [`LIMIT`].

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{SystemTime, UNIX_EPOCH};

use common::{Run, command, finish, reader, run};

use realtime_mock::{CallScript, CallState, MockServer};
use realtime_net::webhook::WebhookSecret;

const KEY: &str = "sk-cli-telephony-key";

/// Runs `realtime ARGS` with `stdin`, killing it after [`LIMIT`](common::LIMIT).
fn realtime(args: &[&str], stdin: &[u8]) -> Run {
    run(command(args), Some(stdin), args)
}

fn now() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

#[test]
fn token_mints_a_secret_offline() {
    let run = realtime(
        &[
            "token",
            "--expires-after",
            "120",
            "--instructions",
            "Be brief.",
        ],
        b"",
    );
    assert_eq!(run.code(), Some(0), "{run:?}");
    run.shows_in_order(&["secret   ek_", "expires  ", "in 1", "session  sess_"]);
    assert!(run.stderr.contains("bundled mock server"));
    let run = realtime(&["token", "--transcription", "--json"], b"");
    let answer: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(answer["session"]["type"], "transcription");
    assert!(answer["value"].as_str().unwrap().starts_with("ek_"));
    let run = realtime(&["token", "--expires-after", "5"], b"");
    assert_eq!(run.code(), Some(1), "{run:?}");
    assert!(
        run.stderr.contains("expires_after.seconds"),
        "{}",
        run.stderr
    );
}

#[test]
fn call_controls_a_call() {
    for args in [
        &["call", "accept", "rtc_demo", "--instructions", "Hi."][..],
        &["call", "reject", "rtc_demo", "--status", "486"],
        &["call", "refer", "rtc_demo", "tel:+14155550123"],
        &["call", "hangup", "rtc_demo"],
    ] {
        let run = realtime(args, b"");
        assert_eq!(run.code(), Some(0), "{args:?}: {run:?}");
        assert!(run.stdout.ends_with("  rtc_demo\n"), "{}", run.stdout);
    }
    let run = realtime(&["call", "refer", "rtc_demo", "mailto:someone"], b"");
    assert_eq!(run.code(), Some(1));
    assert!(run.stderr.contains("target_uri"), "{}", run.stderr);

    // A real server's calls, with its key.
    let server = MockServer::builder().api_key(KEY).start().unwrap();
    server.add_call("rtc_ringing", CallState::Ringing);
    let base = server.rest_url();
    let run = realtime(
        &[
            "call",
            "accept",
            "rtc_ringing",
            "--base-url",
            &base,
            "--api-key",
            KEY,
        ],
        b"",
    );
    assert_eq!(run.code(), Some(0), "{run:?}");
    assert_eq!(server.call("rtc_ringing").unwrap().state, CallState::Active);
    let run = realtime(
        &[
            "call",
            "hangup",
            "rtc_ringing",
            "--base-url",
            &base,
            "--api-key",
            "sk-wrong-1234",
        ],
        b"",
    );
    assert_eq!(run.code(), Some(1));
    assert!(run.stderr.contains("HTTP 401"), "{}", run.stderr);
    let run = realtime(
        &[
            "call",
            "hangup",
            "rtc_nobody",
            "--base-url",
            &base,
            "--api-key",
            KEY,
        ],
        b"",
    );
    assert_eq!(run.code(), Some(1));
    assert!(run.stderr.contains("call_not_found"), "{}", run.stderr);
    drop(server);
    let run = realtime(&["call", "hangup", "rtc_1", "--base-url", &base], b"");
    assert_eq!(run.code(), Some(2), "{run:?}");
}

#[test]
fn webhook_verify_prints_the_event_or_the_reason() {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let signer = WebhookSecret::new(secret).unwrap();
    let body = r#"{"object":"event","id":"evt_1","type":"realtime.call.incoming","created_at":1750287018,"data":{"call_id":"rtc_abc","sip_headers":[{"name":"From","value":"sip:+1@x"}]}}"#;
    let timestamp = now();
    let headers = signer.headers("wh_1", timestamp, body.as_bytes());
    let header_args: Vec<String> = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect();
    let mut args = vec!["webhook", "verify", "--secret", secret];
    for header in &header_args {
        args.extend(["--header", header.as_str()]);
    }
    let run = realtime(&args, body.as_bytes());
    assert_eq!(run.code(), Some(0), "{run:?}");
    run.shows_in_order(&[
        "verified  realtime.call.incoming evt_1",
        "call      rtc_abc",
        "sip       From: sip:+1@x",
    ]);

    let dir = std::env::temp_dir().join(format!("realtime-cli-webhook-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("body.json");
    std::fs::write(&file, body).unwrap();
    let mut from_file = args.clone();
    from_file.extend(["--json", file.to_str().unwrap()]);
    let run = realtime(&from_file, b"");
    assert_eq!(run.code(), Some(0), "{run:?}");
    assert!(run.stdout.contains(r#""call_id":"rtc_abc""#));

    let tampered = body.replace("rtc_abc", "rtc_abd");
    let run = realtime(&args, tampered.as_bytes());
    assert_eq!(run.code(), Some(1));
    assert!(
        run.stderr.contains("refused: no webhook signature matches"),
        "{}",
        run.stderr
    );

    let later = (timestamp + 3600).to_string();
    let mut stale = args.clone();
    stale.extend(["--now", later.as_str()]);
    let run = realtime(&stale, body.as_bytes());
    assert_eq!(run.code(), Some(1));
    assert!(
        run.stderr.contains("refused: the webhook timestamp"),
        "{}",
        run.stderr
    );

    let run = realtime(&args[..args.len() - 2], body.as_bytes());
    assert_eq!(run.code(), Some(1));
    assert!(
        run.stderr.contains("webhook-signature header is missing"),
        "{}",
        run.stderr
    );

    let run = realtime(
        &["webhook", "verify", "--header", "webhook-id: x"],
        body.as_bytes(),
    );
    assert_eq!(run.code(), Some(2));
    assert!(run.stderr.contains("no webhook secret"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn answer_calls_serves_the_bundled_mocks_call() {
    let run = realtime(&["answer-calls"], b"");
    assert_eq!(run.code(), Some(0), "{run:?}");
    run.shows_in_order(&[
        "listening for webhooks on http://127.0.0.1:",
        "call      rtc_",
        "accepted  rtc_",
        "caller    Hello, I am calling about my order.",
        "agent     Hello! I am the bundled mock server.",
        "keys      4",
        "keys      2",
        "caller    Thank you, goodbye.",
        "ended     rtc_",
        "(the caller hung up)",
    ]);
}

#[test]
fn answer_calls_answers_a_servers_calls_and_refuses_forged_ones() {
    let secret = "whsec_YW5zd2VyLWNhbGxzLXRlc3Qtc2VjcmV0";
    let server = MockServer::builder()
        .api_key(KEY)
        .webhook_secret(WebhookSecret::new(secret).unwrap())
        .call_script(
            CallScript::new()
                .say("Is the shop open today?")
                .press("9")
                .hang_up(),
        )
        .start()
        .unwrap();
    let base = server.rest_url();
    let mut child = command(&[
        "answer-calls",
        "--secret",
        secret,
        "--base-url",
        &base,
        "--api-key",
        KEY,
        "--max-calls",
        "1",
        "--instructions",
        "You run a shop.",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("listening for webhooks on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_owned();

    // A forged delivery (another secret) is refused with 400; the real one is answered.
    let forger = MockServer::builder()
        .webhook_secret(WebhookSecret::new("whsec_Zm9yZ2Vk").unwrap())
        .start()
        .unwrap();
    assert!(matches!(
        forger.ring(&url),
        Err(realtime_mock::RingError::Refused { status: 400, .. })
    ));
    let call_id = server.ring(&url).unwrap();

    let rest = reader(stdout.into_inner());
    let run = finish(child, &["answer-calls"]);
    let output = rest.join().unwrap();
    assert_eq!(run.code(), Some(0), "{output}\n{}", run.stderr);
    let run = Run {
        stdout: output,
        ..run
    };
    run.shows_in_order(&[
        "refused   a delivery: no webhook signature matches",
        &format!("call      {call_id}"),
        &format!("accepted  {call_id}"),
        "caller    Is the shop open today?",
        "agent     ",
        "keys      9",
        &format!("ended     {call_id} (the caller hung up)"),
    ]);
    let call = server.call(call_id.as_str()).unwrap();
    assert_eq!(call.state, CallState::CallerHungUp);
    assert_eq!(call.session.unwrap()["instructions"], "You run a shop.");
}
