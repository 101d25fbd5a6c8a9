use std::path::Path;

use super::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

const VALID: &str = r#"{
  "id": "oci_manifest/x/valid",
  "description": "a valid case",
  "op": "oci_manifest",
  "image": "ghcr.io/a/b:c",
  "origin": "synthetic",
  "response": {"json": {"b": 1,  "a": [1.0, 2]}}
}"#;

#[test]
fn a_valid_case_loads_with_its_json_response_compacted_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "valid.json", VALID);
    let case = load_case_file(&path).unwrap();
    assert_eq!(case.id, "oci_manifest/x/valid");
    assert_eq!(case.op, Op::OciManifest);
    assert_eq!(case.response, HostResponse::Success(br#"{"b":1,"a":[1.0,2]}"#.to_vec()));
}

#[test]
fn unknown_keys_are_rejected_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let text = VALID.replace("\"origin\"", "\"orign\": 1,\n  \"origin\"");
    let path = write(dir.path(), "bad.json", &text);
    let e = load_case_file(&path).unwrap_err();
    assert_eq!((e.line, e.column), (6, 9)); // serde_json points at the end of the key
    assert!(e.message.contains("unknown field `orign`"), "{}", e.message);
    assert!(e.to_string().starts_with(&format!("{}:6:9: ", path.display())), "{e}");
}

#[test]
fn an_unknown_op_names_the_choices() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad.json", &VALID.replace("\"oci_manifest\",", "\"oci_manifests\","));
    let e = load_case_file(&path).unwrap_err();
    assert_eq!(e.line, 4);
    assert!(e.message.contains("oci_manifest_config"), "{}", e.message);
}

#[test]
fn syntax_errors_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad.json", "{\n  \"id\": \"a\",,\n}");
    let e = load_case_file(&path).unwrap_err();
    assert_eq!((e.line, e.column), (2, 13));
}

#[test]
fn response_problems_point_at_the_response_key() {
    let dir = tempfile::tempdir().unwrap();
    let text = VALID.replace(r#"{"json": {"b": 1,  "a": [1.0, 2]}}"#, r#"{"base64": "!!"}"#);
    let e = load_case_file(&write(dir.path(), "b64.json", &text)).unwrap_err();
    assert_eq!((e.line, e.column), (7, 3));
    assert!(e.message.contains("base64"), "{}", e.message);
    let text = VALID.replace(r#"{"json": {"b": 1,  "a": [1.0, 2]}}"#, r#"{"file": "bodies/missing.json"}"#);
    let e = load_case_file(&write(dir.path(), "file.json", &text)).unwrap_err();
    assert!(e.message.contains("missing.json"), "{}", e.message);
}

#[test]
fn response_files_are_read_relative_to_the_case_and_not_loaded_as_cases() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "op/bodies/m.json", "{\"x\": 1}\n");
    let text = VALID.replace(r#"{"json": {"b": 1,  "a": [1.0, 2]}}"#, r#"{"file": "bodies/m.json"}"#);
    write(dir.path(), "op/case.json", &text);
    let cases = load_cases(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].response, HostResponse::Success(b"{\"x\": 1}\n".to_vec()));
}

#[test]
fn duplicate_ids_are_rejected_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(dir.path(), "a.json", VALID);
    let second = write(dir.path(), "b.json", VALID);
    let errors = load_cases(&[dir.path().to_path_buf()]).unwrap_err().0;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path, second);
    assert_eq!((errors[0].line, errors[0].column), (2, 3));
    assert!(errors[0].message.contains(&first.display().to_string()), "{}", errors[0].message);
}

#[test]
fn invalid_ids_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    for id in ["", "a//b", "/a", "a b", "a/"] {
        let path = write(dir.path(), "id.json", &VALID.replace("oci_manifest/x/valid", id));
        let e = load_case_file(&path).unwrap_err();
        assert_eq!(e.line, 2, "{id:?}");
    }
}

#[test]
fn every_error_of_a_folder_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.json", "{");
    write(dir.path(), "b.json", "[]");
    write(dir.path(), "c.json", VALID);
    assert_eq!(load_cases(&[dir.path().to_path_buf()]).unwrap_err().0.len(), 2);
}

#[test]
fn raw_folders_skip_only_the_documented_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "x/manifest.json", "{}");
    write(dir.path(), "x/notes.txt", "not json at all");
    write(dir.path(), "PROVENANCE.json", "{}");
    write(dir.path(), "README.md", "#");
    write(dir.path(), ".hidden/a.json", "{}");
    write(dir.path(), "x/.swap", "{}");
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join("x/link.json")).unwrap();
    let (cases, skipped) = load_raw_dir(dir.path(), Op::OciManifest, &Input::new()).unwrap();
    let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["x/manifest.json", "x/notes.txt"]);
    // Every skip is named: a hidden folder whole, a hidden file, a symbolic link.
    let names: Vec<String> =
        skipped.iter().map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string()).collect();
    assert_eq!(names, [".hidden", "PROVENANCE.json", "README.md", "x/.swap", "x/link.json"]);
    assert_eq!(cases[1].response, HostResponse::Success(b"not json at all".to_vec()));
}

#[test]
fn raw_responses_of_other_operations_take_one_checked_input() {
    let input = |json: &str| serde_json::from_str::<Input>(json).unwrap();
    let pods = input(r#"{"api_version": "v1", "kind": "Pod", "namespace": "default"}"#);
    assert_eq!(raw_input(Op::ListResourcesByNamespace, Some(pods.clone())), Ok(pods.clone()));
    assert!(raw_input(Op::ListResourcesByNamespace, None).unwrap_err().contains("need --input"));
    assert!(raw_input(Op::OciManifest, Some(pods.clone())).unwrap_err().contains("takes no --input"));
    let wrong = raw_input(Op::ListResourcesAll, Some(input(r#"{"api_version": "v1", "kind": "Secret"}"#)));
    assert!(wrong.unwrap_err().starts_with("--input is not a valid list_resources_all input: "));
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "kube-system.json", r#"{"items": []}"#);
    let (cases, _) = load_raw_dir(dir.path(), Op::ListResourcesByNamespace, &pods).unwrap();
    assert_eq!(cases[0].input, pods);
}

#[test]
fn compacting_keeps_strings_and_tokens_as_written() {
    assert_eq!(
        compact_json("{ \"a b\" : [ 1.50 , \"x\\\" y\" ],\n\t\"k\": 1e3 }"),
        "{\"a b\":[1.50,\"x\\\" y\"],\"k\":1e3}"
    );
}
