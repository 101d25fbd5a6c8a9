//! Records the Kubewarden SDK release this guest links, for the `describe` operation.
//! Cargo resolves it into the lockfile (the workspace's, or a build copy's own); that
//! is the version compiled in. A path dependency (a local SDK checkout) is marked.

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
    // Registry packages carry a `source`; a path dependency has none.
    let origin = if entry.contains("source = ") { "" } else { " (local checkout)" };
    println!("cargo::rustc-env=KWCONFORM_SDK_VERSION={version}{origin}");
}
