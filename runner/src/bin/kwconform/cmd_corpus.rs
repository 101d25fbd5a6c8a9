//! Maintaining the corpus: `check`, `expectations update`, `relay`, `import-kwctl`,
//! `export-kwctl`.

use std::io::Write;
use std::path::{Path, PathBuf};

use kwconform::case::{self, HostResponse};
use kwconform::exit_codes;
use kwconform::expectations::{self, ExpectationsFile};
use kwconform::guest_build::Project;
use kwconform::host::CALLBACK_FAILURE;
use kwconform::report::Report;
use kwconform::{kwctl, relay};

use crate::cli::{CheckArgs, CliResult, RelayArgs, case_roots, load_expectations};

pub fn relay(args: RelayArgs) -> CliResult {
    let out = args.out.as_deref();
    if let (Some(cases_dir), Some(out)) = (&args.twins, out) {
        return write_twins(cases_dir, out);
    }
    let path = args.path.expect("clap requires a path without --twins");
    let input = case::raw_input(args.op, args.input)?;
    let responses: Vec<(String, HostResponse)> = if path.is_dir() {
        case::load_raw_dir(&path, args.op, &input)?.0.into_iter().map(|c| (c.id, c.response)).collect()
    } else {
        let bytes = std::fs::read(&path).map_err(|e| format!("failed to read {}: {e}", path.display()))?;
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        vec![(name, HostResponse::Success(bytes))]
    };
    let Some(out) = out else {
        let [(_, response)] = responses.as_slice() else {
            return Err("relaying a folder needs --out DIR".into());
        };
        return Ok(match relay::relay(args.op, &input, response)? {
            HostResponse::Success(bytes) => {
                std::io::stdout().write_all(&bytes)?;
                println!();
                exit_codes::SUCCESS
            }
            HostResponse::Error(message) => {
                // What the guest receives: the host wraps its callback's failure.
                eprintln!("{CALLBACK_FAILURE}{message}");
                exit_codes::UNEXPECTED
            }
        });
    };
    let (mut written, mut kept) = (0, 0);
    for (id, response) in responses {
        let (name, bytes) = match relay::relay(args.op, &input, &response)? {
            HostResponse::Success(bytes) => (id, bytes),
            HostResponse::Error(message) => {
                (format!("{id}.host-error"), format!("{CALLBACK_FAILURE}{message}").into_bytes())
            }
        };
        match kwconform::fs::write_new(&out.join(&name), &bytes) {
            Ok(()) => written += 1,
            Err(e) if e.source.kind() == std::io::ErrorKind::AlreadyExists => kept += 1,
            Err(e) => return Err(e.into()),
        }
    }
    println!("{written} relayed responses written to {}, {kept} existing files left alone", out.display());
    Ok(exit_codes::SUCCESS)
}

fn write_twins(cases_dir: &Path, out: &Path) -> CliResult {
    let cases = case::load_cases(&[cases_dir.to_path_buf()])?;
    let (mut written, mut kept, mut skipped) = (0, 0, 0);
    for case in cases.iter().filter(|c| c.origin == case::Origin::RegistryRaw) {
        let twin = match relay::twin(case) {
            Ok(twin) => twin,
            Err(e) => {
                eprintln!("kwconform: no twin for {}: {e}", case.id);
                skipped += 1;
                continue;
            }
        };
        match case::write_case_file(out, &twin.id, &twin)? {
            Some(_) => written += 1,
            None => kept += 1,
        }
    }
    println!(
        "{written} twin cases written under {}, {kept} existing left alone, {skipped} not relayable",
        out.display()
    );
    Ok(exit_codes::SUCCESS)
}

pub fn import_kwctl(session: &Path, out: &Path) -> CliResult {
    let (cases, skipped) = kwctl::import(session)?;
    for s in &skipped {
        println!("skipped exchange {}: {} is not an exchange kwconform imports", s.index, s.request);
    }
    let (mut written, mut kept) = (0, 0);
    for case in &cases {
        match case::write_case_file(out, &case.id, case)? {
            Some(_) => written += 1,
            None => kept += 1,
        }
    }
    println!(
        "{written} cases written under {}, {kept} existing left alone, {} exchanges skipped",
        out.display(),
        skipped.len()
    );
    Ok(exit_codes::SUCCESS)
}

pub fn export_kwctl(project: &Project, id: &str, roots: &[PathBuf], out: Option<&Path>) -> CliResult {
    let cases = case::load_cases(&case_roots(project, roots))?;
    let case = cases.iter().find(|c| c.id == id).ok_or_else(|| format!("no case has the id {id:?}"))?;
    let session = kwctl::export(case)?;
    match out {
        Some(path) => {
            kwconform::fs::write_new(path, session.as_bytes())?;
            println!("wrote {}", path.display());
        }
        None => print!("{session}"),
    }
    Ok(exit_codes::SUCCESS)
}

pub fn update_expectations(project: &Project, report: Option<PathBuf>, file: Option<PathBuf>) -> CliResult {
    let report_path = report.unwrap_or_else(|| project.reports_dir()).join("report.json");
    let report: Report = serde_json::from_slice(
        &std::fs::read(&report_path).map_err(|e| format!("failed to read {}: {e}", report_path.display()))?,
    )
    .map_err(|e| format!("failed to read {}: {e}", report_path.display()))?;
    let file = file.unwrap_or_else(|| project.cases_dir().join(expectations::FILE_NAME));
    let existing = if file.is_file() {
        let text = std::fs::read_to_string(&file)?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}:{}: {e}", file.display(), e.line(), e.column()))?
    } else {
        ExpectationsFile::default()
    };
    let results: Vec<expectations::RecordedResult<'_>> = report
        .results
        .iter()
        .map(|r| expectations::RecordedResult {
            case: &r.case,
            verdict: r.verdict,
            level: r.level,
            signature: &r.signature,
            expect_unmet: r.expectation.status == "unmet",
        })
        .collect();
    let (updated, summary) = expectations::update(&existing, &results, &report.guests)?;
    let mut bytes = serde_json::to_vec_pretty(&updated)?;
    bytes.push(b'\n');
    kwconform::fs::write_atomically(&file, &bytes)?;
    println!(
        "{}: {} added, {} changed, {} narrowed to older releases, {} widened to older releases, {} removed, {} entries in all",
        file.display(),
        summary.added.len(),
        summary.changed.len(),
        summary.narrowed.len(),
        summary.widened.len(),
        summary.removed.len(),
        updated.expectations.len()
    );
    if !summary.needing_cause.is_empty() {
        let updated = ask_for_causes(updated, &summary.needing_cause)?;
        let mut bytes = serde_json::to_vec_pretty(&updated)?;
        bytes.push(b'\n');
        kwconform::fs::write_atomically(&file, &bytes)?;
        let left = updated.expectations.iter().filter(|e| e.causes.is_empty()).count();
        if left > 0 {
            println!("{left} entries still point at no cause: set their `causes` in {}", file.display());
        }
    }
    Ok(exit_codes::SUCCESS)
}

/// Asks, on a terminal, for the cause of each entry that has none, offering the
/// suggested one; elsewhere prints the suggestions and leaves the entries as they are.
fn ask_for_causes(
    mut file: ExpectationsFile,
    needing: &[(String, Option<String>)],
) -> Result<ExpectationsFile, Box<dyn std::error::Error>> {
    use std::io::{BufRead, IsTerminal, Write};
    let interactive = std::io::stdin().is_terminal();
    if interactive && !file.causes.is_empty() {
        println!("known causes:");
        for cause in &file.causes {
            println!("  {:<36} {}", cause.id, cause.title);
        }
    }
    let mut lines = std::io::stdin().lock().lines();
    for (case, suggested) in needing {
        let offer = suggested.as_deref().map(|s| format!(" [{s}]")).unwrap_or_default();
        if !interactive {
            println!(
                "  needs a cause: {case}{}",
                suggested.as_deref().map(|s| format!(" (suggested: {s})")).unwrap_or_default()
            );
            continue;
        }
        print!("cause for {case}{offer} (Enter to accept, - to skip): ");
        std::io::stdout().flush()?;
        let answer = lines.next().transpose()?.unwrap_or_default();
        let chosen = match answer.trim() {
            "" => suggested.clone(),
            "-" => None,
            id => Some(id.to_string()),
        };
        let Some(chosen) = chosen else { continue };
        if !file.causes.iter().any(|c| c.id == chosen) {
            println!("  no cause {chosen:?} in the list: add it to `causes` first; left without one");
            continue;
        }
        for entry in file.expectations.iter_mut().filter(|e| e.case == *case && e.causes.is_empty()) {
            entry.causes = vec![chosen.clone()];
        }
    }
    Ok(file)
}

pub fn check(project: &Project, args: CheckArgs) -> CliResult {
    let roots = case_roots(project, &args.cases);
    let cases = case::load_cases(&roots)?;
    let expectations = load_expectations(&roots, args.expectations.as_deref(), &cases)?;
    let listed = expectations.entries().count();
    let unexplained = expectations.entries().filter(|e| e.causes.is_empty()).count();
    println!(
        "{} cases and {listed} expectations from {} causes are valid",
        cases.len(),
        expectations.causes.len()
    );
    if unexplained > 0 {
        println!("{unexplained} expectations still point at no cause");
    }
    Ok(exit_codes::SUCCESS)
}
