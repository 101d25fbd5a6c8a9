//! kwconform guest for the Kubewarden Rust SDK, speaking waPC.
//!
//! One waPC function per operation (docs/guest-protocol.md). Each takes
//! `{"image": "..."}`, calls the SDK's public function, which does its own request
//! encoding and host call, and answers with the decoded view of what the SDK returned
//! or with the SDK's error. This file only dispatches; `view` projects the results.

mod view;

use kubewarden_policy_sdk::host_capabilities::oci;
use serde_json::{Value, json};
use wapc_guest::{CallResult, register_function};

const PROTOCOL_VERSION: u32 = 1;

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    register_function("describe", describe);
    register_function("oci_manifest", oci_manifest);
    register_function("manifest_digest", manifest_digest);
    register_function("oci_manifest_config", oci_manifest_config);
}

fn describe(_: &[u8]) -> CallResult {
    answer(json!({
        "protocol": PROTOCOL_VERSION,
        "sdk": "kubewarden-policy-sdk",
        "sdk_version": env!("KWCONFORM_SDK_VERSION"),
        "sdk_source": serde_json::from_str::<Value>(env!("KWCONFORM_SDK_SOURCE"))?,
        "ops": ["oci_manifest", "manifest_digest", "oci_manifest_config"],
    }))
}

fn oci_manifest(request: &[u8]) -> CallResult {
    answer(match oci::get_manifest(&image(request)?) {
        Ok(oci::OciManifestResponse::Image(m)) => ok(Some("image"), view::manifest(&m)),
        Ok(oci::OciManifestResponse::ImageIndex(i)) => ok(Some("index"), view::index(&i)),
        Err(e) => sdk_error(e),
    })
}

fn manifest_digest(request: &[u8]) -> CallResult {
    answer(match oci::get_manifest_digest(&image(request)?) {
        Ok(r) => ok(None, json!({ "digest": r.digest })),
        Err(e) => sdk_error(e),
    })
}

fn oci_manifest_config(request: &[u8]) -> CallResult {
    answer(match oci::get_manifest_and_config(&image(request)?) {
        Ok(r) => ok(None, view::manifest_and_config(&r)),
        Err(e) => sdk_error(e),
    })
}

/// The image reference of a `{"image": "..."}` request.
fn image(request: &[u8]) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let request: Value = serde_json::from_slice(request)?;
    match request.get("image") {
        Some(Value::String(image)) => Ok(image.clone()),
        _ => Err("request has no string \"image\"".into()),
    }
}

fn ok(kind: Option<&str>, view: Value) -> Value {
    json!({ "outcome": "ok", "kind": kind, "view": view })
}

fn sdk_error(error: impl std::fmt::Display) -> Value {
    json!({ "outcome": "error", "error": error.to_string() })
}

fn answer(result: Value) -> CallResult {
    Ok(serde_json::to_vec(&result)?)
}
