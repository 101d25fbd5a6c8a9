//! `bug-report`: every cause of the committed expectations list gives an issue text
//! whose reproduction command, run as written, shows the divergence.

mod common;

use std::process::{Command, Output};

use kwconform::expectations::ExpectationsFile;
use kwconform::guest_build::Project;

fn kwconform(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kwconform"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("kwconform runs")
}

/// Splits a command line as a POSIX shell would for words and single quotes.
fn words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut started) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => (quoted, started) = (!quoted, true),
            ' ' if !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                }
                started = false;
            }
            c => (word.push(c), started = true).0,
        }
    }
    if started {
        words.push(word);
    }
    words
}

#[test]
fn every_cause_has_a_bug_report_whose_reproduction_shows_the_divergence() {
    common::guest_specs();
    let root = Project::this_checkout().root;
    let list: ExpectationsFile =
        serde_json::from_slice(&std::fs::read(root.join("cases/expectations.json")).unwrap()).unwrap();
    assert!(!list.causes.is_empty());
    for cause in &list.causes {
        // A cause the list records for older releases only is reported with them.
        let entries: Vec<_> = list.expectations.iter().filter(|e| e.causes.contains(&cause.id)).collect();
        let mut command = vec!["bug-report".to_string(), cause.id.clone()];
        if entries.iter().all(|e| e.sdks.values().all(|range| range.contains('<'))) {
            let start = |sdk: &str| {
                entries[0].sdks[sdk].trim_start_matches(">=").split(',').next().unwrap().to_string()
            };
            command.extend(["--rust-sdk".into(), start("kubewarden-policy-sdk")]);
            command.extend(["--go-sdk".into(), format!("v{}", start("github.com/kubewarden/policy-sdk-go"))]);
        }
        let out = kwconform(&command.iter().map(String::as_str).collect::<Vec<_>>(), &root);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(0), "{}: {}", cause.id, String::from_utf8_lossy(&out.stderr));
        assert!(text.starts_with(&format!("# {}\n", cause.title)), "{text}");
        for section in [
            "## Versions",
            "## The host's answer",
            "## What each SDK decoded",
            "## What the specifications say",
            "## Why it matters to a policy author",
            "## Cause",
            "## Reproduce",
        ] {
            assert!(text.contains(section), "{}: no {section}", cause.id);
        }
        assert!(text.contains(&cause.reason), "{}: the reason is shown", cause.id);
        // The differing paths the report lists.
        let decoded = text.split("## What each SDK decoded").nth(1).unwrap();
        let paths: Vec<&str> = decoded
            .lines()
            .take_while(|l| !l.starts_with("**"))
            .filter_map(|l| l.strip_prefix("| `")?.split('`').next())
            .collect();
        assert!(!paths.is_empty(), "{}: no differing path listed", cause.id);

        // The reproduction, run as written from the checkout (`cargo run --` is this binary);
        // the report goes to a scratch folder.
        let reproduce = text.split("## Reproduce").nth(1).unwrap();
        let line =
            reproduce.lines().find(|l| l.starts_with("cargo run -- ")).expect("a reproduction command");
        let mut args = words(line.strip_prefix("cargo run -- ").unwrap());
        let reports = tempfile::tempdir().unwrap();
        args.extend(["--report".to_string(), reports.path().display().to_string()]);
        let out = kwconform(&args.iter().map(String::as_str).collect::<Vec<_>>(), &root);
        let shown = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: `{line}` shows an unexpected divergence:\n{shown}",
            cause.id
        );
        assert!(shown.contains("1 unexpected of 1 cases"), "{}: the one case ran:\n{shown}", cause.id);
        for path in paths {
            assert!(shown.contains(path), "{}: `{line}` shows {path}:\n{shown}", cause.id);
        }
    }
}

#[test]
fn an_unknown_target_and_an_existing_out_file_are_refused() {
    let root = Project::this_checkout().root;
    let out = kwconform(&["bug-report", "no-such-cause"], &root);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither a cause"));
    let existing = tempfile::NamedTempFile::new().unwrap();
    let path = existing.path().display().to_string();
    let out = kwconform(&["bug-report", "go-case-insensitive-keys", "--out", &path], &root);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(existing.path()).unwrap(), b"", "nothing replaced");
}

#[test]
fn shell_words_split_like_a_shell() {
    assert_eq!(
        words("run --cases a/b.json --only 'x/y z'"),
        ["run", "--cases", "a/b.json", "--only", "x/y z"]
    );
}
