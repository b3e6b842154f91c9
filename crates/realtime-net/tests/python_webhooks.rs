//! Webhook signatures agree with the official `openai` Python SDK
//! (`client.webhooks.verify_signature` and `unwrap`): a delivery signed here verifies there,
//! and one signed in Python (with `hmac` and `hashlib`, which the SDK accepts) verifies here;
//! a changed body is refused by both. Skipped, with a message, where python3 or the `openai`
//! package is missing (`.ci/run` installs it with pip).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use realtime_net::webhook::{WebhookError, WebhookPayload, WebhookSecret, WebhookVerifier};
use serde_json::{Value, json};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python_webhooks.py");
const BODY: &str = r#"{"object":"event","id":"evt_685343a1381c819085d44c354e1b330e","type":"realtime.call.incoming","created_at":1750287018,"data":{"call_id":"rtc_479a275623b54bdb9b6fbae2f7cbd408","sip_headers":[{"name":"From","value":"sip:+142555512112@sip.example.com"},{"name":"To","value":"sip:+18005551212@sip.example.com"}]}}"#;

fn sdk_available() -> bool {
    let importable = Command::new("python3")
        .args([
            "-c",
            "import openai; openai.OpenAI(api_key='x').webhooks.verify_signature",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !importable {
        eprintln!(
            "SKIPPED: python3 with the `openai` package (webhook helpers) is not available \
             (pip install openai)"
        );
    }
    importable
}

/// Runs the script on a job; its answer.
fn python(job: &Value) -> Value {
    let mut child = Command::new("python3")
        .arg(SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes())
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the Python script did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "python failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

fn now_seconds() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

#[test]
fn signatures_made_here_verify_in_the_openai_sdk() {
    if !sdk_available() {
        return;
    }
    for secret in [
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "a-plain-text-secret",
    ] {
        let signer = WebhookSecret::new(secret).unwrap();
        let timestamp = now_seconds();
        let headers: Value = signer
            .headers(
                "wh_685342e6c53c8190a1be43f081506c52",
                timestamp,
                BODY.as_bytes(),
            )
            .into_iter()
            .map(|(name, value)| (name.to_owned(), Value::from(value)))
            .collect::<serde_json::Map<_, _>>()
            .into();
        let answer =
            python(&json!({"verify": {"secret": secret, "body": BODY, "headers": headers}}));
        assert_eq!(answer["ok"], true, "{secret}: {answer}");
        assert_eq!(answer["type"], "realtime.call.incoming");
        assert_eq!(answer["call_id"], "rtc_479a275623b54bdb9b6fbae2f7cbd408");

        let changed = BODY.replace("+18005551212", "+18005551213");
        let answer =
            python(&json!({"verify": {"secret": secret, "body": changed, "headers": headers}}));
        assert_eq!(
            answer["ok"], false,
            "{secret}: the SDK took a changed body: {answer}"
        );
    }
}

#[test]
fn signatures_the_openai_sdk_accepts_verify_here() {
    if !sdk_available() {
        return;
    }
    for secret in [
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "a-plain-text-secret",
    ] {
        let answer =
            python(&json!({"sign": {"secret": secret, "id": "wh_python_1", "body": BODY}}));
        assert_eq!(
            answer["ok"], true,
            "{secret}: the SDK refused its own delivery: {answer}"
        );
        let headers: Vec<(String, String)> = answer["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
            .collect();
        let verifier = WebhookVerifier::new(WebhookSecret::new(secret).unwrap());
        let event = verifier
            .unwrap(headers.clone(), BODY.as_bytes(), SystemTime::now())
            .unwrap_or_else(|error| panic!("{secret}: {error}"));
        let WebhookPayload::RealtimeCallIncoming(call) = event.payload else {
            panic!("{secret}: not a call");
        };
        assert_eq!(
            call.call_id.as_str(),
            "rtc_479a275623b54bdb9b6fbae2f7cbd408"
        );
        assert_eq!(
            verifier.verify(
                headers,
                BODY.replace("+1425", "+1426").as_bytes(),
                SystemTime::now()
            ),
            Err(WebhookError::BadSignature)
        );
    }
}
