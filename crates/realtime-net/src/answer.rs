//! The reading of an HTTP/1.1 answer, without I/O, that the crate's three readers share: the
//! REST calls' [`ResponseReader`](crate::http::ResponseReader), the WebSocket upgrade's
//! ([`ClientUpgrade`](crate::websocket::ClientUpgrade), for a refusal) and the proxy's answer
//! to `CONNECT` ([`ProxyConnect`](crate::proxy::ProxyConnect)).
//!
//! An [`AnswerReader`] collects what was read, parses the head with httparse (the status, the
//! reason, the headers the caller keeps, where the body starts and how it is framed:
//! `Content-Length`, chunked, or until the connection ends), refuses a head still incomplete
//! after [`MAX_HEAD`] bytes, and assembles the body under a cap with the caller's policy
//! ([`BodyCap`]): refuse a larger body (a REST answer, which the caller decodes) or keep its
//! first bytes (an error body, which is only shown). What a head means (an interim 1xx, a 101
//! upgrade, an open tunnel, a 407 challenge) stays with each reader.
//!
//! The three readers did not read an answer's framing the same way before they shared this
//! code; they still do not, since a refactoring changes no behaviour: [`Framing`] names each
//! reading and [`BodyCap`] each body policy, and each reader chooses its own.

/// The most bytes of an answer read without its head completing before giving up (the same
/// 16 KiB for the three readers).
pub(crate) const MAX_HEAD: usize = 16 * 1024;

/// The most headers an answer may have (the same for the three readers); more is malformed.
const MAX_HEADERS: usize = 64;

/// Collects an answer's bytes, however they are split across reads, and reads its head and
/// its body under the caller's rules. The caller keeps the parsed [`Head`] and says what it
/// means; the body is read again from the start at each call until it is complete (answers
/// are small: their heads and bodies are capped).
#[derive(Debug)]
pub(crate) struct AnswerReader {
    /// Everything read (less what [`consume`](Self::consume) and
    /// [`split_off`](Self::split_off) took).
    received: Vec<u8>,
    /// How the head's framing is read.
    framing: Framing,
    /// The cap on the body, and its policy.
    cap: BodyCap,
    /// The headers a head keeps.
    headers: Headers,
}

/// How the head says where the body ends. The readers differed here before they shared this
/// code, and each keeps its own reading.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Framing {
    /// RFC 9112 as the REST reader reads it: a 204 or 304 answer has no body; chunked when the
    /// last coding of any `Transfer-Encoding` header is `chunked`; else by `Content-Length`,
    /// every one of which must agree and parse (a malformed answer otherwise); else the body
    /// ends with the connection.
    Strict,
    /// The WebSocket upgrade's reading of a refusal: chunked when the first
    /// `Transfer-Encoding` header mentions `chunked` anywhere; else the first `Content-Length`
    /// if it parses (one that does not is ignored); else the body ends with the connection.
    /// No exception for 204 or 304.
    Lenient,
    /// The proxy reader's: the first `Content-Length` if it parses, else the body ends with
    /// the connection. Chunked bodies are not decoded: one is read as ending with the
    /// connection, chunk sizes included (and its `Content-Length`, if it has one, counts).
    LengthOnly,
}

/// The cap on a body, and what happens above it.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum BodyCap {
    /// The body is the caller's data: a body over this many bytes is an error
    /// ([`AnswerError::BodyTooLarge`]), as soon as the head (its `Content-Length`), a chunk
    /// size or the bytes received say so. A chunked body is read strictly (a bad chunk size or
    /// a chunk without its CRLF is malformed, the trailers are waited for), and a body that
    /// the end of the connection cuts short is no body. (The REST reader's policy.)
    Refuse(usize),
    /// The body is only shown (an error body): the first this many bytes are kept and the
    /// body is complete once they are there. Never an error: a chunked body is decoded as far
    /// as it goes (a bad chunk size just stops it, the trailers are not waited for), and what
    /// arrived is the body when the connection ends. (The refused upgrade's and the proxy's
    /// policy.)
    KeepFirst(usize),
}

/// Which headers a parsed [`Head`] keeps (the framing headers are read in any case).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Headers {
    /// All of them, in order (a REST answer gives them to its caller).
    All,
    /// Those with these names (compared case-insensitively), in order.
    Named(&'static [&'static str]),
}

/// An answer's head.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) struct Head {
    /// The status code.
    pub(crate) status: u16,
    /// The status line's reason (empty if none).
    pub(crate) reason: String,
    /// The headers kept ([`Headers`]), names as sent, values trimmed (invalid UTF-8 replaced).
    pub(crate) headers: Vec<(String, String)>,
    /// Where the body starts in the bytes received.
    pub(crate) body_start: usize,
    /// How the body is framed.
    pub(crate) length: BodyLength,
}

/// How an answer's body is framed.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum BodyLength {
    /// This many bytes (`Content-Length`, or none for a 204 or 304 under [`Framing::Strict`]).
    Known(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection ends.
    UntilEof,
}

/// An answer that cannot be read. Each reader turns it into its own error, with its own text.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) enum AnswerError {
    /// Not HTTP/1.1 (httparse's reason), or a framing [`Framing::Strict`] or
    /// [`BodyCap::Refuse`] refuses (the reason).
    Malformed(String),
    /// The head is not complete after [`MAX_HEAD`] bytes.
    HeadTooLarge,
    /// The body exceeds the cap ([`BodyCap::Refuse`] only).
    BodyTooLarge {
        /// The cap.
        limit: usize,
    },
}

impl AnswerReader {
    /// A reader with no bytes yet: `framing` reads the head's framing, `cap` caps the body,
    /// and the head keeps `headers`.
    pub(crate) fn new(framing: Framing, cap: BodyCap, headers: Headers) -> Self {
        Self {
            received: Vec::new(),
            framing,
            cap,
            headers,
        }
    }

    /// Bytes read.
    pub(crate) fn extend(&mut self, read: &[u8]) {
        self.received.extend_from_slice(read);
    }

    /// How many bytes are held.
    pub(crate) fn received_len(&self) -> usize {
        self.received.len()
    }

    /// The head, once complete; `Ok(None)`: read more.
    ///
    /// # Errors
    ///
    /// [`AnswerError::Malformed`] for an answer that is not HTTP/1.1 (or, under
    /// [`Framing::Strict`], a bad `Content-Length`); [`AnswerError::HeadTooLarge`] for a head
    /// still incomplete after [`MAX_HEAD`] bytes; under [`BodyCap::Refuse`],
    /// [`AnswerError::BodyTooLarge`] for a `Content-Length` over the cap.
    pub(crate) fn parse_head(&self) -> Result<Option<Head>, AnswerError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let parsed = response
            .parse(&self.received)
            .map_err(|error| AnswerError::Malformed(error.to_string()))?;
        let httparse::Status::Complete(body_start) = parsed else {
            if self.received.len() > MAX_HEAD {
                return Err(AnswerError::HeadTooLarge);
            }
            return Ok(None);
        };
        let status = response.code.unwrap_or(0);
        let length = self.framing.length(status, response.headers)?;
        if let (BodyCap::Refuse(limit), BodyLength::Known(length)) = (self.cap, length) {
            if length > limit {
                return Err(AnswerError::BodyTooLarge { limit });
            }
        }
        let headers = response
            .headers
            .iter()
            .filter(|header| self.headers.keeps(header.name))
            .map(|header| (header.name.to_owned(), value(header)))
            .collect();
        Ok(Some(Head {
            status,
            reason: response.reason.unwrap_or_default().to_owned(),
            headers,
            body_start,
            length,
        }))
    }

    /// Drops the first `count` bytes (an interim answer's head, which another answer follows).
    pub(crate) fn consume(&mut self, count: usize) {
        self.received.drain(..count.min(self.received.len()));
    }

    /// Takes the bytes from `at` on (after a head that hands the connection to another
    /// protocol: they are that protocol's), keeping those before.
    pub(crate) fn split_off(&mut self, at: usize) -> Vec<u8> {
        self.received.split_off(at.min(self.received.len()))
    }

    /// The body of the answer whose head is `head` (parsed by this reader), once complete
    /// under the cap's policy; `at_end`: the connection ended. `Ok(None)`: read more, or, at
    /// the end under [`BodyCap::Refuse`], the body was cut short.
    ///
    /// # Errors
    ///
    /// Under [`BodyCap::Refuse`] only: [`AnswerError::BodyTooLarge`], and
    /// [`AnswerError::Malformed`] for a bad chunked body.
    pub(crate) fn body(&self, head: &Head, at_end: bool) -> Result<Option<Vec<u8>>, AnswerError> {
        let raw = self.received.get(head.body_start..).unwrap_or_default();
        match self.cap {
            BodyCap::Refuse(limit) => whole_body(raw, head.length, limit, at_end),
            BodyCap::KeepFirst(limit) => Ok(first_bytes(raw, head.length, limit, at_end)),
        }
    }
}

impl Framing {
    /// The body's framing from the status and the headers.
    fn length(
        self,
        status: u16,
        headers: &[httparse::Header<'_>],
    ) -> Result<BodyLength, AnswerError> {
        let values = |name: &'static str| {
            headers
                .iter()
                .filter(move |header| header.name.eq_ignore_ascii_case(name))
                .map(value)
        };
        let first_length = || {
            values("content-length")
                .next()
                .and_then(|value| value.parse::<usize>().ok())
        };
        Ok(match self {
            Self::Strict => {
                let chunked = values("transfer-encoding").any(|value| {
                    value
                        .rsplit(',')
                        .next()
                        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
                });
                let lengths: Vec<String> = values("content-length").collect();
                if status == 204 || status == 304 {
                    BodyLength::Known(0)
                } else if chunked {
                    BodyLength::Chunked
                } else if let Some(first) = lengths.first() {
                    if lengths.iter().any(|other| other != first) {
                        return Err(AnswerError::Malformed(
                            "conflicting Content-Length headers".to_owned(),
                        ));
                    }
                    let length = first.parse::<usize>().map_err(|_| {
                        AnswerError::Malformed(format!("invalid Content-Length {first:?}"))
                    })?;
                    BodyLength::Known(length)
                } else {
                    BodyLength::UntilEof
                }
            }
            Self::Lenient => {
                if values("transfer-encoding")
                    .next()
                    .is_some_and(|value| value.to_ascii_lowercase().contains("chunked"))
                {
                    BodyLength::Chunked
                } else if let Some(length) = first_length() {
                    BodyLength::Known(length)
                } else {
                    BodyLength::UntilEof
                }
            }
            Self::LengthOnly => match first_length() {
                Some(length) => BodyLength::Known(length),
                None => BodyLength::UntilEof,
            },
        })
    }
}

impl Headers {
    /// Whether a header with this name is kept.
    fn keeps(self, name: &str) -> bool {
        match self {
            Self::All => true,
            Self::Named(names) => names.iter().any(|kept| kept.eq_ignore_ascii_case(name)),
        }
    }
}

impl Head {
    /// A kept header's value (the first, if repeated); the name is case-insensitive.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A header's value, trimmed, invalid UTF-8 replaced.
fn value(header: &httparse::Header<'_>) -> String {
    String::from_utf8_lossy(header.value).trim().to_owned()
}

/// [`BodyCap::Refuse`]: the whole body once complete, an error over `limit`.
fn whole_body(
    raw: &[u8],
    length: BodyLength,
    limit: usize,
    at_end: bool,
) -> Result<Option<Vec<u8>>, AnswerError> {
    match length {
        // The head already refused it; refused here too, for a head from elsewhere.
        BodyLength::Known(length) if length > limit => Err(AnswerError::BodyTooLarge { limit }),
        // Bytes after the body are not the answer's (and not looked at).
        BodyLength::Known(length) => Ok(raw.get(..length).map(<[u8]>::to_vec)),
        BodyLength::Chunked => dechunk_strict(raw, limit),
        BodyLength::UntilEof if raw.len() > limit => Err(AnswerError::BodyTooLarge { limit }),
        BodyLength::UntilEof => Ok(at_end.then(|| raw.to_vec())),
    }
}

/// [`BodyCap::KeepFirst`]: the body's first `limit` bytes once they are there (or the body is
/// complete), or what arrived if the connection ended.
fn first_bytes(raw: &[u8], length: BodyLength, limit: usize, at_end: bool) -> Option<Vec<u8>> {
    let wanted = match length {
        BodyLength::Known(length) => length.min(limit),
        BodyLength::UntilEof => limit,
        BodyLength::Chunked => {
            if let Some(body) = dechunk_lenient(raw, limit) {
                return Some(body);
            }
            // Not decoded (yet): as the refused upgrade always did, `limit` bytes received or
            // the end make the body the bytes as they came, chunk sizes included.
            limit
        }
    };
    match raw.get(..wanted) {
        Some(body) => Some(body.to_vec()),
        None if at_end => Some(raw.to_vec()),
        None => None,
    }
}

/// A chunked body read strictly ([`BodyCap::Refuse`]), once its last chunk and its trailers
/// arrived; `None` while incomplete.
fn dechunk_strict(mut raw: &[u8], limit: usize) -> Result<Option<Vec<u8>>, AnswerError> {
    let mut body = Vec::new();
    loop {
        let parsed = httparse::parse_chunk_size(raw)
            .map_err(|_| AnswerError::Malformed("invalid chunk size".to_owned()))?;
        let httparse::Status::Complete((start, size)) = parsed else {
            return Ok(None);
        };
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if size == 0 {
            // Trailers, then an empty line.
            let rest = raw.get(start..).unwrap_or_default();
            let ended = rest.starts_with(b"\r\n") || rest.windows(4).any(|w| w == b"\r\n\r\n");
            return Ok(ended.then_some(body));
        }
        if body.len().saturating_add(size) > limit {
            return Err(AnswerError::BodyTooLarge { limit });
        }
        // A chunk that would end past the last address is never complete. (The REST reader's
        // own code overflowed here, with a cap near `usize::MAX`, and panicked.)
        let Some((end, next)) = start
            .checked_add(size)
            .and_then(|end| Some((end, end.checked_add(2)?)))
        else {
            return Ok(None);
        };
        let (Some(data), Some(after), Some(rest)) =
            (raw.get(start..end), raw.get(end..next), raw.get(next..))
        else {
            return Ok(None);
        };
        if after != b"\r\n" {
            return Err(AnswerError::Malformed(
                "a chunk does not end with CRLF".to_owned(),
            ));
        }
        body.extend_from_slice(data);
        raw = rest;
    }
}

/// A chunked body read leniently ([`BodyCap::KeepFirst`]): complete at the last chunk (the
/// trailers are not waited for) or once `limit` bytes are decoded (cut there); `None` while
/// incomplete, and for a chunk size that does not parse. The CRLF after a chunk's data is
/// skipped unread.
fn dechunk_lenient(mut raw: &[u8], limit: usize) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let Ok(httparse::Status::Complete((start, size))) = httparse::parse_chunk_size(raw) else {
            return None;
        };
        let size = usize::try_from(size).ok()?;
        if size == 0 {
            return Some(body);
        }
        // A chunk that would end past the last address is never complete. (The upgrade's own
        // code overflowed here, on a chunk size from the server, and panicked.)
        let end = start.checked_add(size)?;
        let next = end.checked_add(2)?;
        let (data, rest) = (raw.get(start..end)?, raw.get(next..)?);
        body.extend_from_slice(data);
        if body.len() >= limit {
            body.truncate(limit);
            return Some(body);
        }
        raw = rest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The REST reader's rules.
    fn strict(limit: usize) -> AnswerReader {
        AnswerReader::new(Framing::Strict, BodyCap::Refuse(limit), Headers::All)
    }

    /// The refused upgrade's rules.
    fn lenient(limit: usize) -> AnswerReader {
        AnswerReader::new(
            Framing::Lenient,
            BodyCap::KeepFirst(limit),
            Headers::Named(&["upgrade"]),
        )
    }

    /// The proxy reader's rules.
    fn length_only(limit: usize) -> AnswerReader {
        AnswerReader::new(
            Framing::LengthOnly,
            BodyCap::KeepFirst(limit),
            Headers::Named(&["proxy-authenticate"]),
        )
    }

    /// What a reader made of an answer.
    #[derive(Debug, Eq, PartialEq)]
    enum Outcome {
        /// The head never completed.
        NoHead,
        /// The head completed, the body did not, even at the end.
        CutShort,
        /// The body, and whether it took the end of the connection.
        Body { body: Vec<u8>, at_end: bool },
    }

    /// Feeds `answer` in two reads split at `split`, then the end of the connection.
    fn read(reader: AnswerReader, answer: &[u8], split: usize) -> Result<Outcome, AnswerError> {
        let (first, second) = answer.split_at(split);
        read_pieces(reader, [first, second])
    }

    /// Feeds `answer` a byte at a time, then the end of the connection.
    fn read_bytewise(reader: AnswerReader, answer: &[u8]) -> Result<Outcome, AnswerError> {
        read_pieces(reader, answer.chunks(1))
    }

    /// Feeds the pieces as reads, then the end of the connection.
    fn read_pieces<'a>(
        mut reader: AnswerReader,
        pieces: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Outcome, AnswerError> {
        let mut head = None;
        for piece in pieces {
            reader.extend(piece);
            if head.is_none() {
                head = reader.parse_head()?;
            }
            if let Some(head) = &head {
                if let Some(body) = reader.body(head, false)? {
                    return Ok(Outcome::Body {
                        body,
                        at_end: false,
                    });
                }
            }
        }
        let Some(head) = head else {
            return Ok(Outcome::NoHead);
        };
        Ok(match reader.body(&head, true)? {
            Some(body) => Outcome::Body { body, at_end: true },
            None => Outcome::CutShort,
        })
    }

    /// [`read`] at every split, and [`read_bytewise`], which must all agree.
    fn read_split_anywhere(
        make: fn(usize) -> AnswerReader,
        limit: usize,
        answer: &[u8],
    ) -> Result<Outcome, AnswerError> {
        let whole = read(make(limit), answer, answer.len());
        for split in 0..answer.len() {
            assert_eq!(
                read(make(limit), answer, split),
                whole,
                "split at {split} of {:?}",
                String::from_utf8_lossy(answer)
            );
        }
        assert_eq!(
            read_bytewise(make(limit), answer),
            whole,
            "a byte at a time: {:?}",
            String::from_utf8_lossy(answer)
        );
        whole
    }

    /// The bytes after an answer's head.
    fn after_head(answer: &[u8]) -> &[u8] {
        let end = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(answer.len(), |at| at + 4);
        &answer[end..]
    }

    /// A body read, and whether it took the end of the connection.
    fn body(body: &[u8], at_end: bool) -> Result<Outcome, AnswerError> {
        Ok(Outcome::Body {
            body: body.to_vec(),
            at_end,
        })
    }

    #[test]
    fn a_body_of_each_framing_split_at_every_offset() {
        let known = b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nv=0\r\nEXTRA";
        let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: x\r\n\r\n";
        let until_eof = b"HTTP/1.1 500 Oops\r\n\r\nbroken";
        let no_content = b"HTTP/1.1 204 No Content\r\n\r\n";
        for make in [strict, lenient, length_only] {
            assert_eq!(
                read_split_anywhere(make, 1024, known),
                body(b"v=0\r\n", false)
            );
            assert_eq!(
                read_split_anywhere(make, 1024, until_eof),
                body(b"broken", true)
            );
        }
        for make in [strict, lenient] {
            assert_eq!(
                read_split_anywhere(make, 1024, chunked),
                body(b"abcde", false)
            );
        }
        // The proxy's reading does not decode chunks: the body ends with the connection.
        assert_eq!(
            read_split_anywhere(length_only, 1024, chunked),
            body(after_head(chunked), true)
        );
        // 204 has no body under the strict reading only.
        assert_eq!(
            read_split_anywhere(strict, 1024, no_content),
            body(b"", false)
        );
        for make in [lenient, length_only] {
            assert_eq!(read_split_anywhere(make, 1024, no_content), body(b"", true));
        }
    }

    #[test]
    fn an_oversized_body_is_refused_or_cut_to_its_first_bytes() {
        let known = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhelloworld";
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
        let until_eof = b"HTTP/1.1 200 OK\r\n\r\nhelloworld";
        let too_large = AnswerError::BodyTooLarge { limit: 4 };
        // Refused as soon as it shows: the Content-Length, the chunk size, the bytes.
        for answer in [&known[..], chunked, until_eof] {
            assert_eq!(
                read_split_anywhere(strict, 4, answer),
                Err(too_large.clone())
            );
        }
        let mut reader = strict(4);
        reader.extend(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
        assert_eq!(reader.parse_head(), Err(too_large.clone()));
        let mut reader = strict(4);
        reader.extend(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n");
        let head = reader.parse_head().unwrap().unwrap();
        assert_eq!(reader.body(&head, false), Err(too_large));
        // At the cap exactly: taken.
        assert_eq!(
            read_split_anywhere(strict, 10, until_eof),
            body(b"helloworld", true)
        );
        assert_eq!(
            read_split_anywhere(strict, 6, chunked),
            body(b"abcdef", false)
        );
        // Cut: complete once the first bytes are there, without the end.
        for make in [lenient, length_only] {
            assert_eq!(read_split_anywhere(make, 4, known), body(b"hell", false));
            assert_eq!(
                read_split_anywhere(make, 4, until_eof),
                body(b"hell", false)
            );
        }
        // Decoded and cut when the chunks arrive whole; but while a chunk is incomplete,
        // once the cap's worth of bytes arrived, the first bytes as they came, chunk sizes
        // included (the refused upgrade's reading, kept).
        assert_eq!(
            read(lenient(4), chunked, chunked.len()),
            body(b"abcd", false)
        );
        let split = chunked.len() - after_head(chunked).len() + 5;
        assert_eq!(read(lenient(4), chunked, split), body(b"3\r\na", false));
        let long_chunk = b"HTTP/1.1 401 No\r\nTransfer-Encoding: chunked\r\n\r\na\r\nhel";
        assert_eq!(read(lenient(4), long_chunk, 10), body(b"a\r\nh", false));
    }

    #[test]
    fn a_head_over_the_cap_is_refused() {
        for make in [strict, lenient, length_only] {
            let mut reader = make(1024);
            reader.extend(b"HTTP/1.1 200 OK\r\nX-Padding: ");
            let padding = vec![b'a'; MAX_HEAD - reader.received_len()];
            reader.extend(&padding);
            assert_eq!(reader.parse_head(), Ok(None));
            reader.extend(b"a");
            assert_eq!(reader.parse_head(), Err(AnswerError::HeadTooLarge));
            // A complete head may be longer: the cap is on waiting for one.
            let mut reader = make(1024);
            reader.extend(b"HTTP/1.1 200 OK\r\nX-Padding: ");
            reader.extend(&padding);
            reader.extend(b"\r\n\r\n");
            assert!(reader.received_len() > MAX_HEAD);
            assert!(reader.parse_head().unwrap().is_some());
        }
    }

    #[test]
    fn a_chunked_body_cut_short_at_the_end() {
        let cut = b"HTTP/1.1 502 Bad\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\nde";
        // Refused bodies: no body (the caller says the body was cut short).
        assert_eq!(
            read_split_anywhere(strict, 1024, cut),
            Ok(Outcome::CutShort)
        );
        // The last chunk without its trailers' end is cut short too.
        let no_end = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n";
        assert_eq!(
            read_split_anywhere(strict, 1024, no_end),
            Ok(Outcome::CutShort)
        );
        // Kept bodies: what arrived, as it came (the refused upgrade's reading, kept).
        assert_eq!(
            read_split_anywhere(lenient, 1024, cut),
            body(b"3\r\nabc\r\n4\r\nde", true)
        );
        assert_eq!(
            read_split_anywhere(lenient, 1024, no_end),
            body(b"a", false)
        );
    }

    #[test]
    fn the_readings_differ_where_the_readers_did() {
        // Conflicting or bad lengths: malformed when strict, else the first that parses
        // counts, or none does.
        let conflicting = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab";
        let bad = b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\nab";
        for answer in [&conflicting[..], bad] {
            assert!(matches!(
                read(strict(1024), answer, answer.len()),
                Err(AnswerError::Malformed(_))
            ));
        }
        for make in [lenient, length_only] {
            assert_eq!(
                read_split_anywhere(make, 1024, conflicting),
                body(b"a", false)
            );
            assert_eq!(read_split_anywhere(make, 1024, bad), body(b"ab", true));
        }
        // `chunked` not last: not chunked when strict; mentioned: chunked when lenient.
        let gzip =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n1\r\na\r\n0\r\n\r\n";
        assert_eq!(
            read_split_anywhere(strict, 1024, gzip),
            body(b"1\r\na\r\n0\r\n\r\n", true)
        );
        assert_eq!(read_split_anywhere(lenient, 1024, gzip), body(b"a", false));
        // Chunked and a length: chunked wins, except for the proxy, which reads no chunks.
        let both =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n1\r\na\r\n0\r\n\r\n";
        for make in [strict, lenient] {
            assert_eq!(read_split_anywhere(make, 1024, both), body(b"a", false));
        }
        assert_eq!(
            read_split_anywhere(length_only, 1024, both),
            body(b"1\r\n", false)
        );
        // Bad chunks: malformed when strict, else the bytes as they came at the end.
        let bad_size = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        let no_crlf = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXY0\r\n\r\n";
        for answer in [&bad_size[..], no_crlf] {
            assert!(matches!(
                read(strict(1024), answer, answer.len()),
                Err(AnswerError::Malformed(_))
            ));
        }
        assert_eq!(
            read_split_anywhere(lenient, 1024, bad_size),
            body(b"zz\r\n", true)
        );
        assert_eq!(
            read_split_anywhere(lenient, 1024, no_crlf),
            body(b"a", false)
        );
    }

    #[test]
    fn chunk_sizes_near_the_last_address_never_panic() {
        // 0xFFFFFFFFFFFFFFED: on 64 bits, the chunk's end plus its CRLF overflows.
        for size in [
            "FFFFFFFFFFFFFFED",
            "FFFFFFFFFFFFFFEE",
            "FFFFFFFFFFFFFFFF",
            "7FFFFFFF",
        ] {
            let answer =
                format!("HTTP/1.1 401 No\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nab");
            let answer = answer.as_bytes();
            let raw = &answer[answer.len() - size.len() - 4..];
            assert_eq!(
                read_split_anywhere(lenient, 1 << 16, answer),
                body(raw, true)
            );
            let outcome = read_split_anywhere(strict, usize::MAX, answer);
            assert_eq!(outcome, Ok(Outcome::CutShort), "{size}");
        }
    }

    #[test]
    fn the_head_gives_status_reason_the_headers_kept_and_the_rest() {
        let answer = b"HTTP/1.1 407 Proxy Authentication Required\r\nVia: x\r\nProxy-Authenticate: Basic realm=\"a\"\r\nproxy-authenticate:  Negotiate \r\nContent-Length: 0\r\n\r\n\x16\x03";
        let mut reader = length_only(1024);
        reader.extend(answer);
        let head = reader.parse_head().unwrap().unwrap();
        assert_eq!(
            (head.status, head.reason.as_str(), head.length),
            (407, "Proxy Authentication Required", BodyLength::Known(0))
        );
        assert_eq!(head.header("PROXY-AUTHENTICATE"), Some("Basic realm=\"a\""));
        assert_eq!(head.headers.len(), 2);
        assert_eq!(head.headers[1].1, "Negotiate");
        assert_eq!(head.header("via"), None);
        let mut all = strict(1024);
        all.extend(answer);
        assert_eq!(all.parse_head().unwrap().unwrap().headers.len(), 4);
        // What follows the head can be taken, or the head dropped for the answer behind it.
        assert_eq!(reader.split_off(head.body_start), b"\x16\x03");
        assert_eq!(reader.received_len(), head.body_start);
        let mut interim = strict(1024);
        interim
            .extend(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        let first = interim.parse_head().unwrap().unwrap();
        assert_eq!(first.status, 100);
        interim.consume(first.body_start);
        let head = interim.parse_head().unwrap().unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(interim.body(&head, false), Ok(Some(b"ok".to_vec())));
        // Past the end: nothing, no panic.
        assert!(interim.split_off(usize::MAX).is_empty());
        interim.consume(usize::MAX);
        assert_eq!(interim.received_len(), 0);
    }

    #[test]
    fn answers_that_are_not_http_are_malformed() {
        for make in [strict, lenient, length_only] {
            let mut reader = make(1024);
            reader.extend(b"SSH-2.0-OpenSSH\r\n\r\n");
            assert!(matches!(
                reader.parse_head(),
                Err(AnswerError::Malformed(_))
            ));
            let mut reader = make(1024);
            reader.extend(b"HTTP/1.1 200 OK\r\n");
            for index in 0..=MAX_HEADERS {
                reader.extend(format!("x-{index}: a\r\n").as_bytes());
            }
            reader.extend(b"\r\n");
            assert!(matches!(
                reader.parse_head(),
                Err(AnswerError::Malformed(_))
            ));
        }
    }
}
