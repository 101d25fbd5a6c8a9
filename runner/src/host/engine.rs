//! The wasmtime engine the runner hosts guests in, with its per-case limits and the
//! cache of compiled modules.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, Module, PoolingAllocationConfig};

use super::limits::Limits;

/// How often the epoch advances; deadlines are counted in these ticks.
const TICK: Duration = Duration::from_millis(10);

/// Instances come from a pool of slots, reused and kept partly resident: a fresh instance
/// then costs far fewer page faults and unmaps (`kwconform bench` measured a fresh Go
/// instance nearly twice as fast). The pool's own ceilings sit above the runner's caps,
/// so a guest that grows past a cap meets the runner's limiter, which names the cap.
fn pool(limits: &Limits) -> PoolingAllocationConfig {
    // Workers × guests at once, with room for matrices and benchmarks in one process.
    const SLOTS: u32 = 64;
    let mut pool = PoolingAllocationConfig::default();
    // A guest instrumented for coverage has a second memory (fuzz/coverage.rs).
    pool.total_core_instances(SLOTS)
        .total_memories(2 * SLOTS)
        .max_memories_per_module(2)
        .total_tables(SLOTS)
        .total_stacks(SLOTS)
        .max_memory_size(1 << 32)
        .table_elements(limits.table_elements.saturating_mul(4))
        .linear_memory_keep_resident(16 << 20)
        .table_keep_resident(1 << 20);
    pool
}

/// A wasmtime engine with epoch interruption and the thread that drives the epoch.
pub struct HostEngine {
    engine: Engine,
    limits: Limits,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
    module_cache: Option<PathBuf>,
    wapc_host: WapcHostFlavour,
}

/// Which waPC host serves waPC modules (docs/guest-protocol.md, "waPC hosts").
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum WapcHostFlavour {
    /// kwconform's own waPC host: bounds-checked guest memory, captured stdio and
    /// console, every runner limit classified. For any guest.
    #[default]
    Kwconform,
    /// `wapc::WapcHost` on wasmtime-provider 2.25, the stack Kubewarden's host runs
    /// waPC policies on. For trusted guests: it reads guest memory unchecked (a bad
    /// pointer panics it) and inherits the runner's stdio.
    WasmtimeProvider,
}

impl std::fmt::Display for WapcHostFlavour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WapcHostFlavour::Kwconform => "kwconform",
            WapcHostFlavour::WasmtimeProvider => "wasmtime-provider",
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("failed to set up the wasmtime engine")]
pub struct EngineSetupError(#[source] pub wasmtime::Error);

impl HostEngine {
    pub fn new(limits: Limits) -> Result<Self, EngineSetupError> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool(&limits)));
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
        Ok(HostEngine {
            engine,
            limits,
            stop,
            ticker: Some(ticker),
            module_cache: None,
            wapc_host: WapcHostFlavour::default(),
        })
    }

    /// Keeps compiled modules in `dir`, keyed by module hash and engine settings: the Go
    /// guest takes seconds to compile and half a millisecond to load.
    pub fn with_module_cache(mut self, dir: PathBuf) -> Self {
        self.module_cache = Some(dir);
        self
    }

    /// Serves waPC modules loaded from now on with this waPC host.
    pub fn with_wapc_host(mut self, flavour: WapcHostFlavour) -> Self {
        self.wapc_host = flavour;
        self
    }

    pub fn wapc_host(&self) -> WapcHostFlavour {
        self.wapc_host
    }

    /// Compiles a module, or loads it from the module cache.
    pub(super) fn compile(&self, bytes: &[u8], sha256: &str) -> wasmtime::Result<Module> {
        let Some(dir) = &self.module_cache else {
            return Module::from_binary(&self.engine, bytes);
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut hasher);
        let path = dir.join(format!("{sha256}-{:016x}.cwasm", hasher.finish()));
        if path.is_file() {
            // SAFETY: the file was serialised by this engine configuration (the key
            // holds its compatibility hash) and written atomically by `compile` below.
            if let Ok(module) = unsafe { Module::deserialize_file(&self.engine, &path) } {
                return Ok(module);
            }
        }
        let module = Module::from_binary(&self.engine, bytes)?;
        // The cache is an optimisation: failing to fill it is not an error.
        let _ = module.serialize().map(|bytes| crate::fs::write_atomically(&path, &bytes));
        Ok(module)
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// How often the epoch advances.
    pub(super) fn tick(&self) -> Duration {
        TICK
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
