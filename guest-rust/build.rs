//! Records the Kubewarden SDK release this guest links, for the `describe` operation.
//! Cargo resolves it into the workspace lockfile; that is the version compiled in.

fn main() {
    let lock_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock");
    println!("cargo::rerun-if-changed={lock_path}");
    let lock = std::fs::read_to_string(lock_path).expect("failed to read the workspace Cargo.lock");
    let version = lock
        .split("[[package]]")
        .find(|entry| entry.contains("name = \"kubewarden-policy-sdk\""))
        .and_then(|entry| entry.lines().find_map(|l| l.strip_prefix("version = \"")))
        .and_then(|v| v.strip_suffix('"'))
        .expect("kubewarden-policy-sdk is not in Cargo.lock");
    println!("cargo::rustc-env=KWCONFORM_SDK_VERSION={version}");
}
