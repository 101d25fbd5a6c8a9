//! Every resource a guest controls, with its cap, counted per request (a batch's
//! requests each get the whole budget; memory and tables are per instance)
//! (docs/guest-protocol.md, "Caps"). Hitting a cap stops the guest and makes the result
//! inconclusive: the runner's limit, not a finding about the SDK.

use std::fmt;
use std::time::Duration;

/// The caps of a guest: per request, except memory and tables (per instance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock budget: epoch interruption for running wasm, a check in every host
    /// function, and WASI that never blocks (sleeps return at once on a virtual clock,
    /// stdin reads that would block are end of file).
    pub timeout: Duration,
    /// All linear memories of an instance together, in bytes.
    pub memory_bytes: usize,
    /// All tables of an instance together, in elements.
    pub table_elements: usize,
    /// The guest's answer: a waPC `__guest_response` or `__guest_error`, or a WASI-CLI
    /// guest's stdout; an invocation adds twice its largest host response
    /// ([`Limits::serving`]).
    pub result_bytes: usize,
    /// stderr.
    pub stderr_bytes: usize,
    /// waPC `__console_log`, all messages together.
    pub console_bytes: usize,
    /// Host calls per request.
    pub host_calls: usize,
    /// The bytes of all host calls together (binding, namespace, operation, payload).
    pub host_call_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(10),
            memory_bytes: 256 << 20,
            table_elements: 1 << 20,
            result_bytes: 64 << 10,
            stderr_bytes: 16 << 10,
            console_bytes: 16 << 10,
            host_calls: 100,
            host_call_bytes: 64 << 10,
        }
    }
}

impl Limits {
    /// The limits of an invocation whose largest host response has `response_bytes`. A
    /// view projects what the SDK decoded, so a real answer (a cluster's PodList of
    /// 68 KB has a view as large) needs a result cap that grows with it; a flooding
    /// guest still stops at a size the case sets, not one it chooses.
    pub fn serving(mut self, response_bytes: usize) -> Limits {
        self.result_bytes = self.result_bytes.saturating_add(response_bytes.saturating_mul(2));
        self
    }
}

/// The cap a guest hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Limit {
    Timeout,
    Memory,
    Table,
    Result,
    Stderr,
    Console,
    HostCalls,
    HostCallBytes,
}

impl Limit {
    pub const ALL: [Limit; 8] = [
        Limit::Timeout,
        Limit::Memory,
        Limit::Table,
        Limit::Result,
        Limit::Stderr,
        Limit::Console,
        Limit::HostCalls,
        Limit::HostCallBytes,
    ];

    /// The stable name in reports and signatures.
    pub fn name(self) -> &'static str {
        match self {
            Limit::Timeout => "timeout",
            Limit::Memory => "memory-limit",
            Limit::Table => "table-limit",
            Limit::Result => "result-limit",
            Limit::Stderr => "stderr-limit",
            Limit::Console => "console-limit",
            Limit::HostCalls => "host-call-limit",
            Limit::HostCallBytes => "host-call-bytes-limit",
        }
    }

    /// The cap's value in `limits`, for messages and the docs.
    pub fn cap(self, limits: &Limits) -> String {
        let bytes = |n: usize| match n {
            n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
            n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
            n => format!("{n} bytes"),
        };
        match self {
            Limit::Timeout => format!("{} s", limits.timeout.as_secs_f64()),
            Limit::Memory => bytes(limits.memory_bytes),
            Limit::Table => format!("{} elements", limits.table_elements),
            Limit::Result => bytes(limits.result_bytes),
            Limit::Stderr => bytes(limits.stderr_bytes),
            Limit::Console => bytes(limits.console_bytes),
            Limit::HostCalls => format!("{} calls", limits.host_calls),
            Limit::HostCallBytes => bytes(limits.host_call_bytes),
        }
    }

    /// What the cap covers.
    pub fn what(self) -> &'static str {
        match self {
            Limit::Timeout => "wall-clock time of one request (the first includes instantiation)",
            Limit::Memory => "linear memory of an instance, all memories together",
            Limit::Table => "table elements of an instance, all tables together",
            Limit::Result => {
                "the guest's answer to one request (waPC __guest_response or __guest_error; WASI-CLI stdout); the cap grows by twice the invocation's largest host response"
            }
            Limit::Stderr => "stderr, per request",
            Limit::Console => "waPC __console_log, all messages of one request together",
            Limit::HostCalls => "host calls per request",
            Limit::HostCallBytes => {
                "bytes of all host calls of one request together (binding, namespace, operation, payload)"
            }
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error a host function or the limiter stops a guest with when a cap is hit; the
/// store remembers which cap it was.
#[derive(Debug)]
pub struct LimitHit(pub Limit);

impl fmt::Display for LimitHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the guest hit the runner's {} cap", self.0)
    }
}

impl std::error::Error for LimitHit {}

/// The Markdown table of the caps and their defaults (docs/guest-protocol.md).
pub fn markdown_table() -> String {
    let defaults = Limits::default();
    let mut out = String::from("| cap | covers | default |\n|-----|--------|---------|\n");
    for limit in Limit::ALL {
        out.push_str(&format!("| `{}` | {} | {} |\n", limit.name(), limit.what(), limit.cap(&defaults)));
    }
    out
}
