//! The report model: one serialisable result model that every reporter reads
//! (docs/report-format.md; JSON Schema in docs/report.schema.json).

use std::collections::BTreeMap;

use base64::Engine as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::case::{HostResponse, Level, Op, Origin, OutcomeClass};
use crate::compare::{ExpectationStatus, Verdict};
use crate::equality::Rule;
use crate::expectations::{self, Judgement, Signature};
use crate::guest::{GuestRun, GuestSummary, Outcome};
use crate::host::{Answer, HostCall, HostRequest};
use crate::run::{CaseResult, RunResults};

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no reports to merge")]
    Nothing,
    #[error(
        "the reports were made with different guests (names, SDKs or module hashes differ): refusing to merge"
    )]
    DifferentGuests,
    #[error("case {0} is in more than one report")]
    DuplicateCase(String),
}

/// Bumped on any incompatible change of the report's stable core.
pub const REPORT_SCHEMA_VERSION: u32 = 5;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub schema_version: u32,
    pub kwconform_version: String,
    /// The run was interrupted (Ctrl-C, SIGTERM): the results are the cases it finished.
    #[serde(default)]
    pub partial: bool,
    pub guests: Vec<GuestSummary>,
    /// The equivalences the comparison may apply (docs/decoded-view.md).
    pub equality_rules: Vec<RuleEntry>,
    /// The root causes of this run's expected divergences, from the expectations list,
    /// most severe and most frequent first; `summary.by_cause` counts their cases.
    pub causes: Vec<CauseEntry>,
    pub results: Vec<ResultEntry>,
    pub summary: Summary,
}

/// A root cause as the expectations list explains it, with its severity in this run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CauseEntry {
    pub cause: expectations::Cause,
    pub severity: Severity,
}

/// How serious a cause is, from the spec verdicts of its cases (docs/spec-verdict.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// At least one case is a spec-valid document: at least one SDK has a bug.
    High,
    /// No case is spec-valid, and at least one could not be judged.
    Undetermined,
    /// Every case is a document the specifications reject: a difference in tolerance.
    Low,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Undetermined => "undetermined",
            Severity::Low => "low",
        }
    }
}

/// A cause's expected divergences in a run, by the spec verdict's standing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CauseTally {
    pub cases: usize,
    pub valid: usize,
    pub invalid: usize,
    /// Undecided, or a host error (nothing to judge).
    pub undecided: usize,
}

impl CauseTally {
    pub fn severity(&self) -> Severity {
        if self.valid > 0 {
            Severity::High
        } else if self.undecided > 0 {
            Severity::Undetermined
        } else {
            Severity::Low
        }
    }
}

/// The causes of a run's summary, with their severity, most severe and most frequent
/// first; a cause the list does not define is left out (loading the list rejects that).
pub fn cause_entries<'a>(
    defined: impl IntoIterator<Item = &'a expectations::Cause>,
    summary: &Summary,
) -> Vec<CauseEntry> {
    let mut entries: Vec<CauseEntry> = defined
        .into_iter()
        .filter_map(|cause| {
            let tally = summary.by_cause.get(&cause.id)?;
            Some(CauseEntry { cause: cause.clone(), severity: tally.severity() })
        })
        .collect();
    entries.sort_by_key(|e| {
        (e.severity, std::cmp::Reverse(summary.by_cause[&e.cause.id].cases), e.cause.id.clone())
    });
    entries.dedup_by(|a, b| a.cause.id == b.cause.id);
    entries
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleEntry {
    pub name: String,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultEntry {
    pub case: String,
    pub op: Op,
    pub description: String,
    pub origin: Origin,
    pub tags: Vec<String>,
    /// The case file (or raw response file) the case came from.
    pub source: String,
    pub level: Level,
    pub verdict: Verdict,
    /// The result against the expectations list (docs/expectations.md).
    pub judgement: Judgement,
    /// True when the case fails the run (see docs/report-format.md).
    pub unexpected: bool,
    /// Run batched and again fresh (it did not agree), the two results differed; the
    /// fresh one is what this entry shows.
    #[serde(default)]
    pub batch_unstable: bool,
    /// Each guest's outcome and the shape of every difference: what an entry of the
    /// expectations list records.
    pub signature: Signature,
    /// Whether the guests did what the case's own `expect` block says.
    pub expectation: ExpectationEntry,
    /// What the host answered the case's operation with.
    pub response: ResponseEntry,
    /// The response against RFC 8259, I-JSON and the OCI image-spec's schemas
    /// (docs/spec-verdict.md); none for a host error.
    #[serde(default)]
    pub spec: Option<crate::spec::SpecVerdict>,
    pub guests: BTreeMap<String, GuestResultEntry>,
    /// Where the guests differ.
    pub diffs: Vec<ValuesAtPath>,
    pub equivalences: Vec<EquivalenceEntry>,
    pub notes: Vec<NoteEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectationEntry {
    /// `none`, `met` or `unmet`.
    pub status: String,
    pub problems: Vec<String>,
}

/// Bytes as UTF-8 text when they are UTF-8, base64 otherwise; or a host error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ResponseEntry {
    Text(String),
    Base64(String),
    HostError(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestResultEntry {
    pub outcome: OutcomeClass,
    /// `image` / `index` for `oci_manifest`, otherwise null.
    pub kind: Option<String>,
    /// The decoded view when the outcome is `ok` (which may be `null`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::guest::present")]
    pub view: Option<Value>,
    /// The SDK's error message, or the engine failure, for display.
    pub error: Option<String>,
    /// For `engine-error`: a runner limit (`timeout`, `memory-limit`, … see
    /// docs/guest-protocol.md), `not-offered`, `trap`, `exit`, `guest-error`, `protocol`
    /// or `instantiate`.
    pub engine_error: Option<String>,
    /// The host calls, the first ones of many (see `omitted`).
    pub calls: Vec<CallEntry>,
    /// The beginning of what the guest wrote (see `omitted`).
    pub stdout: String,
    /// The beginning of stderr and `__console_log` (see `omitted`).
    pub stderr: String,
    /// What the excerpts above leave out; `kwconform repro` shows everything.
    pub omitted: OmittedEntry,
    pub elapsed_us: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OmittedEntry {
    pub stdout_bytes: usize,
    pub stderr_bytes: usize,
    pub calls: usize,
    /// Bytes of the listed calls' payloads and answers.
    pub call_bytes: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallEntry {
    pub binding: String,
    pub namespace: String,
    pub operation: String,
    pub payload: ResponseEntry,
    /// The payload as the host decoded it, or the error it refused it with; absent where
    /// the host does not decode the operation's payloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_request: Option<HostRequestEntry>,
    /// What the guest received: the bytes, or (`host_error`) the error text exactly as
    /// the guest read it.
    pub answer: ResponseEntry,
    pub at_us: u64,
}

/// What the host made of a request payload (the request types of `kubewarden-policy-sdk`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HostRequestEntry {
    /// The request, serialised back from the host's types.
    Decoded(Value),
    /// serde_json's message, which is what the guest received.
    Undecodable(String),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValuesAtPath {
    /// JSON Pointer: `/outcome`, `/kind`, `/view/...`, `/calls/...`.
    pub path: String,
    /// Each guest's value; `null` for JSON `null` and for a member absent there (`absent`).
    pub values: BTreeMap<String, Value>,
    /// The guests where the member is absent (their `values` entry is `null`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<String>,
}

impl ValuesAtPath {
    /// A guest's value, `None` where the member is absent; the outer `None` for a guest
    /// the difference does not involve.
    pub fn value(&self, guest: &str) -> Option<Option<&Value>> {
        let value = self.values.get(guest)?;
        Some((!self.absent.iter().any(|a| a == guest)).then_some(value))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EquivalenceEntry {
    pub path: String,
    pub rule: Rule,
    /// As in [`ValuesAtPath`]: `null` for JSON `null` and for an absent member.
    pub values: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteEntry {
    pub path: String,
    pub message: String,
    pub values: BTreeMap<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub cases: usize,
    pub agree: usize,
    pub diverge: usize,
    pub crash: usize,
    pub inconclusive: usize,
    /// Cases that are not agreement but are documented by their case's `expect`.
    pub expected: usize,
    pub unexpected: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub total: Counts,
    pub by_op: BTreeMap<String, Counts>,
    /// How often each equivalence rule was applied.
    pub equivalences: BTreeMap<String, usize>,
    /// Unexpected results by what is wrong: `unlisted`, `changed`, `stale`,
    /// `inconclusive`, `unmet` (a case's `expect` block).
    pub unexpected_by_kind: BTreeMap<String, usize>,
    /// Expected divergences by cause id (every cause an entry points at). An entry
    /// without a cause counts under `""`.
    pub by_cause: BTreeMap<String, CauseTally>,
    /// Cases whose batched and fresh results differed (the fresh one is reported).
    pub batch_unstable: Vec<String>,
    /// Each guest's time over all cases, in microseconds.
    pub guest_elapsed_us: BTreeMap<String, u64>,
    pub elapsed_ms: u64,
}

impl Counts {
    fn add(&mut self, r: &ResultEntry) {
        self.cases += 1;
        match r.verdict {
            Verdict::Agree => self.agree += 1,
            Verdict::Diverge => self.diverge += 1,
            Verdict::Crash => self.crash += 1,
            Verdict::Inconclusive => self.inconclusive += 1,
        }
        if r.unexpected {
            self.unexpected += 1;
        } else if r.verdict != Verdict::Agree {
            self.expected += 1;
        }
    }
}

impl Summary {
    /// Totals derived from the results: one function, so no reporter counts on its own.
    pub fn of(results: &[ResultEntry], elapsed_ms: u64) -> Summary {
        let mut summary = Summary { elapsed_ms, ..Summary::default() };
        for r in results {
            summary.add(r);
        }
        summary
    }

    /// Counts one more result (a run's results, as they come).
    pub fn add(&mut self, r: &ResultEntry) {
        self.total.add(r);
        self.by_op.entry(r.op.name().to_string()).or_default().add(r);
        for e in &r.equivalences {
            *self.equivalences.entry(e.rule.name().to_string()).or_default() += 1;
        }
        if r.unexpected {
            let kind = match &r.judgement {
                Judgement::Agree | Judgement::Expected { .. } | Judgement::Informational => "unmet",
                other => other.name(),
            };
            *self.unexpected_by_kind.entry(kind.to_string()).or_default() += 1;
        }
        if let Judgement::Expected { causes, .. } = &r.judgement {
            let standing = r.spec.as_ref().map(|s| s.standing);
            let none = [String::new()];
            for cause in if causes.is_empty() { &none[..] } else { &causes[..] } {
                let tally = self.by_cause.entry(cause.clone()).or_default();
                tally.cases += 1;
                match standing {
                    Some(crate::spec::Standing::Valid) => tally.valid += 1,
                    Some(crate::spec::Standing::Invalid) => tally.invalid += 1,
                    _ => tally.undecided += 1,
                }
            }
        }
        if r.batch_unstable {
            self.batch_unstable.push(r.case.clone());
        }
        for (guest, g) in &r.guests {
            *self.guest_elapsed_us.entry(guest.clone()).or_default() += g.elapsed_us;
        }
    }
}

/// A report without its results: what reporters need besides the results themselves.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportHead {
    pub schema_version: u32,
    pub kwconform_version: String,
    pub partial: bool,
    pub guests: Vec<GuestSummary>,
    pub equality_rules: Vec<RuleEntry>,
    pub causes: Vec<CauseEntry>,
    pub summary: Summary,
}

impl ReportHead {
    /// `causes`: the expectations list's causes (those the summary counts are kept).
    pub fn new(
        guests: Vec<GuestSummary>,
        summary: Summary,
        partial: bool,
        causes: &[expectations::Cause],
    ) -> ReportHead {
        ReportHead {
            schema_version: REPORT_SCHEMA_VERSION,
            kwconform_version: env!("CARGO_PKG_VERSION").to_string(),
            partial,
            guests,
            equality_rules: equality_rules(),
            causes: cause_entries(causes, &summary),
            summary,
        }
    }

    /// The cause with this id, if the run has cases of it.
    pub fn cause(&self, id: &str) -> Option<&CauseEntry> {
        self.causes.iter().find(|c| c.cause.id == id)
    }

    /// Exit status of a run: anything unexpected fails it, and so does an interrupted
    /// run (not every case was compared).
    pub fn passed(&self) -> bool {
        self.summary.total.unexpected == 0 && !self.partial
    }
}

/// Results as reporters read them: a report in memory, or a run's results streamed
/// back from where they were spilled as they came.
pub trait ResultSource {
    fn entries(&self) -> Box<dyn Iterator<Item = std::io::Result<ResultEntry>> + '_>;
}

impl ResultSource for Vec<ResultEntry> {
    fn entries(&self) -> Box<dyn Iterator<Item = std::io::Result<ResultEntry>> + '_> {
        Box::new(self.iter().cloned().map(Ok))
    }
}

impl Report {
    /// The report without its results.
    pub fn head(&self) -> ReportHead {
        ReportHead {
            schema_version: self.schema_version,
            kwconform_version: self.kwconform_version.clone(),
            partial: self.partial,
            guests: self.guests.clone(),
            equality_rules: self.equality_rules.clone(),
            causes: self.causes.clone(),
            summary: self.summary.clone(),
        }
    }

    pub fn from_results(run: &RunResults) -> Report {
        // Results in case id order: the same for a whole run and for merged shards.
        let mut results: Vec<ResultEntry> = run.results.iter().map(result_entry).collect();
        results.sort_by(|a, b| a.case.cmp(&b.case));
        let summary = Summary::of(&results, run.elapsed.as_millis() as u64);
        Report {
            schema_version: REPORT_SCHEMA_VERSION,
            kwconform_version: env!("CARGO_PKG_VERSION").to_string(),
            partial: run.interrupted,
            guests: run.guests.clone(),
            equality_rules: equality_rules(),
            causes: cause_entries(&run.causes, &summary),
            summary,
            results,
        }
    }

    /// The entry of one result, for reporters that show results as they come.
    pub fn result_entry(result: &CaseResult) -> ResultEntry {
        result_entry(result)
    }

    /// One report from the reports of shards of a run. The shards must have run the
    /// same guests (same names, SDKs and module hashes) and different cases.
    pub fn merge(shards: Vec<Report>) -> Result<Report, MergeError> {
        let mut shards = shards.into_iter();
        let mut merged = shards.next().ok_or(MergeError::Nothing)?;
        let mut rest_causes = Vec::new();
        for shard in shards {
            rest_causes.extend(shard.causes);
            if shard.guests != merged.guests {
                return Err(MergeError::DifferentGuests);
            }
            merged.summary.elapsed_ms = merged.summary.elapsed_ms.max(shard.summary.elapsed_ms);
            merged.partial |= shard.partial;
            merged.results.extend(shard.results);
        }
        merged.results.sort_by(|a, b| a.case.cmp(&b.case));
        if let Some(w) = merged.results.windows(2).find(|w| w[0].case == w[1].case) {
            return Err(MergeError::DuplicateCase(w[0].case.clone()));
        }
        merged.summary = Summary::of(&merged.results, merged.summary.elapsed_ms);
        let causes: Vec<expectations::Cause> =
            merged.causes.iter().chain(&rest_causes).map(|c| c.cause.clone()).collect();
        merged.causes = cause_entries(&causes, &merged.summary);
        Ok(merged)
    }

    /// The JSON Schema of `report.json` (published as docs/report.schema.json).
    pub fn schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Report)).expect("a schema serialises")
    }

    /// Checks a `report.json` document against [`Report::schema`]; every violation is
    /// named by its JSON Pointer.
    pub fn validate(document: &Value) -> Result<(), Vec<String>> {
        let validator =
            jsonschema::validator_for(&Report::schema()).expect("the report schema is a valid schema");
        let errors: Vec<String> =
            validator.iter_errors(document).map(|e| format!("{}: {e}", e.instance_path())).collect();
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// Exit status of a run: anything unexpected fails it, and so does an interrupted
    /// run (not every case was compared).
    pub fn passed(&self) -> bool {
        self.summary.total.unexpected == 0 && !self.partial
    }
}

fn equality_rules() -> Vec<RuleEntry> {
    Rule::ALL
        .iter()
        .map(|r| RuleEntry { name: r.name().into(), description: r.description().into() })
        .collect()
}

fn result_entry(r: &CaseResult) -> ResultEntry {
    let c = &r.comparison;
    let absent_as_null = |values: &BTreeMap<String, Option<Value>>| -> BTreeMap<String, Value> {
        values.iter().map(|(k, v)| (k.clone(), v.clone().unwrap_or(Value::Null))).collect()
    };
    let absent = |values: &BTreeMap<String, Option<Value>>| -> Vec<String> {
        values.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| k.clone()).collect()
    };
    let (status, problems) = match &c.expectation {
        ExpectationStatus::None => ("none", vec![]),
        ExpectationStatus::Met => ("met", vec![]),
        ExpectationStatus::Unmet(p) => ("unmet", p.clone()),
    };
    ResultEntry {
        case: r.case.id.clone(),
        op: r.case.op,
        description: r.case.description.clone(),
        origin: r.case.origin,
        tags: r.case.tags.clone(),
        source: r.case.source.display().to_string(),
        level: r.case.level,
        verdict: c.verdict,
        judgement: r.judgement.clone(),
        unexpected: r.unexpected,
        batch_unstable: r.batch_unstable,
        signature: expectations::signature(c, &r.runs),
        expectation: ExpectationEntry { status: status.into(), problems },
        response: response_entry(&r.case.response),
        spec: crate::spec::judge(r.case.op, &r.case.response),
        guests: r.runs.iter().map(|(name, run)| (name.clone(), guest_result(run))).collect(),
        diffs: c
            .diffs
            .iter()
            .map(|d| ValuesAtPath {
                path: d.path.clone(),
                values: absent_as_null(&d.values),
                absent: absent(&d.values),
            })
            .collect(),
        equivalences: c
            .equivalences
            .iter()
            .map(|e| EquivalenceEntry {
                path: e.path.clone(),
                rule: e.rule,
                values: absent_as_null(&e.values),
                absent: absent(&e.values),
            })
            .collect(),
        notes: c
            .notes
            .iter()
            .map(|n| NoteEntry {
                path: n.path.clone(),
                message: n.message.clone(),
                values: absent_as_null(&n.values),
            })
            .collect(),
    }
}

fn guest_result(run: &GuestRun) -> GuestResultEntry {
    let inv = &run.invocation;
    let (kind, view, error, engine_error) = match &run.outcome {
        Outcome::Ok { kind, view } => (kind.clone(), Some(view.clone()), None, None),
        Outcome::Error { message } => (None, None, Some(message.clone()), None),
        Outcome::EngineError(f) => {
            let mut message = f.to_string();
            let dropped = crate::excerpt::cut_str(&mut message, crate::host::EXCERPT_BYTES);
            (None, None, Some(crate::excerpt::marked(message, dropped)), Some(f.kind().to_string()))
        }
    };
    let omitted = inv.omitted;
    GuestResultEntry {
        outcome: run.outcome.class(),
        kind,
        view,
        error,
        engine_error,
        calls: inv.calls.iter().map(call_entry).collect(),
        stdout: String::from_utf8_lossy(&inv.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&inv.stderr).into_owned(),
        omitted: OmittedEntry {
            stdout_bytes: omitted.stdout_bytes,
            stderr_bytes: omitted.stderr_bytes,
            calls: omitted.calls,
            call_bytes: omitted.call_bytes,
        },
        elapsed_us: inv.elapsed.as_micros() as u64,
    }
}

fn call_entry(c: &HostCall) -> CallEntry {
    CallEntry {
        binding: c.binding.clone(),
        namespace: c.namespace.clone(),
        operation: c.operation.clone(),
        payload: bytes_entry(&c.payload),
        host_request: match &c.request {
            HostRequest::NotDecoded => None,
            HostRequest::Decoded(value) => Some(HostRequestEntry::Decoded(value.clone())),
            HostRequest::Undecodable(message) => Some(HostRequestEntry::Undecodable(message.clone())),
        },
        answer: match &c.answer {
            Answer::Success(bytes) => bytes_entry(bytes),
            Answer::Error(text) => ResponseEntry::HostError(text.clone()),
        },
        at_us: c.at.as_micros() as u64,
    }
}

fn response_entry(r: &HostResponse) -> ResponseEntry {
    match r {
        HostResponse::Success(bytes) => bytes_entry(bytes),
        HostResponse::Error(message) => ResponseEntry::HostError(message.clone()),
    }
}

fn bytes_entry(bytes: &[u8]) -> ResponseEntry {
    match std::str::from_utf8(bytes) {
        Ok(text) => ResponseEntry::Text(text.to_string()),
        Err(_) => ResponseEntry::Base64(base64::engine::general_purpose::STANDARD.encode(bytes)),
    }
}
