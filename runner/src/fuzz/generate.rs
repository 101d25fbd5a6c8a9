//! Generators: proptest strategies for spec-valid host responses of each operation,
//! built from the OCI image-spec's vocabularies (docs/fuzzing.md, "Generators").
//! Optional fields come and go, so both SDKs see the whole spec, not one happy path.

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use sha2::{Digest as _, Sha256, Sha512};

use super::doc::Doc;
use serde_json::json;

use crate::case::{Case, Input, Op};

pub const MANIFEST_MEDIA_TYPES: [&str; 2] =
    ["application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"];
pub const INDEX_MEDIA_TYPES: [&str; 2] =
    ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];
const CONFIG_MEDIA_TYPES: [&str; 5] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
    "application/vnd.oci.empty.v1+json",
    "application/vnd.wasm.config.v1+json",
    "application/vnd.cncf.helm.config.v1+json",
];
const LAYER_MEDIA_TYPES: [&str; 6] = [
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.wasm.content.layer.v1+wasm",
    "application/vnd.in-toto+json",
];
const ARTIFACT_TYPES: [&str; 3] = [
    "application/vnd.example.sbom.v1+json",
    "application/spdx+json",
    "application/vnd.dev.cosign.artifact.sig.v1+json",
];
const ARCHITECTURES: [&str; 8] = ["amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "wasm"];
const OSES: [&str; 5] = ["linux", "windows", "darwin", "freebsd", "wasip1"];
const VARIANTS: [&str; 4] = ["v5", "v6", "v7", "v8"];
const ANNOTATION_KEYS: [&str; 5] = [
    "org.opencontainers.image.title",
    "org.opencontainers.image.created",
    "org.opencontainers.image.source",
    "io.kubewarden.policy.title",
    "vnd.docker.reference.type",
];
const WORDS: [&str; 6] = ["policy.wasm", "kubewarden", "latest", "x", "", "attestation-manifest"];

/// A spec-valid host response for `op`.
pub fn document(op: Op) -> BoxedStrategy<Doc> {
    match op {
        Op::OciManifest => prop_oneof![3 => image_manifest(), 2 => index()].boxed(),
        Op::ManifestDigest => digest().prop_map(|d| Doc::object([("digest", d)])).boxed(),
        Op::OciManifestConfig => (image_manifest(), digest(), image_config())
            .prop_map(|(m, d, c)| Doc::object([("manifest", m), ("digest", d), ("config", c)]))
            .boxed(),
        Op::VerifyPubKeys
        | Op::VerifyKeylessExact
        | Op::VerifyKeylessPrefix
        | Op::VerifyGithubActions
        | Op::VerifyCertificate => (any::<bool>(), digest())
            .prop_map(|(trusted, d)| Doc::object([("is_trusted", Doc::Bool(trusted)), ("digest", d)]))
            .boxed(),
        Op::IsCertificateTrusted => (any::<bool>(), text(&REASONS))
            .prop_map(|(trusted, reason)| Doc::object([("trusted", Doc::Bool(trusted)), ("reason", reason)]))
            .boxed(),
        Op::DnsLookupHost => {
            vec(text(&IPS), 0..4).prop_map(|ips| Doc::object([("ips", Doc::Array(ips))])).boxed()
        }
        // Kubernetes' SubjectAccessReviewStatus: `allowed` required, the rest optional.
        Op::CanI => (
            any::<bool>(),
            option::of(any::<bool>().prop_map(Doc::Bool)),
            option::of(text(&REASONS)),
            option::of(text(&REASONS)),
        )
            .prop_map(|(allowed, denied, reason, error)| {
                members(vec![
                    ("allowed", Some(Doc::Bool(allowed))),
                    ("denied", denied),
                    ("reason", reason),
                    ("evaluationError", error),
                ])
            })
            .boxed(),
        Op::GetResource => k8s_object("v1", "Namespace").boxed(),
        Op::ListResourcesByNamespace => k8s_list("apps/v1", "Deployment").boxed(),
        Op::ListResourcesAll => k8s_list("v1", "Namespace").boxed(),
    }
}

const K8S_NAMES: [&str; 4] = ["customer-1", "frontend", "api-auth-service", "kube-system"];
const K8S_LABELS: [&str; 3] = ["customer-id", "app", "kubernetes.io/metadata.name"];

/// A Kubernetes object as the host sends it: `apiVersion` and `kind` present or not
/// (the host's lists leave them out of their items), metadata, an optional `status`.
fn k8s_object(api_version: &'static str, kind: &'static str) -> impl Strategy<Value = Doc> + Clone {
    (
        any::<bool>(),
        text(&K8S_NAMES),
        option::of(btree_map(select(&K8S_LABELS[..]), select(&K8S_NAMES[..]), 1..3)),
        option::of(any::<u32>()),
    )
        .prop_map(move |(typed, name, labels, version)| {
            let labels = labels
                .map(|m| Doc::Object(m.into_iter().map(|(k, v)| (k.to_string(), Doc::str(v))).collect()));
            let metadata = members(vec![
                ("name", Some(name)),
                ("labels", labels),
                ("resourceVersion", version.map(|v| Doc::str(v.to_string()))),
            ]);
            members(vec![
                ("apiVersion", typed.then(|| Doc::str(api_version))),
                ("kind", typed.then(|| Doc::str(kind))),
                ("metadata", Some(metadata)),
            ])
        })
}

/// A list as the host sends it: `metadata.resourceVersion` and the items.
fn k8s_list(api_version: &'static str, kind: &'static str) -> impl Strategy<Value = Doc> + Clone {
    (any::<u32>(), vec(k8s_object(api_version, kind), 0..4)).prop_map(|(version, items)| {
        Doc::object([
            ("metadata", Doc::object([("resourceVersion", Doc::str(version.to_string()))])),
            ("items", Doc::Array(items)),
        ])
    })
}

const REASONS: [&str; 3] = ["", "certificate expired", "x509: certificate signed by unknown authority"];
const IPS: [&str; 5] = ["10.0.0.1", "192.168.1.20", "::1", "2001:db8::68", "fe80::1%eth0"];

/// The image reference every fuzz input of an OCI operation is fetched for.
pub const IMAGE: &str = "ghcr.io/kubewarden/tests/fuzz:latest";

/// The guest request every fuzz input of `op` answers: the image, or typical inputs.
pub fn input(op: Op) -> Input {
    let value = match op {
        Op::OciManifest | Op::ManifestDigest | Op::OciManifestConfig => return Case::image_input(IMAGE),
        Op::VerifyPubKeys => json!({"image": IMAGE, "pub_keys": [PUB_KEY]}),
        Op::VerifyKeylessExact => {
            json!({"image": IMAGE, "keyless": [{"issuer": ISSUER, "subject": "ci@example.com"}]})
        }
        Op::VerifyKeylessPrefix => {
            json!({"image": IMAGE, "keyless_prefix": [{"issuer": ISSUER, "url_prefix": "https://github.com/kubewarden"}]})
        }
        Op::VerifyGithubActions => json!({"image": IMAGE, "owner": "kubewarden", "repo": "policy-server"}),
        Op::VerifyCertificate => {
            json!({"image": IMAGE, "certificate": PUB_KEY, "require_rekor_bundle": true})
        }
        Op::IsCertificateTrusted => json!({"cert": {"encoding": "Pem", "data": PUB_KEY}}),
        Op::DnsLookupHost => json!({"host": "example.com"}),
        Op::CanI => json!({
            "user": "system:serviceaccount:kubewarden:policy-server",
            "resource_attributes": {"namespace": "default", "verb": "create", "group": "apps", "resource": "deployments"},
            "disable_cache": false
        }),
        Op::GetResource => json!({
            "api_version": "v1", "kind": "Namespace", "name": "customer-1", "namespace": "customer-1",
            "disable_cache": false, "field_masks": ["metadata.name"]
        }),
        Op::ListResourcesByNamespace => json!({
            "api_version": "apps/v1", "kind": "Deployment", "namespace": "customer-1",
            "label_selector": "app=frontend", "field_selector": "metadata.name=frontend", "field_masks": ["spec.replicas"]
        }),
        Op::ListResourcesAll => json!({
            "api_version": "v1", "kind": "Namespace", "label_selector": "customer-id=1",
            "field_selector": "status.phase=Active", "field_masks": ["metadata.labels"]
        }),
    };
    match value {
        serde_json::Value::Object(input) => input,
        _ => unreachable!("inputs are objects"),
    }
}

const ISSUER: &str = "https://token.actions.githubusercontent.com";
const PUB_KEY: &str =
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n";

/// An object of the members that are present, in the order given.
fn members(items: Vec<(&'static str, Option<Doc>)>) -> Doc {
    Doc::Object(items.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))).collect())
}

fn text(choices: &'static [&'static str]) -> impl Strategy<Value = Doc> + Clone {
    select(choices).prop_map(Doc::str)
}

/// `sha256:` or `sha512:` with the right number of lowercase hex digits.
pub fn digest() -> impl Strategy<Value = Doc> + Clone {
    (any::<u32>(), prop::bool::weighted(0.15)).prop_map(|(seed, long)| {
        let bytes = seed.to_le_bytes();
        let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        Doc::String(if long {
            format!("sha512:{}", hex(&Sha512::digest(bytes)))
        } else {
            format!("sha256:{}", hex(&Sha256::digest(bytes)))
        })
    })
}

/// Sizes are int64 in the spec: small ones mostly, up to 2^63 - 1.
fn size() -> impl Strategy<Value = Doc> + Clone {
    prop_oneof![4 => 0u64..1 << 24, 1 => 0u64..=i64::MAX as u64].prop_map(Doc::int)
}

fn annotations() -> impl Strategy<Value = Option<Doc>> + Clone {
    option::weighted(0.3, btree_map(select(&ANNOTATION_KEYS[..]), select(&WORDS[..]), 1..3)).prop_map(|m| {
        m.map(|m| Doc::Object(m.into_iter().map(|(k, v)| (k.to_string(), Doc::str(v))).collect()))
    })
}

fn platform() -> impl Strategy<Value = Doc> + Clone {
    (
        text(&ARCHITECTURES),
        text(&OSES),
        option::weighted(0.2, select(&["10.0.17763.1879", "10.0.20348.2402"][..])),
        option::weighted(0.1, Just(vec![Doc::str("win32k")])),
        option::weighted(0.3, text(&VARIANTS)),
        option::weighted(0.1, Just(vec![Doc::str("sse4")])),
    )
        .prop_map(|(arch, os, os_version, os_features, variant, features)| {
            members(vec![
                ("architecture", Some(arch)),
                ("os", Some(os)),
                ("os.version", os_version.map(Doc::str)),
                ("os.features", os_features.map(Doc::Array)),
                ("variant", variant),
                ("features", features.map(Doc::Array)),
            ])
        })
}

fn descriptor(
    media_types: &'static [&'static str],
    with_platform: bool,
) -> impl Strategy<Value = Doc> + Clone {
    (
        text(media_types),
        digest(),
        size(),
        option::weighted(0.1, Just(vec![Doc::str("https://example.com/blob")])),
        annotations(),
        option::weighted(0.1, select(&["e30=", "aGVsbG8="][..])),
        option::weighted(0.8, platform()),
        option::weighted(0.1, text(&ARTIFACT_TYPES)),
    )
        .prop_map(move |(media_type, digest, size, urls, annotations, data, platform, artifact_type)| {
            // Platforms belong to index entries only.
            let platform = platform.filter(|_| with_platform);
            members(vec![
                ("mediaType", Some(media_type)),
                ("digest", Some(digest)),
                ("size", Some(size)),
                ("urls", urls.map(Doc::Array)),
                ("annotations", annotations),
                ("data", data.map(Doc::str)),
                ("platform", platform),
                ("artifactType", artifact_type),
            ])
        })
}

pub fn image_manifest() -> impl Strategy<Value = Doc> + Clone {
    (
        option::weighted(0.8, text(&MANIFEST_MEDIA_TYPES)),
        option::weighted(0.15, text(&ARTIFACT_TYPES)),
        descriptor(&CONFIG_MEDIA_TYPES, false),
        vec(descriptor(&LAYER_MEDIA_TYPES, false), 0..4),
        option::weighted(0.15, descriptor(&MANIFEST_MEDIA_TYPES, false)),
        annotations(),
    )
        .prop_map(|(media_type, artifact_type, config, layers, subject, annotations)| {
            members(vec![
                ("schemaVersion", Some(Doc::int(2))),
                ("mediaType", media_type),
                ("artifactType", artifact_type),
                ("config", Some(config)),
                ("layers", Some(Doc::Array(layers))),
                ("subject", subject),
                ("annotations", annotations),
            ])
        })
}

fn index() -> impl Strategy<Value = Doc> + Clone {
    (
        option::weighted(0.8, text(&INDEX_MEDIA_TYPES)),
        option::weighted(0.1, text(&ARTIFACT_TYPES)),
        vec(descriptor(&MANIFEST_MEDIA_TYPES, true), 0..4),
        option::weighted(0.1, descriptor(&MANIFEST_MEDIA_TYPES, false)),
        annotations(),
    )
        .prop_map(|(media_type, artifact_type, manifests, subject, annotations)| {
            members(vec![
                ("schemaVersion", Some(Doc::int(2))),
                ("mediaType", media_type),
                ("artifactType", artifact_type),
                ("manifests", Some(Doc::Array(manifests))),
                ("subject", subject),
                ("annotations", annotations),
            ])
        })
}

/// RFC 3339 timestamps, with and without fractions and offsets.
fn timestamp() -> impl Strategy<Value = Doc> + Clone {
    (
        0i64..4_102_444_800,
        0u32..1_000_000_000,
        select(&["Z", "+00:00", "+02:00", "-07:30"][..]),
        any::<bool>(),
    )
        .prop_map(|(secs, nanos, offset, fraction)| {
            let t = chrono::DateTime::from_timestamp(secs, nanos).unwrap_or_default();
            let base = t.format(if fraction { "%Y-%m-%dT%H:%M:%S%.f" } else { "%Y-%m-%dT%H:%M:%S" });
            Doc::String(format!("{base}{offset}"))
        })
}

fn runtime_config() -> impl Strategy<Value = Doc> + Clone {
    (
        option::weighted(0.3, select(&["root", "1000:1000", ""][..])),
        option::weighted(0.3, btree_map(select(&["80/tcp", "443/tcp", "53/udp"][..]), Just(()), 1..3)),
        option::weighted(0.6, vec(select(&["PATH=/usr/bin", "HOME=/root", "A=b=c"][..]), 0..3)),
        option::weighted(0.4, vec(select(&["/bin/sh", "-c", "run"][..]), 0..3)),
        option::weighted(0.4, vec(select(&["/data", "/var/lib/x"][..]), 0..2)),
        option::weighted(0.3, select(&["/", "/app"][..])),
        option::weighted(0.3, btree_map(select(&ANNOTATION_KEYS[..]), select(&WORDS[..]), 0..3)),
        option::weighted(0.2, select(&["SIGTERM", "SIGKILL"][..])),
        option::weighted(0.1, any::<bool>()),
    )
        .prop_map(|(user, ports, env, cmd, volumes, workdir, labels, stop, args_escaped)| {
            let set = |keys: Vec<&str>| {
                Doc::Object(keys.into_iter().map(|k| (k.to_string(), Doc::Object(vec![]))).collect())
            };
            let strings = |v: Vec<&str>| Doc::Array(v.into_iter().map(Doc::str).collect());
            members(vec![
                ("User", user.map(Doc::str)),
                ("ExposedPorts", ports.map(|p| set(p.into_keys().collect()))),
                ("Env", env.map(strings)),
                ("Cmd", cmd.map(strings)),
                ("Volumes", volumes.map(set)),
                ("WorkingDir", workdir.map(Doc::str)),
                (
                    "Labels",
                    labels.map(|l| {
                        Doc::Object(l.into_iter().map(|(k, v)| (k.to_string(), Doc::str(v))).collect())
                    }),
                ),
                ("StopSignal", stop.map(Doc::str)),
                ("ArgsEscaped", args_escaped.map(Doc::Bool)),
            ])
        })
}

fn history() -> impl Strategy<Value = Doc> + Clone {
    (
        option::weighted(0.7, timestamp()),
        option::weighted(0.7, select(&["/bin/sh -c #(nop) ADD file:abc in /", "RUN make"][..])),
        option::weighted(0.2, select(&["someone", ""][..])),
        option::weighted(0.2, select(&["buildkit.dockerfile.v0"][..])),
        option::weighted(0.3, any::<bool>()),
    )
        .prop_map(|(created, created_by, author, comment, empty)| {
            members(vec![
                ("created", created),
                ("created_by", created_by.map(Doc::str)),
                ("author", author.map(Doc::str)),
                ("comment", comment.map(Doc::str)),
                ("empty_layer", empty.map(Doc::Bool)),
            ])
        })
}

pub fn image_config() -> impl Strategy<Value = Doc> + Clone {
    (
        option::weighted(0.7, timestamp()),
        option::weighted(0.2, select(&["Kubewarden developers", ""][..])),
        text(&ARCHITECTURES),
        text(&OSES),
        option::weighted(0.1, select(&["10.0.17763.1879"][..])),
        option::weighted(0.2, text(&VARIANTS)),
        option::weighted(0.8, runtime_config()),
        vec(digest(), 0..3),
        option::weighted(0.6, vec(history(), 0..3)),
    )
        .prop_map(|(created, author, arch, os, os_version, variant, config, diff_ids, history)| {
            members(vec![
                ("created", created),
                ("author", author.map(Doc::str)),
                ("architecture", Some(arch)),
                ("os", Some(os)),
                ("os.version", os_version.map(Doc::str)),
                ("variant", variant),
                ("config", config),
                (
                    "rootfs",
                    Some(Doc::object([("type", Doc::str("layers")), ("diff_ids", Doc::Array(diff_ids))])),
                ),
                ("history", history.map(Doc::Array)),
            ])
        })
}

#[cfg(test)]
mod tests {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    use super::*;

    /// The generators' output is what oci-spec itself accepts as spec-valid: the Rust
    /// SDK's decoder (serde into oci-spec types) reads every generated manifest.
    #[test]
    fn generated_documents_are_spec_valid_json() {
        let mut runner = TestRunner::deterministic();
        for op in Op::ALL {
            for _ in 0..64 {
                let doc = document(op).new_tree(&mut runner).unwrap().current();
                let value: serde_json::Value = serde_json::from_slice(&doc.to_bytes()).unwrap();
                match op {
                    Op::ManifestDigest => assert!(value["digest"].as_str().unwrap().contains(':')),
                    Op::OciManifest => assert_eq!(value["schemaVersion"], 2),
                    Op::OciManifestConfig => assert!(value["config"]["rootfs"]["diff_ids"].is_array()),
                    Op::DnsLookupHost => assert!(value["ips"].is_array()),
                    Op::IsCertificateTrusted => assert!(value["trusted"].is_boolean()),
                    Op::CanI => assert!(value["allowed"].is_boolean()),
                    Op::GetResource => assert!(value["metadata"]["name"].is_string()),
                    Op::ListResourcesByNamespace | Op::ListResourcesAll => assert!(value["items"].is_array()),
                    _ => assert!(value["is_trusted"].is_boolean()),
                }
            }
        }
    }
}
