//! A client written against the published protocol (hand-written JSON over plain tungstenite,
//! none of this project's encoders) holds a full conversation with the mock in both dialects.

mod common;

use std::time::Duration;

use common::published::{SCRIPT, full_conversation};
use common::*;
use realtime_mock::{MockServer, Script};
use realtime_proto::Dialect;

#[test]
fn a_published_protocol_client_holds_a_full_conversation_in_both_dialects() {
    let _guard = watchdog("published_client", Duration::from_secs(60));
    let server = MockServer::builder()
        .script(Script::from_json(SCRIPT).unwrap())
        .delta_interval(Duration::from_millis(5))
        .start()
        .unwrap();
    for (index, dialect) in [Dialect::Ga, Dialect::Beta].into_iter().enumerate() {
        let events = full_conversation(&server.url(), dialect);
        assert!(events.len() > 50);
        server.wait_for_end(index, WAIT).unwrap();
        let record = assert_session_ok(&server, index);
        assert_eq!(record.dialect, dialect);
        assert_eq!(
            record.server_frames().count(),
            events.len(),
            "the client saw every event"
        );
    }
}

#[test]
fn the_order_check_catches_disorder() {
    use serde_json::json;
    let good = vec![
        json!({"type": "session.created"}),
        json!({"type": "response.created", "response": {"id": "r", "status": "in_progress", "usage": null, "conversation_id": "c"}}),
        json!({"type": "response.output_item.added", "response_id": "r", "item": {"id": "i", "type": "message"}}),
        json!({"type": "conversation.item.added", "item": {"id": "i"}}),
        json!({"type": "response.content_part.added", "response_id": "r", "item_id": "i"}),
        json!({"type": "response.output_text.delta", "response_id": "r", "item_id": "i"}),
        json!({"type": "response.output_text.done", "response_id": "r", "item_id": "i"}),
        json!({"type": "response.content_part.done", "response_id": "r", "item_id": "i"}),
        json!({"type": "response.output_item.done", "response_id": "r", "item": {"id": "i"}}),
        json!({"type": "conversation.item.done", "item": {"id": "i"}}),
        json!({"type": "response.done", "response": {"id": "r"}}),
    ];
    assert_protocol_order(&good, Dialect::Ga);
    let swaps = [(5, 6), (8, 9), (2, 3), (9, 10)];
    for (a, b) in swaps {
        let mut bad = good.clone();
        bad.swap(a, b);
        let result = std::panic::catch_unwind(|| assert_protocol_order(&bad, Dialect::Ga));
        assert!(result.is_err(), "swapping {a} and {b} went unnoticed");
    }
    let result = std::panic::catch_unwind(|| assert_protocol_order(&good, Dialect::Beta));
    assert!(result.is_err(), "GA names in a beta session");
}
