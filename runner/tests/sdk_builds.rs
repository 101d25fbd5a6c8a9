//! Guests built against other SDKs than the pinned ones: a local checkout (here, a copy
//! of the pinned SDK's own source from the cargo registry / Go module cache) builds,
//! reports itself as a checkout, decodes like the release, and is cached.

mod common;

use std::path::Path;

use kwconform::guest::{Guest, SdkSource};
use kwconform::guest_build::{Project, SdkSpec};
use kwconform::host::{HostEngine, Limits};

/// What a guest built from `checkout` (no git history) must say about where its SDK came from.
fn expected_source(checkout: &Path) -> SdkSource {
    SdkSource::Checkout {
        path: Some(checkout.canonicalize().unwrap().display().to_string()),
        content_hash: Some(tree_sha256(checkout)),
        git_describe: None,
    }
}

/// SHA-256 over the checkout's files, names and contents, in name order (`target/`
/// and `.git/` left out), as the builder computes it.
fn tree_sha256(dir: &Path) -> String {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    let walk = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !matches!(e.file_name().to_str(), Some("target" | ".git")));
    for entry in walk.map(Result::unwrap).filter(|e| e.file_type().is_file()) {
        hash.update(entry.path().strip_prefix(dir).unwrap().as_os_str().as_encoded_bytes());
        hash.update(std::fs::read(entry.path()).unwrap());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn describe(path: &Path) -> kwconform::guest::GuestInfo {
    let engine = HostEngine::new(Limits::default()).unwrap();
    Guest::load(&engine, "checkout", path).unwrap().info
}

#[test]
fn guests_build_from_local_sdk_checkouts_and_are_cached() {
    common::guest_specs(); // the pinned guests, which put both SDKs' sources in the caches
    let project = Project::this_checkout();
    let dir = tempfile::tempdir().unwrap();

    let rust_checkout = dir.path().join("rust-sdk");
    common::copy_tree(&common::registry_source("kubewarden-policy-sdk-0.17.3"), &rust_checkout);
    let rust = project
        .build_rust_guest_for(&SdkSpec::parse(rust_checkout.to_str().unwrap()), &mut std::io::stderr())
        .unwrap();
    let info = describe(&rust);
    assert_eq!((info.sdk.as_str(), info.sdk_version.as_str()), ("kubewarden-policy-sdk", "0.17.3"));
    assert_eq!(info.sdk_source, Some(expected_source(&rust_checkout)));

    let go_checkout = dir.path().join("go-sdk");
    common::copy_tree(&common::go_module_source("github.com/kubewarden/policy-sdk-go@v0.13.1"), &go_checkout);
    let go = project
        .build_go_guest_for(&SdkSpec::parse(go_checkout.to_str().unwrap()), &mut std::io::stderr())
        .unwrap();
    let info = describe(&go);
    assert_eq!(
        (info.sdk.as_str(), info.sdk_version.as_str()),
        ("github.com/kubewarden/policy-sdk-go", "v0.13.1")
    );
    assert_eq!(info.sdk_source, Some(expected_source(&go_checkout)));

    // The same checkout again: straight from the cache, the same module.
    let again = project
        .build_go_guest_for(&SdkSpec::parse(go_checkout.to_str().unwrap()), &mut std::io::sink())
        .unwrap();
    assert_eq!(again, go);

    // A checkout that changes is a new guest.
    std::fs::write(go_checkout.join("NOTES.md"), "local change").unwrap();
    let changed = project
        .build_go_guest_for(&SdkSpec::parse(go_checkout.to_str().unwrap()), &mut std::io::sink())
        .unwrap();
    assert_ne!(changed, go);
}
