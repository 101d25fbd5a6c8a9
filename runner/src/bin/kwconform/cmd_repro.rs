//! `repro`: one case, everything about it, and a bundle another maintainer can replay;
//! `bug-report`: one cause (its smallest case) or one case as an issue text.

use std::io::Write;
use std::path::Path;

use kwconform::case::{self, Case};
use kwconform::excerpt::shown as safe;
use kwconform::exit_codes;
use kwconform::guest_build::Project;
use kwconform::host::{HostEngine, Limits};
use kwconform::kwctl;
use kwconform::report::{self, Report, ResponseEntry, TerminalOptions};
use kwconform::run::{RunResults, Runner};

use crate::cli::{BugReportArgs, CliResult, ReproArgs, SdkArgs, case_roots, load_expectations};

pub fn repro(project: &Project, args: ReproArgs) -> CliResult {
    let roots = case_roots(project, &args.cases);
    let cases = case::load_cases(&roots)?;
    let expectations = load_expectations(&roots, None, &cases)?;
    let case = cases
        .iter()
        .find(|c| c.id == args.case)
        .ok_or_else(|| format!("no case has the id {:?}", args.case))?;
    // A bundle goes into a new or empty folder: nothing of another bundle is replaced.
    if let Some(dir) = &args.export
        && std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
    {
        return Err(
            format!("{} is not empty; export a bundle into a new or empty folder", dir.display()).into()
        );
    }
    let specs = project.build_default_guests(&mut std::io::stderr())?;
    let engine = HostEngine::new(Limits::default())?.with_module_cache(project.module_cache_dir());
    let runner = Runner::new(engine, &specs, |_| {})?.with_expectations(expectations);
    // One case, kept whole: everything the guests wrote, every host call.
    let started = std::time::Instant::now();
    let whole = runner.run_case(case);
    let report = Report::from_results(&RunResults {
        guests: runner.guests().to_vec(),
        results: vec![whole],
        elapsed: started.elapsed(),
        interrupted: false,
        causes: runner.causes().to_vec(),
    });
    let result = &report.results[0];

    let mut out = anstream::stdout();
    writeln!(out, "case {} ({}): {}", case.id, case.op, case.description)?;
    writeln!(out, "source: {}", case.source.display())?;
    writeln!(out, "host response: {}", shown(&result.response))?;
    for info in &report.guests {
        let (name, guest) = (&info.name, &result.guests[&info.name]);
        if args.guest.as_ref().is_some_and(|only| only != name) {
            continue;
        }
        writeln!(out, "\n--- {name}: {} {} ({})", safe(&info.sdk), safe(&info.sdk_version), info.abi)?;
        for call in &guest.calls {
            writeln!(
                out,
                "request: {}/{}/{} {}",
                safe(&call.binding),
                safe(&call.namespace),
                safe(&call.operation),
                shown(&call.payload)
            )?;
            if args.trace {
                writeln!(out, "  at +{} µs, answered: {}", call.at_us, shown(&call.answer))?;
            }
        }
        let kind = guest.kind.as_deref().map(|k| format!("/{}", safe(k))).unwrap_or_default();
        writeln!(out, "outcome: {}{kind}", guest.outcome)?;
        if let Some(error) = &guest.error {
            writeln!(out, "error: {}", safe(error))?;
        }
        if let Some(view) = &guest.view {
            writeln!(out, "view: {}", safe(&serde_json::to_string_pretty(view)?).replace("\\u{a}", "\n"))?;
        }
        if args.trace {
            writeln!(out, "elapsed: {} µs; stderr: {}", guest.elapsed_us, safe(guest.stderr.trim()))?;
        }
    }
    writeln!(out)?;
    report::render_result(&mut out, result, &report.guests, TerminalOptions { verbose: true, quiet: false })?;
    if let Some(dir) = &args.export {
        export(dir, case, &report)?;
        writeln!(out, "\nbundle: {} (replay: kwconform run --cases {})", dir.display(), dir.display())?;
    }
    Ok(if report.passed() { exit_codes::SUCCESS } else { exit_codes::UNEXPECTED })
}

fn shown(entry: &ResponseEntry) -> String {
    match entry {
        ResponseEntry::Text(text) => safe(text),
        ResponseEntry::Base64(b64) => format!("(base64) {b64}"),
        ResponseEntry::HostError(message) => format!("(host error) {}", safe(message)),
    }
}

/// The case as a self-contained file, and in `bundle/`: the guests, the reports and a
/// kwctl session. `kwconform run --cases DIR` replays it (it skips `bundle/`).
fn export(dir: &Path, case: &Case, report: &Report) -> Result<(), Box<dyn std::error::Error>> {
    let name = case.id.replace('/', "__");
    if case::write_case_file(dir, &name, &case.to_file())?.is_none() {
        return Err(format!("{} exists already; choose an empty folder", dir.display()).into());
    }
    let bundle = dir.join(case::BUNDLE_DIR);
    let guests = serde_json::to_vec_pretty(&report.guests)?;
    kwconform::fs::write_atomically(&bundle.join("guests.json"), &guests)?;
    report::write_report(report, &bundle.join("report"))?;
    match kwctl::export(case) {
        Ok(session) => kwconform::fs::write_atomically(&bundle.join("session.yml"), session.as_bytes())?,
        Err(e) => eprintln!("kwconform: no kwctl session in the bundle: {e}"),
    }
    Ok(())
}

/// Runs the cause's cases (or the one case) and writes the issue text of the smallest
/// one that diverges as the expectations list records.
pub fn bug_report(project: &Project, args: BugReportArgs) -> CliResult {
    let roots = case_roots(project, &args.cases);
    let cases = case::load_cases(&roots)?;
    let expectations = load_expectations(&roots, args.expectations.as_deref(), &cases)?;
    if let Some(out) = &args.out
        && out.exists()
    {
        return Err(format!("{} exists; bug-report never replaces a file", out.display()).into());
    }
    let cause = expectations.cause(&args.target).map(|c| c.id.clone());
    let mut candidates: Vec<&Case> = match &cause {
        Some(id) => {
            let ids: std::collections::HashSet<&str> =
                expectations.entries().filter(|e| e.causes.contains(id)).map(|e| e.case.as_str()).collect();
            cases.iter().filter(|c| ids.contains(c.id.as_str())).collect()
        }
        None => cases.iter().filter(|c| c.id == args.target).collect(),
    };
    if candidates.is_empty() {
        let known: Vec<&str> = expectations.causes.iter().map(|c| c.id.as_str()).collect();
        return Err(format!(
            "{:?} is neither a cause of the expectations list nor a case id (causes: {})",
            args.target,
            known.join(", ")
        )
        .into());
    }
    // The smallest example first: the shortest response, then the case id.
    candidates.sort_by_key(|c| (c.response.len(), c.id.clone()));
    let specs = crate::cmd_run::guests_for(project, &args.sdks)?;
    let engine = HostEngine::new(Limits::default())?.with_module_cache(project.module_cache_dir());
    let runner = Runner::new(engine, &specs, |_| {})?.with_expectations(expectations.clone());
    let owned: Vec<Case> = candidates.iter().map(|c| (*c).clone()).collect();
    let report = Report::from_results(&runner.run_collect(&owned));
    let shows = |r: &&report::ResultEntry| match (&cause, &r.judgement) {
        (Some(id), kwconform::expectations::Judgement::Expected { causes, .. }) => causes.contains(id),
        (Some(_), _) => false,
        (None, _) => r.verdict != kwconform::compare::Verdict::Agree,
    };
    // Results come back in case id order; keep the size order.
    let result = owned
        .iter()
        .filter_map(|c| report.results.iter().find(|r| r.case == c.id))
        .find(shows)
        .ok_or_else(|| match &cause {
            Some(id) => format!(
                "none of the {} case(s) of cause {id} diverges as the expectations list records with these SDK releases: run `kwconform run` to see what changed, or pass --rust-sdk and --go-sdk for the releases its entries record",
                owned.len()
            ),
            None => format!("case {} does not diverge: nothing to report", args.target),
        })?;
    let case = owned.iter().find(|c| c.id == result.case).expect("the result is of a candidate");
    let cause_id = cause.or_else(|| match &result.judgement {
        kwconform::expectations::Judgement::Expected { causes, .. } => causes.first().cloned(),
        _ => None,
    });
    let head = report.head();
    let cause_entry = cause_id.as_deref().and_then(|id| head.cause(id));
    let other_cases = cause_id.as_deref().map_or(0, |id| {
        expectations.entries().filter(|e| e.causes.iter().any(|c| c == id) && e.case != case.id).count()
    });
    let text = report::BugReport {
        head: &head,
        result,
        cause: cause_entry,
        other_cases,
        reproduce: reproduction(project, case, &args.sdks),
        case_file: serde_json::to_string_pretty(&case.to_file())?,
        kwctl_session: kwctl::export(case).ok(),
    }
    .markdown();
    match &args.out {
        Some(out) => {
            kwconform::fs::write_atomically(out, text.as_bytes())?;
            eprintln!("bug report for {}: {}", case.id, out.display());
        }
        None => print!("{text}"),
    }
    Ok(exit_codes::SUCCESS)
}

/// The command that replays the case from a checkout of kwconform: its case file run
/// alone, which shows the divergence with every SDK's value.
fn reproduction(project: &Project, case: &Case, sdks: &SdkArgs) -> String {
    let path = case.source.strip_prefix(&project.root).unwrap_or(&case.source);
    let mut command = format!("cargo run -- run --cases {} --only '{}'", path.display(), case.id);
    for (flag, spec) in [("--rust-sdk", &sdks.rust_sdk), ("--go-sdk", &sdks.go_sdk)] {
        if let Some(spec) = spec {
            command.push_str(&format!(" {flag} {spec}"));
        }
    }
    command
}
