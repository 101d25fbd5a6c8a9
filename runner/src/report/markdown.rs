//! `summary.md`: a short Markdown summary for `$GITHUB_STEP_SUMMARY` and merge-request
//! comments: the verdict and totals, the unexpected results, then the expected
//! divergences grouped by cause, each cause collapsed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::model::{Counts, ReportHead, ResultEntry, ResultSource};
use crate::excerpt::shown;
use crate::expectations::Judgement;

pub fn markdown(report: &ReportHead, results: &dyn ResultSource) -> String {
    let mut md = String::new();
    let total = &report.summary.total;
    let verdict = if report.passed() { "PASS" } else { "FAIL" };
    let _ =
        writeln!(md, "## kwconform: {verdict} ({} unexpected of {} cases)\n", total.unexpected, total.cases);
    let guests: Vec<String> = report
        .guests
        .iter()
        .map(|g| format!("{}: {} {} ({})", code(&g.name), text(&g.sdk), text(&g.sdk_version), g.abi))
        .collect();
    let _ = writeln!(md, "Guests: {}\n", guests.join(", "));
    md.push_str("| op | cases | agree | diverge | crash | inconclusive | expected | unexpected |\n");
    md.push_str("|----|------:|------:|--------:|------:|-------------:|---------:|-----------:|\n");
    let row = |md: &mut String, name: &str, c: &Counts| {
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {} | {} | {} | {} |",
            c.cases, c.agree, c.diverge, c.crash, c.inconclusive, c.expected, c.unexpected
        );
    };
    for (op, counts) in &report.summary.by_op {
        row(&mut md, op, counts);
    }
    row(&mut md, "**total**", total);

    // One pass over the results: a row per unexpected result, up to MAX_ROWS, and per
    // expected one, under its main cause, up to MAX_ROWS in all.
    let mut unexpected = Table::default();
    let mut expected: BTreeMap<String, Table> = BTreeMap::new();
    let mut expected_rows = 0;
    for r in results.entries().filter_map(Result::ok) {
        if r.unexpected {
            unexpected.push(|| {
                format!(
                    "| {} | {} | {} | {} | {} |",
                    r.judgement.name(),
                    r.op.name(),
                    code(&r.case),
                    differences(&r),
                    standing(&r)
                )
            });
        } else if let Judgement::Expected { causes, detail } = &r.judgement {
            let table = expected.entry(causes.first().cloned().unwrap_or_default()).or_default();
            let room = expected_rows < MAX_ROWS;
            expected_rows += usize::from(room);
            table.push_if(room, || {
                let also: Vec<String> = causes.iter().skip(1).map(|c| code(c)).collect();
                let detail = [
                    detail.as_deref().map(text).unwrap_or_default(),
                    if also.is_empty() { String::new() } else { format!("also: {}", also.join(", ")) },
                ]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
                format!(
                    "| {} | {} | {} | {} | {detail} |",
                    r.op.name(),
                    code(&r.case),
                    differences(&r),
                    standing(&r)
                )
            });
        }
    }
    if unexpected.count > 0 {
        let _ = writeln!(md, "\n### Unexpected ({})\n", unexpected.count);
        md.push_str("| result | op | case | what differs | spec |\n|---|---|---|---|---|\n");
        unexpected.write(&mut md);
    }
    if !expected.is_empty() {
        write_causes(&mut md, report, expected);
    }
    md
}

/// The expected divergences by cause: a table of the causes, then each cause's
/// explanation and cases, collapsed.
fn write_causes(md: &mut String, report: &ReportHead, mut expected: BTreeMap<String, Table>) {
    let by_cause = &report.summary.by_cause;
    let causes = by_cause.keys().filter(|c| !c.is_empty()).count();
    let _ =
        writeln!(md, "\n### Expected divergences: {} from {causes} causes\n", report.summary.total.expected);
    md.push_str("| severity | cause | cases | what differs |\n|---|---|---:|---|\n");
    for entry in &report.causes {
        let cases = by_cause.get(&entry.cause.id).map_or(0, |t| t.cases);
        let _ = writeln!(
            md,
            "| {} | {} | {cases} | {} |",
            entry.severity.name(),
            code(&entry.cause.id),
            text(&entry.cause.title)
        );
    }
    let header = "| op | case | what differs | spec | detail |\n|---|---|---|---|---|\n";
    for entry in &report.causes {
        let cause = &entry.cause;
        let table = expected.remove(&cause.id);
        let cases = by_cause.get(&cause.id).map_or(0, |t| t.cases);
        let _ = writeln!(
            md,
            "\n<details><summary>{} ({}, {cases} cases): {}</summary>\n",
            code(&cause.id),
            entry.severity.name(),
            text(&cause.title)
        );
        let _ = writeln!(md, "{}\n", text(&cause.reason));
        let follows = cause.spec.follows.as_deref().map(|f| format!("follows the spec: {}", text(f)));
        let clause = cause.spec.clause.as_deref().map(text);
        let spec: Vec<String> = follows.into_iter().chain(clause).collect();
        if !spec.is_empty() {
            let _ = writeln!(md, "Spec: {}\n", spec.join(" — "));
        }
        match table {
            Some(table) => {
                let secondary = cases.saturating_sub(table.count);
                if secondary > 0 {
                    let _ = writeln!(
                        md,
                        "Also a further cause of {secondary} cases listed under their main cause.\n"
                    );
                }
                md.push_str(header);
                table.write(md);
            }
            None => {
                let _ =
                    writeln!(md, "A further cause of {cases} cases; they are listed under their main cause.");
            }
        }
        md.push_str("\n</details>\n");
    }
    // Entries pointing at no cause, or at one the list no longer has.
    for (cause, table) in expected {
        let name = if cause.is_empty() { "no cause recorded yet".to_string() } else { code(&cause) };
        let _ = writeln!(md, "\n<details><summary>{name} ({} cases)</summary>\n", table.count);
        md.push_str(header);
        table.write(md);
        md.push_str("\n</details>\n");
    }
}

/// Rows a table lists; the rest are counted. GitHub shows at most 1 MiB of a step
/// summary, and the summary stays small whatever the number of cases.
pub const MAX_ROWS: usize = 1000;

#[derive(Default)]
struct Table {
    rows: Vec<String>,
    count: usize,
}

impl Table {
    fn push(&mut self, row: impl FnOnce() -> String) {
        let room = self.rows.len() < MAX_ROWS;
        self.push_if(room, row);
    }

    /// Counts the row, and lists it if there is room.
    fn push_if(&mut self, room: bool, row: impl FnOnce() -> String) {
        self.count += 1;
        if room {
            self.rows.push(row());
        }
    }

    fn write(self, md: &mut String) {
        for row in &self.rows {
            let _ = writeln!(md, "{row}");
        }
        if self.count > self.rows.len() {
            let _ = writeln!(
                md,
                "\n… and {} more: report.html and report.json list every case.",
                self.count - self.rows.len()
            );
        }
    }
}

/// The spec verdict in one word (docs/spec-verdict.md); `—` for a host error.
fn standing(r: &ResultEntry) -> &'static str {
    r.spec.as_ref().map_or("—", |s| s.standing.name())
}

/// `rust ok/image, go error at /outcome`, from the signature.
fn differences(r: &ResultEntry) -> String {
    let outcomes: Vec<String> = r.signature.outcomes.iter().map(|(g, o)| text(&format!("{g} {o}"))).collect();
    let paths: Vec<String> = r.signature.diffs.iter().map(|d| code(&d.path)).collect();
    if paths.is_empty() {
        outcomes.join(", ")
    } else {
        format!("{} at {}", outcomes.join(", "), paths.join(", "))
    }
}

/// Guest- or case-controlled text made inert inside a table cell: no control
/// characters, no HTML, no cell break.
fn text(raw: &str) -> String {
    shown(raw).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('|', "&#124;")
}

/// The same, as code.
fn code(raw: &str) -> String {
    format!("<code>{}</code>", text(raw))
}
