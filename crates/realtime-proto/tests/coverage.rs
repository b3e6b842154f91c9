//! `docs/protocol-coverage.md` lists every wire type this crate decodes, so it cannot fall behind.

use realtime_proto::{ClientEvent, Dialect, ServerEvent, SessionConfig};

const CLIENT_COMMANDS: usize = 12;

#[test]
fn every_wire_name_is_in_the_coverage_table() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/protocol-coverage.md"
    );
    let doc = std::fs::read_to_string(path).expect("docs/protocol-coverage.md exists");
    for (wire, ga) in ServerEvent::WIRE_NAMES {
        assert!(
            doc.contains(&format!("| `{wire}` |")),
            "{wire} (GA {ga}) is missing from the coverage table"
        );
    }
    assert_eq!(
        ServerEvent::WIRE_NAMES.len(),
        46 + 8,
        "46 GA names and 8 beta spellings"
    );
    let client = [
        ClientEvent::create_item(realtime_proto::Item::user_text("x")),
        ClientEvent::delete_item("i"),
        ClientEvent::retrieve_item("i"),
        ClientEvent::truncate_item("i", 0, 0),
        ClientEvent::append_audio(Vec::new()),
        ClientEvent::clear_audio(),
        ClientEvent::clear_output_audio(),
        ClientEvent::commit_audio(),
        ClientEvent::cancel_response(),
        ClientEvent::create_response(),
        ClientEvent::update_session(SessionConfig::realtime()),
        ClientEvent::update_session(SessionConfig::transcription()),
    ];
    let mut names: Vec<&str> = client
        .iter()
        .map(|event| event.wire_type(Dialect::Beta))
        .collect();
    names.dedup();
    assert_eq!(names.len(), CLIENT_COMMANDS);
    for name in names {
        assert!(
            doc.contains(&format!("| `{name}` |")),
            "{name} is missing from the coverage table"
        );
    }
}
