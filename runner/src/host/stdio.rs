//! A WASI stdin whose contents the host replaces at every host call.
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

use bytes::{Buf, Bytes};
use wasmtime_wasi::cli::{IsTerminal, StdinStream};
use wasmtime_wasi::p2::{InputStream, Pollable, StreamError, StreamResult};

#[derive(Clone, Default)]
pub struct ReplaceableStdin(Arc<Mutex<Bytes>>);

impl ReplaceableStdin {
    /// Drops whatever the guest has not read and offers `contents` instead.
    pub fn replace(&self, contents: Vec<u8>) {
        *self.buffer() = Bytes::from(contents);
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
