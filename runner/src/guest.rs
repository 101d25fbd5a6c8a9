//! A guest: a loaded module, what it says about itself, and its decoded results
//! (docs/guest-protocol.md, docs/decoded-view.md).

use std::fmt;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::case::{HostResponse, Input, Op, OutcomeClass};
use crate::host::{
    Abi, EngineFailure, GuestModule, HostEngine, HostScript, Invocation, ModuleError, Request,
    WapcHostFlavour,
};

/// The guest protocol version this runner speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// What a guest's `describe` operation reports.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct GuestInfo {
    pub protocol: u32,
    /// The SDK's name: its crate or module path.
    pub sdk: String,
    /// The SDK's semver version: the release, or the one a checkout declares.
    pub sdk_version: String,
    /// Where the SDK came from; `None` when the guest does not say.
    #[serde(default)]
    pub sdk_source: Option<SdkSource>,
    pub ops: Vec<String>,
}

/// Where a guest's SDK came from: shown to people, never parsed to match anything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SdkSource {
    /// A published release, as the toolchain fetched it from its registry.
    Release,
    /// A local checkout of the SDK's sources.
    Checkout {
        /// Where the checkout was, when the guest was built.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        /// SHA-256 over the checkout's files (names and contents, `target/` and `.git/`
        /// left out), as the builder computed it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content_hash: Option<String>,
        /// `git describe --tags --always --dirty` of the checkout, when it has history.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        git_describe: Option<String>,
    },
}

impl fmt::Display for SdkSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let SdkSource::Checkout { path, content_hash, git_describe } = self else {
            return f.write_str("release");
        };
        f.write_str("checkout")?;
        if let Some(path) = path {
            write!(f, " {path}")?;
        }
        if let Some(describe) = git_describe {
            write!(f, ", git {describe}")?;
        }
        if let Some(hash) = content_hash {
            write!(f, ", content sha256 {}…", &hash[..hash.len().min(12)])?;
        }
        Ok(())
    }
}

/// A guest to load: a name and a module file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestSpec {
    pub name: String,
    pub path: PathBuf,
}

/// Who a loaded guest is: what reporters and the expectations list need to know.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestSummary {
    pub name: String,
    pub sdk: String,
    /// Semver; what expectations entries match.
    pub sdk_version: String,
    /// Provenance, for display.
    pub sdk_source: Option<SdkSource>,
    pub abi: Abi,
    /// The waPC host that served a waPC guest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wapc_host: Option<WapcHostFlavour>,
    pub module_sha256: String,
    pub path: String,
    /// The operations the guest offers (its `describe`): the ones its SDK release has.
    #[serde(default)]
    pub ops: Vec<String>,
}

/// A guest module under a name (`rust`, `go`, …), ready to run cases.
pub struct Guest {
    pub name: String,
    pub module: GuestModule,
    pub info: GuestInfo,
}

#[derive(Debug, thiserror::Error)]
pub enum GuestLoadError {
    #[error(transparent)]
    Module(#[from] ModuleError),
    #[error("guest {name} ({}) failed its describe operation: {reason}", path.display())]
    Describe { name: String, path: std::path::PathBuf, reason: String },
}

/// What one guest made of one case.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The SDK decoded the response; `kind` is `image`/`index` for `oci_manifest`.
    Ok { kind: Option<String>, view: Value },
    /// The SDK returned an error (its message is for display only).
    Error { message: String },
    /// The guest produced no answer: trap, exit, timeout, protocol violation…
    EngineError(EngineFailure),
}

impl Outcome {
    pub fn class(&self) -> OutcomeClass {
        match self {
            Outcome::Ok { .. } => OutcomeClass::Ok,
            Outcome::Error { .. } => OutcomeClass::Error,
            Outcome::EngineError(_) => OutcomeClass::EngineError,
        }
    }

    pub fn kind(&self) -> Option<&str> {
        match self {
            Outcome::Ok { kind, .. } => kind.as_deref(),
            _ => None,
        }
    }
}

/// One guest's run of one case.
#[derive(Clone, Debug)]
pub struct GuestRun {
    pub outcome: Outcome,
    pub invocation: Invocation,
}

impl GuestRun {
    /// Bounded excerpts of everything the guest controls, once compared (an SDK error
    /// message is shown, never compared).
    pub fn excerpt(&mut self) {
        self.invocation.excerpt();
        if let Outcome::Error { message } = &mut self.outcome {
            let dropped = crate::excerpt::cut_str(message, crate::host::EXCERPT_BYTES);
            *message = crate::excerpt::marked(std::mem::take(message), dropped);
        }
    }
}

impl Guest {
    /// Loads the module and asks it to describe itself.
    pub fn load(engine: &HostEngine, name: &str, path: &Path) -> Result<Guest, GuestLoadError> {
        let module = GuestModule::load(engine, path)?;
        let describe_error = |reason: String| GuestLoadError::Describe {
            name: name.to_string(),
            path: path.to_path_buf(),
            reason,
        };
        // `describe` makes no host call; a script is needed all the same.
        let script = HostScript {
            op: Op::OciManifest,
            response: HostResponse::Error("no host calls expected".into()),
        };
        let invocation = module.invoke(engine, "describe", b"{}", script);
        let bytes = invocation.result.map_err(|e| describe_error(e.to_string()))?;
        let info: GuestInfo =
            serde_json::from_slice(trim_line(&bytes)).map_err(|e| describe_error(e.to_string()))?;
        if info.protocol != PROTOCOL_VERSION {
            return Err(describe_error(format!(
                "it speaks guest protocol {}, this runner speaks {PROTOCOL_VERSION}",
                info.protocol
            )));
        }
        if semver_of(&info.sdk_version).is_none() {
            return Err(describe_error(format!(
                "its sdk_version {:?} is not a semver version (provenance belongs in sdk_source)",
                info.sdk_version
            )));
        }
        Ok(Guest { name: name.to_string(), module, info })
    }

    pub fn summary(&self) -> GuestSummary {
        GuestSummary {
            name: self.name.clone(),
            sdk: self.info.sdk.clone(),
            sdk_version: self.info.sdk_version.clone(),
            sdk_source: self.info.sdk_source.clone(),
            abi: self.module.abi,
            wapc_host: self.module.wapc_host,
            module_sha256: self.module.sha256.clone(),
            path: self.module.path.display().to_string(),
            ops: self.info.ops.clone(),
        }
    }

    /// Runs one request: `op` with the case's `input`, the host answering with `response`.
    pub fn run(&self, engine: &HostEngine, op: Op, input: &Input, response: &HostResponse) -> GuestRun {
        let mut runs = self.run_batch(engine, op, &[(input, response)], &|| false);
        runs.pop().expect("one run per request")
    }

    /// Runs `op` for each request (input, host response), in one fresh instance as long
    /// as the requests succeed: a request that fails ends its instance, and the ones
    /// after it continue in a fresh one, unless `stopped` says to stop. One run per
    /// request served, in order.
    pub fn run_batch(
        &self,
        engine: &HostEngine,
        op: Op,
        requests: &[(&Input, &HostResponse)],
        stopped: &dyn Fn() -> bool,
    ) -> Vec<GuestRun> {
        if !self.info.ops.iter().any(|o| o == op.name()) {
            let failure = EngineFailure::NotOffered(op.name().to_string());
            let not_offered = || GuestRun {
                outcome: Outcome::EngineError(failure.clone()),
                invocation: Invocation {
                    result: Err(failure.clone()),
                    calls: Vec::new(),
                    stdout: Vec::new(),
                    stderr: Vec::new(),
                    elapsed: Default::default(),
                    omitted: Default::default(),
                    coverage: None,
                },
            };
            return requests.iter().map(|_| not_offered()).collect();
        }
        let requests: Vec<Request> = requests
            .iter()
            .map(|(input, response)| Request {
                payload: serde_json::to_vec(input).expect("JSON serialises"),
                script: HostScript { op, response: (*response).clone() },
            })
            .collect();
        let mut runs = Vec::with_capacity(requests.len());
        while runs.len() < requests.len() && (runs.is_empty() || !stopped()) {
            let served = self.module.invoke_batch(engine, op.name(), &requests[runs.len()..]);
            runs.extend(served.into_iter().map(|invocation| {
                let outcome = match &invocation.result {
                    Err(failure) => Outcome::EngineError(failure.clone()),
                    Ok(bytes) => parse_result(bytes)
                        .unwrap_or_else(|m| Outcome::EngineError(EngineFailure::Protocol(m))),
                };
                GuestRun { outcome, invocation }
            }));
        }
        runs
    }
}

/// One result line, as the guest protocol defines it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultLine {
    outcome: String,
    #[serde(default)]
    kind: Option<String>,
    /// Present (even `null`: the Kubernetes operations' views are documents as sent) or not.
    #[serde(default, deserialize_with = "present")]
    view: Option<Value>,
    #[serde(default)]
    error: Option<String>,
}

/// A member that is there, `null` included, as `Some` (with `#[serde(default)]`, an
/// absent member is `None`).
pub(crate) fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// Parses a guest's answer to a single request; anything else is a protocol violation.
pub fn parse_result(bytes: &[u8]) -> Result<Outcome, String> {
    let line = trim_line(bytes);
    if line.contains(&b'\n') {
        return Err("expected one result line, got several".into());
    }
    let result: ResultLine = serde_json::from_slice(line)
        .map_err(|e| format!("result line is not valid: {e}: {}", crate::excerpt::line(line, 256)))?;
    match (result.outcome.as_str(), result.view, result.error) {
        ("ok", Some(view), None) => Ok(Outcome::Ok { kind: result.kind, view }),
        ("error", None, Some(message)) if result.kind.is_none() => Ok(Outcome::Error { message }),
        (outcome, ..) => Err(format!(
            "result line must be {{\"outcome\":\"ok\",\"kind\",\"view\"}} or {{\"outcome\":\"error\",\"error\"}}, got outcome {outcome:?}"
        )),
    }
}

/// An SDK version as semver; Go's leading `v` is allowed.
pub fn semver_of(version: &str) -> Option<semver::Version> {
    semver::Version::parse(version.strip_prefix('v').unwrap_or(version)).ok()
}

fn trim_line(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\n").unwrap_or(bytes)
}
