//! `repro`: one case, everything about it, and a bundle another maintainer can replay.

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

use crate::cli::{CliResult, ReproArgs, case_roots, load_expectations};

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
