//! The documentation stays true: generated schemas are current and examples load.
//! Regenerate with `KWCONFORM_BLESS=1 cargo test --test docs`.

use std::path::PathBuf;

use kwconform::case::CaseFile;
use kwconform::expectations::ExpectationsFile;
use kwconform::guest_build::Project;
use kwconform::report::Report;

fn docs() -> PathBuf {
    Project::this_checkout().root.join("docs")
}

/// Compares a committed schema with the one generated from the Rust types.
fn check_schema(file: &str, schema: schemars::Schema) {
    let path = docs().join(file);
    let generated = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    if std::env::var_os("KWCONFORM_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: run `KWCONFORM_BLESS=1 cargo test --test docs` and commit it",
        path.display()
    );
}

#[test]
fn the_schemas_in_docs_are_generated_from_the_types() {
    check_schema("report.schema.json", serde_json::from_value(Report::schema()).unwrap());
    check_schema("case.schema.json", schemars::schema_for!(CaseFile));
    check_schema("expectations.schema.json", schemars::schema_for!(ExpectationsFile));
}

/// Fenced blocks whose info string is `json case` in a Markdown file.
fn case_examples(markdown: &str) -> Vec<String> {
    let mut examples = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```json case") => current = Some(String::new()),
            (Some(block), "```") => {
                examples.push(std::mem::take(block));
                current = None;
            }
            (Some(block), line) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    examples
}

#[test]
fn every_case_example_in_the_docs_is_a_valid_case() {
    let mut seen = 0;
    for doc in ["case-format.md", "../README.md"] {
        let markdown = std::fs::read_to_string(docs().join(doc)).unwrap();
        for (i, example) in case_examples(&markdown).into_iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(format!("example-{i}.json"));
            std::fs::write(&path, example).unwrap();
            if let Err(e) = kwconform::case::load_case_file(&path) {
                panic!("example {i} of {doc} is not a valid case: {e}");
            }
            seen += 1;
        }
    }
    assert!(seen >= 3, "expected case examples in the docs, found {seen}");
}

/// The table of Go types in docs/decoded-view.md is the runner's own table, rendered.
#[test]
fn the_go_types_table_in_the_docs_is_generated_from_the_runner_s() {
    check_block("decoded-view.md", "go-types", &kwconform::equality::markdown_table());
}

/// Compares the block between `<!-- BEGIN name` and `<!-- END name -->` of a docs page
/// with `generated`.
fn check_block(page: &str, name: &str, generated: &str) {
    let path = docs().join(page);
    let text = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = (format!("<!-- BEGIN {name}"), format!("<!-- END {name} -->"));
    let start = text.find(&begin).unwrap_or_else(|| panic!("no {begin} marker in {page}"));
    let start = start + text[start..].find('\n').unwrap() + 1;
    let stop = text.find(&end).unwrap_or_else(|| panic!("no {end} marker in {page}"));
    if std::env::var_os("KWCONFORM_BLESS").is_some() {
        std::fs::write(&path, format!("{}{generated}{}", &text[..start], &text[stop..])).unwrap();
        return;
    }
    assert!(
        text[start..stop] == *generated,
        "{} is stale: run `KWCONFORM_BLESS=1 cargo test --test docs` and commit it",
        path.display()
    );
}

/// The table of caps in docs/guest-protocol.md is the runner's own, rendered.
#[test]
fn the_limits_table_in_the_docs_is_generated_from_the_runner_s() {
    check_block("guest-protocol.md", "limits", &kwconform::host::limits_markdown_table());
}
