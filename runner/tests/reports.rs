//! The four reports written from one run agree with each other, and the HTML report
//! renders and filters in a real headless browser (Debian's chromium).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use kwconform::expectations::{Expectations, ExpectationsFile};
use kwconform::guest_build::Project;
use kwconform::host::Limits;
use kwconform::report::{self, Report};
use kwconform::run::Runner;

/// The shipped corpus, run with the shipped expectations list less its first entry:
/// one unexpected result, the rest as shipped. Written once into a folder.
fn reports() -> &'static (Report, tempfile::TempDir) {
    static REPORTS: OnceLock<(Report, tempfile::TempDir)> = OnceLock::new();
    REPORTS.get_or_init(|| {
        let project = Project::this_checkout();
        let cases = kwconform::case::load_cases(&[project.cases_dir()]).unwrap();
        let list_path = project.cases_dir().join(kwconform::expectations::FILE_NAME);
        let mut list: ExpectationsFile = serde_json::from_slice(&std::fs::read(&list_path).unwrap()).unwrap();
        list.expectations.remove(0);
        let dir = tempfile::tempdir().unwrap();
        let trimmed = dir.path().join("expectations.json");
        std::fs::write(&trimmed, serde_json::to_vec(&list).unwrap()).unwrap();
        let engine = common::engine(Limits::default());
        let runner = Runner::new(engine, common::guest_specs(), |_| {})
            .unwrap()
            .with_expectations(Expectations::load(&trimmed).unwrap());
        let report = Report::from_results(&runner.run_collect(&cases));
        report::write_report(&report, dir.path()).unwrap();
        (report, dir)
    })
}

#[test]
fn the_four_reports_agree_on_the_totals() {
    let (report, dir) = reports();
    let totals = &report.summary.total;
    assert_eq!(totals.unexpected, 1);

    let json: Report =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(&json, report);

    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let junit = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let [suite] = junit.test_suites.as_slice() else { panic!("one pair of guests, one suite") };
    assert_eq!(suite.name.as_str(), "rust vs go");
    assert_eq!(suite.tests, totals.cases);
    assert_eq!(suite.failures, totals.unexpected);
    assert_eq!(suite.skipped, totals.expected);
    let failed = suite
        .test_cases
        .iter()
        .find(|c| matches!(c.status, quick_junit::TestCaseStatus::NonSuccess { .. }))
        .unwrap();
    let unexpected = report.results.iter().find(|r| r.unexpected).unwrap();
    assert_eq!(failed.name.as_str(), unexpected.case);
    let quick_junit::TestCaseStatus::NonSuccess { description: Some(text), .. } = &failed.status else {
        unreachable!()
    };
    assert!(text.as_str().contains(&unexpected.diffs[0].path), "the failure carries the diff: {text:?}");

    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(md.starts_with(&format!("## kwconform: FAIL (1 unexpected of {} cases)", totals.cases)), "{md}");
    let total_row = format!(
        "| **total** | {} | {} | {} | {} | {} | {} | {} |",
        totals.cases,
        totals.agree,
        totals.diverge,
        totals.crash,
        totals.inconclusive,
        totals.expected,
        totals.unexpected
    );
    assert!(md.contains(&total_row), "{md}");
    assert!(md.contains(&format!("| <code>{}</code> |", unexpected.case)), "{md}");
    // Each row carries the case's spec verdict in one word.
    let spec = unexpected.spec.as_ref().expect("the case has a document");
    let row = md.lines().find(|l| l.contains(&format!("<code>{}</code>", unexpected.case))).unwrap();
    assert!(row.ends_with(&format!("| {} |", spec.standing.name())), "{row}");
    // The expected divergences, grouped by cause: every cause once, with its cases.
    let by_cause = &report.summary.by_cause;
    assert!(
        md.contains(&format!("### Expected divergences: {} from {} causes", totals.expected, by_cause.len())),
        "{md}"
    );
    assert!(
        !report.causes.is_empty() && report.causes.len() == by_cause.len(),
        "every cause counted is defined"
    );
    for entry in &report.causes {
        let cases = by_cause[&entry.cause.id].cases;
        let summary = format!("<summary><code>{}</code> ({}, ", entry.cause.id, entry.severity.name());
        assert_eq!(md.matches(&summary).count(), 1, "{summary} once in {md}");
        let row = format!("| {} | <code>{}</code> | {cases} |", entry.severity.name(), entry.cause.id);
        assert!(md.contains(&row), "{row}");
    }
    // A cause's severity follows its cases' spec verdicts.
    for r in report.results.iter().filter(|r| r.judgement.name() == "expected") {
        let kwconform::expectations::Judgement::Expected { causes, .. } = &r.judgement else {
            unreachable!()
        };
        if r.spec.as_ref().is_some_and(|s| s.standing == kwconform::spec::Standing::Valid) {
            for id in causes {
                let entry = report.causes.iter().find(|c| c.cause.id == *id).unwrap();
                assert_eq!(entry.severity, report::Severity::High, "{id}: {} is a valid document", r.case);
            }
        }
    }
}

/// Debian's chromium; the suite installs it with apt-get when it is missing, as the
/// runner adds the wasm target when it is missing.
fn chromium() -> PathBuf {
    let found = || Command::new("chromium").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found() {
        eprintln!(
            "reports test: installing Debian's chromium (apt-get install chromium) for the HTML report check"
        );
        let installed = Command::new("apt-get").args(["install", "-y", "-q", "chromium"]).status();
        if !installed.is_ok_and(|s| s.success()) {
            let _ = Command::new("apt-get").args(["update", "-q"]).status();
            let _ = Command::new("apt-get").args(["install", "-y", "-q", "chromium"]).status();
        }
    }
    assert!(found(), "the HTML report is checked in Debian's chromium: `apt-get install chromium`");
    PathBuf::from("chromium")
}

fn browser(args: &[&str], url: &str) -> String {
    let output = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"])
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The page's count of shown cases, after its script ran, for a URL fragment.
fn shown(page: &Path, fragment: &str) -> usize {
    let dom = browser(&["--dump-dom"], &format!("file://{}#{fragment}", page.display()));
    let start = dom.find("<span id=\"shown-count\">").expect("the page rendered its count") + 23;
    dom[start..dom[start..].find('<').unwrap() + start].parse().unwrap()
}

#[test]
fn the_html_report_renders_and_filters_in_headless_chromium() {
    let (report, dir) = reports();
    let page = dir.path().join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    for external in ["<link", "src=\"http", "src='http", "@import", "url(http"] {
        assert!(!html.contains(external), "no external assets: found {external}");
    }

    let totals = &report.summary.total;
    assert_eq!(shown(&page, ""), totals.cases);
    assert_eq!(shown(&page, "verdict=unexpected"), 1);
    assert_eq!(shown(&page, "verdict=expected"), totals.expected);
    assert_eq!(shown(&page, "op=manifest_digest"), report.summary.by_op["manifest_digest"].cases);
    assert_eq!(
        shown(&page, "verdict=diverge&op=oci_manifest_config"),
        report.summary.by_op["oci_manifest_config"].diverge
    );
    let tagged = report.results.iter().filter(|r| r.tags.iter().any(|t| t == "windows")).count();
    assert_eq!(shown(&page, "tag=windows"), tagged);
    let unexpected = report.results.iter().find(|r| r.unexpected).unwrap();
    assert_eq!(shown(&page, &format!("q={}", unexpected.case)), 1);
    // The cause filter shows a cause's cases.
    let cause = &report.causes[0].cause.id;
    assert_eq!(shown(&page, &format!("cause={cause}")), report.summary.by_cause[cause].cases);

    // A screenshot, kept as a test artifact.
    let artifacts = Project::this_checkout().root.join("target").join("test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let screenshot = artifacts.join("report.png");
    let _ = std::fs::remove_file(&screenshot);
    browser(
        &[&format!("--screenshot={}", screenshot.display()), "--window-size=1400,1000"],
        &format!("file://{}", page.display()),
    );
    assert!(
        std::fs::metadata(&screenshot).is_ok_and(|m| m.len() > 10_000),
        "a screenshot at {}",
        screenshot.display()
    );
}

/// Timings differ from run to run; everything else must not.
fn without_timings(mut report: Report) -> Report {
    report.summary.elapsed_ms = 0;
    report.summary.guest_elapsed_us.values_mut().for_each(|us| *us = 0);
    for result in &mut report.results {
        for guest in result.guests.values_mut() {
            guest.elapsed_us = 0;
            for call in &mut guest.calls {
                call.at_us = 0;
            }
        }
    }
    report
}

#[test]
fn the_schema_rejects_what_is_not_a_report() {
    let (report, _) = reports();
    let mut document = serde_json::to_value(report).unwrap();
    document["results"][0]["verdict"] = serde_json::json!("maybe");
    document["summary"].as_object_mut().unwrap().remove("total");
    let errors = Report::validate(&document).unwrap_err();
    assert!(errors.iter().any(|e| e.starts_with("/results/0/verdict")), "{errors:#?}");
    assert!(errors.iter().any(|e| e.contains("total")), "{errors:#?}");
}

#[test]
fn shards_merged_equal_one_unsharded_run() {
    let project = Project::this_checkout();
    let cases = kwconform::case::load_cases(&[project.cases_dir()]).unwrap();
    let list = Expectations::load(&project.cases_dir().join(kwconform::expectations::FILE_NAME)).unwrap();
    let engine = common::engine(Limits::default());
    let runner = Runner::new(engine, common::guest_specs(), |_| {}).unwrap().with_expectations(list);
    let whole = Report::from_results(&runner.run_collect(&cases));

    let shards: Vec<Report> = (1..=3)
        .map(|index| {
            let shard = kwconform::run::Shard { index, count: 3 };
            let slice: Vec<_> = cases.iter().filter(|c| shard.contains(&c.id)).cloned().collect();
            assert!(!slice.is_empty() && slice.len() < cases.len());
            Report::from_results(&runner.run_collect(&slice))
        })
        .collect();
    let mut other_guests = shards[0].clone();
    other_guests.guests[1].module_sha256 = "0".repeat(64);
    assert!(Report::merge(vec![other_guests, shards[1].clone()]).is_err(), "shards of different guests");
    assert!(Report::merge(vec![shards[0].clone(), shards[0].clone()]).is_err(), "the same shard twice");

    let merged = Report::merge(shards).unwrap();
    assert_eq!(without_timings(merged), without_timings(whole));
}

#[test]
fn the_markdown_summary_lists_at_most_max_rows_per_table_and_counts_the_rest() {
    let (report, _) = reports();
    let expected = report.results.iter().find(|r| !r.unexpected && r.verdict.name() == "diverge").unwrap();
    let many: Vec<_> = (0..report::MAX_ROWS + 7)
        .map(|i| {
            let mut entry = expected.clone();
            entry.case = format!("{}/{i}", expected.case);
            entry
        })
        .collect();
    let mut head = report.head();
    head.summary.total.expected = many.len();
    let md = report::markdown(&head, &many);
    assert!(md.contains(&format!("### Expected divergences: {} from ", many.len())), "{md}");
    let rows = md.lines().filter(|l| l.contains(&format!("<code>{}/", expected.case))).count();
    assert_eq!(rows, report::MAX_ROWS);
    assert!(md.contains("… and 7 more: report.html and report.json list every case."), "{md}");
}
