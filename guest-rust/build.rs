//! Records the Kubewarden SDK this guest links, for the `describe` operation: its
//! version as Cargo resolved it into the lockfile (the workspace's, or a build copy's
//! own), which for a path dependency is the version the checkout's Cargo.toml
//! declares; and where it came from. A path dependency is a checkout; kwconform's
//! builder says where it is and what its content hash is in the environment.

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lock_path = [dir.join("Cargo.lock"), dir.join("../Cargo.lock")]
        .into_iter()
        .find(|p| p.is_file())
        .expect("no Cargo.lock next to the guest or in its workspace");
    println!("cargo::rerun-if-changed={}", lock_path.display());
    let lock = std::fs::read_to_string(&lock_path).expect("failed to read Cargo.lock");
    let entry = lock
        .split("[[package]]")
        .find(|entry| entry.contains("name = \"kubewarden-policy-sdk\""))
        .expect("kubewarden-policy-sdk is not in Cargo.lock");
    let version = entry
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("kubewarden-policy-sdk has no version in Cargo.lock");
    println!("cargo::rustc-env=KWCONFORM_SDK_VERSION={version}");
    // Registry packages carry a `source`; a path dependency has none.
    let source = if entry.contains("source = ") {
        "{\"kind\":\"release\"}".to_string()
    } else {
        let mut checkout = vec!["\"kind\":\"checkout\"".to_string()];
        for (var, key) in [
            ("KWCONFORM_SDK_CHECKOUT", "path"),
            ("KWCONFORM_SDK_CONTENT_HASH", "content_hash"),
            ("KWCONFORM_SDK_GIT_DESCRIBE", "git_describe"),
        ] {
            println!("cargo::rerun-if-env-changed={var}");
            if let Ok(value) = std::env::var(var) {
                checkout.push(format!("\"{key}\":{value:?}"));
            }
        }
        format!("{{{}}}", checkout.join(","))
    };
    println!("cargo::rustc-env=KWCONFORM_SDK_SOURCE={source}");
}
