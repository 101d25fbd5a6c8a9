//! `summary.md`: a short Markdown summary for `$GITHUB_STEP_SUMMARY` and merge-request
//! comments: the verdict and totals, the unexpected results, then the expected
//! divergences collapsed.

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

    // One pass over the results: a row per unexpected and per expected result, up to
    // MAX_ROWS of each.
    let (mut unexpected, mut expected) = (Table::default(), Table::default());
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
        } else if let Judgement::Expected { reason } = &r.judgement {
            let reason = reason.as_deref().unwrap_or("(no reason recorded yet)");
            expected.push(|| {
                format!(
                    "| {} | {} | {} | {} | {} |",
                    r.op.name(),
                    code(&r.case),
                    differences(&r),
                    standing(&r),
                    text(reason)
                )
            });
        }
    }
    if unexpected.count > 0 {
        let _ = writeln!(md, "\n### Unexpected ({})\n", unexpected.count);
        md.push_str("| result | op | case | what differs | spec |\n|---|---|---|---|---|\n");
        unexpected.write(&mut md);
    }
    if expected.count > 0 {
        let _ = writeln!(md, "\n<details><summary>Expected divergences ({})</summary>\n", expected.count);
        md.push_str("| op | case | what differs | spec | reason |\n|---|---|---|---|---|\n");
        expected.write(&mut md);
        md.push_str("\n</details>\n");
    }
    md
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
        self.count += 1;
        if self.rows.len() < MAX_ROWS {
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
