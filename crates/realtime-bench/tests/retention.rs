//! Memory: once its events are taken, the machine keeps no view of the buffer a message
//! arrived in. A WebSocket library cuts messages out of a large read buffer (128 KiB and more);
//! a view kept in the conversation pinned that whole buffer for the session's life, and made the
//! library allocate (and zero) a new one. Regression test: item and response snapshots and the
//! session kept views of their messages (80 of the 10-minute voice stream's messages, 10 MiB of
//! read buffers in an adapter).

use bytes::Bytes;
use realtime_bench::streams::{self, Names};
use realtime_proto::{Config, Connection, SharedStr};

#[test]
fn the_machine_keeps_no_view_of_a_received_buffer() {
    for names in [Names::Ga, Names::Beta] {
        let stream = streams::voice(names);
        let mut connection = Connection::new(Config::default());
        let mut probes = Vec::new();
        for message in &stream.messages {
            // Shared with the probe, as a transport's read buffer would be.
            let buffer = Bytes::from(message.clone().into_bytes());
            probes.push(buffer.clone());
            let text = SharedStr::from_utf8_bytes(buffer).expect("generated text is UTF-8");
            connection
                .handle_message(text)
                .expect("generated events decode");
            while connection.poll_event().is_some() {}
        }
        let kept: Vec<String> = probes
            .into_iter()
            .filter(|probe| !probe.is_unique())
            .map(|probe| String::from_utf8_lossy(&probe[..probe.len().min(60)]).into_owned())
            .collect();
        // The last message is not a delta, so not even the streaming slot holds a view.
        assert!(kept.is_empty(), "{names:?}: views kept of {kept:?}");
        assert_eq!(
            connection.conversation().len(),
            80,
            "the state itself is all there"
        );
    }
}
