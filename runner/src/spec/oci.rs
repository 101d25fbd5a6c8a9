//! The OCI image-spec's own JSON Schemas (v1.1.1, the release the Go SDK decodes into;
//! vendored unmodified in `runner/spec/image-spec-v1.1.1/` with their licence and
//! provenance). The schemas are draft-04 and refer to each other by file name from
//! inside nested `id`s; as the image-spec's own Go validator does, a reference is
//! resolved by its file name alone.

use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;

use crate::case::Op;

/// How a response stands against the image-spec's schemas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum OciVerdict {
    /// Valid against every schema that applies (named).
    Valid { schemas: Vec<String> },
    /// Invalid: the first [`MAX_ERRORS`] errors, each with its JSON Pointer and the schema,
    /// then `… and N more` when there were more.
    Invalid { errors: Vec<String> },
    /// No OCI schema decides (why).
    NotApplicable { reason: String },
}

pub const MAX_ERRORS: usize = 5;

const FILES: [(&str, &str); 6] = [
    ("image-manifest-schema.json", include_str!("../../spec/image-spec-v1.1.1/image-manifest-schema.json")),
    ("image-index-schema.json", include_str!("../../spec/image-spec-v1.1.1/image-index-schema.json")),
    ("content-descriptor.json", include_str!("../../spec/image-spec-v1.1.1/content-descriptor.json")),
    ("config-schema.json", include_str!("../../spec/image-spec-v1.1.1/config-schema.json")),
    ("defs.json", include_str!("../../spec/image-spec-v1.1.1/defs.json")),
    ("defs-descriptor.json", include_str!("../../spec/image-spec-v1.1.1/defs-descriptor.json")),
];

const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_PREFIX: &str = "application/vnd.docker.";

/// Serves the vendored files by the last segment of whatever URI a reference makes.
struct ByFileName;

impl jsonschema::Retrieve for ByFileName {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.path().as_str().rsplit('/').next().unwrap_or_default();
        let (_, text) = FILES
            .iter()
            .find(|(file, _)| *file == name)
            .ok_or_else(|| format!("no vendored image-spec schema named {name:?} ({uri})"))?;
        Ok(serde_json::from_str(text)?)
    }
}

struct Schemas {
    manifest: jsonschema::Validator,
    index: jsonschema::Validator,
    config: jsonschema::Validator,
    digest: jsonschema::Validator,
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let build = |schema: Value| {
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft4)
                .with_retriever(ByFileName)
                .build(&schema)
                .expect("the vendored image-spec schemas compile")
        };
        let file = |name: &str| {
            let (_, text) = FILES.iter().find(|(file, _)| *file == name).expect("a vendored file");
            build(serde_json::from_str(text).expect("the vendored schemas are JSON"))
        };
        Schemas {
            manifest: file("image-manifest-schema.json"),
            index: file("image-index-schema.json"),
            config: file("config-schema.json"),
            digest: build(serde_json::json!({
                "$ref": "https://opencontainers.org/schema/image/defs-descriptor.json#/definitions/digest"
            })),
        }
    })
}

/// Judges a response of `op` (already read as JSON) against the schemas that apply.
pub fn judge(op: Op, value: &Value) -> OciVerdict {
    let s = schemas();
    if !op.is_oci() {
        return not_applicable("no OCI schema speaks to this operation's answer");
    }
    let parts: Vec<(&str, &str, &jsonschema::Validator, &Value)> = match op {
        Op::OciManifest => match document_schema(value) {
            Ok((name, validator)) => vec![("", name, validator, value)],
            Err(reason) => return OciVerdict::NotApplicable { reason },
        },
        // Kubewarden's own envelopes: the OCI parts inside are judged.
        Op::ManifestDigest => match value.get("digest") {
            Some(digest) => vec![("/digest", "defs-descriptor.json#/definitions/digest", &s.digest, digest)],
            None => return not_applicable("no `digest` member to judge"),
        },
        Op::OciManifestConfig => {
            let mut parts = Vec::new();
            if let Some(manifest) = value.get("manifest") {
                match document_schema(manifest) {
                    Ok((name, validator)) => parts.push(("/manifest", name, validator, manifest)),
                    Err(reason) => return OciVerdict::NotApplicable { reason },
                }
            }
            if let Some(digest) = value.get("digest") {
                parts.push(("/digest", "defs-descriptor.json#/definitions/digest", &s.digest, digest));
            }
            if let Some(config) = value.get("config") {
                parts.push(("/config", "config-schema.json", &s.config, config));
            }
            if parts.is_empty() {
                return not_applicable("none of `manifest`, `digest`, `config` to judge");
            }
            parts
        }
        _ => unreachable!("only the OCI operations get here"),
    };
    // Only the first errors are written out, so a document with a million bad members
    // costs a count, not a million messages.
    let (mut errors, mut more) = (Vec::new(), 0usize);
    for (at, name, validator, part) in &parts {
        for error in validator.iter_errors(part) {
            if errors.len() == MAX_ERRORS {
                more += 1;
                continue;
            }
            let path = format!("{at}{}", error.instance_path());
            let path = if path.is_empty() { "/" } else { &path };
            errors.push(format!("{path}: {error} ({name})"));
        }
    }
    if errors.is_empty() {
        let schemas = parts
            .iter()
            .map(|(at, name, ..)| format!("{name} at {}", if at.is_empty() { "/" } else { at }))
            .collect();
        return OciVerdict::Valid { schemas };
    }
    if more > 0 {
        errors.push(format!("… and {more} more"));
    }
    OciVerdict::Invalid { errors }
}

fn not_applicable(reason: &str) -> OciVerdict {
    OciVerdict::NotApplicable { reason: reason.into() }
}

/// The schema of a manifest-or-index document: the one its OCI `mediaType` names, else
/// by whether it has `manifests` (an index) or not (a manifest).
fn document_schema(value: &Value) -> Result<(&'static str, &'static jsonschema::Validator), String> {
    let s = schemas();
    match value.get("mediaType").and_then(Value::as_str) {
        Some(t) if t.starts_with(DOCKER_PREFIX) => {
            Err(format!("a Docker document ({t}): the OCI schemas do not define it"))
        }
        Some(INDEX_TYPE) => Ok(("image-index-schema.json", &s.index)),
        Some(MANIFEST_TYPE) => Ok(("image-manifest-schema.json", &s.manifest)),
        _ if value.get("manifests").is_some() => Ok(("image-index-schema.json", &s.index)),
        _ => Ok(("image-manifest-schema.json", &s.manifest)),
    }
}
