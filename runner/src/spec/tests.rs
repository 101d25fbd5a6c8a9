use super::*;

const DIGEST: &str = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";

fn manifest(layers: &str) -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{DIGEST}","size":2}},"layers":{layers}}}"#
    )
}

fn layer() -> String {
    format!(
        r#"[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{DIGEST}","size":10}}]"#
    )
}

fn verdict(op: Op, text: &str) -> SpecVerdict {
    judge(op, &HostResponse::Success(text.as_bytes().to_vec())).unwrap()
}

#[test]
fn a_spec_valid_manifest_is_valid_by_every_specification() {
    let v = verdict(Op::OciManifest, &manifest(&layer()));
    assert_eq!(v.json, JsonVerdict::Valid { advice: vec![] });
    assert_eq!(v.oci, Some(OciVerdict::Valid { schemas: vec!["image-manifest-schema.json at /".into()] }));
    assert_eq!(v.standing, Standing::Valid, "{}", v.summary);
    assert_eq!(
        v.summary,
        "JSON and I-JSON valid; OCI valid (image-manifest-schema.json at /) (a valid document: at least one SDK has a bug)"
    );
}

#[test]
fn the_image_spec_schemas_decide_what_they_require() {
    // No layers: the schema wants at least one.
    let v = verdict(Op::OciManifest, &manifest("[]"));
    let Some(OciVerdict::Invalid { errors }) = &v.oci else { panic!("{v:?}") };
    assert!(errors[0].starts_with("/layers: "), "{errors:?}");
    assert_eq!(v.standing, Standing::Invalid);
    let v = verdict(Op::OciManifest, r#"{"schemaVersion":2}"#);
    assert!(matches!(&v.oci, Some(OciVerdict::Invalid { errors }) if errors[0].starts_with("/: ")), "{v:?}");
    // A digest with an upper-case algorithm; a config with a date that is not RFC 3339.
    let v = verdict(Op::ManifestDigest, r#"{"digest":"SHA256:abc"}"#);
    assert!(
        matches!(&v.oci, Some(OciVerdict::Invalid { errors }) if errors[0].starts_with("/digest: ")),
        "{v:?}"
    );
    let config = format!(
        r#"{{"manifest":{},"digest":"{DIGEST}","config":{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}},"created":"yesterday"}}}}"#,
        manifest(&layer())
    );
    let v = verdict(Op::OciManifestConfig, &config);
    assert!(
        matches!(&v.oci, Some(OciVerdict::Invalid { errors }) if errors.iter().any(|e| e.starts_with("/config/created: "))),
        "{v:?}"
    );
    // An index, by its media type.
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{DIGEST}","size":7}}]}}"#
    );
    let v = verdict(Op::OciManifest, &index);
    assert_eq!(v.oci, Some(OciVerdict::Valid { schemas: vec!["image-index-schema.json at /".into()] }));
    // The media type decides: an index body under the manifest type is an invalid manifest.
    let mislabelled = index.replace("image.index.v1", "image.manifest.v1");
    let v = verdict(Op::OciManifest, &mislabelled);
    assert!(
        matches!(&v.oci, Some(OciVerdict::Invalid { errors }) if errors.iter().all(|e| e.ends_with("(image-manifest-schema.json)"))),
        "{v:?}"
    );
    // Docker's media types are Docker's.
    let docker = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}"#;
    let v = verdict(Op::OciManifest, docker);
    assert!(matches!(v.oci, Some(OciVerdict::NotApplicable { .. })));
    assert_eq!(v.standing, Standing::Undecided);
}

#[test]
fn i_json_violations_are_named_with_their_place_and_clause() {
    let v = verdict(Op::OciManifest, r#"{"a":{"b":1,"b":2}}"#);
    let JsonVerdict::IJsonViolation { problems } = &v.json else { panic!("{v:?}") };
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("/a/b: a duplicate member name (RFC 7493 §2.3"), "{problems:?}");
    assert_eq!(v.standing, Standing::Invalid);

    for (text, expected) in [
        (r#"{"s":"\ud800"}"#, "a lone surrogate escape"),
        (r#"{"s":"\udc00x"}"#, "a lone surrogate escape"),
        (r#"{"s":"\ud800\u0041"}"#, "a lone surrogate escape"),
        ("{\"s\":\"\u{FFFF}\"}", "/s: the noncharacter U+FFFF"),
        ("\u{FEFF}{}", "/: a byte order mark"),
    ] {
        let JsonVerdict::IJsonViolation { problems } = verdict(Op::OciManifest, text).json else {
            panic!("{text}: {:?}", verdict(Op::OciManifest, text))
        };
        assert!(problems.iter().any(|p| p.contains(expected)), "{text}: {problems:?}");
    }
}

#[test]
fn a_flood_of_findings_is_kept_to_a_few_and_counted() {
    let members: Vec<String> = (0..1000).map(|i| format!(r#""a":{i}"#)).collect();
    let v = verdict(Op::OciManifest, &format!("{{{}}}", members.join(",")));
    let JsonVerdict::IJsonViolation { problems } = v.json else { panic!() };
    assert_eq!(problems.len(), json::MAX_FINDINGS + 1);
    assert_eq!(problems.last().unwrap(), &format!("… and {} more", 999 - json::MAX_FINDINGS));
}

#[test]
fn a_number_beyond_the_double_range_leaves_the_document_unchecked() {
    let v = verdict(Op::OciManifest, r#"{"n":1e400,"a":1,"a":2}"#);
    let JsonVerdict::Unchecked { reason } = &v.json else { panic!("{v:?}") };
    assert!(reason.contains("RFC 7493 §2.2: SHOULD NOT"), "{reason}");
    assert_eq!(v.standing, Standing::Undecided);
}

#[test]
fn integers_a_double_cannot_hold_are_advice_not_a_violation() {
    let v = verdict(Op::ManifestDigest, r#"{"digest":"sha256:abc","n":-9007199254740993}"#);
    let JsonVerdict::Valid { advice } = &v.json else { panic!("{v:?}") };
    assert_eq!(advice.len(), 1);
    assert!(
        advice[0].starts_with("/n: -9007199254740993 is beyond the integers a double holds exactly"),
        "{advice:?}"
    );
    assert_eq!(v.standing, Standing::Valid);
}

#[test]
fn what_is_not_json_is_invalid_and_a_host_error_has_no_document() {
    for text in ["{\"a\":1,}", "{'a':1}", "[1] [2]", "", "{\"a\":\"\u{1}\"}"] {
        assert!(matches!(verdict(Op::OciManifest, text).json, JsonVerdict::Invalid { .. }), "{text:?}");
        assert_eq!(verdict(Op::OciManifest, text).oci, None);
    }
    let bytes = HostResponse::Success(b"{\"a\":\"\xff\"}".to_vec());
    assert!(
        matches!(judge(Op::OciManifest, &bytes).unwrap().json, JsonVerdict::Invalid { error } if error.contains("UTF-8"))
    );
    assert_eq!(judge(Op::OciManifest, &HostResponse::Error("no".into())), None);
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert!(matches!(verdict(Op::OciManifest, &deep).json, JsonVerdict::Unchecked { .. }));
}
