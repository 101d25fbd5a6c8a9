//! The guest's stdio: a stdin whose contents the host replaces at every host call, and
//! capped stdout and stderr.
//!
//! The `host.call` ABI (WASI-CLI) hands the guest its answer through stdin. wasmtime's
//! `MemoryInputPipe` cannot be refilled and the default stream adapter stops for good
//! at its first EOF, so stdin is one shared buffer: reading an empty buffer is EOF
//! (`StreamError::Closed`, which preview1 turns into a 0-byte read), and a later
//! [`ReplaceableStdin::replace`] makes it readable again.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Buf, Bytes};
use wasmtime_wasi::cli::{IsTerminal, StdinStream, StdoutStream};
use wasmtime_wasi::p2::{InputStream, OutputStream, Pollable, StreamError, StreamResult};

use super::limits::{Limit, LimitHit};

#[derive(Clone, Default)]
pub struct ReplaceableStdin(Arc<Mutex<Bytes>>);

impl ReplaceableStdin {
    /// Drops whatever the guest has not read and offers `contents` instead.
    pub fn replace(&self, contents: Vec<u8>) {
        *self.buffer() = Bytes::from(contents);
    }

    /// Bytes the guest has not read yet.
    pub fn len(&self) -> usize {
        self.buffer().len()
    }

    fn buffer(&self) -> MutexGuard<'_, Bytes> {
        // The buffer is plain bytes: a panic elsewhere cannot leave it inconsistent.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl IsTerminal for ReplaceableStdin {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdinStream for ReplaceableStdin {
    // preview1 fetches the stream once per file descriptor: it must share the buffer.
    fn p2_stream(&self) -> Box<dyn InputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncRead + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for ReplaceableStdin {
    async fn ready(&mut self) {}
}

impl InputStream for ReplaceableStdin {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        let mut buffer = self.buffer();
        if buffer.is_empty() {
            return Err(StreamError::Closed);
        }
        let n = size.min(buffer.len());
        Ok(buffer.split_to(n))
    }
}

impl tokio::io::AsyncRead for ReplaceableStdin {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        out: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut buffer = self.buffer();
        let n = out.remaining().min(buffer.len());
        out.put_slice(&buffer[..n]);
        buffer.advance(n);
        Poll::Ready(Ok(()))
    }
}

/// A stdout or stderr that keeps at most `capacity` bytes per request. A write beyond it
/// keeps what fits, remembers the overflow, and stops the guest (a trap the store
/// classifies as the runner's cap, not as the guest's fault). A stdout can also log
/// where each line ends, when, and how much of stderr had been written then: a batch of
/// WASI-CLI requests is told apart by its result lines, and each line ends a request
/// for both streams.
#[derive(Clone)]
pub struct CappedOutput {
    capacity: usize,
    limit: Limit,
    state: Arc<Mutex<Output>>,
    /// The stream whose length each line end records (stderr, for stdout).
    companion: Option<Box<CappedOutput>>,
    /// How many requests the lines may end: output after the last one counts against
    /// the last request's cap.
    requests: usize,
}

#[derive(Default)]
struct Output {
    bytes: Vec<u8>,
    overflowed: bool,
    lines: Vec<LineEnd>,
    /// Where the request in progress began writing.
    request_start: usize,
}

/// Where a line of output ended: after `end` bytes, at `at`, with `companion` bytes of
/// the companion stream written by then.
#[derive(Clone, Copy, Debug)]
pub struct LineEnd {
    pub end: usize,
    pub at: Instant,
    pub companion: usize,
}

impl CappedOutput {
    pub fn new(capacity: usize, limit: Limit) -> Self {
        CappedOutput { capacity, limit, state: Arc::default(), companion: None, requests: 1 }
    }

    /// The same, logging each line end with `companion`'s length at that moment; each of
    /// the first `requests` lines ends a request.
    pub fn with_lines(capacity: usize, limit: Limit, companion: &CappedOutput, requests: usize) -> Self {
        CappedOutput {
            companion: Some(Box::new(companion.clone())),
            requests,
            ..CappedOutput::new(capacity, limit)
        }
    }

    /// What the guest wrote, up to the cap.
    pub fn contents(&self) -> Vec<u8> {
        self.lock().bytes.clone()
    }

    pub fn len(&self) -> usize {
        self.lock().bytes.len()
    }

    /// What the guest wrote after the first `mark` bytes.
    pub fn since(&self, mark: usize) -> Vec<u8> {
        self.lock().bytes.get(mark..).unwrap_or_default().to_vec()
    }

    /// Whether the guest tried to write more than the cap.
    pub fn overflowed(&self) -> bool {
        self.lock().overflowed
    }

    /// Every line end so far (with [`CappedOutput::with_lines`]).
    pub fn lines(&self) -> Vec<LineEnd> {
        self.lock().lines.clone()
    }

    /// How many lines are complete, and when the last one ended.
    pub fn lines_done(&self) -> (usize, Option<Instant>) {
        let state = self.lock();
        (state.lines.len(), state.lines.last().map(|l| l.at))
    }

    fn lock(&self) -> MutexGuard<'_, Output> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A new request begins: the cap counts afresh from here.
    pub fn begin_request(&self) {
        let mut state = self.lock();
        state.request_start = state.bytes.len();
    }

    /// Appends what fits in the request in progress; the number of bytes taken. With a
    /// line log, each line ends a request, here and in the companion.
    fn append(&self, bytes: &[u8]) -> usize {
        let mut state = self.lock();
        let mut taken = 0;
        for piece in bytes.split_inclusive(|b| *b == b'\n') {
            let room = self.capacity.saturating_sub(state.bytes.len() - state.request_start);
            let fits = piece.len().min(room);
            state.bytes.extend_from_slice(&piece[..fits]);
            taken += fits;
            if fits < piece.len() {
                state.overflowed = true;
                break;
            }
            if let (Some(companion), Some(b'\n')) = (&self.companion, piece.last()) {
                let end = state.bytes.len();
                let companion_len = companion.len();
                // A line past the last request ends nothing: the cap keeps counting.
                if state.lines.len() + 1 < self.requests {
                    state.request_start = end;
                    companion.begin_request();
                }
                state.lines.push(LineEnd { end, at: Instant::now(), companion: companion_len });
            }
        }
        taken
    }
}

impl IsTerminal for CappedOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedOutput {
    async fn ready(&mut self) {}
}

impl OutputStream for CappedOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        if self.append(&bytes) < bytes.len() {
            return Err(StreamError::Trap(wasmtime::Error::new(LimitHit(self.limit))));
        }
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        // Always writable: a write past the cap is how the overflow is noticed.
        Ok(64 << 10)
    }
}

impl tokio::io::AsyncWrite for CappedOutput {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let taken = self.append(buf);
        if taken < buf.len() && taken == 0 {
            return Poll::Ready(Err(io::Error::other("output beyond the runner's cap")));
        }
        Poll::Ready(Ok(taken))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
