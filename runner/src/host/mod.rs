//! Playing the Kubewarden host for guest modules, in the ABI each module speaks.
//!
//! [`GuestModule::load`] compiles a module and picks its ABI from its imports;
//! [`GuestModule::invoke`] runs one guest operation in a fresh instance against a
//! [`HostScript`] and returns what happened as an [`Invocation`]. The two ABIs
//! (`wapc`, `wasi_cli`) share the store, the memory access and the host-call record.

mod calls;
mod engine;
mod host_request;
mod limits;
mod memory;
mod state;
mod stdio;
mod virtual_time;
mod wapc;
mod wapc_provider;
mod wasi_cli;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::{Instance, InstancePre, Linker, Module, Store, Trap};
use wasmtime_wasi::I32Exit;

pub use calls::{Answer, CALLBACK_FAILURE, HostCall, HostScript};
pub use engine::{EngineSetupError, HostEngine, WapcHostFlavour};
pub use host_request::HostRequest;
pub use limits::{Limit, Limits, markdown_table as limits_markdown_table};
use state::HostState;

/// The host ABI a guest module speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Abi {
    /// waPC: `wapc` imports, `__guest_call` export.
    Wapc,
    /// Kubewarden WASI-CLI: `host.call` import, answers on stdin, a WASI command.
    WasiCli,
}

impl fmt::Display for Abi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Abi::Wapc => "wapc",
            Abi::WasiCli => "wasi-cli",
        })
    }
}

/// Why an invocation produced no answer. Runner limits make a result inconclusive;
/// everything else is the guest's doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineFailure {
    /// The guest hit one of the runner's caps ([`Limits`]): nothing is proven.
    Limit(Limit),
    /// A wasm trap: a panic compiled to `unreachable`, a bad pointer passed to the host…
    Trap(String),
    /// A WASI command exited with a non-zero code (a Go panic exits with 2).
    Exit { code: i32 },
    /// A waPC guest answered with `__guest_error`.
    GuestError(String),
    /// The guest broke the guest protocol (docs/guest-protocol.md).
    Protocol(String),
    /// The module could not be instantiated.
    Instantiate(String),
    /// The guest's `describe` does not offer the operation: nothing to compare.
    NotOffered(String),
}

impl EngineFailure {
    /// Failures of the runner's own making, which prove nothing about the guest.
    pub fn is_runner_limit(&self) -> bool {
        matches!(self, EngineFailure::Limit(_) | EngineFailure::NotOffered(_))
    }

    /// A short stable name for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            EngineFailure::Limit(limit) => limit.name(),
            EngineFailure::Trap(_) => "trap",
            EngineFailure::Exit { .. } => "exit",
            EngineFailure::GuestError(_) => "guest-error",
            EngineFailure::Protocol(_) => "protocol",
            EngineFailure::Instantiate(_) => "instantiate",
            EngineFailure::NotOffered(_) => "not-offered",
        }
    }
}

impl fmt::Display for EngineFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineFailure::Limit(limit) => {
                write!(f, "{limit}: the guest hit the runner's cap on {}", limit.what())
            }
            EngineFailure::Trap(m) => write!(f, "trap: {m}"),
            EngineFailure::Exit { code } => write!(f, "exit: the guest exited with code {code}"),
            EngineFailure::GuestError(m) => write!(f, "guest-error: {m}"),
            EngineFailure::Protocol(m) => write!(f, "protocol: {m}"),
            EngineFailure::Instantiate(m) => write!(f, "instantiate: {m}"),
            EngineFailure::NotOffered(op) => {
                write!(f, "not-offered: the guest's describe does not offer {op}")
            }
        }
    }
}

/// The memory an instrumented guest marks the code it ran in (one byte per site);
/// `kwconform fuzz` instruments guests this way for its coverage feedback.
pub const COVERAGE_EXPORT: &str = "kwconform_coverage";

/// Everything one guest invocation produced.
#[derive(Clone, Debug)]
pub struct Invocation {
    /// The guest's answer bytes (a result line per request), or why there is none.
    pub result: Result<Vec<u8>, EngineFailure>,
    pub calls: Vec<HostCall>,
    pub stdout: Vec<u8>,
    /// stderr, plus waPC `__console_log` lines.
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
    /// What [`Invocation::excerpt`] left out.
    pub omitted: Omitted,
    /// For an instrumented guest ([`COVERAGE_EXPORT`]), the sites its instance hit: in a
    /// batch, those of every request the instance served (shared by their invocations).
    pub coverage: Option<std::sync::Arc<Vec<u32>>>,
}

/// How much of stdout, of stderr, and of an error message a stored result keeps; all of
/// it is a `kwconform repro` away.
pub const EXCERPT_BYTES: usize = 1 << 10;
/// How many host calls a stored result keeps, and how much of each payload and answer.
pub const EXCERPT_CALLS: usize = 8;
pub const EXCERPT_CALL_BYTES: usize = 256;

/// What an excerpt left out, so reports can say so.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Omitted {
    pub stdout_bytes: usize,
    pub stderr_bytes: usize,
    pub calls: usize,
    /// Bytes of the kept calls' payloads and answers.
    pub call_bytes: usize,
}

impl Invocation {
    /// Cuts the guest-controlled output down to bounded excerpts, once its comparison is
    /// done: what a run keeps of a case does not grow with what the guest wrote.
    pub fn excerpt(&mut self) {
        self.omitted.stdout_bytes += crate::excerpt::cut(&mut self.stdout, EXCERPT_BYTES);
        self.omitted.stderr_bytes += crate::excerpt::cut(&mut self.stderr, EXCERPT_BYTES);
        if self.calls.len() > EXCERPT_CALLS {
            self.omitted.calls += self.calls.len() - EXCERPT_CALLS;
            self.calls.truncate(EXCERPT_CALLS);
            self.calls.shrink_to_fit();
        }
        for call in &mut self.calls {
            self.omitted.call_bytes += crate::excerpt::cut(&mut call.payload, EXCERPT_CALL_BYTES);
            self.omitted.call_bytes += match &mut call.answer {
                Answer::Success(bytes) => crate::excerpt::cut(bytes, EXCERPT_CALL_BYTES),
                Answer::Error(text) => crate::excerpt::cut_str(text, EXCERPT_CALL_BYTES),
            };
        }
    }
}

/// A failure inside an ABI, before it is classified against the store's state.
enum Failure {
    Engine(wasmtime::Error),
    Instantiate(wasmtime::Error),
    GuestError(String),
    Protocol(String),
}

/// One request of an invocation: the request line (without its newline) and the host's
/// side of the exchange.
#[derive(Clone, Debug)]
pub struct Request {
    pub payload: Vec<u8>,
    pub script: HostScript,
}

/// What an ABI made of one request, before classification.
struct Served {
    result: Result<Vec<u8>, Failure>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    started: Instant,
    ended: Instant,
}

impl Served {
    fn new(result: Result<Vec<u8>, Failure>, stdout: Vec<u8>, stderr: Vec<u8>, started: Instant) -> Served {
        Served { result, stdout, stderr, started, ended: Instant::now() }
    }
}

/// A start function returning, or exiting with code 0, is success.
fn finish_start(result: wasmtime::Result<()>) -> Result<(), Failure> {
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.downcast_ref::<I32Exit>().is_some_and(|exit| exit.0 == 0) => Ok(()),
        Err(e) => Err(Failure::Engine(e)),
    }
}

/// Problems loading a guest module: faults of the setup, not findings.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    #[error("failed to read guest module {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to compile guest module {}", path.display())]
    Compile {
        path: PathBuf,
        #[source]
        source: wasmtime::Error,
    },
    #[error("guest module {} speaks no known host ABI: it imports neither `wapc` functions (waPC) nor `host.call` (Kubewarden WASI-CLI); its imports are: {imports}", path.display())]
    UnknownAbi { path: PathBuf, imports: String },
    #[error("guest module {} imports both `wapc` functions and `host.call`; it must speak one ABI; its imports are: {imports}", path.display())]
    AmbiguousAbi { path: PathBuf, imports: String },
    #[error("guest module {} is not a WebAssembly module: {what}", path.display())]
    NotWasm { path: PathBuf, what: &'static str },
    #[error("failed to link guest module {} for the {abi} ABI", path.display())]
    Link {
        path: PathBuf,
        abi: Abi,
        #[source]
        source: wasmtime::Error,
    },
}

/// A compiled, linked guest module, ready for fresh instances.
pub struct GuestModule {
    pub path: PathBuf,
    pub abi: Abi,
    /// Hex SHA-256 of the module file.
    pub sha256: String,
    /// The waPC host that serves it; `None` for a WASI-CLI module.
    pub wapc_host: Option<WapcHostFlavour>,
    linked: Linked,
}

/// A module linked to the host that serves it.
enum Linked {
    /// kwconform's host, one module per ABI (`wapc.rs`, `wasi_cli.rs`).
    Kwconform(InstancePre<HostState>),
    /// wasmtime-provider's waPC stack (`wapc_provider.rs`).
    WasmtimeProvider(Box<wasmtime_provider::WasmtimeEngineProviderPre>),
}

impl GuestModule {
    pub fn load(engine: &HostEngine, path: &Path) -> Result<Self, ModuleError> {
        let bytes = std::fs::read(path).map_err(|source| ModuleError::Read { path: path.into(), source })?;
        if !bytes.starts_with(b"\0asm") {
            let what = match bytes.first() {
                None => "the file is empty",
                Some(b'(') => {
                    "it is text (the WebAssembly text format is not accepted: build a binary module)"
                }
                Some(_) => "it does not start with the WebAssembly magic number \\0asm",
            };
            return Err(ModuleError::NotWasm { path: path.into(), what });
        }
        let sha256 = hex(&Sha256::digest(&bytes));
        let module = engine
            .compile(&bytes, &sha256)
            .map_err(|source| ModuleError::Compile { path: path.into(), source })?;
        let abi = detect_abi(&module, path)?;
        if abi == Abi::Wapc && engine.wapc_host() == WapcHostFlavour::WasmtimeProvider {
            let pre = wapc_provider::link(engine, &module).map_err(|message| ModuleError::Link {
                path: path.into(),
                abi,
                source: wasmtime::Error::msg(message),
            })?;
            return Ok(GuestModule {
                path: path.into(),
                abi,
                sha256,
                wapc_host: Some(WapcHostFlavour::WasmtimeProvider),
                linked: Linked::WasmtimeProvider(Box::new(pre)),
            });
        }
        let mut linker = Linker::new(engine.engine());
        let linked = wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut HostState| &mut s.wasi)
            .and_then(|()| virtual_time::add_to_linker(&mut linker))
            .and_then(|()| match abi {
                Abi::Wapc => wapc::add_to_linker(&mut linker),
                Abi::WasiCli => wasi_cli::add_to_linker(&mut linker),
            })
            .and_then(|()| linker.instantiate_pre(&module));
        let pre = linked.map_err(|source| ModuleError::Link { path: path.into(), abi, source })?;
        let wapc_host = (abi == Abi::Wapc).then_some(WapcHostFlavour::Kwconform);
        Ok(GuestModule { path: path.into(), abi, sha256, wapc_host, linked: Linked::Kwconform(pre) })
    }

    /// Runs one request of `operation` in a fresh instance: every case sees fresh guest
    /// state.
    pub fn invoke(
        &self,
        engine: &HostEngine,
        operation: &str,
        payload: &[u8],
        script: HostScript,
    ) -> Invocation {
        let request = Request { payload: payload.to_vec(), script };
        let mut served = self.invoke_batch(engine, operation, std::slice::from_ref(&request));
        served.pop().expect("a batch of one serves its one request")
    }

    /// Runs `requests` of `operation` in one fresh instance, in order: one invocation per
    /// request served, each with its own answer, host calls, output, time, deadline and
    /// caps. The first request that fails (a trap, an exit, a cap, a protocol violation)
    /// ends the instance: its invocation carries the failure, and the requests after it
    /// are not run (the caller runs them in a fresh instance).
    pub fn invoke_batch(
        &self,
        engine: &HostEngine,
        operation: &str,
        requests: &[Request],
    ) -> Vec<Invocation> {
        if requests.is_empty() {
            return Vec::new();
        }
        let pre = match &self.linked {
            Linked::Kwconform(pre) => pre,
            Linked::WasmtimeProvider(pre) => return wapc_provider::serve(pre, engine, operation, requests),
        };
        let program = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (argv, stdin) = match self.abi {
            Abi::Wapc => (vec![program.as_str()], Vec::new()),
            Abi::WasiCli => {
                let mut lines = Vec::new();
                for request in requests {
                    lines.extend_from_slice(&request.payload);
                    lines.push(b'\n');
                }
                (vec![program.as_str(), operation], lines)
            }
        };
        let scripts = requests.iter().map(|r| r.script.clone()).collect();
        let mut store = state::new_store(engine, &argv, stdin, scripts, self.abi == Abi::WasiCli);
        let (served, coverage) = match pre.instantiate(&mut store) {
            Err(e) => (
                vec![Served::new(Err(Failure::Instantiate(e)), Vec::new(), Vec::new(), store.data().started)],
                None,
            ),
            Ok(instance) => {
                let served = match self.abi {
                    Abi::Wapc => wapc::serve(&mut store, instance, operation, requests),
                    Abi::WasiCli => wasi_cli::serve(&mut store, instance, requests.len()),
                };
                (served, coverage(&mut store, instance))
            }
        };
        served
            .into_iter()
            .enumerate()
            .map(|(index, served)| Invocation {
                result: served.result.map_err(|failure| classify(failure, store.data())),
                calls: store.data_mut().take_calls(index),
                stdout: served.stdout,
                stderr: served.stderr,
                elapsed: served.ended.duration_since(served.started),
                omitted: Omitted::default(),
                coverage: coverage.clone(),
            })
            .collect()
    }
}

/// The sites an instrumented instance marked; `None` for a guest without the export.
fn coverage(store: &mut Store<HostState>, instance: Instance) -> Option<std::sync::Arc<Vec<u32>>> {
    let memory = instance.get_memory(&mut *store, COVERAGE_EXPORT)?;
    let sites =
        memory.data(&*store).iter().enumerate().filter(|(_, b)| **b != 0).map(|(i, _)| i as u32).collect();
    Some(std::sync::Arc::new(sites))
}

fn classify(failure: Failure, state: &HostState) -> EngineFailure {
    match failure {
        Failure::GuestError(m) => EngineFailure::GuestError(m),
        Failure::Protocol(m) => EngineFailure::Protocol(m),
        // A start function that loops, or a memory or table larger than the caps, is the
        // runner's limit, whenever it is hit.
        Failure::Instantiate(e) => match classify(Failure::Engine(e), state) {
            EngineFailure::Trap(message) => EngineFailure::Instantiate(message),
            other => other,
        },
        Failure::Engine(e) if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) => {
            EngineFailure::Limit(Limit::Timeout)
        }
        Failure::Engine(e) if let Some(hit) = limit_hit(&e) => EngineFailure::Limit(hit),
        // An output cap, whatever error the WASI layer turned it into.
        Failure::Engine(_) if state.stdout.overflowed() => EngineFailure::Limit(Limit::Result),
        Failure::Engine(_) if state.stderr.overflowed() => EngineFailure::Limit(Limit::Stderr),
        Failure::Engine(e) => match e.downcast_ref::<I32Exit>() {
            Some(exit) => EngineFailure::Exit { code: exit.0 },
            None => EngineFailure::Trap(chain(&e)),
        },
    }
}

fn list(imports: &[(String, String)]) -> String {
    if imports.is_empty() {
        return "(none)".into();
    }
    imports.iter().map(|(m, n)| format!("{m}.{n}")).collect::<Vec<_>>().join(", ")
}

/// The cap behind an error, wherever in its chain.
fn limit_hit(e: &wasmtime::Error) -> Option<Limit> {
    e.downcast_ref::<limits::LimitHit>()
        .or_else(|| e.chain().find_map(|c| c.downcast_ref::<limits::LimitHit>()))
        .map(|hit| hit.0)
}

fn detect_abi(module: &Module, path: &Path) -> Result<Abi, ModuleError> {
    let imports: Vec<(String, String)> =
        module.imports().map(|i| (i.module().to_string(), i.name().to_string())).collect();
    let wapc = imports.iter().any(|(m, _)| m == "wapc");
    let wasi_cli = imports.iter().any(|(m, n)| m == "host" && n == "call");
    match (wapc, wasi_cli) {
        (true, false) => Ok(Abi::Wapc),
        (false, true) => Ok(Abi::WasiCli),
        (true, true) => Err(ModuleError::AmbiguousAbi { path: path.into(), imports: list(&imports) }),
        (false, false) => Err(ModuleError::UnknownAbi { path: path.into(), imports: list(&imports) }),
    }
}

fn chain(e: &wasmtime::Error) -> String {
    e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ")
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
