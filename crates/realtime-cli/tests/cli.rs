//! The `realtime` binary, run as a user would.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn realtime() -> Command {
    Command::new(env!("CARGO_BIN_EXE_realtime"))
}

fn recordings() -> Option<PathBuf> {
    let dir = std::env::var_os("REALTIME_SHARED_DIR")
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
            PathBuf::from,
        )
        .join("realtime-recordings");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (set REALTIME_SHARED_DIR)",
            dir.display()
        );
        None
    }
}

fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn run_with_input(mut command: Command, input: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn decode_reports_zero_unknown_and_zero_failed_for_every_recording() {
    let Some(dir) = recordings() else { return };
    let mut checked = 0;
    for suffix in [".server.jsonl", ".all.jsonl"] {
        for path in files(&dir, suffix) {
            let output = realtime().arg("decode").arg(&path).output().unwrap();
            let text = stdout(&output);
            let summary = text.lines().last().unwrap();
            assert!(
                summary.ends_with(" decoded, 0 unknown, 0 failed"),
                "{}: {summary}",
                path.display()
            );
            assert!(output.status.success(), "{}", path.display());
            let lines = std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .count();
            assert_eq!(summary, format!("{lines} decoded, 0 unknown, 0 failed"));
            assert!(text.lines().take(lines).all(|line| line.ends_with(" ok")));
            checked += 1;
        }
    }
    assert_eq!(checked, 22);
}

fn compatible_servers() -> Option<PathBuf> {
    let dir = recordings()?.with_file_name("compatible-servers");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: {} is absent", dir.display());
        None
    }
}

#[test]
fn decode_fails_nothing_of_the_servers_that_bend_the_schema_and_names_what_they_bent() {
    let Some(dir) = compatible_servers() else {
        return;
    };
    let mut checked = 0;
    for suffix in [".server.jsonl", ".all.jsonl"] {
        for path in files(&dir, suffix) {
            let output = realtime().arg("decode").arg(&path).output().unwrap();
            assert!(output.status.success(), "{}", path.display());
            let text = stdout(&output);
            let summary = text.lines().last().unwrap();
            let counts: Vec<usize> = summary
                .split(", ")
                .map(|part| part.split(' ').next().unwrap().parse().unwrap())
                .collect();
            let lines = std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .count();
            assert_eq!(
                counts[0] + counts[1],
                lines,
                "{}: {summary}",
                path.display()
            );
            assert_eq!(counts[2], 0, "{}: {summary}", path.display());
            // The keep-alives are counted, not shown.
            assert!(!text.contains(" ping "), "{}", path.display());
            for line in text.lines().filter(|line| line.contains(" ok (")) {
                assert!(
                    line.ends_with(')') && line.contains(" warning"),
                    "{}: {line}",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
    let path = dir.join("xai/test_tool_call_round.all.jsonl");
    let text = stdout(&realtime().arg("decode").arg(&path).output().unwrap());
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.contains(&"5 server session.updated ok (1 warning: session.tools[0].name: missing)")
    );
    assert!(lines.contains(
        &"27 server response.function_call_arguments.delta ok (1 warning: output_index: missing)"
    ));
    assert!(lines.contains(&"22 server response.content_part.done ok (1 warning: part: missing)"));
    assert!(lines.contains(&"9 server response.created ok (1 warning: response.status_details: invalid type: string \"unimplemented\", expected struct StatusDetails)"));
    assert_eq!(lines.last(), Some(&"56 decoded, 0 unknown, 0 failed"));
    let text = stdout(
        &realtime()
            .args(["decode", "--keep-alive"])
            .arg(&path)
            .output()
            .unwrap(),
    );
    assert!(
        text.lines().any(|line| line == "4 server ping keep-alive"),
        "{text}"
    );
}

#[test]
fn replay_joins_a_resumed_conversation_and_names_the_server() {
    let Some(dir) = compatible_servers() else {
        return;
    };
    let path = dir.join("xai/test_session_resumption_after_drop.all.jsonl");
    let output = realtime().arg("replay").arg(&path).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let state: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(state["dialect"], "ga");
    assert_eq!(state["profile"], "xai");
    assert_eq!(state["decode_warnings"], 6);
    let items: Vec<&str> = state["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        items,
        [
            "3d301c41-bc81-4592-b73a-6c01a29d2d4a",
            "0f5efcd5-76f1-4a00-9cac-d907e17d4434",
            "34cfce46-63ab-4176-bbeb-e16221f719db",
            "aab62b30-dca6-42ba-9115-eb19818c79ca"
        ]
    );
    for response in state["responses"].as_array().unwrap() {
        assert_eq!(response["status"], "completed");
    }
}

#[test]
fn encode_for_xai_keeps_the_formats_nested() {
    let input = br#"{"type":"session.update","session":{"voice":"ara","input_audio_format":"pcm16","turn_detection":{"type":"server_vad"}}}"#;
    let output = run_with_input(
        {
            let mut command = realtime();
            command.args(["encode", "--dialect", "beta", "--profile", "xai", "-"]);
            command
        },
        input,
    );
    assert!(output.status.success());
    let value: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    let session = &value["session"];
    assert_eq!(session["audio"]["input"]["format"]["type"], "audio/pcm");
    assert_eq!(session["audio"]["input"]["format"]["rate"], 24000);
    assert!(session.get("input_audio_format").is_none(), "{session}");
    assert_eq!(session["voice"], "ara");
    assert_eq!(session["turn_detection"]["type"], "server_vad");
}

#[test]
fn decode_lines_name_line_direction_and_type() {
    let Some(dir) = recordings() else { return };
    let path = dir.join("pydantic-ai/4fda38988f29/test_openai_ws/test_tool_call_round.all.jsonl");
    let output = realtime().arg("decode").arg(&path).output().unwrap();
    let text = stdout(&output);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("1 server session.created ok"));
    assert_eq!(lines.next(), Some("2 client session.update ok"));
}

#[test]
fn decode_reports_failures_and_exits_1() {
    let input = b"{\"type\":\"bogus.event\",\"event_id\":\"e\"}\n\nnot json\n{\"type\":\"response.text.delta\",\"response_id\":\"r\"}\n{\"direction\":\"sent\",\"event\":{\"type\":\"conversation.item.delete\"}}\n{\"direction\":\"sideways\",\"event\":{}}\n";
    let output = run_with_input(
        {
            let mut command = realtime();
            command.args(["decode", "-"]);
            command
        },
        input,
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "1 server bogus.event unknown");
    assert!(
        lines[1].starts_with("3 server ? error: not valid JSON"),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[2],
        "4 server response.text.delta error: field `item_id`: required field is missing"
    );
    assert_eq!(
        lines[3],
        "5 client conversation.item.delete error: field `item_id`: required field is missing"
    );
    assert!(
        lines[4].starts_with("6 server ? error: unknown direction"),
        "{}",
        lines[4]
    );
    assert_eq!(lines[5], "0 decoded, 1 unknown, 4 failed");
}

/// A line that is not UTF-8 is one failed line, named by its number; the lines after it are
/// read. It used to end the command at once ("stream did not contain valid UTF-8"), with no
/// line number and nothing else reported.
#[test]
fn a_line_that_is_not_utf8_fails_alone() {
    let input = b"{\"type\":\"response.done\",\"response\":{\"id\":\"r\"}}\r\n{\"type\":\"x\xff\"}\n\xfe\xfe\n{\"type\":\"input_audio_buffer.cleared\"}";
    for command in ["decode", "replay"] {
        let output = run_with_input(
            {
                let mut realtime = realtime();
                realtime.args([command, "-"]);
                realtime
            },
            input,
        );
        let (text, errors) = (stdout(&output), String::from_utf8_lossy(&output.stderr));
        assert_eq!(output.status.code(), Some(1), "{command}: {text}{errors}");
        assert!(!errors.contains("stream did not contain"), "{errors}");
        if command == "decode" {
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines[0], "1 server response.done ok", "{text}");
            assert!(
                lines[1].starts_with("2 server ? error: not UTF-8 text: invalid utf-8"),
                "{text}"
            );
            assert!(
                lines[2].starts_with("3 server ? error: not UTF-8 text"),
                "{text}"
            );
            assert_eq!(lines[3], "4 server input_audio_buffer.cleared ok", "{text}");
            assert_eq!(lines[4], "2 decoded, 0 unknown, 2 failed");
        } else {
            assert!(
                errors.contains("line 2") && errors.contains("not UTF-8"),
                "{errors}"
            );
        }
    }
}

#[test]
fn encode_for_ga_gives_what_decode_accepts() {
    let Some(dir) = recordings() else { return };
    for path in files(&dir, ".client.jsonl") {
        for dialect in ["ga", "beta"] {
            let encoded = realtime()
                .args(["encode", "--dialect", dialect])
                .arg(&path)
                .output()
                .unwrap();
            assert!(encoded.status.success(), "{}", path.display());
            let decoded = run_with_input(
                {
                    let mut command = realtime();
                    command.args(["decode", "--dialect", dialect, "-"]);
                    command
                },
                &encoded.stdout,
            );
            let text = stdout(&decoded);
            assert!(
                text.lines()
                    .last()
                    .unwrap()
                    .ends_with(" decoded, 0 unknown, 0 failed"),
                "{}: {text}",
                path.display()
            );
        }
    }
}

#[test]
fn encode_converts_shapes_and_reports_what_it_drops() {
    let input = br#"{"type":"session.update","session":{"modalities":["text"],"voice":"sage","temperature":0.7,"input_audio_sampling_rate":24000}}
{"direction":"received","event":{"type":"session.created","event_id":"e","session":{}}}
"#;
    let output = run_with_input(
        {
            let mut command = realtime();
            command.args(["encode", "--dialect", "ga"]);
            command
        },
        input,
    );
    assert!(output.status.success());
    let value: serde_json::Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    assert_eq!(value["session"]["type"], "realtime");
    assert_eq!(value["session"]["output_modalities"][0], "text");
    assert_eq!(value["session"]["audio"]["output"]["voice"], "sage");
    assert!(value["session"].get("temperature").is_none());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("`session.temperature` has no ga counterpart"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`session.input_audio_sampling_rate` has no ga counterpart"),
        "{stderr}"
    );
    assert!(stderr.contains("skipped 1 server event"), "{stderr}");
}

#[test]
fn a_closed_pipe_is_not_a_crash() {
    // Far more output than a pipe buffers, so the reader really goes away mid-stream.
    let input = "{\"type\":\"input_audio_buffer.cleared\",\"event_id\":\"e\"}\n".repeat(50_000);
    let mut child = realtime()
        .args(["decode", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "1 server input_audio_buffer.cleared ok\n");
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(output.status.success(), "{:?}", output.status);
    assert!(
        !String::from_utf8(output.stderr)
            .unwrap()
            .contains("panicked")
    );
}

#[test]
fn replay_prints_a_final_state_matching_the_servers_done_payloads() {
    let Some(dir) = recordings() else { return };
    let mut checked = 0;
    for path in files(&dir, ".all.jsonl") {
        let output = realtime()
            .args(["replay", "--retain-audio", "all"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let expected_dialect = if path.to_string_lossy().contains("test_openai_ws") {
            "ga"
        } else {
            "beta"
        };
        assert_eq!(document["dialect"], expected_dialect, "{}", path.display());
        assert!(document["session"].is_object());
        let items = document["items"].as_array().unwrap();
        let find = |id: &str| {
            items
                .iter()
                .find(|item| item["id"] == id)
                .unwrap_or_else(|| panic!("{id} in {}", path.display()))
        };
        let mut audio_bytes = std::collections::HashMap::<String, u64>::new();
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            let line: serde_json::Value = serde_json::from_str(line).unwrap();
            if line["direction"] != "received" {
                continue;
            }
            let event = &line["event"];
            let item = event["item_id"].as_str().unwrap_or_default();
            let index = event["content_index"].as_u64().unwrap_or(0) as usize;
            match event["type"].as_str().unwrap() {
                "response.output_text.done" | "response.text.done" => {
                    assert_eq!(find(item)["content"][index]["text"], event["text"]);
                    checked += 1;
                }
                "response.output_audio_transcript.done"
                | "response.audio_transcript.done"
                | "conversation.item.input_audio_transcription.completed" => {
                    assert_eq!(
                        find(item)["content"][index]["transcript"],
                        event["transcript"]
                    );
                    checked += 1;
                }
                "response.function_call_arguments.done" => {
                    assert_eq!(find(item)["arguments"], event["arguments"]);
                    checked += 1;
                }
                "response.output_item.done" => {
                    let id = event["item"]["id"].as_str().unwrap();
                    assert_eq!(find(id)["status"], event["item"]["status"]);
                    checked += 1;
                }
                "response.done" => {
                    let response = document["responses"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|r| r["id"] == event["response"]["id"])
                        .unwrap();
                    assert_eq!(response["status"], event["response"]["status"]);
                    checked += 1;
                }
                "response.output_audio.delta" | "response.audio.delta" => {
                    use base64::Engine as _;
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(event["delta"].as_str().unwrap())
                        .unwrap();
                    *audio_bytes.entry(item.to_owned()).or_default() += bytes.len() as u64;
                }
                _ => {}
            }
        }
        for (item, bytes) in audio_bytes {
            assert_eq!(
                find(&item)["content"][0]["audio_bytes"],
                bytes,
                "{}",
                path.display()
            );
        }
    }
    assert_eq!(
        checked, 50,
        "every *.done payload of the recordings was compared"
    );
}
