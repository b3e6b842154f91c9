//! One conformance suite for every adapter.
//!
//! Each scenario is written once against [`Client`], a small synchronous driver that each
//! adapter implements in its own idiom (tokio: a runtime and `block_on`; smol: its global
//! executor and `smol::block_on`; blocking: plain calls and threads; the pair: a
//! `realtime_mock::pair::Pair`, no socket, no thread, a fake clock). The scenarios run against
//! `realtime-mock`, seeded, so every adapter meets the same server; the suite then checks that
//! every adapter saw the same events and ended with the same conversation state.

use std::time::Duration;

use realtime_mock::{Fault, MockServer, MockServerBuilder, SessionRecord, Trigger};
use realtime_net::clip::AudioClipError;
use realtime_net::rest::{RestCall, RestError, RestOptions};
use realtime_net::upload::{AudioSent, UploadOptions};
use realtime_net::{ConnectError, ConnectOptions};
use realtime_proto::connection::{Interruption, Played};
use realtime_proto::{
    CallId, ClientEvent, Connection, Event, EventId, Item, ItemId, RecvError, ResponseId,
    ResponseParams, SendError,
};
use serde_json::{Value, json};

/// A token source for [`Adapter::connect_with_token_provider`].
pub type TokenProvider = std::sync::Arc<dyn Fn() -> Result<String, String> + Send + Sync>;

/// The longest any single wait may take; nothing in the suite can hang past it.
pub const LIMIT: Duration = Duration::from_secs(10);

/// A connected session, driven synchronously, whatever the adapter underneath.
pub trait Client: Send {
    /// Sends a command.
    fn send(&mut self, event: ClientEvent) -> Result<EventId, SendError>;
    /// The next event, or `None` after `timeout`.
    fn recv(&mut self, timeout: Duration) -> Result<Option<Event>, RecvError>;
    /// Interrupts the assistant's audio.
    fn interrupt(&mut self, played: Played) -> Result<Interruption, SendError>;
    /// Answers a function call.
    fn answer(&mut self, call_id: &CallId, output: &str) -> Result<EventId, SendError>;
    /// Starts a graceful close.
    fn close(&mut self) -> Result<(), SendError>;
    /// Reads the session machine (the adapter's `with_state`).
    fn with_state(&self, read: &mut dyn FnMut(&Connection));
    /// Runs one of the sender's named commands: the adapter's own method (`clear_audio`,
    /// `send_raw`, ...), not `send`.
    fn command(&mut self, command: Command) -> Result<EventId, SendError>;
    /// A response's audio as a WAV file, through the adapter's `response_audio`.
    fn response_wav(&self, response_id: &str) -> Result<Vec<u8>, AudioClipError>;
    /// Streams audio from another task or thread, `chunk` bytes at a time with `pause` between
    /// chunks, while this client keeps receiving.
    fn stream_audio(&mut self, audio: Vec<u8>, chunk: usize, pause: Duration)
    -> Box<dyn Streaming>;
    /// Streams a file (a WAV, say) with the adapter's `send_audio_from_with`, from another
    /// task or thread, reading it through the adapter's reader trait.
    fn upload(&mut self, file: Vec<u8>, options: UploadOptions) -> Box<dyn Uploading>;
    /// The server's record of the session, when the client holds the server itself (the
    /// pair); a socket adapter's server keeps it.
    fn server_record(&self) -> Option<SessionRecord> {
        None
    }
    /// Arms a fault in the current session of the server the client holds (the pair); `false`
    /// for a socket adapter, whose [`MockServer`] does it.
    fn inject(&mut self, _trigger: Trigger, _fault: Fault) -> bool {
        false
    }
}

/// The sender's named commands, each run through the adapter's own method.
// A test driver's command, built once per call: boxing the large variants buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Command {
    /// `clear_audio`.
    ClearAudio,
    /// `clear_output_audio`.
    ClearOutputAudio,
    /// `commit_audio`.
    CommitAudio,
    /// `delete_item`.
    DeleteItem(ItemId),
    /// `retrieve_item`.
    RetrieveItem(ItemId),
    /// `create_item_after`.
    CreateItemAfter(ItemId, Item),
    /// `add_item_after`, the deprecated name of `create_item_after`: it must keep working.
    AddItemAfter(ItemId, Item),
    /// `create_response_with`.
    CreateResponseWith(ResponseParams),
    /// `cancel_response_id`.
    CancelResponseId(ResponseId),
    /// `send_raw`.
    SendRaw(Value),
}

/// A file upload in the background.
pub trait Uploading {
    /// Waits for the upload to finish; an error as its message.
    fn join(self: Box<Self>) -> Result<AudioSent, String>;
}

/// Audio streaming in the background.
pub trait Streaming {
    /// Waits for the streaming to finish.
    fn join(self: Box<Self>) -> Result<(), SendError>;
}

/// The adapters under test.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Adapter {
    /// realtime-tokio.
    Tokio,
    /// realtime-smol.
    Smol,
    /// realtime-blocking.
    Blocking,
    /// The bare machine in a `realtime_mock::pair::Pair`: no socket, no thread, a fake clock.
    Pair,
}

/// A scenario's session: the client, and the server it talks to when that is a socket server
/// (kept for the scenario's length: dropping it shuts it down).
pub struct Opened {
    /// The client.
    pub client: Box<dyn Client>,
    /// The socket server; `None` for the pair, whose server is inside the client.
    pub server: Option<MockServer>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Adapter {
    /// The adapters over a socket.
    pub const SOCKETS: [Self; 3] = [Self::Tokio, Self::Smol, Self::Blocking];
    /// Every adapter, the pair included: for the scenarios that need no socket.
    pub const ALL: [Self; 4] = [Self::Tokio, Self::Smol, Self::Blocking, Self::Pair];

    /// The adapter's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tokio => "tokio",
            Self::Smol => "smol",
            Self::Blocking => "blocking",
            Self::Pair => "pair",
        }
    }

    /// Connects with this adapter over a socket. The pair has none: it is opened with
    /// [`open`](Self::open) instead, and refuses here.
    pub fn connect(self, options: ConnectOptions) -> Result<Box<dyn Client>, ConnectError> {
        match self {
            Self::Tokio => tokio_client::connect(options),
            Self::Smol => smol_client::connect(options),
            Self::Blocking => blocking_client::connect(options),
            Self::Pair => Err(ConnectError::Protocol(
                "the pair has no socket; open it with Adapter::open".to_owned(),
            )),
        }
    }

    /// Connects with this adapter's `connect_with_token_provider`: `provider` is called before
    /// every connection attempt, reconnections included. The pair refuses.
    pub fn connect_with_token_provider(
        self,
        options: ConnectOptions,
        provider: TokenProvider,
    ) -> Result<Box<dyn Client>, ConnectError> {
        let provide = move || std::future::ready(provider());
        match self {
            Self::Tokio => tokio_client::connect_with(|runtime| {
                runtime.block_on(realtime_tokio::connect_with_token_provider(
                    options, provide,
                ))
            }),
            Self::Smol => Ok(smol_client::wrap(smol::block_on(
                realtime_smol::connect_with_token_provider(options, provide),
            )?)),
            Self::Blocking => {
                let provider = move || provide().into_inner();
                Ok(blocking_client::wrap(
                    realtime_blocking::connect_with_token_provider(options, provider)?,
                ))
            }
            Self::Pair => Err(ConnectError::Protocol(
                "the pair has no socket and no credential".to_owned(),
            )),
        }
    }

    /// Connects with this adapter's `connect_with_token`, whose provider returns `token` (and
    /// counts its calls in `calls`). The pair has no socket and refuses.
    pub fn connect_with_token(
        self,
        options: ConnectOptions,
        token: Result<&str, &str>,
        calls: &std::sync::atomic::AtomicUsize,
    ) -> Result<Box<dyn Client>, ConnectError> {
        let provide = || {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            token.map(str::to_owned).map_err(str::to_owned)
        };
        match self {
            Self::Tokio => tokio_client::connect_with(|runtime| {
                runtime.block_on(realtime_tokio::connect_with_token(options, || async {
                    provide()
                }))
            }),
            Self::Smol => {
                let session =
                    smol::block_on(realtime_smol::connect_with_token(options, || async {
                        provide()
                    }))?;
                Ok(smol_client::wrap(session))
            }
            Self::Blocking => Ok(blocking_client::wrap(
                realtime_blocking::connect_with_token(options, provide)?,
            )),
            Self::Pair => Err(ConnectError::Protocol(
                "the pair has no socket; open it with Adapter::open".to_owned(),
            )),
        }
    }

    /// Makes a REST call with this adapter's `rest` (tokio: on a runtime of its own; smol: its
    /// `block_on`; blocking: a plain call). The pair has no socket and refuses.
    pub fn rest<C>(self, options: &RestOptions, call: &C) -> Result<C::Output, RestError>
    where
        C: RestCall + Sync,
    {
        match self {
            Self::Tokio => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|source| RestError::Io {
                        host: "a runtime".into(),
                        source,
                    })?;
                runtime.block_on(realtime_tokio::rest(options, call))
            }
            Self::Smol => smol::block_on(realtime_smol::rest(options, call)),
            Self::Blocking => realtime_blocking::rest(options, call),
            Self::Pair => Err(RestError::InvalidRequest(
                "the pair has no socket: no REST calls".to_owned(),
            )),
        }
    }

    /// Opens a session on the server `builder` describes, with the options `options` makes
    /// from the server's URL: a socket adapter starts a [`MockServer`] and connects to it; the
    /// pair opens a session of it in a `Pair`, with the client settings of the options
    /// (`options.config`) and the same handshake dialect.
    pub fn open(
        self,
        builder: MockServerBuilder,
        options: impl FnOnce(String) -> ConnectOptions,
    ) -> Result<Opened, Box<dyn std::error::Error>> {
        if self == Self::Pair {
            // The URL is never dialled: only the client settings are used.
            let options = options("ws://pair.invalid/v1/realtime?model=gpt-realtime".to_owned());
            return Ok(Opened {
                client: pair_client::open(&builder, options),
                server: None,
            });
        }
        let server = builder.start()?;
        let client = self.connect(options(server.url()))?;
        Ok(Opened {
            client,
            server: Some(server),
        })
    }
}

/// A [`Command`] on the async core's sender, the same for tokio and smol.
async fn async_command(
    session: &realtime_smol::Sender,
    command: Command,
) -> Result<EventId, SendError> {
    match command {
        Command::ClearAudio => session.clear_audio().await,
        Command::ClearOutputAudio => session.clear_output_audio().await,
        Command::CommitAudio => session.commit_audio().await,
        Command::DeleteItem(id) => session.delete_item(id).await,
        Command::RetrieveItem(id) => session.retrieve_item(id).await,
        Command::CreateItemAfter(id, item) => session.create_item_after(id, item).await,
        // The old name is under test: it must keep working.
        #[allow(deprecated)]
        Command::AddItemAfter(id, item) => session.add_item_after(id, item).await,
        Command::CreateResponseWith(params) => session.create_response_with(params).await,
        Command::CancelResponseId(id) => session.cancel_response_id(id).await,
        Command::SendRaw(value) => session.send_raw(value).await,
    }
}

mod tokio_client {
    use std::sync::Arc;

    use super::*;

    struct TokioClient {
        runtime: Arc<tokio::runtime::Runtime>,
        session: realtime_tokio::Session,
    }

    struct TokioStreaming {
        runtime: Arc<tokio::runtime::Runtime>,
        task: tokio::task::JoinHandle<Result<(), SendError>>,
    }

    pub(super) fn connect(options: ConnectOptions) -> Result<Box<dyn Client>, ConnectError> {
        connect_with(|runtime| runtime.block_on(realtime_tokio::connect(options)))
    }

    /// Connects on a new runtime with `connect`.
    pub(super) fn connect_with(
        connect: impl FnOnce(&tokio::runtime::Runtime) -> Result<realtime_tokio::Session, ConnectError>,
    ) -> Result<Box<dyn Client>, ConnectError> {
        let runtime = Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .map_err(|source| ConnectError::Io {
                    host: "a runtime".into(),
                    source,
                })?,
        );
        let session = connect(&runtime)?;
        Ok(Box::new(TokioClient { runtime, session }))
    }

    impl Client for TokioClient {
        fn send(&mut self, event: ClientEvent) -> Result<EventId, SendError> {
            self.runtime.block_on(self.session.send(event))
        }

        fn recv(&mut self, timeout: Duration) -> Result<Option<Event>, RecvError> {
            let session = &mut self.session;
            match self
                .runtime
                .block_on(async { tokio::time::timeout(timeout, session.recv()).await })
            {
                Ok(result) => result.map(Some),
                Err(_) => Ok(None),
            }
        }

        fn interrupt(&mut self, played: Played) -> Result<Interruption, SendError> {
            self.runtime.block_on(self.session.interrupt(played))
        }

        fn answer(&mut self, call_id: &CallId, output: &str) -> Result<EventId, SendError> {
            self.runtime
                .block_on(self.session.answer_function_call(call_id, output))
        }

        fn close(&mut self) -> Result<(), SendError> {
            self.runtime.block_on(self.session.close())
        }

        fn with_state(&self, read: &mut dyn FnMut(&Connection)) {
            self.session.with_state(read);
        }

        fn command(&mut self, command: Command) -> Result<EventId, SendError> {
            self.runtime.block_on(async_command(&self.session, command))
        }

        fn response_wav(&self, response_id: &str) -> Result<Vec<u8>, AudioClipError> {
            self.session.response_audio(response_id)?.to_wav()
        }

        fn stream_audio(
            &mut self,
            audio: Vec<u8>,
            chunk: usize,
            pause: Duration,
        ) -> Box<dyn Streaming> {
            let sender = self.session.sender().clone();
            let task = self.runtime.spawn(async move {
                for piece in audio.chunks(chunk) {
                    sender.append_audio(piece.to_vec()).await?;
                    tokio::time::sleep(pause).await;
                }
                Ok(())
            });
            Box::new(TokioStreaming {
                runtime: self.runtime.clone(),
                task,
            })
        }

        fn upload(&mut self, file: Vec<u8>, options: UploadOptions) -> Box<dyn Uploading> {
            let sender = self.session.sender().clone();
            let task = self.runtime.spawn(async move {
                sender
                    .send_audio_from_with(std::io::Cursor::new(file), options)
                    .await
            });
            Box::new(TokioUploading {
                runtime: self.runtime.clone(),
                task,
            })
        }
    }

    struct TokioUploading {
        runtime: Arc<tokio::runtime::Runtime>,
        task: tokio::task::JoinHandle<Result<AudioSent, realtime_tokio::AudioSendError>>,
    }

    impl Uploading for TokioUploading {
        fn join(self: Box<Self>) -> Result<AudioSent, String> {
            match self.runtime.block_on(self.task) {
                Ok(result) => result.map_err(|error| error.to_string()),
                Err(error) => Err(error.to_string()),
            }
        }
    }

    impl Streaming for TokioStreaming {
        fn join(self: Box<Self>) -> Result<(), SendError> {
            self.runtime
                .block_on(self.task)
                .unwrap_or(Err(SendError::Closed))
        }
    }
}

mod smol_client {
    use super::*;

    struct SmolClient {
        session: realtime_smol::Session,
    }

    struct SmolStreaming {
        task: smol::Task<Result<(), SendError>>,
    }

    pub(super) fn connect(options: ConnectOptions) -> Result<Box<dyn Client>, ConnectError> {
        let session = smol::block_on(realtime_smol::connect(options))?;
        Ok(wrap(session))
    }

    pub(super) fn wrap(session: realtime_smol::Session) -> Box<dyn Client> {
        Box::new(SmolClient { session })
    }

    impl Client for SmolClient {
        fn send(&mut self, event: ClientEvent) -> Result<EventId, SendError> {
            smol::block_on(self.session.send(event))
        }

        fn recv(&mut self, timeout: Duration) -> Result<Option<Event>, RecvError> {
            let session = &mut self.session;
            smol::block_on(smol::future::or(
                async { session.recv().await.map(Some) },
                async {
                    smol::Timer::after(timeout).await;
                    Ok(None)
                },
            ))
        }

        fn interrupt(&mut self, played: Played) -> Result<Interruption, SendError> {
            smol::block_on(self.session.interrupt(played))
        }

        fn answer(&mut self, call_id: &CallId, output: &str) -> Result<EventId, SendError> {
            smol::block_on(self.session.answer_function_call(call_id, output))
        }

        fn close(&mut self) -> Result<(), SendError> {
            smol::block_on(self.session.close())
        }

        fn with_state(&self, read: &mut dyn FnMut(&Connection)) {
            self.session.with_state(read);
        }

        fn command(&mut self, command: Command) -> Result<EventId, SendError> {
            smol::block_on(async_command(&self.session, command))
        }

        fn response_wav(&self, response_id: &str) -> Result<Vec<u8>, AudioClipError> {
            self.session.response_audio(response_id)?.to_wav()
        }

        fn stream_audio(
            &mut self,
            audio: Vec<u8>,
            chunk: usize,
            pause: Duration,
        ) -> Box<dyn Streaming> {
            let sender = self.session.sender().clone();
            let task = smol::spawn(async move {
                for piece in audio.chunks(chunk) {
                    sender.append_audio(piece.to_vec()).await?;
                    smol::Timer::after(pause).await;
                }
                Ok(())
            });
            Box::new(SmolStreaming { task })
        }

        fn upload(&mut self, file: Vec<u8>, options: UploadOptions) -> Box<dyn Uploading> {
            let sender = self.session.sender().clone();
            let task = smol::spawn(async move {
                sender
                    .send_audio_from_with(futures_lite_cursor(file), options)
                    .await
            });
            Box::new(SmolUploading { task })
        }
    }

    /// A `futures::AsyncRead` over bytes.
    fn futures_lite_cursor(file: Vec<u8>) -> impl smol::io::AsyncRead {
        smol::io::Cursor::new(file)
    }

    struct SmolUploading {
        task: smol::Task<Result<AudioSent, realtime_smol::AudioSendError>>,
    }

    impl Uploading for SmolUploading {
        fn join(self: Box<Self>) -> Result<AudioSent, String> {
            smol::block_on(self.task).map_err(|error| error.to_string())
        }
    }

    impl Streaming for SmolStreaming {
        fn join(self: Box<Self>) -> Result<(), SendError> {
            smol::block_on(self.task)
        }
    }
}

mod blocking_client {
    use super::*;

    struct BlockingClient {
        session: realtime_blocking::Session,
    }

    struct BlockingStreaming {
        thread: std::thread::JoinHandle<Result<(), SendError>>,
    }

    pub(super) fn connect(options: ConnectOptions) -> Result<Box<dyn Client>, ConnectError> {
        Ok(wrap(realtime_blocking::connect(options)?))
    }

    pub(super) fn wrap(session: realtime_blocking::Session) -> Box<dyn Client> {
        Box::new(BlockingClient { session })
    }

    impl Client for BlockingClient {
        fn send(&mut self, event: ClientEvent) -> Result<EventId, SendError> {
            self.session.send(event)
        }

        fn recv(&mut self, timeout: Duration) -> Result<Option<Event>, RecvError> {
            self.session.recv_timeout(timeout)
        }

        fn interrupt(&mut self, played: Played) -> Result<Interruption, SendError> {
            self.session.interrupt(played)
        }

        fn answer(&mut self, call_id: &CallId, output: &str) -> Result<EventId, SendError> {
            self.session.answer_function_call(call_id, output)
        }

        fn close(&mut self) -> Result<(), SendError> {
            self.session.close()
        }

        fn with_state(&self, read: &mut dyn FnMut(&Connection)) {
            self.session.with_state(read);
        }

        fn command(&mut self, command: Command) -> Result<EventId, SendError> {
            let session = &self.session;
            match command {
                Command::ClearAudio => session.clear_audio(),
                Command::ClearOutputAudio => session.clear_output_audio(),
                Command::CommitAudio => session.commit_audio(),
                Command::DeleteItem(id) => session.delete_item(id),
                Command::RetrieveItem(id) => session.retrieve_item(id),
                Command::CreateItemAfter(id, item) => session.create_item_after(id, item),
                // The old name is under test: it must keep working.
                #[allow(deprecated)]
                Command::AddItemAfter(id, item) => session.add_item_after(id, item),
                Command::CreateResponseWith(params) => session.create_response_with(params),
                Command::CancelResponseId(id) => session.cancel_response_id(id),
                Command::SendRaw(value) => session.send_raw(value),
            }
        }

        fn response_wav(&self, response_id: &str) -> Result<Vec<u8>, AudioClipError> {
            self.session.response_audio(response_id)?.to_wav()
        }

        fn stream_audio(
            &mut self,
            audio: Vec<u8>,
            chunk: usize,
            pause: Duration,
        ) -> Box<dyn Streaming> {
            let sender = self.session.sender().clone();
            let thread = std::thread::spawn(move || {
                for piece in audio.chunks(chunk) {
                    sender.append_audio(piece.to_vec())?;
                    std::thread::sleep(pause);
                }
                Ok(())
            });
            Box::new(BlockingStreaming { thread })
        }

        fn upload(&mut self, file: Vec<u8>, options: UploadOptions) -> Box<dyn Uploading> {
            let sender = self.session.sender().clone();
            let thread = std::thread::spawn(move || {
                sender.send_audio_from_with(std::io::Cursor::new(file), options)
            });
            Box::new(BlockingUploading { thread })
        }
    }

    struct BlockingUploading {
        thread: std::thread::JoinHandle<Result<AudioSent, realtime_blocking::AudioSendError>>,
    }

    impl Uploading for BlockingUploading {
        fn join(self: Box<Self>) -> Result<AudioSent, String> {
            match self.thread.join() {
                Ok(result) => result.map_err(|error| error.to_string()),
                Err(_) => Err("the upload thread panicked".to_owned()),
            }
        }
    }

    impl Streaming for BlockingStreaming {
        fn join(self: Box<Self>) -> Result<(), SendError> {
            self.thread.join().unwrap_or(Err(SendError::Closed))
        }
    }
}

mod pair_client {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex, PoisonError};
    use std::time::Instant;

    use realtime_mock::pair::Pair;
    use realtime_net::upload::AudioUpload;

    use super::*;

    /// The pair, and the appends that "another task" sends on the fake clock (the socket
    /// adapters stream audio from a task or a thread while the client receives).
    struct Shared {
        pair: Pair,
        /// Appends to send, at their instants, in order.
        schedule: VecDeque<(Instant, Vec<u8>)>,
        /// The first append that failed, for the streaming's `join`.
        failed: Option<SendError>,
    }

    struct PairClient {
        shared: Arc<Mutex<Shared>>,
    }

    struct PairStreaming {
        shared: Arc<Mutex<Shared>>,
    }

    struct PairUploading {
        shared: Arc<Mutex<Shared>>,
        result: Result<AudioSent, String>,
    }

    pub(super) fn open(builder: &MockServerBuilder, options: ConnectOptions) -> Box<dyn Client> {
        // The fake clock's origin: any instant will do.
        let pair = Pair::new(builder, options.config, Instant::now());
        let shared = Shared {
            pair,
            schedule: VecDeque::new(),
            failed: None,
        };
        Box::new(PairClient {
            shared: Arc::new(Mutex::new(shared)),
        })
    }

    fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
        shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    impl Shared {
        /// Schedules an append at `at`, after those due at or before it.
        fn schedule(&mut self, at: Instant, audio: Vec<u8>) {
            let index = self.schedule.partition_point(|(due, _)| *due <= at);
            self.schedule.insert(index, (at, audio));
        }

        /// Lets the fake clock run to `until`, sending the scheduled appends at their
        /// instants and delivering everything on the way.
        fn run_until(&mut self, until: Instant) {
            while let Some(at) = self.schedule.front().map(|(at, _)| *at) {
                if at > until {
                    break;
                }
                self.advance_to(at);
                while self
                    .schedule
                    .front()
                    .is_some_and(|(due, _)| *due <= self.pair.now)
                {
                    let Some((_, audio)) = self.schedule.pop_front() else {
                        break;
                    };
                    if let Err(error) = self.pair.client.send(ClientEvent::append_audio(audio)) {
                        self.failed.get_or_insert(error);
                    }
                }
            }
            self.advance_to(until);
        }

        fn advance_to(&mut self, at: Instant) {
            if let Err(error) = self.pair.advance_to(at) {
                panic!("the pair did not settle: {error}");
            }
        }

        /// Sends every scheduled append, at its instant.
        fn flush_schedule(&mut self) {
            while let Some(at) = self.schedule.back().map(|(at, _)| *at) {
                self.run_until(at);
            }
        }

        fn recv(&mut self, timeout: Duration) -> Result<Option<Event>, RecvError> {
            let until = self.pair.now + timeout;
            loop {
                if let Some(outcome) = self.pair.poll_recv() {
                    return outcome.map(Some);
                }
                if self.pair.step() {
                    continue;
                }
                let append = self.schedule.front().map(|(at, _)| *at);
                let next = match (self.pair.next_deadline(), append) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                match next {
                    Some(at) if at <= until => self.run_until(at),
                    _ => {
                        self.run_until(until);
                        return self.pair.poll_recv().transpose();
                    }
                }
            }
        }
    }

    impl Client for PairClient {
        fn send(&mut self, event: ClientEvent) -> Result<EventId, SendError> {
            lock(&self.shared).pair.client.send(event)
        }

        fn recv(&mut self, timeout: Duration) -> Result<Option<Event>, RecvError> {
            lock(&self.shared).recv(timeout)
        }

        fn interrupt(&mut self, played: Played) -> Result<Interruption, SendError> {
            lock(&self.shared).pair.client.interrupt(played)
        }

        fn answer(&mut self, call_id: &CallId, output: &str) -> Result<EventId, SendError> {
            lock(&self.shared)
                .pair
                .client
                .answer_function_call(call_id, output)
        }

        fn close(&mut self) -> Result<(), SendError> {
            lock(&self.shared).pair.client.close(1000, "");
            Ok(())
        }

        fn with_state(&self, read: &mut dyn FnMut(&Connection)) {
            read(&lock(&self.shared).pair.client);
        }

        fn command(&mut self, command: Command) -> Result<EventId, SendError> {
            // The bare machine: each command as the `ClientEvent` the adapters' methods send.
            let event = match command {
                Command::ClearAudio => ClientEvent::clear_audio(),
                Command::ClearOutputAudio => ClientEvent::clear_output_audio(),
                Command::CommitAudio => ClientEvent::commit_audio(),
                Command::DeleteItem(id) => ClientEvent::delete_item(id),
                Command::RetrieveItem(id) => ClientEvent::retrieve_item(id),
                Command::CreateItemAfter(id, item) | Command::AddItemAfter(id, item) => {
                    ClientEvent::create_item_after(id, item)
                }
                Command::CreateResponseWith(params) => ClientEvent::create_response_with(params),
                Command::CancelResponseId(id) => ClientEvent::cancel_response_id(id),
                Command::SendRaw(value) => return lock(&self.shared).pair.client.send_raw(value),
            };
            lock(&self.shared).pair.client.send(event)
        }

        fn response_wav(&self, response_id: &str) -> Result<Vec<u8>, AudioClipError> {
            realtime_net::clip::AudioClip::of_response(
                &lock(&self.shared).pair.client,
                response_id,
            )?
            .to_wav()
        }

        fn stream_audio(
            &mut self,
            audio: Vec<u8>,
            chunk: usize,
            pause: Duration,
        ) -> Box<dyn Streaming> {
            let mut shared = lock(&self.shared);
            let mut at = shared.pair.now;
            for piece in audio.chunks(chunk.max(1)) {
                shared.schedule(at, piece.to_vec());
                at += pause;
            }
            drop(shared);
            Box::new(PairStreaming {
                shared: Arc::clone(&self.shared),
            })
        }

        fn upload(&mut self, file: Vec<u8>, options: UploadOptions) -> Box<dyn Uploading> {
            let mut shared = lock(&self.shared);
            let start = shared.pair.now;
            let format = shared.pair.client.input_format();
            // What the adapters' `send_audio_from_with` does, with the reads all at once and the
            // appends scheduled on the fake clock.
            let mut schedule = |upload: &mut AudioUpload| {
                while let Some(chunk) = upload.poll_chunk() {
                    let at = chunk.send_at.map_or(start, |offset| start + offset);
                    shared.schedule(at.max(start), chunk.audio.to_vec());
                }
            };
            let result = AudioUpload::new(&format, options).and_then(|mut upload| {
                for read in file.chunks(upload.read_size().max(1)) {
                    upload.push(read)?;
                    schedule(&mut upload);
                }
                upload.finish()?;
                schedule(&mut upload);
                Ok(upload.summary())
            });
            drop(shared);
            Box::new(PairUploading {
                shared: Arc::clone(&self.shared),
                result: result.map_err(|error| error.to_string()),
            })
        }

        fn server_record(&self) -> Option<SessionRecord> {
            Some(lock(&self.shared).pair.server.record().clone())
        }

        fn inject(&mut self, trigger: Trigger, fault: Fault) -> bool {
            let mut shared = lock(&self.shared);
            let now = shared.pair.now;
            shared.pair.server.inject(now, trigger, fault);
            true
        }
    }

    impl Streaming for PairStreaming {
        fn join(self: Box<Self>) -> Result<(), SendError> {
            let mut shared = lock(&self.shared);
            shared.flush_schedule();
            shared.failed.take().map_or(Ok(()), Err)
        }
    }

    impl Uploading for PairUploading {
        fn join(self: Box<Self>) -> Result<AudioSent, String> {
            let mut shared = lock(&self.shared);
            shared.flush_schedule();
            match shared.failed.take() {
                Some(error) => Err(error.to_string()),
                None => self.result,
            }
        }
    }
}

/// What an event looks like for comparing adapters: its kind and wire type.
pub fn describe(event: &Event) -> String {
    match event {
        Event::Server(message) => format!("server {}", message.wire_type()),
        Event::FunctionCall(call) => format!("function_call {}", call.name),
        Event::CommandFailed(failure) => {
            format!(
                "command_failed {} {}",
                failure.command,
                failure.error.code.as_ref().map_or("", |c| c.as_str())
            )
        }
        Event::Closed(info) => format!("closed {:?}", info.code),
        Event::Reconnecting(reconnecting) => format!("reconnecting {}", reconnecting.attempt),
        Event::Resumed(resumed) => format!(
            "resumed restored {} lost {} interrupted {}",
            resumed.restored.len(),
            resumed.lost.len(),
            resumed.interrupted.is_some()
        ),
        Event::Rotated => "rotated".to_owned(),
        _ => "other".to_owned(),
    }
}

/// The final state of a session, for comparing adapters: the conversation, responses, errors.
pub fn snapshot(client: &dyn Client) -> Value {
    let mut value = Value::Null;
    client.with_state(&mut |connection| {
        let items: Vec<Value> = connection
            .conversation()
            .items()
            .map(|item| {
                json!({
                    "id": item.id().as_str(),
                    "type": item.item_type(),
                    "role": item.role().map(|r| r.as_str()),
                    "status": item.status().map(|s| s.as_str()),
                    "text": item.text(),
                    "arguments": item.function_call().map(|c| c.arguments()),
                    "audio_bytes": item.parts().iter().map(|p| p.audio().received_bytes()).sum::<u64>(),
                    "truncated_at": item.parts().iter().find_map(|p| p.audio().truncated_at_ms()),
                })
            })
            .collect();
        let responses: Vec<Value> = connection
            .responses()
            .iter()
            .map(|r| json!({"id": r.id().as_str(), "status": r.status().as_str(), "out_of_band": r.is_out_of_band(), "items": r.output_item_ids().count()}))
            .collect();
        let errors: Vec<Value> = connection
            .errors()
            .map(|e| json!({"code": e.error.code.as_ref().map(|c| c.as_str()), "command": e.command}))
            .collect();
        value = json!({
            "items": items,
            "responses": responses,
            "errors": errors,
            "appended": connection.input_audio().appended_bytes(),
            "closed": connection.close_info().map(|info| info.code),
        });
    });
    value
}

/// Receives until `stop` returns true for an event; returns every event's description. Fails
/// the test if it takes longer than [`LIMIT`].
pub fn until(client: &mut dyn Client, stop: impl Fn(&Event) -> bool) -> Vec<Event> {
    let deadline = std::time::Instant::now() + LIMIT;
    let mut events = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(
            !left.is_zero(),
            "the expected event did not arrive within {LIMIT:?}; got {:?}",
            events.iter().map(describe).collect::<Vec<_>>()
        );
        match client.recv(left) {
            Ok(Some(event)) => {
                let done = stop(&event);
                events.push(event);
                if done {
                    return events;
                }
            }
            Ok(None) => {}
            Err(error) => panic!(
                "receiving failed: {error}; after {:?}",
                events.iter().map(describe).collect::<Vec<_>>()
            ),
        }
    }
}

/// Receives until the first error; returns it. Fails the test if none comes within [`LIMIT`].
pub fn until_error(client: &mut dyn Client) -> RecvError {
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(!left.is_zero(), "no error within {LIMIT:?}");
        if let Err(error) = client.recv(left) {
            return error;
        }
    }
}

/// Whether an event is a server event of this wire type (either dialect's spelling).
pub fn is(event: &Event, ga_name: &str) -> bool {
    matches!(event, Event::Server(message) if message.event().ga_name() == ga_name)
}

/// Speech-like PCM16 at 24 kHz: silence, a loud modulated tone, silence.
pub fn speech(silence_ms: usize, tone_ms: usize) -> Vec<u8> {
    let mut audio = Vec::with_capacity((silence_ms * 2 + tone_ms) * 48);
    for index in 0..(silence_ms * 2 + tone_ms) * 24 {
        let in_tone = index >= silence_ms * 24 && index < (silence_ms + tone_ms) * 24;
        let sample = if in_tone {
            ((index as f64 * 0.07).sin() * 11_000.0) as i16
        } else {
            0
        };
        audio.extend_from_slice(&sample.to_le_bytes());
    }
    audio
}

/// The README's examples (every adapter's and the bare machine's), compiled and run as
/// doctests here, where every crate is a dependency.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// The .NET migration guide's examples (an adapter's and the bare machine's), compiled and run
/// as doctests here, where every crate is a dependency.
#[cfg(doctest)]
#[doc = include_str!("../../docs/migrating-from-dotnet.md")]
struct MigrationDoctests;
