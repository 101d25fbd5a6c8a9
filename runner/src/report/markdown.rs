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

    // One pass over the results: a row per unexpected and per expected result.
    let (mut unexpected, mut expected) = (Vec::new(), Vec::new());
    for r in results.entries().filter_map(Result::ok) {
        if r.unexpected {
            unexpected.push(format!(
                "| {} | {} | {} | {} |",
                r.judgement.name(),
                r.op.name(),
                code(&r.case),
                differences(&r)
            ));
        } else if let Judgement::Expected { reason } = &r.judgement {
            let reason = reason.as_deref().unwrap_or("(no reason recorded yet)");
            expected.push(format!(
                "| {} | {} | {} | {} |",
                r.op.name(),
                code(&r.case),
                differences(&r),
                text(reason)
            ));
        }
    }
    if !unexpected.is_empty() {
        let _ = writeln!(md, "\n### Unexpected ({})\n", unexpected.len());
        md.push_str("| result | op | case | what differs |\n|---|---|---|---|\n");
        for row in unexpected {
            let _ = writeln!(md, "{row}");
        }
    }
    if !expected.is_empty() {
        let _ = writeln!(md, "\n<details><summary>Expected divergences ({})</summary>\n", expected.len());
        md.push_str("| op | case | what differs | reason |\n|---|---|---|---|\n");
        for row in expected {
            let _ = writeln!(md, "{row}");
        }
        md.push_str("\n</details>\n");
    }
    md
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
