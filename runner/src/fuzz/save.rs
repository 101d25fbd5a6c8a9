//! Saving a shrunk disagreement as a regular, portable case file.

use std::path::{Path, PathBuf};

use super::generate::IMAGE;
use super::oracle::{Class, Symptom};
use crate::case::{
    CaseFile, Expect, GuestExpectation, HostResponse, Level, Origin, OutcomeClass, Provenance, ResponseSpec,
    write_case_file,
};
use crate::fs::WriteError;

/// The tag that records a saved case's class, so later campaigns know it is covered.
pub const CLASS_TAG: &str = "fuzz-class:";
/// The tag that records the class's cause, for people and for `expectations update`.
pub const CAUSE_TAG: &str = "fuzz-cause:";

/// Under which id and name a class's case is saved: `<out>/<op>/<class>.json`, id
/// `fuzz/<op>/<class>`.
pub fn case_name(class: &Class) -> (String, String) {
    let name = format!("{}/{}", class.op.name(), class.id());
    (format!("fuzz/{name}"), name)
}

/// Writes the case atomically; `Ok(None)` when a file for the class is already there
/// (it is never overwritten).
pub fn save(
    out: &Path,
    class: &Class,
    symptom: &Symptom,
    bytes: &[u8],
    found_by: &str,
) -> Result<Option<(String, PathBuf)>, WriteError> {
    let (id, name) = case_name(class);
    let response = ResponseSpec::inline(&HostResponse::Success(bytes.to_vec()));
    let guests =
        class.outcomes.iter().map(|(guest, outcome)| (guest.clone(), expectation(outcome))).collect();
    let file = CaseFile {
        id: id.clone(),
        description: format!("Found by kwconform fuzz: {}; shows {}.", class.summary(), symptom.summary()),
        op: class.op,
        image: class.op.is_oci().then(|| IMAGE.into()),
        input: (!class.op.is_oci()).then(|| super::generate::input(class.op)),
        response,
        origin: Origin::Fuzz,
        provenance: Some(Provenance { note: Some(found_by.to_string()), ..Provenance::default() }),
        spec: None,
        tags: vec![
            "fuzz".into(),
            format!("{CLASS_TAG}{}", class.id()),
            format!("{CAUSE_TAG}{}", class.cause.label()),
        ],
        level: Level::Required,
        expect: Some(Expect { guests }),
    };
    Ok(write_case_file(out, &name, &file)?.map(|path| (id, path)))
}

/// `ok/image` → outcome ok, kind image; `engine-error/trap` → engine-error.
fn expectation(outcome: &str) -> GuestExpectation {
    let (class, kind) = outcome.split_once('/').unwrap_or((outcome, ""));
    match class {
        "ok" => {
            GuestExpectation { outcome: OutcomeClass::Ok, kind: (!kind.is_empty()).then(|| kind.to_string()) }
        }
        "error" => GuestExpectation { outcome: OutcomeClass::Error, kind: None },
        _ => GuestExpectation { outcome: OutcomeClass::EngineError, kind: None },
    }
}
