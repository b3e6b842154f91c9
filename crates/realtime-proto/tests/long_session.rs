//! A synthetic 60-minute voice session pushed through the machine stays within its memory
//! bounds under the default policy (and under `All`, within the byte cap).
//!
//! The session: 120 turns (two a minute). In each, the user speaks (VAD events, a commit,
//! input transcription) and the assistant answers with 10 s of PCM16 audio in 100 ms deltas
//! (4,800 bytes each) and its transcript. 57.6 MB of assistant audio in all.

use realtime_proto::Connection;
use realtime_proto::connection::Config;
use realtime_proto::conversation::AudioRetention;

const TURNS: usize = 120;
const DELTAS_PER_REPLY: usize = 100;
const DELTA_BYTES: usize = 4_800;

fn run(config: Config) -> Connection {
    use base64::Engine as _;
    let audio = base64::engine::general_purpose::STANDARD.encode(vec![0x11u8; DELTA_BYTES]);
    let mut connection = Connection::new(config);
    connection
        .handle_message(r#"{"type":"session.created","event_id":"e","session":{"type":"realtime","id":"sess_1","audio":{"output":{"format":{"type":"audio/pcm","rate":24000}}}}}"#)
        .unwrap();
    let mut previous = "root".to_owned();
    for turn in 0..TURNS {
        let user = format!("item_user_{turn}");
        let reply = format!("item_reply_{turn}");
        let response = format!("resp_{turn}");
        let start = turn as u64 * 30_000;
        let messages = [
            format!(
                r#"{{"type":"input_audio_buffer.speech_started","event_id":"e","audio_start_ms":{start},"item_id":"{user}"}}"#
            ),
            format!(
                r#"{{"type":"input_audio_buffer.speech_stopped","event_id":"e","audio_end_ms":{},"item_id":"{user}"}}"#,
                start + 3_000
            ),
            format!(
                r#"{{"type":"input_audio_buffer.committed","event_id":"e","previous_item_id":"{previous}","item_id":"{user}"}}"#
            ),
            format!(
                r#"{{"type":"conversation.item.added","event_id":"e","previous_item_id":"{previous}","item":{{"id":"{user}","type":"message","role":"user","status":"completed","content":[{{"type":"input_audio","transcript":null}}]}}}}"#
            ),
            format!(
                r#"{{"type":"response.created","event_id":"e","response":{{"id":"{response}","status":"in_progress","output":[],"conversation_id":"conv_1"}}}}"#
            ),
            format!(
                r#"{{"type":"response.output_item.added","event_id":"e","response_id":"{response}","output_index":0,"item":{{"id":"{reply}","type":"message","role":"assistant","status":"in_progress","content":[]}}}}"#
            ),
            format!(
                r#"{{"type":"conversation.item.added","event_id":"e","previous_item_id":"{user}","item":{{"id":"{reply}","type":"message","role":"assistant","status":"in_progress","content":[]}}}}"#
            ),
            format!(
                r#"{{"type":"conversation.item.input_audio_transcription.completed","event_id":"e","item_id":"{user}","content_index":0,"transcript":"This is what the user said in turn {turn}."}}"#
            ),
        ];
        for message in messages {
            connection.handle_message(message).unwrap();
        }
        for delta in 0..DELTAS_PER_REPLY {
            connection
                .handle_message(format!(r#"{{"type":"response.output_audio.delta","event_id":"e","response_id":"{response}","item_id":"{reply}","output_index":0,"content_index":0,"delta":"{audio}"}}"#))
                .unwrap();
            if delta % 10 == 0 {
                connection
                    .handle_message(format!(r#"{{"type":"response.output_audio_transcript.delta","event_id":"e","response_id":"{response}","item_id":"{reply}","output_index":0,"content_index":0,"delta":"word{delta} "}}"#))
                    .unwrap();
            }
            while connection.poll_event().is_some() {}
        }
        connection
            .handle_message(format!(r#"{{"type":"response.done","event_id":"e","response":{{"id":"{response}","status":"completed","output":[],"conversation_id":"conv_1","usage":{{"total_tokens":300,"input_tokens":100,"output_tokens":200}}}}}}"#))
            .unwrap();
        while connection.poll_event().is_some() {}
        previous = reply;
    }
    connection.check_invariants().unwrap();
    connection
}

#[test]
fn the_default_policy_keeps_only_the_current_reply_audio() {
    let connection = run(Config::default());
    let conversation = connection.conversation();
    assert_eq!(conversation.len(), 2 * TURNS);
    // Only the last reply's 10 s of audio are kept: 480,000 bytes of the 57.6 MB received.
    assert_eq!(
        conversation.retained_audio_bytes(),
        (DELTAS_PER_REPLY * DELTA_BYTES) as u64
    );
    let received: u64 = conversation
        .items()
        .flat_map(|item| item.parts())
        .map(|part| part.audio().received_bytes())
        .sum();
    assert_eq!(received, (TURNS * DELTAS_PER_REPLY * DELTA_BYTES) as u64);
    // Text kept: transcripts of both sides, a few kB.
    let text: usize = conversation.items().map(|item| item.text().len()).sum();
    assert!(text < 20_000, "{text} bytes of text");
    assert_eq!(connection.responses().len(), TURNS);
    assert_eq!(connection.usage().total_tokens, Some(300 * TURNS as u64));
    assert_eq!(conversation.transcript().len(), 2 * TURNS);
}

#[test]
fn keeping_all_audio_stops_at_the_byte_cap() {
    let mut config = Config::default();
    config.limits.audio_retention = AudioRetention::All;
    let connection = run(config);
    let cap = connection.conversation().limits().max_audio_bytes;
    assert_eq!(cap, 16 * 1024 * 1024);
    let kept = connection.conversation().retained_audio_bytes();
    assert!(kept <= cap && kept > cap - DELTA_BYTES as u64, "{kept}");
    // The newest audio is what is kept.
    let last = connection.conversation().items().last().unwrap();
    assert!(last.part(0).unwrap().audio().is_complete());
}

#[test]
fn an_item_cap_bounds_the_conversation_too() {
    let mut config = Config::default();
    config.limits.max_items = Some(50);
    let connection = run(config);
    assert_eq!(connection.conversation().len(), 50);
    assert_eq!(
        connection.conversation().evicted_items(),
        (2 * TURNS - 50) as u64
    );
}
