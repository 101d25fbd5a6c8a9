//! Comparing what the guests made of one case: outcomes, decoded views (through
//! [`crate::equality`]), the requests they sent, and the case's own expectations.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::case::{Case, Expect, Op};
use crate::equality::{self, Rule, Side};
use crate::guest::{GuestRun, GuestSummary, Outcome};
use crate::host::{HostCall, HostRequest};

/// What happened on a case, before expectations are considered.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every guest decoded the same thing (possibly through documented equivalences),
    /// or every guest reported an SDK error.
    Agree,
    /// The guests decoded different things, or sent different requests.
    Diverge,
    /// A guest crashed: trapped, exited non-zero, broke the guest protocol.
    Crash,
    /// A runner limit (timeout, memory) stopped a guest: nothing is proven.
    Inconclusive,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Agree => "agree",
            Verdict::Diverge => "diverge",
            Verdict::Crash => "crash",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// A path where the guests differ, with every guest's value there (`None`: absent).
#[derive(Clone, Debug, PartialEq)]
pub struct Diff {
    pub path: String,
    pub values: BTreeMap<String, Option<Value>>,
}

/// A documented equivalence that was applied, between the reference guest and another.
#[derive(Clone, Debug, PartialEq)]
pub struct AppliedEquivalence {
    pub path: String,
    pub rule: Rule,
    pub values: BTreeMap<String, Option<Value>>,
}

/// Informational findings that never fail a case (e.g. request bytes that differ but
/// decode to the same JSON string).
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    pub path: String,
    pub message: String,
    pub values: BTreeMap<String, Option<Value>>,
}

/// Whether the case's `expect` block held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpectationStatus {
    None,
    Met,
    Unmet(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub verdict: Verdict,
    pub diffs: Vec<Diff>,
    pub equivalences: Vec<AppliedEquivalence>,
    pub notes: Vec<Note>,
    /// Whether each guest did what the case's `expect` block says.
    pub expectation: ExpectationStatus,
}

/// Compares every guest with the first one (the reference). `guests` says which SDK
/// each run's guest (by name) was built from: it decides where an equivalence applies.
pub fn compare(case: &Case, runs: &[(String, GuestRun)], guests: &[GuestSummary]) -> Comparison {
    let mut diffs: BTreeMap<String, Diff> = BTreeMap::new();
    let mut equivalences = Vec::new();
    let mut notes = Vec::new();
    let sdk = |name: &str| guests.iter().find(|g| g.name == name).map_or("", |g| g.sdk.as_str());
    if let Some(((ref_name, reference), others)) = runs.split_first() {
        for (name, run) in others {
            let pair = Pair {
                op: case.op,
                names: [ref_name, name],
                sdks: [sdk(ref_name), sdk(name)],
                diffs: &mut diffs,
                equivalences: &mut equivalences,
                notes: &mut notes,
            };
            pair.compare(reference, run);
        }
    }
    let verdict = verdict(runs, !diffs.is_empty());
    let expectation = match &case.expect {
        None => ExpectationStatus::None,
        Some(expect) => check_expectation(expect, runs),
    };
    Comparison { verdict, diffs: diffs.into_values().collect(), equivalences, notes, expectation }
}

fn verdict(runs: &[(String, GuestRun)], differs: bool) -> Verdict {
    let failures = runs.iter().filter_map(|(_, run)| match &run.outcome {
        Outcome::EngineError(failure) => Some(failure),
        _ => None,
    });
    let mut verdict = if differs { Verdict::Diverge } else { Verdict::Agree };
    for failure in failures {
        verdict = verdict.max(if failure.is_runner_limit() { Verdict::Inconclusive } else { Verdict::Crash });
    }
    verdict
}

fn check_expectation(expect: &Expect, runs: &[(String, GuestRun)]) -> ExpectationStatus {
    let mut problems = Vec::new();
    for (name, wanted) in &expect.guests {
        let Some((_, run)) = runs.iter().find(|(n, _)| n == name) else {
            continue; // an expectation for a guest that is not part of this run
        };
        let (class, kind) = (run.outcome.class(), run.outcome.kind());
        if class != wanted.outcome || (wanted.kind.is_some() && wanted.kind.as_deref() != kind) {
            problems.push(format!(
                "{name}: expected {}, got {}",
                describe(wanted.outcome, wanted.kind.as_deref()),
                describe(class, kind)
            ));
        }
    }
    if problems.is_empty() { ExpectationStatus::Met } else { ExpectationStatus::Unmet(problems) }
}

fn describe(class: crate::case::OutcomeClass, kind: Option<&str>) -> String {
    match kind {
        Some(kind) => format!("{class}/{kind}"),
        None => class.to_string(),
    }
}

/// A request as the host saw it: what it decoded, or `{"undecodable": message}`.
fn host_view(request: &HostRequest) -> Value {
    match request {
        HostRequest::Decoded(value) => value.clone(),
        HostRequest::Undecodable(message) => json!({ "undecodable": message }),
        HostRequest::NotDecoded => json!({ "not_decoded": true }),
    }
}

/// The reference guest against one other guest.
struct Pair<'a> {
    op: Op,
    names: [&'a String; 2],
    sdks: [&'a str; 2],
    diffs: &'a mut BTreeMap<String, Diff>,
    equivalences: &'a mut Vec<AppliedEquivalence>,
    notes: &'a mut Vec<Note>,
}

impl Pair<'_> {
    fn compare(mut self, reference: &GuestRun, other: &GuestRun) {
        self.compare_outcomes(&reference.outcome, &other.outcome);
        self.compare_calls(&reference.invocation.calls, &other.invocation.calls);
    }

    fn compare_outcomes(&mut self, left: &Outcome, right: &Outcome) {
        if left.class() != right.class() {
            let class = |o: &Outcome| Some(json!(o.class().to_string()));
            return self.differ("/outcome", class(left), class(right));
        }
        let (Outcome::Ok { kind: lk, view: lv }, Outcome::Ok { kind: rk, view: rv }) = (left, right) else {
            return; // both SDK errors (messages are not compared), or both engine errors
        };
        if lk != rk {
            return self.differ("/kind", lk.as_ref().map(|k| json!(k)), rk.as_ref().map(|k| json!(k)));
        }
        let side = |view, sdk| Side { view, types: equality::view_type(sdk, self.op, lk.as_deref()) };
        let views = equality::compare_views("/view", side(lv, self.sdks[0]), side(rv, self.sdks[1]));
        for d in views.differences {
            self.differ(&d.path, d.left, d.right);
        }
        for e in views.equivalences {
            let values = self.values(e.left, e.right);
            self.equivalences.push(AppliedEquivalence { path: e.path, rule: e.rule, values });
        }
    }

    /// Same number of host calls, same binding/namespace/operation, and the same request:
    /// as the host decoded it, where it decodes the operation's payloads (a payload it
    /// cannot decode differs from any it can), else the payload's JSON value. Byte-level
    /// payload differences that make no such difference are notes.
    fn compare_calls(&mut self, left: &[HostCall], right: &[HostCall]) {
        if left.len() != right.len() {
            return self.differ("/calls/length", Some(json!(left.len())), Some(json!(right.len())));
        }
        for (i, (l, r)) in left.iter().zip(right).enumerate() {
            for (field, lv, rv) in [
                ("binding", &l.binding, &r.binding),
                ("namespace", &l.namespace, &r.namespace),
                ("operation", &l.operation, &r.operation),
            ] {
                if lv != rv {
                    self.differ(&format!("/calls/{i}/{field}"), Some(json!(lv)), Some(json!(rv)));
                }
            }
            if l.payload == r.payload {
                continue;
            }
            let text = |p: &[u8]| Some(json!(String::from_utf8_lossy(p)));
            let same = match (&l.request, &r.request) {
                (HostRequest::NotDecoded, HostRequest::NotDecoded) => {
                    let decoded = |p: &[u8]| serde_json::from_slice::<Value>(p).ok();
                    match (decoded(&l.payload), decoded(&r.payload)) {
                        (Some(lj), Some(rj)) if lj == rj => "decode to the same JSON value",
                        _ => {
                            return self.differ(
                                &format!("/calls/{i}/payload"),
                                text(&l.payload),
                                text(&r.payload),
                            );
                        }
                    }
                }
                // Both refused: each guest got a host error; the messages are not compared.
                (HostRequest::Undecodable(_), HostRequest::Undecodable(_)) => "are both refused by the host",
                (HostRequest::Decoded(lv), HostRequest::Decoded(rv)) => {
                    let side = |view| Side { view, types: None };
                    let requests =
                        equality::compare_views(&format!("/calls/{i}/request"), side(lv), side(rv));
                    if !requests.differences.is_empty() {
                        for d in requests.differences {
                            self.differ(&d.path, d.left, d.right);
                        }
                        continue;
                    }
                    "decode to the same host request"
                }
                // One request decoded, the other refused (or not decoded at all).
                (lr, rr) => {
                    self.differ(&format!("/calls/{i}/request"), Some(host_view(lr)), Some(host_view(rr)));
                    continue;
                }
            };
            let values = self.values(text(&l.payload), text(&r.payload));
            self.notes.push(Note {
                path: format!("/calls/{i}/payload"),
                message: format!("request payloads differ in bytes but {same}"),
                values,
            });
        }
    }

    fn values(&self, left: Option<Value>, right: Option<Value>) -> BTreeMap<String, Option<Value>> {
        BTreeMap::from([(self.names[0].clone(), left), (self.names[1].clone(), right)])
    }

    fn differ(&mut self, path: &str, left: Option<Value>, right: Option<Value>) {
        let diff = self
            .diffs
            .entry(path.to_string())
            .or_insert_with(|| Diff { path: path.to_string(), values: BTreeMap::new() });
        diff.values.insert(self.names[0].clone(), left);
        diff.values.insert(self.names[1].clone(), right);
    }
}
