//! The wasmtime engine the runner hosts guests in, with its per-case limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Config, Engine};

/// How often the epoch advances; deadlines are counted in these ticks.
const TICK: Duration = Duration::from_millis(10);

/// Per-invocation limits. Hitting one makes the result inconclusive, not a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock budget of one guest invocation, enforced by epoch interruption. A
    /// guest blocked inside a host call or `poll_oneoff` is only stopped when it
    /// returns to wasm.
    pub timeout: Duration,
    /// Linear memory one guest instance may grow to.
    pub memory_bytes: usize,
    /// Bytes one invocation may write to stdout, and separately to stderr.
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { timeout: Duration::from_secs(10), memory_bytes: 512 << 20, output_bytes: 16 << 20 }
    }
}

/// A wasmtime engine with epoch interruption and the thread that drives the epoch.
pub struct HostEngine {
    engine: Engine,
    limits: Limits,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

#[derive(Debug, thiserror::Error)]
#[error("failed to set up the wasmtime engine")]
pub struct EngineSetupError(#[source] pub wasmtime::Error);

impl HostEngine {
    pub fn new(limits: Limits) -> Result<Self, EngineSetupError> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(EngineSetupError)?;
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (engine, stop) = (engine.clone(), stop.clone());
            std::thread::Builder::new()
                .name("kwconform-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(TICK);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| EngineSetupError(wasmtime::Error::msg(e.to_string())))?
        };
        Ok(HostEngine { engine, limits, stop, ticker: Some(ticker) })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The invocation deadline in epoch ticks (rounded up, plus the tick in progress).
    pub(super) fn deadline_ticks(&self) -> u64 {
        self.limits.timeout.as_millis().div_ceil(TICK.as_millis()) as u64 + 1
    }
}

impl Drop for HostEngine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}
