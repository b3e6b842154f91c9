//! Property tests: decode(encode(x)) == x for every client command and for the session
//! configuration, in both dialects, over values the dialect can express.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use realtime_proto::session_config::{NoiseReduction, Reasoning, SemanticVad, ServerVad};
use realtime_proto::values::{
    ContentType, Eagerness, ItemStatus, NoiseReductionType, ReasoningEffort, SessionKind,
};
use realtime_proto::{
    AudioFormat, ClientEvent, ClientMessage, ContentPart, ConversationTarget, Dialect, EventId,
    Item, MaxTokens, Modality, Model, Nullable, ResponseParams, Role, SessionConfig, Tool,
    ToolChoice, Transcription, TurnDetection, Voice,
};
use serde_json::{Map, Value, json};

fn text() -> impl Strategy<Value = String> {
    "\\PC{0,12}"
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_]{0,11}"
}

fn id() -> impl Strategy<Value = String> {
    "[a-z]{2,5}_[A-Za-z0-9]{1,20}"
}

fn unit_float() -> impl Strategy<Value = f64> {
    (0u32..=100).prop_map(|n| f64::from(n) / 100.0)
}

fn nullable<T: std::fmt::Debug + Clone>(
    inner: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<Nullable<T>>> {
    prop_oneof![
        Just(None),
        Just(Some(Nullable::Null)),
        inner.prop_map(|v| Some(Nullable::Value(v)))
    ]
}

fn extra() -> impl Strategy<Value = Map<String, Value>> {
    proptest::collection::btree_map(
        "x_[a-z]{1,6}",
        prop_oneof![
            text().prop_map(Value::from),
            any::<i32>().prop_map(Value::from)
        ],
        0..2,
    )
    .prop_map(|map| map.into_iter().collect())
}

fn audio_format() -> impl Strategy<Value = AudioFormat> {
    prop_oneof![
        Just(AudioFormat::Pcm16),
        Just(AudioFormat::G711Ulaw),
        Just(AudioFormat::G711Alaw)
    ]
}

fn model() -> impl Strategy<Value = Model> {
    prop_oneof![
        Just(Model::GPT_REALTIME),
        Just(Model::WHISPER_1),
        name().prop_map(Model::new)
    ]
}

fn transcription() -> impl Strategy<Value = Transcription> {
    (
        option::of(model()),
        option::of("[a-z]{2}"),
        option::of(text()),
        extra(),
    )
        .prop_map(|(model, language, prompt, extra)| {
            let mut transcription = Transcription::default();
            transcription.model = model;
            transcription.language = language;
            transcription.prompt = prompt;
            transcription.extra = extra;
            transcription
        })
}

fn turn_detection() -> impl Strategy<Value = TurnDetection> {
    let server = (
        option::of(unit_float()),
        option::of(0u32..2000),
        option::of(0u32..2000),
        option::of(any::<bool>()),
        option::of(any::<bool>()),
        nullable(5000u32..30000),
        extra(),
    )
        .prop_map(
            |(threshold, prefix, silence, create, interrupt, idle, extra)| {
                let mut vad = ServerVad::default();
                vad.threshold = threshold;
                vad.prefix_padding_ms = prefix;
                vad.silence_duration_ms = silence;
                vad.create_response = create;
                vad.interrupt_response = interrupt;
                vad.idle_timeout_ms = idle;
                vad.extra = extra;
                TurnDetection::ServerVad(vad)
            },
        );
    let semantic = (
        option::of(prop_oneof![
            Just(Eagerness::LOW),
            Just(Eagerness::AUTO),
            name().prop_map(Eagerness::new)
        ]),
        option::of(any::<bool>()),
        option::of(any::<bool>()),
    )
        .prop_map(|(eagerness, create, interrupt)| {
            let mut vad = SemanticVad::default();
            vad.eagerness = eagerness;
            vad.create_response = create;
            vad.interrupt_response = interrupt;
            TurnDetection::SemanticVad(vad)
        });
    prop_oneof![server, semantic].boxed()
}

fn voice() -> impl Strategy<Value = Voice> {
    prop_oneof![
        Just(Voice::ALLOY),
        Just(Voice::MARIN),
        name().prop_map(Voice::from),
        id().prop_map(|id| Voice::Custom { id }),
        Just(Voice::Other(json!({"name": "alloy", "type": "openai"}))),
    ]
}

fn tool() -> impl Strategy<Value = Tool> {
    (
        name(),
        text(),
        option::of(Just(
            json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        )),
    )
        .prop_map(|(name, description, parameters)| {
            let mut tool = Tool::function(name, description, json!({}));
            if let Tool::Function(function) = &mut tool {
                function.parameters = parameters;
            }
            tool
        })
}

fn tool_choice() -> impl Strategy<Value = ToolChoice> {
    prop_oneof![
        Just(ToolChoice::AUTO),
        Just(ToolChoice::NONE),
        Just(ToolChoice::REQUIRED),
        name().prop_map(ToolChoice::function)
    ]
}

fn max_tokens() -> impl Strategy<Value = MaxTokens> {
    prop_oneof![
        (1u32..=4096).prop_map(MaxTokens::Limit),
        Just(MaxTokens::Infinite)
    ]
}

fn modalities() -> impl Strategy<Value = Vec<Modality>> {
    prop_oneof![
        Just(vec![Modality::AUDIO]),
        Just(vec![Modality::TEXT]),
        Just(vec![Modality::TEXT, Modality::AUDIO])
    ]
}

/// A configuration the dialect can express.
fn session_config(dialect: Dialect) -> impl Strategy<Value = SessionConfig> {
    let ga = dialect == Dialect::Ga;
    let input = (
        option::of(audio_format()),
        nullable(transcription()),
        nullable((
            option::of(prop_oneof![
                Just(NoiseReductionType::NEAR_FIELD),
                Just(NoiseReductionType::FAR_FIELD)
            ]),
            extra(),
        )),
        nullable(turn_detection()),
    )
        .boxed();
    let output = (
        option::of(audio_format()),
        option::of(voice()),
        option::of((25u32..=150).prop_map(|n| f64::from(n) / 100.0)),
    )
        .boxed();
    let general = (
        prop_oneof![
            Just(SessionKind::REALTIME),
            Just(SessionKind::TRANSCRIPTION)
        ],
        option::of(model()),
        option::of(modalities()),
        option::of(text()),
        nullable(vec("[a-z.]{1,20}", 0..2)),
        nullable(prop_oneof![
            Just(json!("auto")),
            Just(json!({"workflow_name": "w"}))
        ]),
        option::of(vec(tool(), 0..3)),
        option::of(tool_choice()),
        option::of(max_tokens()),
        option::of(prop_oneof![Just(json!("auto")), Just(json!("disabled"))]),
        nullable(Just(json!({"id": "pmpt_1"}))),
    )
        .boxed();
    let dialect_only = (
        option::of(any::<bool>()),
        option::of(prop_oneof![
            Just(ReasoningEffort::LOW),
            Just(ReasoningEffort::HIGH)
        ]),
        option::of(unit_float()),
        extra(),
    )
        .boxed();
    (input, output, general, dialect_only)
        .prop_map(move |(input, output, general, dialect_only)| {
            let mut config = SessionConfig::default();
            let (
                kind,
                model,
                modalities,
                instructions,
                include,
                tracing,
                tools,
                tool_choice,
                max,
                truncation,
                prompt,
            ) = general;
            config.kind = kind;
            config.model = model;
            config.output_modalities = modalities;
            config.instructions = instructions;
            config.include = include;
            config.tracing = tracing;
            config.tools = tools;
            config.tool_choice = tool_choice;
            config.max_output_tokens = max;
            config.truncation = truncation;
            config.prompt = prompt;
            config.input_audio.format = input.0;
            config.input_audio.transcription = input.1;
            config.input_audio.noise_reduction = input.2.map(|nullable| match nullable {
                Nullable::Null => Nullable::Null,
                Nullable::Value((kind, extra)) => {
                    let mut noise = NoiseReduction::default();
                    noise.kind = kind;
                    noise.extra = extra;
                    Nullable::Value(noise)
                }
            });
            config.input_audio.turn_detection = input.3;
            config.output_audio.format = output.0;
            config.output_audio.voice = output.1;
            config.output_audio.speed = output.2;
            let (parallel, effort, temperature, extra) = dialect_only;
            if ga {
                config.parallel_tool_calls = parallel;
                config.reasoning = effort.map(|effort| {
                    let mut reasoning = Reasoning::default();
                    reasoning.effort = Some(effort);
                    reasoning
                });
            } else {
                config.temperature = temperature;
            }
            if !extra.is_empty() {
                config.extra = extra;
                config.extra_dialect = Some(dialect);
            }
            config
        })
        .boxed()
}

fn content_part(dialect: Dialect) -> impl Strategy<Value = ContentPart> {
    let image = if dialect == Dialect::Ga { 1 } else { 0 };
    prop_oneof![
        3 => text().prop_map(ContentPart::input_text),
        2 => vec(any::<u8>(), 0..64).prop_map(|audio| ContentPart::input_audio(&audio)),
        2 => text().prop_map(ContentPart::output_text),
        image => "data:image/png;base64,[A-Za-z0-9]{4,8}".prop_map(ContentPart::input_image),
        1 => (text(), extra()).prop_map(|(text, extra)| {
            let mut part = ContentPart::input_text(text);
            part.extra = extra;
            part
        }),
        1 => (option::of(text())).prop_map(|transcript| {
            let mut part = ContentPart::input_audio(&[]);
            part.kind = ContentType::INPUT_AUDIO;
            part.audio = None;
            part.transcript = transcript;
            part
        }),
    ]
}

fn item(dialect: Dialect) -> impl Strategy<Value = Item> {
    let mcp = if dialect == Dialect::Ga { 1 } else { 0 };
    let kind = prop_oneof![
        3 => (prop_oneof![Just(Role::USER), Just(Role::SYSTEM), Just(Role::ASSISTANT)], vec(content_part(dialect), 0..3))
            .prop_map(|(role, content)| Item::message(role, content)),
        1 => (name(), id(), text()).prop_map(|(name, call, arguments)| Item::function_call(name, call, arguments)),
        1 => (id(), text()).prop_map(|(call, output)| Item::function_call_output(call, output)),
        mcp => (id(), any::<bool>(), option::of(text())).prop_map(|(request, approve, reason)| Item::mcp_approval_response(request, approve, reason)),
    ];
    (
        kind,
        option::of(id()),
        option::of(prop_oneof![
            Just(ItemStatus::COMPLETED),
            Just(ItemStatus::INCOMPLETE)
        ]),
        extra(),
    )
        .prop_map(|(mut item, id, status, extra)| {
            item.id = id.map(Into::into);
            item.status = status;
            item.extra = extra;
            item
        })
        .boxed()
}

fn response_params(dialect: Dialect) -> impl Strategy<Value = ResponseParams> {
    let ga = dialect == Dialect::Ga;
    (
        option::of(modalities()),
        option::of(text()),
        option::of(voice()),
        option::of(audio_format()),
        option::of(vec(tool(), 0..2)),
        option::of(tool_choice()),
        option::of(max_tokens()),
        option::of(prop_oneof![
            Just(ConversationTarget::Auto),
            Just(ConversationTarget::None),
            id().prop_map(|id| ConversationTarget::Id(id.into()))
        ]),
        option::of(proptest::collection::btree_map("[a-z]{1,5}", text(), 0..3)),
        option::of(vec(
            prop_oneof![id().prop_map(Item::reference), item(dialect)],
            0..3,
        )),
        (option::of(any::<bool>()), option::of(unit_float())),
    )
        .prop_map(
            move |(
                modalities,
                instructions,
                voice,
                format,
                tools,
                choice,
                max,
                conversation,
                metadata,
                input,
                (parallel, temperature),
            )| {
                let mut params = ResponseParams::new();
                params.output_modalities = modalities;
                params.instructions = instructions;
                params.output_audio.voice = voice;
                params.output_audio.format = format;
                params.tools = tools;
                params.tool_choice = choice;
                params.max_output_tokens = max;
                params.conversation = conversation;
                params.metadata =
                    metadata.map(|map| map.into_iter().map(|(k, v)| (k, Value::from(v))).collect());
                params.input = input;
                if ga {
                    params.parallel_tool_calls = parallel;
                } else {
                    params.temperature = temperature;
                }
                params
            },
        )
        .boxed()
}

fn client_event(dialect: Dialect) -> impl Strategy<Value = ClientEvent> {
    prop_oneof![
        session_config(dialect).prop_map(ClientEvent::update_session),
        (
            option::of(prop_oneof![Just("root".to_owned()), id()]),
            item(dialect)
        )
            .prop_map(|(previous, item)| match previous {
                Some(previous) => ClientEvent::create_item_after(previous, item),
                None => ClientEvent::create_item(item),
            }),
        id().prop_map(ClientEvent::delete_item),
        id().prop_map(ClientEvent::retrieve_item),
        (id(), any::<u32>(), any::<u64>())
            .prop_map(|(id, index, ms)| ClientEvent::truncate_item(id, index, ms)),
        vec(any::<u8>(), 0..300).prop_map(ClientEvent::append_audio),
        Just(ClientEvent::commit_audio()),
        Just(ClientEvent::clear_audio()),
        Just(ClientEvent::clear_output_audio()),
        Just(ClientEvent::cancel_response()),
        id().prop_map(ClientEvent::cancel_response_id),
        Just(ClientEvent::create_response()),
        response_params(dialect).prop_map(ClientEvent::create_response_with),
        (name(), text()).prop_map(|(kind, data)| ClientEvent::raw(
            json!({"type": format!("x.{kind}"), "data": data})
        )
        .unwrap()),
    ]
    .boxed()
}

fn dialect() -> impl Strategy<Value = Dialect> {
    prop_oneof![Just(Dialect::Ga), Just(Dialect::Beta)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn client_commands_roundtrip((dialect, event) in dialect().prop_flat_map(|d| (Just(d), client_event(d))), event_id in option::of(id())) {
        let event_id = event_id.map(EventId::from);
        let text = event.encode(dialect, event_id.as_ref()).expect("representable by construction");
        let decoded = ClientMessage::decode(&text, Some(dialect)).unwrap_or_else(|e| panic!("{e}\n{text}"));
        prop_assert_eq!(&decoded.event, &event, "{}", text);
        prop_assert_eq!(decoded.event_id, event_id);
    }

    #[test]
    fn session_config_roundtrips_in_both_dialects((dialect, config) in dialect().prop_flat_map(|d| (Just(d), session_config(d)))) {
        let value = config.to_json(dialect).expect("representable by construction");
        let decoded = SessionConfig::from_json(value.clone(), Some(config.kind.clone()), Some(dialect)).unwrap();
        prop_assert_eq!(&decoded, &config, "{}", value);
    }

    #[test]
    fn session_config_converts_between_dialects_without_silent_loss(config in session_config(Dialect::Beta)) {
        // Beta to GA: whatever GA cannot express is reported; the rest survives.
        let (ga, dropped) = config.to_json_lossy(Dialect::Ga);
        let back = SessionConfig::from_json(ga, Some(config.kind.clone()), Some(Dialect::Ga)).unwrap();
        let mut expected = config;
        if expected.temperature.take().is_some() {
            prop_assert!(dropped.iter().any(|field| field.path == "temperature"));
        }
        if !expected.extra.is_empty() {
            prop_assert!(dropped.iter().any(|field| field.path.starts_with("x_")));
            expected.extra.clear();
            expected.extra_dialect = None;
        }
        prop_assert_eq!(back, expected);
    }
}
