//! Faults: arming them, and firing them when their trigger comes.

use std::time::Instant;

use serde_json::json;

use super::{Core, Out};
use crate::fault::{Fault, Trigger};

#[derive(Debug)]
pub(super) struct Armed {
    trigger: Trigger,
    fault: Fault,
    /// Deltas sent when the fault was armed.
    base: u64,
}

impl Core {
    pub(super) fn arm(&mut self, trigger: Trigger, fault: Fault, now: Instant) {
        if trigger == Trigger::Now {
            self.fire(fault, now);
        } else {
            self.armed.push(Armed {
                trigger,
                fault,
                base: self.deltas,
            });
        }
    }

    fn fire(&mut self, fault: Fault, now: Instant) {
        if self.closed {
            return;
        }
        match fault {
            Fault::Drop => {
                self.out.push(Out::Drop);
                self.closed = true;
            }
            Fault::Close { code, reason } => self.close(code, &reason),
            Fault::Stall => self.out.push(Out::Stall),
            Fault::Freeze => self.out.push(Out::Freeze),
            Fault::SlowDeltas { interval } => self.delta_interval = interval,
            Fault::NonJsonText { text } => self.out.push(Out::Injected {
                text,
                event_type: None,
            }),
            Fault::Binary { data } => self.out.push(Out::Binary(data)),
            Fault::Oversized { bytes } => {
                let event_id = self.rng.id("event");
                let head =
                    format!(r#"{{"type":"mock.oversized","event_id":"{event_id}","padding":""#);
                let text = match bytes.checked_sub(head.len() + 2) {
                    Some(padding) => format!("{head}{}\"}}", "x".repeat(padding)),
                    None => "x".repeat(bytes),
                };
                let event_type = text.starts_with('{').then(|| "mock.oversized".to_owned());
                self.out.push(Out::Injected { text, event_type });
            }
            Fault::UnknownEvent => {
                let text = json!({
                    "type": "mock.unknown_event",
                    "event_id": self.rng.id("event"),
                    "detail": "An event type no client knows, sent on request.",
                })
                .to_string();
                self.out.push(Out::Injected {
                    text,
                    event_type: Some("mock.unknown_event".to_owned()),
                });
            }
            Fault::ExpireSession { after } => self.expires_at = now.checked_add(after),
        }
    }

    pub(super) fn fire_client_triggers(&mut self, event_type: &str, now: Instant) {
        let due = self.take_armed(
            |armed, _| matches!(&armed.trigger, Trigger::ClientEvent(t) if t == event_type),
        );
        for fault in due {
            self.fire(fault, now);
        }
    }

    /// Fires the `AfterDeltas` faults that are due (`created`: a `response.created` just went
    /// out).
    pub(super) fn fire_delta_triggers(&mut self, created: bool) {
        let due = self.take_armed(|armed, deltas| match armed.trigger {
            Trigger::AfterDeltas(0) => created,
            Trigger::AfterDeltas(n) => !created && deltas - armed.base >= u64::from(n),
            _ => false,
        });
        for fault in due {
            self.fire(fault, self.now);
        }
    }

    fn take_armed(&mut self, due: impl Fn(&Armed, u64) -> bool) -> Vec<Fault> {
        let deltas = self.deltas;
        let mut fired = Vec::new();
        self.armed.retain(|armed| {
            if due(armed, deltas) {
                fired.push(armed.fault.clone());
                false
            } else {
                true
            }
        });
        fired
    }
}
