//! Reading case files and raw response folders into [`Case`]s, with errors that name
//! the file, line and column.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use walkdir::WalkDir;

use super::model::{Case, CaseFile, HostResponse, Input, Level, Op, Origin, ResponseSpec};

/// A problem with one case file, located in it (line 0: the file as a whole).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", path.display(), if *line == 0 { String::new() } else { format!(":{line}:{column}") })]
pub struct CaseError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Every problem found while loading a set of cases; loading reports them all at once.
#[derive(Debug, thiserror::Error)]
pub struct CaseErrors(pub Vec<CaseError>);

impl fmt::Display for CaseErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// The file name of the expectations list inside a case folder; never a case file.
pub const EXPECTATIONS_FILE_NAME: &str = "expectations.json";

/// Directory names under a case tree that hold response bodies, not case files.
pub const BODIES_DIR: &str = "bodies";
/// Directory name of a repro bundle's metadata (`kwconform repro --export`).
pub const BUNDLE_DIR: &str = "bundle";

/// Loads every case file (`*.json` but `expectations.json`, outside `bodies/` and
/// `bundle/` folders)
/// under the given folders,
/// or the given files themselves. Ids must be unique across all of them.
pub fn load_cases(roots: &[PathBuf]) -> Result<Vec<Case>, CaseErrors> {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for root in roots {
        for path in case_files(root, &mut errors) {
            match load_case_file(&path) {
                Ok(case) => cases.push(case),
                Err(e) => errors.push(e),
            }
        }
    }
    check_unique_ids(&cases, &mut errors);
    if errors.is_empty() { Ok(cases) } else { Err(CaseErrors(errors)) }
}

fn case_files(root: &Path, errors: &mut Vec<CaseError>) -> Vec<PathBuf> {
    if root.is_file() {
        return vec![root.to_path_buf()];
    }
    let mut files = Vec::new();
    let walk = WalkDir::new(root).sort_by_file_name().into_iter().filter_entry(|e| {
        !(e.file_type().is_dir() && (e.file_name() == BODIES_DIR || e.file_name() == BUNDLE_DIR))
    });
    for entry in walk {
        match entry {
            Ok(e) if is_case_file(&e) && !e.file_type().is_file() => errors.push(CaseError {
                path: e.into_path(),
                line: 0,
                column: 0,
                message:
                    "not a regular file (a symbolic link, FIFO or device): case folders hold case files \
                          themselves, never links to them"
                        .into(),
            }),
            Ok(e) if is_case_file(&e) => files.push(e.into_path()),
            Ok(_) => {}
            Err(e) => errors.push(CaseError {
                path: e.path().unwrap_or(root).to_path_buf(),
                line: 0,
                column: 0,
                message: format!("failed to read the case folder: {e}"),
            }),
        }
    }
    files
}

/// `*.json` (any case), except the expectations list (`expectations.json`); folders
/// are walked, not case files.
fn is_case_file(entry: &walkdir::DirEntry) -> bool {
    !entry.file_type().is_dir()
        && entry.path().extension().is_some_and(|x| x.eq_ignore_ascii_case("json"))
        && entry.file_name() != EXPECTATIONS_FILE_NAME
}

/// The members serde's messages say least about, checked first with messages that say
/// what is wrong: the document's type, `op`, and `response`'s one form (`None`: the
/// whole document). Values stay raw: numbers of any size are the SDKs' business. A
/// document that is not even valid JSON is left to the full parse, which locates it.
fn check_shape(text: &str) -> Result<(), (Option<&'static str>, String)> {
    type RawMembers = std::collections::BTreeMap<String, Box<serde_json::value::RawValue>>;
    let members: RawMembers = match serde_json::from_str(text) {
        Ok(members) => members,
        Err(_) => {
            let what = match text.trim_start().chars().next() {
                Some('[') => "an array",
                Some('"') => "a string",
                Some('t' | 'f') => "a boolean",
                Some('n') => "null",
                Some('-' | '0'..='9') => "a number",
                _ => return Ok(()),
            };
            return Err((None, format!("a case file is one JSON object, not {what}")));
        }
    };
    if let Some(op) = members.get("op")
        && serde_json::from_str::<String>(op.get()).ok().as_deref().and_then(Op::from_name).is_none()
    {
        let names: Vec<&str> = Op::ALL.iter().map(|o| o.name()).collect();
        return Err((Some("op"), format!("op must be one of {}, got {}", names.join(", "), op.get())));
    }
    const FORMS: [&str; 5] = ["json", "text", "base64", "file", "host_error"];
    if let Some(response) = members.get("response") {
        let Ok(forms) = serde_json::from_str::<RawMembers>(response.get()) else {
            let kind = serde_json::from_str::<serde_json::Value>(response.get())
                .map_or("not an object", |v| json_type(&v));
            return Err((
                Some("response"),
                format!("response must be an object with one of {}, got {kind}", FORMS.join(", ")),
            ));
        };
        if let Some(unknown) = forms.keys().find(|k| !FORMS.contains(&k.as_str())) {
            return Err((
                Some("response"),
                format!("unknown member {unknown:?} of response; use one of {}", FORMS.join(", ")),
            ));
        }
        if forms.len() != 1 {
            let given: Vec<&str> = forms.keys().map(String::as_str).collect();
            let given = if given.is_empty() { "none".to_string() } else { given.join(" and ") };
            return Err((
                Some("response"),
                format!("response must have exactly one of {}, got {given}", FORMS.join(", ")),
            ));
        }
    }
    Ok(())
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The largest case file, response file or raw response kwconform reads: real
/// manifests are kilobytes.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Reads a regular file of at most [`MAX_FILE_BYTES`]: never a link, a FIFO or a
/// device, which could hang the run, escape a folder or never end.
pub fn read_regular_file(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !meta.file_type().is_file() {
        return Err(format!("{} is not a regular file (a symbolic link, FIFO or device)", path.display()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{} has {} bytes, more than the {MAX_FILE_BYTES} kwconform reads",
            path.display(),
            meta.len()
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("{} grew past the {MAX_FILE_BYTES} bytes kwconform reads", path.display()));
    }
    Ok(bytes)
}

/// Parses and resolves one case file.
pub fn load_case_file(path: &Path) -> Result<Case, CaseError> {
    let error = |message: String| CaseError { path: path.to_path_buf(), line: 0, column: 0, message };
    let bytes = read_regular_file(path).map_err(|m| error(format!("failed to read the case file: {m}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let prefix = std::str::from_utf8(&e.as_bytes()[..valid]).expect("valid up to here");
        let (line, column) = line_column(prefix, prefix.len());
        CaseError { line, column, ..error(format!("the case file is not UTF-8 here: {}", e.utf8_error())) }
    })?;
    if text.starts_with('\u{feff}') {
        return Err(CaseError {
            line: 1,
            column: 1,
            ..error("the case file starts with a UTF-8 byte order mark; save it without one".into())
        });
    }
    let at_key = |key: &str, message: String| {
        let (line, column) = locate_key(&text, key);
        CaseError { path: path.to_path_buf(), line, column, message }
    };
    if let Err((key, message)) = check_shape(&text) {
        return Err(match key {
            Some(key) => at_key(key, message),
            None => CaseError { line: 1, column: 1, ..error(message) },
        });
    }
    let file: CaseFile = serde_json::from_str(&text).map_err(|e| CaseError {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })?;
    if let Err(message) = check_id(&file.id) {
        return Err(at_key("id", message));
    }
    let input = match (file.op.is_oci(), file.image, file.input) {
        (true, Some(image), None) => Case::image_input(&image),
        (false, None, Some(input)) => {
            super::input::check(file.op, &input)
                .map_err(|m| at_key("input", format!("input of {}: {m}", file.op)))?;
            input
        }
        (true, _, _) => {
            return Err(at_key(
                "op",
                format!("a {} case names its image with \"image\" and has no \"input\"", file.op),
            ));
        }
        (false, _, _) => {
            return Err(at_key(
                "op",
                format!(
                    "a {} case gives the SDK function's inputs in \"input\" and has no \"image\"",
                    file.op
                ),
            ));
        }
    };
    let response = resolve_response(&file.response, path).map_err(|m| at_key("response", m))?;
    Ok(Case {
        id: file.id,
        description: file.description,
        op: file.op,
        input,
        response,
        origin: file.origin,
        provenance: file.provenance,
        spec: file.spec,
        tags: file.tags,
        level: file.level,
        expect: file.expect,
        source: path.to_path_buf(),
    })
}

/// The input every raw response of `op` is asked with: none for the OCI operations
/// (each file names its image), a valid input of `op` for the others.
pub fn raw_input(op: Op, input: Option<Input>) -> Result<Input, String> {
    match (op.is_oci(), input) {
        (true, None) => Ok(Input::new()),
        (true, Some(_)) => {
            Err(format!("{op} takes no --input: each raw response's image is named after its file"))
        }
        (false, None) => {
            Err(format!("raw {op} responses need --input: the inputs of the SDK function, as JSON"))
        }
        (false, Some(input)) => {
            super::input::check(op, &input).map_err(|e| format!("--input is not a valid {op} input: {e}"))?;
            Ok(input)
        }
    }
}

/// Files a raw folder holds that are not host responses: hidden entries, Markdown,
/// licences and `PROVENANCE.json` (the shared fixtures' index). Documented in
/// docs/case-format.md; everything else is a response.
pub fn is_raw_exempt(name: &str) -> bool {
    name.starts_with('.') || name.ends_with(".md") || name.starts_with("LICENSE") || name == "PROVENANCE.json"
}

/// Every file under `dir` (recursively) is a raw host response for `op`; the case id
/// is the path relative to `dir`. An OCI operation's image is named after the file;
/// every other operation's cases take `input` (checked by [`raw_input`]). Returns the
/// cases and the exempt files skipped.
pub fn load_raw_dir(dir: &Path, op: Op, input: &Input) -> Result<(Vec<Case>, Vec<PathBuf>), CaseErrors> {
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    let mut errors = Vec::new();
    let mut walk = WalkDir::new(dir).sort_by_file_name().into_iter();
    while let Some(entry) = walk.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                errors.push(CaseError {
                    path: e.path().unwrap_or(dir).to_path_buf(),
                    line: 0,
                    column: 0,
                    message: format!("failed to read the raw folder: {e}"),
                });
                continue;
            }
        };
        let name = entry.file_name().to_string_lossy();
        let exempt = entry.depth() > 0 && is_raw_exempt(&name);
        if entry.file_type().is_dir() {
            // A hidden folder (`.git`) is skipped whole, and named.
            if entry.depth() > 0 && name.starts_with('.') {
                skipped.push(entry.into_path());
                walk.skip_current_dir();
            }
            continue;
        }
        // Not regular files either (symbolic links, FIFOs, sockets): named, never read.
        if exempt || !entry.file_type().is_file() {
            skipped.push(entry.into_path());
            continue;
        }
        let path = entry.into_path();
        // The id is the relative path, each segment made to follow the id rule.
        let relative = path.strip_prefix(dir).unwrap_or(&path);
        let id = relative.iter().map(|s| id_segment(&s.to_string_lossy())).collect::<Vec<_>>().join("/");
        match read_regular_file(&path) {
            Ok(bytes) => cases.push(Case {
                description: format!("raw {op} response from {}", path.display()),
                input: if op.is_oci() {
                    Case::image_input(&format!(
                        "kwconform.test/raw/{}:latest",
                        id.to_lowercase().replace(['_', ' '], "-")
                    ))
                } else {
                    input.clone()
                },
                id,
                op,
                response: HostResponse::Success(bytes),
                origin: Origin::RegistryRaw,
                provenance: None,
                spec: None,
                tags: vec!["raw".into()],
                level: Level::Required,
                expect: None,
                source: path,
            }),
            Err(e) => errors.push(CaseError {
                path,
                line: 0,
                column: 0,
                message: format!("failed to read the response: {e}"),
            }),
        }
    }
    check_unique_ids(&cases, &mut errors);
    if errors.is_empty() { Ok((cases, skipped)) } else { Err(CaseErrors(errors)) }
}

fn resolve_response(spec: &ResponseSpec, case_path: &Path) -> Result<HostResponse, String> {
    Ok(match spec {
        ResponseSpec::Json(raw) => HostResponse::Success(compact_json(raw.get()).into_bytes()),
        ResponseSpec::Text(text) => HostResponse::Success(text.as_bytes().to_vec()),
        ResponseSpec::Base64(b64) => HostResponse::Success(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| format!("response.base64 is not standard base64: {e}"))?,
        ),
        ResponseSpec::File(rel) => HostResponse::Success(read_response_file(case_path, rel)?),
        ResponseSpec::HostError(message) => HostResponse::Error(message.clone()),
    })
}

/// A response `file`: a relative path that stays inside the case file's folder, to a
/// regular file of bounded size.
fn read_response_file(case_path: &Path, rel: &Path) -> Result<Vec<u8>, String> {
    use std::path::Component;
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) || rel.as_os_str().is_empty() {
        return Err(format!(
            "response.file {:?} must be a relative path inside the case file's folder (no `..`, no leading `/`)",
            rel.display().to_string()
        ));
    }
    let folder = case_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let path = folder.join(rel);
    let (real_folder, real_path) = (std::fs::canonicalize(folder), std::fs::canonicalize(&path));
    match (real_folder, real_path) {
        (Ok(f), Ok(p)) if !p.starts_with(&f) => {
            return Err(format!("response.file {} leads outside the case file's folder", path.display()));
        }
        (_, Err(e)) => return Err(format!("failed to read response.file {}: {e}", path.display())),
        _ => {}
    }
    read_regular_file(&path).map_err(|m| format!("failed to read response.file: {m}"))
}

/// Removes the whitespace between JSON tokens, leaving every token as written.
pub fn compact_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    out
}

/// The one rule for case ids, shared by the loader and every writer (imports, twins,
/// fuzz findings, bundles): `/`-separated segments of `[A-Za-z0-9._-]`, none empty,
/// none `.` or `..`, none starting with `.`. An id is also a relative path under a case
/// folder, so a valid id never leaves it.
pub fn check_id(id: &str) -> Result<(), String> {
    let segment_ok = |s: &str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    };
    if !id.split('/').all(segment_ok) {
        return Err(format!(
            "invalid case id {id:?}: use '/'-separated segments of letters, digits, '.', '_' and '-', \
             none empty and none starting with '.'"
        ));
    }
    Ok(())
}

/// A free-form name (a file name, a session name) made into one valid id segment:
/// lower case, every other character `-`, no leading dots.
pub fn id_segment(name: &str) -> String {
    let mapped: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' })
        .collect();
    let trimmed = mapped.trim_start_matches('.');
    if trimmed.is_empty() { "unnamed".to_string() } else { trimmed.to_string() }
}

fn check_unique_ids(cases: &[Case], errors: &mut Vec<CaseError>) {
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    for case in cases {
        if let Some(first) = seen.insert(&case.id, &case.source) {
            let text = read_regular_file(&case.source).unwrap_or_default();
            let (line, column) = locate_key(&String::from_utf8_lossy(&text), "id");
            errors.push(CaseError {
                path: case.source.clone(),
                line,
                column,
                message: format!("duplicate case id {:?}, first used in {}", case.id, first.display()),
            });
        }
    }
}

/// The 1-based line and column of the first `"key":` in a JSON text, or (1, 1).
fn locate_key(text: &str, key: &str) -> (usize, usize) {
    let needle = format!("\"{key}\"");
    let mut from = 0;
    while let Some(found) = text[from..].find(&needle) {
        let at = from + found;
        let rest = text[at + needle.len()..].trim_start();
        if rest.starts_with(':') {
            return line_column(text, at);
        }
        from = at + needle.len();
    }
    (1, 1)
}

/// The 1-based line and column of a byte offset in a text.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    (before.matches('\n').count() + 1, before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1)
}

/// serde_json appends " at line L column C"; the location is printed in front instead.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
