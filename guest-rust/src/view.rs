//! Projection of the Rust SDK's types (oci-spec) into the decoded view
//! (docs/decoded-view.md).
//!
//! Every field of the oci-spec types that carries data is copied explicitly, under the
//! key the OCI JSON uses for it, whatever key oci-spec actually reads it from (that
//! difference is a finding for the runner to show). `None` is absent; `Some` of an
//! empty string, list or map is present and empty. Enums (media types, architectures,
//! operating systems) and digests are recorded as the SDK prints them back.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;

use kubewarden_policy_sdk::host_capabilities::oci::OciManifestAndConfigResponse;
use oci_spec::image::{
    Config, Descriptor, History, ImageConfiguration, ImageIndex, ImageManifest, Platform, RootFs,
};
use serde_json::{Map, Value, json};

pub fn manifest(m: &ImageManifest) -> Value {
    let mut v = Map::new();
    v.insert("schemaVersion".into(), json!(m.schema_version()));
    put_display(&mut v, "mediaType", m.media_type());
    put_display(&mut v, "artifactType", m.artifact_type());
    v.insert("config".into(), descriptor(m.config()));
    v.insert("layers".into(), m.layers().iter().map(descriptor).collect());
    put(&mut v, "subject", m.subject().as_ref().map(descriptor));
    put(&mut v, "annotations", m.annotations().as_ref().map(string_map));
    Value::Object(v)
}

pub fn index(i: &ImageIndex) -> Value {
    let mut v = Map::new();
    v.insert("schemaVersion".into(), json!(i.schema_version()));
    put_display(&mut v, "mediaType", i.media_type());
    put_display(&mut v, "artifactType", i.artifact_type());
    v.insert("manifests".into(), i.manifests().iter().map(descriptor).collect());
    put(&mut v, "subject", i.subject().as_ref().map(descriptor));
    put(&mut v, "annotations", i.annotations().as_ref().map(string_map));
    Value::Object(v)
}

pub fn manifest_and_config(r: &OciManifestAndConfigResponse) -> Value {
    json!({
        "manifest": manifest(&r.manifest),
        "digest": r.digest,
        "config": image_configuration(&r.config),
    })
}

fn descriptor(d: &Descriptor) -> Value {
    let mut v = Map::new();
    v.insert("mediaType".into(), json!(d.media_type().to_string()));
    v.insert("digest".into(), json!(d.digest().to_string()));
    v.insert("size".into(), json!(d.size()));
    put(&mut v, "urls", d.urls().as_ref().map(|u| json!(u)));
    put(&mut v, "annotations", d.annotations().as_ref().map(string_map));
    // oci-spec keeps `data` as the base64 text of the document, not decoded bytes.
    put(&mut v, "data", d.data().as_ref().map(|text| json!({ "text": text })));
    put(&mut v, "platform", d.platform().as_ref().map(platform));
    put_display(&mut v, "artifactType", d.artifact_type());
    Value::Object(v)
}

fn platform(p: &Platform) -> Value {
    let mut v = Map::new();
    v.insert("architecture".into(), json!(p.architecture().to_string()));
    v.insert("os".into(), json!(p.os().to_string()));
    // oci-spec 0.10 reads these two from `os_version` / `os_features`, not the spec's
    // `os.version` / `os.features`; the view names the data, not oci-spec's key.
    put(&mut v, "os.version", p.os_version().as_ref().map(|s| json!(s)));
    put(&mut v, "os.features", p.os_features().as_ref().map(|f| json!(f)));
    put(&mut v, "variant", p.variant().as_ref().map(|s| json!(s)));
    put(&mut v, "features", p.features().as_ref().map(|f| json!(f)));
    Value::Object(v)
}

fn image_configuration(c: &ImageConfiguration) -> Value {
    let mut v = Map::new();
    put(&mut v, "created", c.created().as_ref().map(|s| json!(s)));
    put(&mut v, "author", c.author().as_ref().map(|s| json!(s)));
    v.insert("architecture".into(), json!(c.architecture().to_string()));
    v.insert("os".into(), json!(c.os().to_string()));
    put(&mut v, "os.version", c.os_version().as_ref().map(|s| json!(s)));
    put(&mut v, "os.features", c.os_features().as_ref().map(|f| json!(f)));
    put(&mut v, "variant", c.variant().as_ref().map(|s| json!(s)));
    put(&mut v, "config", c.config().as_ref().map(runtime_config));
    v.insert("rootfs".into(), rootfs(c.rootfs()));
    put(&mut v, "history", c.history().as_ref().map(|h| h.iter().map(history).collect()));
    Value::Object(v)
}

fn runtime_config(c: &Config) -> Value {
    let mut v = Map::new();
    put(&mut v, "User", c.user().as_ref().map(|s| json!(s)));
    put(&mut v, "ExposedPorts", c.exposed_ports().as_ref().map(string_set));
    put(&mut v, "Env", c.env().as_ref().map(|s| json!(s)));
    put(&mut v, "Entrypoint", c.entrypoint().as_ref().map(|s| json!(s)));
    put(&mut v, "Cmd", c.cmd().as_ref().map(|s| json!(s)));
    put(&mut v, "Volumes", c.volumes().as_ref().map(string_set));
    put(&mut v, "WorkingDir", c.working_dir().as_ref().map(|s| json!(s)));
    put(&mut v, "Labels", c.labels().as_ref().map(string_map));
    put(&mut v, "StopSignal", c.stop_signal().as_ref().map(|s| json!(s)));
    Value::Object(v)
}

fn rootfs(r: &RootFs) -> Value {
    json!({ "type": r.typ(), "diff_ids": r.diff_ids() })
}

fn history(h: &History) -> Value {
    let mut v = Map::new();
    put(&mut v, "created", h.created().as_ref().map(|s| json!(s)));
    put(&mut v, "author", h.author().as_ref().map(|s| json!(s)));
    put(&mut v, "created_by", h.created_by().as_ref().map(|s| json!(s)));
    put(&mut v, "comment", h.comment().as_ref().map(|s| json!(s)));
    put(&mut v, "empty_layer", h.empty_layer().map(|b| json!(b)));
    Value::Object(v)
}

fn put(v: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        v.insert(key.into(), value);
    }
}

fn put_display(v: &mut Map<String, Value>, key: &str, value: &Option<impl Display>) {
    put(v, key, value.as_ref().map(|x| json!(x.to_string())));
}

fn string_map(m: &HashMap<String, String>) -> Value {
    json!(m.iter().collect::<BTreeMap<_, _>>())
}

/// oci-spec turns a JSON object used as a set (`ExposedPorts`, `Volumes`) into a list
/// in hash order, which carries no meaning; the view records it sorted.
fn string_set(keys: &Vec<String>) -> Value {
    let mut keys = keys.clone();
    keys.sort();
    json!(keys)
}
