//! `kwconform bug-report`: one case's divergence as a Markdown issue text for an SDK's
//! tracker (docs/bug-report.md). The caller runs the case and picks it; this only
//! writes what the report model holds, so the text shows what was measured.

use std::fmt::Write as _;

use serde_json::Value;

use super::model::{CauseEntry, ReportHead, ResponseEntry, ResultEntry};
use crate::guest::GuestSummary;

/// Everything a bug report shows besides the result itself.
pub struct BugReport<'a> {
    pub head: &'a ReportHead,
    pub result: &'a ResultEntry,
    /// The cause being reported, when the case's divergence has one.
    pub cause: Option<&'a CauseEntry>,
    /// Other cases of the same cause in the corpus.
    pub other_cases: usize,
    /// The command that replays the case from a checkout of kwconform.
    pub reproduce: String,
    /// The case file, as written.
    pub case_file: String,
    /// The kwctl session of the case, when its response is text.
    pub kwctl_session: Option<String>,
}

impl BugReport<'_> {
    pub fn markdown(&self) -> String {
        let (r, head) = (self.result, self.head);
        let mut md = String::new();
        let title = match self.cause {
            Some(c) => c.cause.title.clone(),
            None => format!("{} disagree on `{}`: {}", sdks_named(head), r.op.name(), differences(r)),
        };
        let _ = writeln!(md, "# {title}\n");
        let concerned = self.cause.map(|c| c.cause.sdks.clone()).unwrap_or_else(|| guests_in_diffs(r));
        let _ = writeln!(
            md,
            "Found by kwconform, a differential conformance suite for the Kubewarden policy SDKs: the same \
             host answer to `{}` is decoded differently. Concerns: {}.\n",
            r.op.name(),
            concerned.iter().map(|g| sdk_of(g, &head.guests)).collect::<Vec<_>>().join(", ")
        );
        if let Some(c) = self.cause {
            let _ = writeln!(
                md,
                "Severity: **{}** ({}). Cause `{}`; {} other case(s) in the corpus show it.\n",
                c.severity.name(),
                severity_meaning(c),
                c.cause.id,
                self.other_cases
            );
        }

        md.push_str("## Versions\n\n| guest | SDK | version | source | ABI | module SHA-256 |\n|---|---|---|---|---|---|\n");
        for g in &head.guests {
            let source = g.sdk_source.as_ref().map_or("pinned release".to_string(), |s| s.to_string());
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | `{}` |",
                g.name,
                g.sdk,
                g.sdk_version,
                source.replace('|', "\\|"),
                g.abi,
                g.module_sha256
            );
        }

        let _ = writeln!(md, "\n## The host's answer\n\nTo `{}`, case `{}`:\n", r.op.name(), r.case);
        match &r.response {
            ResponseEntry::Text(text) => fence(&mut md, "json", text),
            ResponseEntry::Base64(b64) => {
                md.push_str("Not UTF-8; base64:\n\n");
                fence(&mut md, "", b64);
            }
            ResponseEntry::HostError(e) => {
                md.push_str("A host error:\n\n");
                fence(&mut md, "", e);
            }
        }

        md.push_str("\n## What each SDK decoded\n\n");
        let names: Vec<&GuestSummary> =
            head.guests.iter().filter(|g| r.guests.contains_key(&g.name)).collect();
        let _ = writeln!(
            md,
            "| path | {} |\n|---|{}",
            names.iter().map(|g| label(g)).collect::<Vec<_>>().join(" | "),
            "---|".repeat(names.len())
        );
        for d in &r.diffs {
            let cells: Vec<String> =
                names.iter().map(|g| d.value(&g.name).map_or("—".into(), cell)).collect();
            let _ = writeln!(md, "| `{}` | {} |", d.path, cells.join(" | "));
        }
        md.push('\n');
        for g in &names {
            let result = &r.guests[&g.name];
            let _ = write!(md, "**{}**: {}", label(g), result.outcome);
            if let Some(kind) = &result.kind {
                let _ = write!(md, "/{kind}");
            }
            md.push('\n');
            if let Some(error) = &result.error {
                fence(&mut md, "", error);
            }
            if let Some(view) = &result.view {
                let _ = writeln!(md, "<details><summary>decoded view</summary>\n");
                fence(&mut md, "json", &serde_json::to_string_pretty(view).expect("a view serialises"));
                md.push_str("</details>\n");
            }
            md.push('\n');
        }

        md.push_str("## What the specifications say\n\n");
        match &r.spec {
            Some(spec) => {
                let _ = writeln!(
                    md,
                    "kwconform's spec verdict on this document: **{}**: {}.\n",
                    spec.standing.name(),
                    spec.summary
                );
            }
            None => md.push_str("A host error: no document to judge.\n\n"),
        }
        if let Some(c) = self.cause {
            if let Some(clause) = &c.cause.spec.clause {
                let _ = writeln!(md, "The clause it rests on: {clause}\n");
            }
            if let Some(follows) = &c.cause.spec.follows {
                let _ = writeln!(md, "Which SDK follows it: {follows}.\n");
            }
        }

        md.push_str("## Why it matters to a policy author\n\n");
        for line in consequences(r, &names) {
            let _ = writeln!(md, "- {line}");
        }
        if let Some(c) = self.cause {
            let _ = writeln!(md, "\n## Cause\n\n{}", c.cause.reason);
            if let Some(detail) = expected_detail(r) {
                let _ = writeln!(md, "\nIn this case: {detail}");
            }
            if let Some(upstream) = &c.cause.upstream {
                let _ = writeln!(md, "\nSee also: {upstream}");
            }
        }

        md.push_str("\n## Reproduce\n\nFrom a checkout of kwconform (it builds both guests, from the SDK releases the command names or else the pinned ones):\n\n");
        fence(&mut md, "sh", &self.reproduce);
        md.push_str("\nThe case file:\n\n");
        fence(&mut md, "json", self.case_file.trim_end());
        if let Some(session) = &self.kwctl_session {
            md.push_str(
                "\nThe same exchange as a kwctl session, for `kwctl run --replay-host-capabilities-interactions \
                 session.yml <policy>`:\n\n",
            );
            fence(&mut md, "yaml", session.trim_end());
        }
        md
    }
}

/// What a policy would observe differently, one line per difference.
fn consequences(r: &ResultEntry, guests: &[&GuestSummary]) -> Vec<String> {
    let op = r.op.name();
    let mut lines = Vec::new();
    let failing: Vec<&&GuestSummary> =
        guests.iter().filter(|g| r.guests[&g.name].outcome != crate::case::OutcomeClass::Ok).collect();
    let decoding: Vec<&&GuestSummary> =
        guests.iter().filter(|g| r.guests[&g.name].outcome == crate::case::OutcomeClass::Ok).collect();
    if !failing.is_empty() && !decoding.is_empty() {
        let name = |gs: &[&&GuestSummary]| gs.iter().map(|g| label(g)).collect::<Vec<_>>().join(" and ");
        lines.push(format!(
            "A policy built with {} gets an error from `{op}` for this image, while one built with {} gets a \
             decoded answer: the same policy logic accepts the image with one SDK and fails (usually rejecting \
             the request) with the other.",
            name(&failing),
            name(&decoding)
        ));
    }
    for d in r.diffs.iter().filter(|d| d.path.starts_with("/view/") || d.path == "/kind") {
        let values: Vec<String> = guests
            .iter()
            .filter_map(|g| d.value(&g.name).map(|v| format!("{} with {}", plain(v), label(g))))
            .collect();
        let field = if d.path == "/kind" {
            "whether the answer is an image or an index".to_string()
        } else {
            format!("`{}`", &d.path["/view".len()..])
        };
        lines.push(format!("A policy reading {field} gets {}.", values.join(" but ")));
    }
    if lines.is_empty() {
        lines.push(format!("The SDKs disagree on {}: see the table above.", differences(r)));
    }
    lines
}

fn expected_detail(r: &ResultEntry) -> Option<&str> {
    match &r.judgement {
        crate::expectations::Judgement::Expected { detail, .. } => detail.as_deref(),
        _ => None,
    }
}

fn severity_meaning(c: &CauseEntry) -> &'static str {
    match c.severity {
        super::model::Severity::High => {
            "it shows on documents the specifications accept: at least one SDK has a bug"
        }
        super::model::Severity::Low => {
            "it shows only on documents the specifications reject: a difference in tolerance"
        }
        super::model::Severity::Undetermined => "no specification decides the documents it shows on",
    }
}

/// `the Rust SDK and the Go SDK`, from the guests.
fn sdks_named(head: &ReportHead) -> String {
    head.guests.iter().map(label).collect::<Vec<_>>().join(" and ")
}

fn guests_in_diffs(r: &ResultEntry) -> Vec<String> {
    r.guests.keys().cloned().collect()
}

fn sdk_of(guest: &str, guests: &[GuestSummary]) -> String {
    guests
        .iter()
        .find(|g| g.name == guest)
        .map_or_else(|| guest.to_string(), |g| format!("`{}` {}", g.sdk, g.sdk_version))
}

/// `go (policy-sdk-go v0.13.1)`.
fn label(g: &GuestSummary) -> String {
    format!("{} ({} {})", g.name, g.sdk.rsplit('/').next().unwrap_or(&g.sdk), g.sdk_version)
}

fn differences(r: &ResultEntry) -> String {
    let outcomes: Vec<String> = r.signature.outcomes.iter().map(|(g, o)| format!("{g} {o}")).collect();
    let paths: Vec<&str> = r.signature.diffs.iter().map(|d| d.path.as_str()).collect();
    format!("{} at {}", outcomes.join(", "), paths.join(", "))
}

/// A value in a table cell: absent, or compact JSON in code.
fn cell(v: Option<&Value>) -> String {
    match v {
        None => "absent".into(),
        Some(v) => {
            format!("`{}`", crate::excerpt::shown(&v.to_string()).replace('|', "\\|").replace('`', "'"))
        }
    }
}

fn plain(v: Option<&Value>) -> String {
    match v {
        None => "nothing (absent)".into(),
        Some(v) => format!("`{}`", crate::excerpt::shown(&v.to_string()).replace('`', "'")),
    }
}

/// A fenced block long enough that no run of backticks inside can close it.
fn fence(md: &mut String, info: &str, text: &str) {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(md, "{ticks}{info}\n{text}\n{ticks}");
}
