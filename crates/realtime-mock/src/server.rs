//! [`MockServer`]: the listening socket, the server thread and its runtime, and the registry
//! of sessions that tests query.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::calls::{CallSetup, CallState, Calls};
use crate::config::{Config, MockServerBuilder};
use crate::core::Control;
use crate::driver::{self, SessionSlot};
use crate::error::{InjectError, ShutdownError, StartError, WaitError};
use crate::fault::{Fault, Trigger};
use crate::handshake::{self, Handshake, VOICE_LIVE_API_VERSION};
use crate::ids;
use crate::profile::ServerProfile;
use crate::record::{SessionEnd, SessionRecord};
use crate::resume::{self, ResumableConversation};
use crate::server_session::ServerSession;

/// The listening socket's backlog (the kernel caps it at `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 4096;

/// How often waits look at the recordings.
const WAIT_STEP: Duration = Duration::from_millis(2);

/// A loopback Realtime server on its own thread; see the [crate docs](crate).
///
/// Method families: constructors ([`start`](Self::start), [`builder`](Self::builder)); getters
/// for the client URLs and the recordings ([`url`](Self::url), [`sessions`](Self::sessions),
/// [`rejected`](Self::rejected), [`resumable_conversation`](Self::resumable_conversation));
/// waits with a timeout ([`wait_for_sessions`](Self::wait_for_sessions),
/// [`wait_for`](Self::wait_for)); commands ([`inject`](Self::inject),
/// [`shutdown`](Self::shutdown)). Dropping the server shuts it down.
///
/// Every method may be called from any thread, inside or outside an async runtime: they
/// never block on the server's runtime for longer than a lock.
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

/// What the server thread and the handle share.
pub(crate) struct Shared {
    pub(crate) config: Arc<Config>,
    pub(crate) seed: u64,
    registry: Mutex<Registry>,
    /// The phone calls and client secrets (`crate::calls`).
    calls: Mutex<Calls>,
}

/// A refused request: the status and the whole HTTP response.
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) text: String,
}

#[derive(Default)]
struct Registry {
    sessions: Vec<Arc<SessionSlot>>,
    rejected: Vec<Handshake>,
    /// The xAI conversations a later connection may resume, newest copies.
    resumable: Vec<ResumableConversation>,
}

impl MockServer {
    /// Starts a server with the default settings on a free port of 127.0.0.1.
    pub fn start() -> Result<Self, StartError> {
        Self::builder().start()
    }

    /// A builder, for any other settings.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::new()
    }

    pub(crate) fn start_with(config: Config) -> Result<Self, StartError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(StartError::Thread)?;
        let bind_error = |source| StartError::Bind {
            addr: config.listen,
            source,
        };
        let listener = {
            // The listener registers with this runtime's reactor.
            let _runtime = runtime.enter();
            let socket = match config.listen {
                SocketAddr::V4(_) => TcpSocket::new_v4(),
                SocketAddr::V6(_) => TcpSocket::new_v6(),
            }
            .map_err(bind_error)?;
            // As std's listeners do on Unix: a restarted server can reuse its port at once.
            #[cfg(unix)]
            socket.set_reuseaddr(true).map_err(bind_error)?;
            socket.bind(config.listen).map_err(bind_error)?;
            // A deep backlog: thousands of clients may connect at once.
            socket.listen(LISTEN_BACKLOG).map_err(bind_error)?
        };
        let addr = listener.local_addr().map_err(bind_error)?;
        let seed = config.seed.unwrap_or_else(ids::clock_seed);
        let registry = Registry {
            resumable: config.resumable.clone(),
            ..Registry::default()
        };
        let shared = Arc::new(Shared {
            config: Arc::new(config),
            seed,
            registry: Mutex::new(registry),
            calls: Mutex::new(Calls::default()),
        });
        let (stop, stopped) = watch::channel(false);
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("realtime-mock {addr}"))
            .spawn(move || runtime.block_on(accept_loop(listener, thread_shared, stopped)))
            .map_err(StartError::Thread)?;
        Ok(Self {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// What the server thread shares with this handle.
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://127.0.0.1:PORT`, without a path.
    pub fn base_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The URL of the server's [profile](crate::ServerProfile): the OpenAI URL,
    /// `ws://127.0.0.1:PORT/v1/realtime?model=gpt-realtime` (the configured model), or, with
    /// [`ServerProfile::VoiceLive`](crate::ServerProfile::VoiceLive), the
    /// [Voice Live URL](Self::voice_live_url).
    pub fn url(&self) -> String {
        let model = self.shared.config.model();
        match self.shared.config.profile {
            ServerProfile::VoiceLive => self.voice_live_url(model),
            _ => format!("{}/v1/realtime?model={model}", self.base_url()),
        }
    }

    /// The Azure AI Voice Live URL:
    /// `ws://127.0.0.1:PORT/voice-live/realtime?api-version=2025-10-01&model=<model>`. Served
    /// with the [Voice Live](crate::ServerProfile::VoiceLive) and
    /// [auto](crate::ServerProfile::Auto) profiles only.
    pub fn voice_live_url(&self, model: &str) -> String {
        format!(
            "{}/voice-live/realtime?api-version={VOICE_LIVE_API_VERSION}&model={model}",
            self.base_url()
        )
    }

    /// The Azure GA URL: `ws://127.0.0.1:PORT/openai/v1/realtime?model=<deployment>`.
    pub fn azure_url(&self, deployment: &str) -> String {
        format!("{}/openai/v1/realtime?model={deployment}", self.base_url())
    }

    /// The Azure preview URL (beta protocol):
    /// `ws://127.0.0.1:PORT/openai/realtime?api-version=<version>&deployment=<deployment>`.
    pub fn azure_preview_url(&self, deployment: &str, api_version: &str) -> String {
        format!(
            "{}/openai/realtime?api-version={api_version}&deployment={deployment}",
            self.base_url()
        )
    }

    /// How many sessions opened (WebSocket upgrades) so far.
    pub fn session_count(&self) -> usize {
        self.shared.lock().sessions.len()
    }

    /// A snapshot of every session's recording, in connection order.
    pub fn sessions(&self) -> Vec<SessionRecord> {
        let slots = self.shared.lock().sessions.clone();
        slots.iter().map(|slot| snapshot(slot)).collect()
    }

    /// A snapshot of one session's recording (0 is the first connection).
    pub fn session(&self, index: usize) -> Option<SessionRecord> {
        let slot = self.shared.lock().sessions.get(index).cloned()?;
        Some(snapshot(&slot))
    }

    /// The handshakes the server refused (401, 404, 400), in order.
    pub fn rejected(&self) -> Vec<Handshake> {
        self.shared.lock().rejected.clone()
    }

    /// The resumable conversation with this id, as the server keeps it for a reconnecting
    /// client: the newest state of an [xAI](crate::ServerProfile::Xai) session's conversation
    /// once its client enabled resumption, or one given to the builder
    /// ([`resumable`](MockServerBuilder::resumable)).
    pub fn resumable_conversation(&self, id: &str) -> Option<ResumableConversation> {
        resume::find(&self.shared.lock().resumable, Some(id)).cloned()
    }

    /// Waits until at least `count` sessions have opened.
    pub fn wait_for_sessions(&self, count: usize, timeout: Duration) -> Result<(), WaitError> {
        // A timeout past the clock's range (`Duration::MAX`) waits forever.
        let deadline = Instant::now().checked_add(timeout);
        while self.session_count() < count {
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Err(WaitError::Timeout {
                    what: format!("{count} sessions ({} opened)", self.session_count()),
                    waited: timeout,
                });
            }
            std::thread::sleep(WAIT_STEP);
        }
        Ok(())
    }

    /// Waits until session `index` exists and its recording satisfies `condition`; returns
    /// that snapshot.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # let server = realtime_mock::MockServer::start()?;
    /// let record = server.wait_for(0, Duration::from_secs(5), |record| {
    ///     record.server_event_types().contains(&"response.done")
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn wait_for(
        &self,
        index: usize,
        timeout: Duration,
        condition: impl Fn(&SessionRecord) -> bool,
    ) -> Result<SessionRecord, WaitError> {
        // A timeout past the clock's range (`Duration::MAX`) waits forever.
        let deadline = Instant::now().checked_add(timeout);
        loop {
            if let Some(record) = self.session(index) {
                if condition(&record) {
                    return Ok(record);
                }
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Err(WaitError::Timeout {
                    what: format!("a condition on session {index}"),
                    waited: timeout,
                });
            }
            std::thread::sleep(WAIT_STEP);
        }
    }

    /// Waits until session `index` has ended; returns its final recording.
    pub fn wait_for_end(
        &self,
        index: usize,
        timeout: Duration,
    ) -> Result<SessionRecord, WaitError> {
        self.wait_for(index, timeout, SessionRecord::has_ended)
            .map_err(|_| WaitError::Timeout {
                what: format!("session {index} to end"),
                waited: timeout,
            })
    }

    /// Arms a fault in a running session; see [`Fault`] and [`Trigger`]. It is in place
    /// before the session handles anything the client sends after this call returns.
    pub fn inject(&self, index: usize, trigger: Trigger, fault: Fault) -> Result<(), InjectError> {
        let slot = self
            .shared
            .lock()
            .sessions
            .get(index)
            .cloned()
            .ok_or(InjectError::NoSuchSession(index))?;
        if slot.send(Control::Inject(trigger, fault)) {
            Ok(())
        } else {
            Err(InjectError::SessionEnded(index))
        }
    }

    /// Stops the server: open sessions get close code 1001, then the thread ends.
    pub fn shutdown(mut self) -> Result<(), ShutdownError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), ShutdownError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        let result = match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| ShutdownError::Panicked),
            None => Ok(()),
        };
        for slot in &self.shared.lock().sessions {
            slot.end(SessionEnd::Shutdown);
        }
        result
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        // Nothing to report from a drop: a panicked server thread already printed its panic.
        let _ = self.stop_and_join();
    }
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .field("sessions", &self.session_count())
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn reject(&self, handshake: Handshake) {
        self.lock().rejected.push(handshake);
    }

    /// The calls and client secrets.
    pub(crate) fn calls(&self) -> std::sync::MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The client secrets minted and still valid, which open WebSocket sessions too.
    pub(crate) fn valid_secrets(&self) -> Vec<String> {
        let now = self.config.wall_clock.unwrap_or_else(SystemTime::now);
        let unix = now.duration_since(UNIX_EPOCH).map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        });
        self.calls().valid_secrets(unix)
    }

    /// What a sideband session of this call plays, when the call is active; else the refusal.
    pub(crate) fn call_setup(&self, call_id: &str) -> Result<CallSetup, Refusal> {
        let calls = self.calls();
        let Some(call) = calls
            .calls
            .iter()
            .find(|call| call.call_id.as_str() == call_id)
        else {
            let message = format!("Call '{call_id}' not found.");
            let code = Some("call_not_found");
            let text = handshake::http_error(404, "Not Found", &message, Some("call_id"), code);
            return Err(Refusal { status: 404, text });
        };
        if call.state != CallState::Active {
            let message = format!("Call '{call_id}' is not active: accept it first.");
            let code = Some("invalid_call_state");
            let text = handshake::http_error(400, "Bad Request", &message, Some("call_id"), code);
            return Err(Refusal { status: 400, text });
        }
        Ok(CallSetup {
            call_id: call.call_id.clone(),
            session: call.session.clone(),
            script: self.config.call_script.clone(),
        })
    }

    /// The call of a sideband session whose caller hung up has ended.
    pub(crate) fn caller_hung_up(&self, session: &ServerSession) {
        let Some(call_id) = session.handshake().query_param("call_id") else {
            return;
        };
        if let Some(call) = self.calls().get_mut(call_id) {
            if call.state == CallState::Active {
                call.state = CallState::CallerHungUp;
            }
        }
    }

    /// Closes the sideband sessions of a call that ended.
    pub(crate) fn end_call_sessions(&self, call_id: &str, reason: &str) {
        let indices = self
            .calls()
            .get_mut(call_id)
            .map(|call| call.sessions.clone())
            .unwrap_or_default();
        let slots: Vec<Arc<SessionSlot>> = {
            let registry = self.lock();
            indices
                .iter()
                .filter_map(|index| registry.sessions.get(*index).cloned())
                .collect()
        };
        for slot in slots {
            slot.send(Control::EndCall(reason.to_owned()));
        }
    }

    /// Keeps the newest copy of a resumable conversation.
    pub(crate) fn keep_resumable(&self, conversation: Option<ResumableConversation>) {
        if let Some(conversation) = conversation {
            resume::keep(&mut self.lock().resumable, conversation);
        }
    }

    /// Opens a session, with a seed from its index, and its slot in the registry.
    pub(crate) fn register(
        &self,
        handshake: Handshake,
        now: Instant,
        call: Option<CallSetup>,
    ) -> (Arc<SessionSlot>, ServerSession) {
        let mut registry = self.lock();
        let index = registry.sessions.len();
        if let Some(call) = &call {
            if let Some(known) = self.calls().get_mut(call.call_id.as_str()) {
                known.sessions.push(index);
            }
        }
        let seed = ids::session_seed(self.seed, index);
        let wall_clock = self.config.wall_clock.unwrap_or_else(SystemTime::now);
        let resumed = resume::find(
            &registry.resumable,
            handshake.query_param("conversation_id"),
        )
        .cloned();
        let mut session = ServerSession::open_at(
            Arc::clone(&self.config),
            handshake.clone(),
            index,
            seed,
            now,
            wall_clock,
            resumed,
            call,
        );
        let mut record = SessionRecord::new(index, handshake, session.dialect());
        record.session_id = session.session_id().to_owned();
        record.profile = session.profile();
        session.drain_record_into(&mut record);
        let slot = Arc::new(SessionSlot::new(record));
        registry.sessions.push(Arc::clone(&slot));
        (slot, session)
    }
}

fn snapshot(slot: &SessionSlot) -> SessionRecord {
    slot.record
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tasks.spawn(driver::serve(stream, peer, Arc::clone(&shared), stop.clone()));
                }
                // Out of file descriptors, say: wait for some to free up rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
    drop(listener);
    // Sessions see the same signal and close with 1001; give them a moment, then drop the rest.
    let drain = async { while tasks.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}
