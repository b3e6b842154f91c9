//! Voice activity detection from the energy of the appended audio, on the session's input
//! timeline.
//!
//! The input is cut into 10 ms frames. A frame is voiced when its RMS, as a fraction of full
//! scale, reaches `threshold × 0.05` (the default threshold 0.5 means about -32 dBFS; 1.0 about
//! -26 dBFS; 0.0 hears everything). Speech starts at the first voiced frame; `audio_start_ms`
//! goes back `prefix_padding_ms`, but not before the start of the current buffer. Speech stops
//! once `silence_duration_ms` of unvoiced frames followed the last voiced one; `audio_end_ms`
//! includes that silence, as the real service's does.

use realtime_proto::TurnDetection;
use realtime_proto::values::Eagerness;

/// RMS (fraction of full scale) at threshold 1.0.
const FULL_THRESHOLD_RMS: f32 = 0.05;

/// The settings of one turn detection configuration, defaults filled in.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct VadSettings {
    /// 0.0 to 1.0.
    pub(crate) threshold: f32,
    pub(crate) prefix_padding_ms: u64,
    pub(crate) silence_duration_ms: u64,
}

impl VadSettings {
    /// The settings of a turn detection configuration (`semantic_vad` is treated as server VAD
    /// whose silence follows its eagerness).
    pub(crate) fn from_turn_detection(detection: &TurnDetection) -> Self {
        match detection {
            TurnDetection::ServerVad(vad) => Self {
                threshold: vad.threshold.unwrap_or(0.5).clamp(0.0, 1.0) as f32,
                prefix_padding_ms: u64::from(vad.prefix_padding_ms.unwrap_or(300)),
                silence_duration_ms: u64::from(vad.silence_duration_ms.unwrap_or(200)),
            },
            TurnDetection::SemanticVad(vad) => {
                let eagerness = vad.eagerness.clone().unwrap_or(Eagerness::AUTO);
                let silence = if eagerness == Eagerness::HIGH {
                    200
                } else if eagerness == Eagerness::LOW {
                    800
                } else {
                    500
                };
                Self {
                    threshold: 0.5,
                    prefix_padding_ms: 300,
                    silence_duration_ms: silence,
                }
            }
            _ => Self {
                threshold: 0.5,
                prefix_padding_ms: 300,
                silence_duration_ms: 500,
            },
        }
    }
}

/// What the detector heard.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum VadEvent {
    /// Speech began (prefix padding included).
    Started { audio_start_ms: u64 },
    /// Speech ended (the silence included).
    Stopped { audio_end_ms: u64 },
}

#[derive(Clone, Copy, Debug)]
struct Speech {
    last_voiced_end_ms: u64,
}

/// The detector: frames, the input timeline, and whether the user is speaking.
#[derive(Debug)]
pub(crate) struct Vad {
    sample_rate: u32,
    frame: Vec<i16>,
    /// Samples heard since the session began (the input timeline).
    heard: u64,
    /// Where the current buffer starts on the timeline, in ms.
    floor_ms: u64,
    speech: Option<Speech>,
}

impl Vad {
    pub(crate) fn new(sample_rate: u32) -> Self {
        Self {
            sample_rate: sample_rate.max(100),
            frame: Vec::new(),
            heard: 0,
            floor_ms: 0,
            speech: None,
        }
    }

    /// The end of the audio heard so far, in ms on the input timeline.
    pub(crate) fn position_ms(&self) -> u64 {
        self.heard * 1000 / u64::from(self.sample_rate)
    }

    /// Switches to another input sample rate (a new input format), keeping the timeline's ms.
    pub(crate) fn set_sample_rate(&mut self, sample_rate: u32) {
        let sample_rate = sample_rate.max(100);
        if sample_rate != self.sample_rate {
            let ms = self.position_ms();
            self.sample_rate = sample_rate;
            self.heard = ms * u64::from(sample_rate) / 1000;
            self.frame.clear();
        }
    }

    /// Forgets any speech in progress: the buffer was committed or cleared, and a new one
    /// starts here.
    pub(crate) fn reset(&mut self) {
        self.speech = None;
        self.frame.clear();
        self.floor_ms = self.position_ms();
    }

    /// Moves the start of the buffer (after a VAD commit, the rest of the audio stays).
    pub(crate) fn set_floor_ms(&mut self, floor_ms: u64) {
        self.floor_ms = floor_ms;
    }

    /// Hears more samples. Without settings (no turn detection) the timeline still advances.
    pub(crate) fn feed(
        &mut self,
        samples: &[i16],
        settings: Option<&VadSettings>,
    ) -> Vec<VadEvent> {
        let mut events = Vec::new();
        let Some(settings) = settings else {
            self.heard += samples.len() as u64;
            self.speech = None;
            self.frame.clear();
            return events;
        };
        let frame_len = (self.sample_rate / 100) as usize;
        let threshold = settings.threshold * FULL_THRESHOLD_RMS;
        for &sample in samples {
            self.frame.push(sample);
            self.heard += 1;
            if self.frame.len() < frame_len {
                continue;
            }
            let voiced = crate::audio::rms(&self.frame) >= threshold;
            self.frame.clear();
            let end_ms = self.position_ms();
            let start_ms = end_ms.saturating_sub(10);
            match (self.speech.as_mut(), voiced) {
                (None, true) => {
                    let audio_start_ms = start_ms
                        .saturating_sub(settings.prefix_padding_ms)
                        .max(self.floor_ms);
                    events.push(VadEvent::Started { audio_start_ms });
                    self.speech = Some(Speech {
                        last_voiced_end_ms: end_ms,
                    });
                }
                (Some(speech), true) => speech.last_voiced_end_ms = end_ms,
                (Some(speech), false) => {
                    if end_ms - speech.last_voiced_end_ms >= settings.silence_duration_ms {
                        events.push(VadEvent::Stopped {
                            audio_end_ms: end_ms,
                        });
                        self.speech = None;
                    }
                }
                (None, false) => {}
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> VadSettings {
        VadSettings {
            threshold: 0.5,
            prefix_padding_ms: 300,
            silence_duration_ms: 200,
        }
    }

    fn tone(ms: usize) -> Vec<i16> {
        (0..ms * 24)
            .map(|n| ((n as f32 * 0.07).sin() * 8000.0) as i16)
            .collect()
    }

    #[test]
    fn silence_tone_silence_gives_exact_timeline_offsets() {
        let mut vad = Vad::new(24_000);
        let mut events = vad.feed(&vec![0; 24 * 1000], Some(&settings()));
        events.extend(vad.feed(&tone(1000), Some(&settings())));
        events.extend(vad.feed(&vec![0; 24 * 1000], Some(&settings())));
        assert_eq!(
            events,
            [
                VadEvent::Started {
                    audio_start_ms: 700
                },
                VadEvent::Stopped { audio_end_ms: 2200 },
            ]
        );
        assert_eq!(vad.position_ms(), 3000);
    }

    #[test]
    fn the_threshold_decides_what_is_speech() {
        let quiet: Vec<i16> = tone(500).iter().map(|s| s / 16).collect(); // about -32 dBFS
        let mut strict = Vad::new(24_000);
        let mut lenient = Vad::new(24_000);
        let high = VadSettings {
            threshold: 1.0,
            ..settings()
        };
        let low = VadSettings {
            threshold: 0.1,
            ..settings()
        };
        assert!(strict.feed(&quiet, Some(&high)).is_empty());
        assert_eq!(lenient.feed(&quiet, Some(&low)).len(), 1);
    }

    #[test]
    fn prefix_padding_stops_at_the_buffer_start() {
        let mut vad = Vad::new(24_000);
        vad.feed(&vec![0; 24 * 100], Some(&settings()));
        vad.reset();
        let events = vad.feed(&tone(100), Some(&settings()));
        assert_eq!(
            events,
            [VadEvent::Started {
                audio_start_ms: 100
            }]
        );
    }

    #[test]
    fn without_turn_detection_only_the_timeline_moves() {
        let mut vad = Vad::new(8_000);
        assert!(vad.feed(&tone(100), None).is_empty());
        assert_eq!(vad.position_ms(), 300); // 2400 samples at 8 kHz
    }
}
