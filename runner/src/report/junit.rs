//! `junit.xml`: one test case per case, one test suite per pair of guests (the
//! reference and each other guest). Unexpected results fail with the diff text that
//! the terminal shows; expected divergences are skipped with their cause.

use std::io::{self, Write};

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::model::{ReportHead, ResultEntry, ResultSource};
use super::terminal::{TerminalOptions, render_result};
use crate::expectations::Judgement;

/// The JUnit report, serialised into `out`. quick-junit builds the whole document before
/// writing it: this is the one report whose memory grows with the number of cases
/// (docs/performance.md).
pub fn write_junit(report: &ReportHead, results: &dyn ResultSource, out: &mut dyn Write) -> io::Result<()> {
    junit(report, results).serialize(out).map_err(io::Error::other)
}

fn junit(report: &ReportHead, results: &dyn ResultSource) -> quick_junit::Report {
    let mut junit = quick_junit::Report::new("kwconform");
    let Some((reference, others)) = report.guests.split_first() else {
        return junit;
    };
    let mut suites: Vec<TestSuite> =
        others.iter().map(|other| TestSuite::new(format!("{} vs {}", reference.name, other.name))).collect();
    for result in results.entries().filter_map(Result::ok) {
        for (suite, other) in suites.iter_mut().zip(others) {
            let mut case = TestCase::new(result.case.clone(), status(report, &result, &other.name));
            case.set_classname(result.op.name());
            let elapsed = result.guests.values().map(|g| g.elapsed_us).max().unwrap_or(0);
            case.set_time(std::time::Duration::from_micros(elapsed));
            suite.add_test_case(case);
        }
    }
    junit.add_test_suites(suites);
    junit
}

fn status(report: &ReportHead, result: &ResultEntry, other: &str) -> TestCaseStatus {
    // Only the differences this pair is part of count against it.
    let involved =
        result.diffs.iter().any(|d| d.values.contains_key(other)) || result.expectation.status == "unmet";
    match &result.judgement {
        _ if result.unexpected && (involved || result.diffs.is_empty()) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(format!("{}: {}", result.judgement.name(), result.description));
            status.set_type(result.verdict.name());
            status.set_description(plain_text(report, result));
            status
        }
        Judgement::Expected { causes, .. } if involved => {
            let explained: Vec<String> = causes
                .iter()
                .map(|id| match report.cause(id) {
                    Some(c) => format!("{id} ({}): {}", c.severity.name(), c.cause.title),
                    None => id.clone(),
                })
                .collect();
            skipped(&format!(
                "expected, cause: {}",
                if explained.is_empty() { "(none recorded yet)".to_string() } else { explained.join("; ") }
            ))
        }
        Judgement::Informational if involved => {
            skipped("informational: a difference that never fails the run")
        }
        _ => TestCaseStatus::success(),
    }
}

fn skipped(message: &str) -> TestCaseStatus {
    let mut status = TestCaseStatus::skipped();
    status.set_message(message.to_string());
    status
}

/// What the terminal prints for the result, without colours.
fn plain_text(report: &ReportHead, result: &ResultEntry) -> String {
    let mut out = Vec::new();
    render_result(&mut out, result, &report.guests, TerminalOptions { verbose: true, quiet: false })
        .expect("writing to memory succeeds");
    anstream::adapter::strip_str(&String::from_utf8_lossy(&out)).to_string()
}
