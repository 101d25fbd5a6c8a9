//! Judging a case's comparison against the expectations list.

use schemars::JsonSchema;
use semver::{BuildMetadata, Op, Version, VersionReq};
use serde::{Deserialize, Serialize};

use super::load::Expectations;
use super::model::{Expectation, Signature};
use super::signature::signature;
use crate::case::Level;
use crate::compare::{Comparison, ExpectationStatus, Verdict};
use crate::guest::{GuestRun, GuestSummary, semver_of};

/// How a case's result stands against its case file and the expectations list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Judgement {
    /// The guests agree and nothing is listed.
    Agree,
    /// A listed divergence, happening exactly as recorded: the entry's causes (ids in
    /// the expectations list) and its detail.
    Expected {
        causes: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// An informational case diverged: shown, never a failure.
    Informational,
    /// A divergence or crash that no applicable entry lists.
    Unlisted,
    /// A listed divergence that happens differently now.
    Changed { recorded: Signature },
    /// A listed divergence that no longer happens: the entry should go.
    Stale,
    /// A runner limit stopped a guest: nothing was proven.
    Inconclusive,
}

impl Judgement {
    pub fn name(&self) -> &'static str {
        match self {
            Judgement::Agree => "agree",
            Judgement::Expected { .. } => "expected",
            Judgement::Informational => "informational",
            Judgement::Unlisted => "unlisted",
            Judgement::Changed { .. } => "changed",
            Judgement::Stale => "stale",
            Judgement::Inconclusive => "inconclusive",
        }
    }

    /// Whether this judgement alone fails the run.
    pub fn fails(&self) -> bool {
        !matches!(self, Judgement::Agree | Judgement::Expected { .. } | Judgement::Informational)
    }
}

impl Expectations {
    /// The entries for `case` that apply to a run of `guests`.
    pub fn applicable<'a>(
        &'a self,
        case: &str,
        guests: &'a [GuestSummary],
    ) -> impl Iterator<Item = &'a Expectation> + 'a {
        self.by_case.get(case).into_iter().flatten().filter(move |e| applies(e, guests))
    }

    /// Judges one case's comparison against the entries that apply to it: expected
    /// when one of them records exactly this signature. An entry may also record that a
    /// case agrees although its `expect` block says otherwise (an SDK release changed
    /// what the case pins); with the `expect` block met, such an entry is stale.
    pub fn judge(
        &self,
        case: &str,
        level: Level,
        comparison: &Comparison,
        runs: &[(String, GuestRun)],
        guests: &[GuestSummary],
    ) -> Judgement {
        let entries: Vec<&Expectation> = self.applicable(case, guests).collect();
        let diverged = matches!(comparison.verdict, Verdict::Diverge | Verdict::Crash);
        let unmet = matches!(comparison.expectation, ExpectationStatus::Unmet(_));
        let recorded = || {
            let now = signature(comparison, runs);
            entries
                .iter()
                .find(|e| e.signature == now)
                .map(|e| Judgement::Expected { causes: e.causes.clone(), detail: e.detail.clone() })
        };
        match (comparison.verdict, entries.first()) {
            (Verdict::Inconclusive, _) => Judgement::Inconclusive,
            (Verdict::Agree, None) => Judgement::Agree,
            (Verdict::Agree, Some(_)) if unmet => recorded().unwrap_or(Judgement::Stale),
            (Verdict::Agree, Some(_)) => Judgement::Stale,
            _ if diverged && level == Level::Informational => Judgement::Informational,
            (_, None) => Judgement::Unlisted,
            (_, Some(first)) => {
                recorded().unwrap_or_else(|| Judgement::Changed { recorded: first.signature.clone() })
            }
        }
    }
}

/// Whether an entry applies to a run: its signature names exactly the run's guests,
/// and its version ranges admit their SDK versions (name and semver; provenance is
/// never consulted).
pub fn applies(entry: &Expectation, guests: &[GuestSummary]) -> bool {
    let same_guests = entry.signature.outcomes.len() == guests.len()
        && guests.iter().all(|g| entry.signature.outcomes.contains_key(&g.name));
    same_guests
        && guests.iter().all(|g| match entry.sdks.get(&g.sdk) {
            None => true,
            Some(requirement) => matches!(
                (semver_of(&g.sdk_version), VersionReq::parse(requirement)),
                (Some(v), Ok(r)) if admits(&r, &v)
            ),
        })
}

/// Whether a range admits a version. Build metadata is ignored. Unlike Cargo, a
/// pre-release is ordered by precedence against `>`, `>=`, `<` and `<=` bounds: a
/// release candidate 0.18.0-rc.1 is judged by the entries `>=0.17.3` of the releases
/// before it (`>=0.18.0` does not admit it).
fn admits(requirement: &VersionReq, version: &Version) -> bool {
    let version = Version { build: BuildMetadata::EMPTY, ..version.clone() };
    if version.pre.is_empty() {
        return requirement.matches(&version);
    }
    requirement.comparators.iter().all(|c| {
        let bound = Version {
            major: c.major,
            minor: c.minor.unwrap_or(0),
            patch: c.patch.unwrap_or(0),
            pre: c.pre.clone(),
            build: BuildMetadata::EMPTY,
        };
        match c.op {
            Op::Greater => version > bound,
            Op::GreaterEq => version >= bound,
            Op::Less => version < bound,
            Op::LessEq => version <= bound,
            _ => c.matches(&version),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(requirement: &str, version: &str) -> bool {
        admits(&VersionReq::parse(requirement).unwrap(), &semver_of(version).unwrap())
    }

    #[test]
    fn ranges_admit_releases_and_release_candidates_by_precedence() {
        assert!(admitted(">=0.17.3", "0.17.3"));
        assert!(admitted(">=0.13.1", "v0.13.1"));
        assert!(!admitted(">=0.17.3", "0.17.2"));
        assert!(admitted(">=0.17.3", "0.18.0-rc.1"));
        assert!(!admitted(">=0.18.0", "0.18.0-rc.1"));
        assert!(admitted(">=0.17.3, <0.18.0", "0.18.0-rc.1"));
        assert!(admitted(">=0.17.3", "0.17.3+local.3"));
        assert!(!admitted("=0.18.0", "0.18.0-rc.1"));
    }
}
