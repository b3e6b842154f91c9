//! The session on tokio: realtime-async's [`Session`](realtime_async::Session) and
//! [`Sender`](realtime_async::Sender), with `send_audio_from` taking a tokio reader.
//!
//! Every command of the sender (`update_session`, `create_item`, `create_response`,
//! `append_audio`, `interrupt`, ...) is realtime-async's, reached through `Deref`.

use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use realtime_async::Receiver;
#[cfg(feature = "audio")]
use realtime_net::upload::{AudioSendError, AudioSent, UploadOptions};
use realtime_proto::{Event, RecvError};

#[cfg(feature = "audio")]
use crate::runtime::Compat;

/// A connected session: send commands, receive events, read the state.
///
/// A `Session` is a [`Sender`] (through `Deref`, so every command is available on it) plus a
/// [`Receiver`]. [`split`](Self::split) separates them, to stream audio from one task while
/// another reads events. Dropping every handle closes the connection (code 1000).
#[derive(Debug)]
pub struct Session {
    sender: Sender,
    receiver: Receiver,
}

/// The sending half: cloneable, `Send` and `Sync`, usable from any task. Every command is
/// cancel-safe; see [`realtime_async::Sender`], which this derefs to.
#[derive(Clone, Debug)]
pub struct Sender(realtime_async::Sender);

impl Session {
    /// The next event; see [`Receiver::recv`]. Cancel-safe, so it can sit in
    /// `tokio::select!` beside a microphone.
    pub async fn recv(&mut self) -> Result<Event, RecvError> {
        self.receiver.recv().await
    }

    /// Separates the sending and the receiving halves.
    pub fn split(self) -> (Sender, Receiver) {
        (self.sender, self.receiver)
    }

    /// The sending half, for cloning into other tasks.
    pub fn sender(&self) -> &Sender {
        &self.sender
    }

    /// The receiving half.
    pub fn receiver(&mut self) -> &mut Receiver {
        &mut self.receiver
    }
}

impl From<realtime_async::Session> for Session {
    fn from(session: realtime_async::Session) -> Self {
        let (sender, receiver) = session.split();
        Self {
            sender: Sender(sender),
            receiver,
        }
    }
}

impl Deref for Session {
    type Target = Sender;

    fn deref(&self) -> &Sender {
        &self.sender
    }
}

impl Stream for Session {
    type Item = Result<Event, RecvError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.get_mut().receiver).poll_next(cx)
    }
}

impl Sender {
    /// Streams input audio from a tokio reader (a file, a pipe, a socket) until its end, in
    /// 100 ms appends, converted to the session's input format; see
    /// [`realtime_async::Sender::send_audio_from`]. Run it in its own task to receive events
    /// meanwhile (`tokio::spawn(async move { sender.send_audio_from(file).await })`).
    ///
    /// ```no_run
    /// # async fn example(session: realtime_tokio::Session) -> Result<(), Box<dyn std::error::Error>> {
    /// let file = tokio::fs::File::open("hello.wav").await?;
    /// let sent = session.send_audio_from(file).await?;
    /// println!("sent {sent}");
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "audio")]
    pub async fn send_audio_from(
        &self,
        reader: impl tokio::io::AsyncRead,
    ) -> Result<AudioSent, AudioSendError> {
        self.send_audio_from_with(reader, UploadOptions::default())
            .await
    }

    /// [`send_audio_from`](Self::send_audio_from) with options: raw samples in a declared
    /// layout, the chunk duration, real-time pacing, the read size, trailing silence. Not
    /// cancel-safe as a whole: cancelled midway, the audio sent so far stays in the server's
    /// input buffer.
    #[cfg(feature = "audio")]
    pub async fn send_audio_from_with(
        &self,
        reader: impl tokio::io::AsyncRead,
        options: UploadOptions,
    ) -> Result<AudioSent, AudioSendError> {
        let reader = std::pin::pin!(reader);
        self.0.send_audio_from_with(Compat(reader), options).await
    }
}

impl Deref for Sender {
    type Target = realtime_async::Sender;

    fn deref(&self) -> &realtime_async::Sender {
        &self.0
    }
}
