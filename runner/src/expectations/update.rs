//! `kwconform expectations update`: rewriting the list from a run's results. Only the
//! entries that apply to that run's guests (names and SDK versions) are touched.

use std::collections::BTreeMap;

use semver::{Comparator, Op, Version, VersionReq};

use super::judge::applies;
use super::model::{Expectation, ExpectationsFile, Signature};
use crate::case::Level;
use crate::compare::Verdict;
use crate::guest::{GuestSummary, semver_of};

/// One case's result, as a report records it.
#[derive(Clone, Copy, Debug)]
pub struct RecordedResult<'a> {
    pub case: &'a str,
    pub verdict: Verdict,
    pub level: Level,
    pub signature: &'a Signature,
    /// The case's own `expect` block did not hold.
    pub expect_unmet: bool,
}

/// What an update changed, by case id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateSummary {
    /// New entries: divergences nothing listed for these guests and versions.
    pub added: Vec<String>,
    /// Entries whose signature was replaced (or split off, see `narrowed`).
    pub changed: Vec<String>,
    /// Entries whose ranges now stop below this run's versions: they keep recording
    /// the older releases' behaviour.
    pub narrowed: Vec<String>,
    /// Entries of newer releases that record this older run's divergence exactly: their
    /// ranges now start at this run's versions.
    pub widened: Vec<String>,
    /// Entries of cases that now agree, for these versions only.
    pub removed: Vec<String>,
    /// Entries that point at no cause yet, with the cause suggested for each (see
    /// [`suggest_cause`]).
    pub needing_cause: Vec<(String, Option<String>)>,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "guest {name} reports SDK version {version:?}, which is not semver: no version range can be written for it"
)]
pub struct UpdateError {
    pub name: String,
    pub version: String,
}

/// Rewrites the list from a run's results:
/// - a required case that diverges or crashes, or whose `expect` block did not hold,
///   and that no applicable entry records exactly: a new entry `>=` the run's
///   versions; or, when an applicable entry records it differently, that entry's
///   signature is replaced, unless its ranges also cover older releases, in which case
///   it is narrowed to them (`<` the run's versions) and a new entry records the new
///   behaviour; a run of releases older than the list's widens an entry of the case that
///   records the same divergence down to them, or else gets an entry that stops below
///   the list's releases, so an older release's behaviour never excuses a newer one's;
/// - a case that agrees as its `expect` block says (or an informational one): each
///   applicable entry is narrowed to older releases where it covers them, removed
///   otherwise.
///
/// Reasons and links are kept; new entries have no reason yet.
pub fn update(
    existing: &ExpectationsFile,
    results: &[RecordedResult<'_>],
    guests: &[GuestSummary],
) -> Result<(ExpectationsFile, UpdateSummary), UpdateError> {
    let versions = lowest_versions(guests)?;
    // The list is complete for the releases it records: a case without an entry agrees
    // there. So what a run of older releases records stops below the first of them.
    let newer_releases: BTreeMap<&String, Version> = versions
        .iter()
        .filter_map(|(sdk, v)| {
            let starts = existing.expectations.iter().filter_map(|e| start(e.sdks.get(sdk)?));
            Some((sdk, starts.filter(|s| s > v).min()?))
        })
        .collect();
    let mut entries = existing.expectations.clone();
    let mut summary = UpdateSummary::default();
    for result in results {
        let applicable: Vec<usize> = (0..entries.len())
            .filter(|&i| entries[i].case == result.case && applies(&entries[i], guests))
            .collect();
        let case = result.case.to_string();
        let diverged = matches!(result.verdict, Verdict::Diverge | Verdict::Crash);
        let deviates = diverged || (result.verdict == Verdict::Agree && result.expect_unmet);
        if deviates && result.level == Level::Required {
            if applicable.iter().any(|&i| entries[i].signature == *result.signature) {
                continue;
            }
            let fresh = Expectation {
                case: case.clone(),
                sdks: versions
                    .iter()
                    .map(|(sdk, v)| {
                        let range = match newer_releases.get(sdk) {
                            Some(next) => format!(">={v}, <{next}"),
                            None => format!(">={v}"),
                        };
                        (sdk.clone(), range)
                    })
                    .collect(),
                signature: result.signature.clone(),
                causes: Vec::new(),
                detail: None,
            };
            match applicable.first() {
                None => {
                    let same = (0..entries.len()).find(|&i| {
                        entries[i].case == result.case && entries[i].signature == *result.signature
                    });
                    match same.map(|i| (i, widened(&entries[i], &versions))) {
                        Some((i, widened)) if applies(&widened, guests) => {
                            entries[i] = widened;
                            summary.widened.push(case);
                        }
                        _ => {
                            entries.push(fresh);
                            summary.added.push(case);
                        }
                    }
                }
                Some(&i) => {
                    if narrow(&mut entries[i], &versions) {
                        entries.push(fresh);
                        summary.narrowed.push(case.clone());
                    } else {
                        entries[i].signature = result.signature.clone();
                    }
                    summary.changed.push(case);
                }
            }
        } else if result.verdict == Verdict::Agree || result.level == Level::Informational {
            for &i in applicable.iter().rev() {
                if narrow(&mut entries[i], &versions) {
                    summary.narrowed.push(case.clone());
                } else {
                    entries.remove(i);
                    summary.removed.push(case.clone());
                }
            }
        }
    }
    // By case; a case's entries keep their order.
    entries.sort_by(|a, b| a.case.cmp(&b.case));
    summary.needing_cause = entries
        .iter()
        .filter(|e| e.causes.is_empty())
        .map(|e| (e.case.clone(), suggest_cause(&entries, e)))
        .collect();
    Ok((ExpectationsFile { causes: existing.causes.clone(), expectations: entries }, summary))
}

/// The cause an entry most likely shares: the main cause of the explained entry whose
/// signature is closest (same outcomes first, then the most differing paths in common,
/// array indices ignored; the same operation breaks ties). `None` when no explained
/// entry has the same outcomes and either a differing path in common or the operation.
pub fn suggest_cause(entries: &[Expectation], entry: &Expectation) -> Option<String> {
    let fold = |path: &str| {
        path.split('/')
            .map(|t| if t.bytes().all(|b| b.is_ascii_digit()) && !t.is_empty() { "*" } else { t })
            .collect::<Vec<_>>()
            .join("/")
    };
    let paths = |e: &Expectation| -> std::collections::BTreeSet<String> {
        e.signature.diffs.iter().map(|d| fold(&d.path)).collect()
    };
    // A case id starts with its operation (`fuzz/` ids next).
    let op = |e: &Expectation| e.case.split('/').take(2).find_map(crate::case::Op::from_name);
    let mine = paths(entry);
    entries
        .iter()
        .filter(|e| !e.causes.is_empty() && e.signature.outcomes == entry.signature.outcomes)
        .map(|e| ((paths(e).intersection(&mine).count(), op(e) == op(entry)), e))
        .filter(|&((common, same_op), _)| common > 0 || same_op)
        .max_by_key(|&(closeness, _)| closeness)
        .map(|(_, e)| e.causes[0].clone())
}

/// Each SDK of the run with the lowest version any of its guests has.
fn lowest_versions(guests: &[GuestSummary]) -> Result<BTreeMap<String, Version>, UpdateError> {
    let mut versions: BTreeMap<String, Version> = BTreeMap::new();
    for g in guests {
        let version = semver_of(&g.sdk_version)
            .ok_or_else(|| UpdateError { name: g.name.clone(), version: g.sdk_version.clone() })?;
        let lowest = versions.entry(g.sdk.clone()).or_insert_with(|| version.clone());
        if version < *lowest {
            *lowest = version;
        }
    }
    Ok(versions)
}

/// Stops an entry's ranges below the run's versions, where they start below them: the
/// entry keeps recording the older releases. False when no range covers an older one.
fn narrow(entry: &mut Expectation, versions: &BTreeMap<String, Version>) -> bool {
    let mut narrowed = false;
    for (sdk, requirement) in &mut entry.sdks {
        let (Some(version), Ok(req)) = (versions.get(sdk), VersionReq::parse(requirement)) else {
            continue;
        };
        if req.comparators.iter().any(|c| is_start(c) && bound(c) < *version) {
            *requirement = format!("{requirement}, <{version}");
            narrowed = true;
        }
    }
    narrowed
}

/// The entry with each range that starts above the run's version starting at it
/// instead (its upper bounds kept).
fn widened(entry: &Expectation, versions: &BTreeMap<String, Version>) -> Expectation {
    let mut entry = entry.clone();
    for (sdk, requirement) in &mut entry.sdks {
        let (Some(version), Ok(req)) = (versions.get(sdk), VersionReq::parse(requirement)) else {
            continue;
        };
        if req.comparators.iter().any(|c| is_start(c) && bound(c) > *version) {
            let rest = req.comparators.iter().filter(|c| !is_start(c)).map(|c| c.to_string());
            *requirement = std::iter::once(format!(">={version}")).chain(rest).collect::<Vec<_>>().join(", ");
        }
    }
    entry
}

/// The release a range starts at (its `>=` or `>` bound).
fn start(requirement: &str) -> Option<Version> {
    let req = VersionReq::parse(requirement).ok()?;
    req.comparators.iter().filter(|c| is_start(c)).map(bound).max()
}

fn is_start(c: &Comparator) -> bool {
    matches!(c.op, Op::Greater | Op::GreaterEq)
}

fn bound(c: &Comparator) -> Version {
    Version {
        major: c.major,
        minor: c.minor.unwrap_or(0),
        patch: c.patch.unwrap_or(0),
        pre: c.pre.clone(),
        build: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::expectations::Expectations;
    use crate::host::Abi;

    fn guest(name: &str, sdk: &str, version: &str) -> GuestSummary {
        GuestSummary {
            name: name.into(),
            sdk: sdk.into(),
            sdk_version: version.into(),
            sdk_source: None,
            abi: Abi::Wapc,
            wapc_host: None,
            module_sha256: String::new(),
            path: String::new(),
            ops: Vec::new(),
        }
    }

    fn signature(go: &str) -> Signature {
        Signature {
            outcomes: BTreeMap::from([("go".into(), go.into()), ("rust".into(), "ok/image".into())]),
            diffs: Vec::new(),
        }
    }

    fn entry(sdks: &[(&str, &str)], go: &str, cause: &str) -> Expectation {
        Expectation {
            case: "c".into(),
            sdks: sdks.iter().map(|(s, r)| (s.to_string(), r.to_string())).collect(),
            signature: signature(go),
            causes: vec![cause.into()],
            detail: None,
        }
    }

    fn main_cause(e: &Expectation) -> Option<&str> {
        e.causes.first().map(String::as_str)
    }

    fn run(
        version: &str,
        go: &str,
        verdict: Verdict,
        list: Vec<Expectation>,
    ) -> (Vec<Expectation>, UpdateSummary) {
        let guests = [guest("rust", "rs", version), guest("go", "gosdk", "v0.13.1")];
        let signature = signature(go);
        let result = RecordedResult {
            case: "c",
            verdict,
            level: Level::Required,
            signature: &signature,
            expect_unmet: false,
        };
        let (file, summary) =
            update(&ExpectationsFile { causes: vec![], expectations: list }, &[result], &guests).unwrap();
        (file.expectations, summary)
    }

    #[test]
    fn a_new_divergence_gets_an_entry_from_the_run_s_versions_on() {
        let (list, summary) = run("0.18.0-rc.1", "error", Verdict::Diverge, vec![]);
        assert_eq!(summary.added, ["c"]);
        assert_eq!(list[0].sdks["rs"], ">=0.18.0-rc.1");
        assert_eq!(list[0].sdks["gosdk"], ">=0.13.1");
        assert_eq!(main_cause(&list[0]), None);
    }

    #[test]
    fn a_change_at_the_recorded_versions_replaces_the_signature_and_keeps_the_reason() {
        let old = entry(&[("rs", ">=0.17.3")], "error", "why");
        let (list, summary) = run("0.17.3", "ok/image", Verdict::Diverge, vec![old]);
        assert_eq!((summary.changed.len(), summary.narrowed.len()), (1, 0));
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].signature, signature("ok/image"));
        assert_eq!(main_cause(&list[0]), Some("why"));
    }

    #[test]
    fn an_older_release_diverging_alike_widens_the_newer_entry() {
        let newer = entry(&[("rs", ">=0.17.3")], "error", "why");
        let (list, summary) = run("0.16.0", "error", Verdict::Diverge, vec![newer]);
        assert_eq!((summary.widened.as_slice(), summary.added.len()), (["c".to_string()].as_slice(), 0));
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].sdks["rs"].as_str(), main_cause(&list[0])), (">=0.16.0", Some("why")));
    }

    #[test]
    fn an_older_release_diverging_otherwise_gets_an_entry_that_stops_below_the_newer_one() {
        let newer = entry(&[("rs", ">=0.17.3")], "error", "why");
        let (list, summary) = run("0.16.0", "ok/image", Verdict::Diverge, vec![newer.clone()]);
        assert_eq!(summary.added, ["c"]);
        assert_eq!(list[1].sdks["rs"], ">=0.16.0, <0.17.3");
        // So the older behaviour, seen again in the newer release, is not excused there.
        let guests = [guest("rust", "rs", "0.17.3"), guest("go", "gosdk", "v0.13.1")];
        assert!(!applies(&list[1], &guests));
        assert!(applies(&newer, &guests));
    }

    #[test]
    fn an_older_release_diverging_where_the_list_s_releases_agree_stops_below_them() {
        let other_case = Expectation { case: "other".into(), ..entry(&[("rs", ">=0.17.3")], "error", "why") };
        let (list, summary) = run("0.16.0", "error", Verdict::Diverge, vec![other_case]);
        assert_eq!(summary.added, ["c"]);
        assert_eq!(list[0].sdks["rs"], ">=0.16.0, <0.17.3");
    }

    #[test]
    fn a_change_in_a_newer_release_keeps_the_old_behaviour_for_older_releases() {
        let old = entry(&[("rs", ">=0.17.3")], "error", "why");
        let (list, summary) = run("0.18.0", "ok/image", Verdict::Diverge, vec![old]);
        assert_eq!(summary.narrowed, ["c"]);
        assert_eq!(list.len(), 2);
        assert_eq!((list[0].sdks["rs"].as_str(), main_cause(&list[0])), (">=0.17.3, <0.18.0", Some("why")));
        assert_eq!((list[1].sdks["rs"].as_str(), main_cause(&list[1])), (">=0.18.0", None));
        // Nothing explained has the new outcomes: no cause to suggest.
        assert_eq!(summary.needing_cause, [("c".to_string(), None)]);
    }

    #[test]
    fn the_suggested_cause_is_that_of_the_closest_explained_entry() {
        let with = |case: &str, paths: &[&str], cause: &str| Expectation {
            case: case.into(),
            signature: Signature {
                diffs: paths
                    .iter()
                    .map(|p| crate::expectations::PathSignature {
                        path: p.to_string(),
                        values: BTreeMap::new(),
                    })
                    .collect(),
                ..signature("ok/image")
            },
            ..entry(&[("rs", ">=0.17.3")], "ok/image", cause)
        };
        let explained = [
            with("oci_manifest/a", &["/view/layers/0/urls"], "urls"),
            with("oci_manifest/b", &["/view/subject", "/view/annotations"], "subject"),
            Expectation {
                signature: signature("error"),
                ..with("oci_manifest/c", &["/outcome"], "go-error")
            },
        ];
        let new = Expectation { causes: vec![], ..with("fuzz/oci_manifest/d", &["/view/layers/3/urls"], "") };
        let all: Vec<Expectation> = explained.iter().cloned().chain([new.clone()]).collect();
        assert_eq!(suggest_cause(&all, &new).as_deref(), Some("urls"));
        let unlike = Expectation { signature: signature("engine-error/trap"), ..new.clone() };
        assert_eq!(suggest_cause(&all, &unlike), None);
        // Same outcomes but nothing in common, not even the operation: no suggestion.
        let elsewhere = Expectation { case: "get_resource/e".into(), ..with("", &["/view/status"], "") };
        assert_eq!(suggest_cause(&all, &elsewhere), None);
        // The operation alone is enough, `fuzz/` ids included.
        let same_op = Expectation { case: "fuzz/oci_manifest/f".into(), ..elsewhere };
        assert!(suggest_cause(&all, &same_op).is_some());
    }

    #[test]
    fn a_fix_narrows_or_removes_only_entries_that_apply() {
        let for_other_guests = Expectation {
            signature: Signature {
                outcomes: BTreeMap::from([
                    ("go-wapc".into(), "error".into()),
                    ("rust".into(), "ok/image".into()),
                ]),
                diffs: Vec::new(),
            },
            ..entry(&[("rs", ">=0.17.3")], "error", "other guests")
        };
        let older = entry(&[("rs", ">=0.16.0, <0.17.0")], "error", "older");
        let current = entry(&[("rs", ">=0.17.3")], "error", "current");
        let (list, summary) =
            run("0.17.3", "ok/image", Verdict::Agree, vec![for_other_guests.clone(), older.clone(), current]);
        assert_eq!(summary.removed, ["c"]);
        assert_eq!(list, [for_other_guests.clone(), older.clone()]);
        let current = entry(&[("rs", ">=0.17.3")], "error", "current");
        let (list, summary) = run("0.18.0", "ok/image", Verdict::Agree, vec![current]);
        assert_eq!(summary.narrowed, ["c"]);
        assert_eq!(list[0].sdks["rs"], ">=0.17.3, <0.18.0");
    }

    #[test]
    fn every_range_it_writes_loads_again() {
        let old = entry(&[("rs", ">=0.17.3")], "error", "why");
        let (list, _) = run("0.18.0-rc.1", "ok/image", Verdict::Diverge, vec![old]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("expectations.json");
        let why = crate::expectations::Cause {
            id: "why".into(),
            title: "t".into(),
            reason: "r".into(),
            sdks: vec!["rs".into()],
            spec: Default::default(),
            upstream: None,
        };
        let file = ExpectationsFile { causes: vec![why], expectations: list };
        std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
        let loaded = Expectations::load(&path).unwrap();
        assert_eq!(loaded.entries().count(), 2);
    }

    #[test]
    fn a_version_that_is_not_semver_is_refused() {
        let guests = [guest("rust", "rs", "0.17.3 (local checkout)")];
        let error = update(&ExpectationsFile::default(), &[], &guests).unwrap_err();
        assert!(error.to_string().contains("not semver"), "{error}");
    }
}
