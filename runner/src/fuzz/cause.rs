//! Finding what caused a disagreement: the smallest set of the input's mutations that
//! still gives it (docs/fuzzing.md, "Causes").
//!
//! Delta debugging reduces a failing set of changes by trying subsets and settles for a
//! 1-minimal one. An input carries at most three mutations (four when derived from a
//! kept input), so trying every smaller subset, smallest first, costs at most 7
//! evaluations (15 for four; the unmutated document included) and finds the minimum
//! itself. The
//! candidates of every finding of a chunk are evaluated together, one subset size per
//! round, batched on every core like any run.

use std::collections::BTreeSet;

use super::doc::Doc;
use super::mutate::Mutation;
use super::oracle::{Cause, Diff, Evaluation, Symptom, evaluate_all};
use crate::case::Op;
use crate::run::Runner;

/// A disagreeing input whose cause is wanted.
pub struct Finding<'a> {
    /// The generated document, before any mutation.
    pub generated: &'a Doc,
    /// The input's mutations that found a target, in order.
    pub mutations: Vec<Mutation>,
    pub symptom: &'a Symptom,
}

/// The cause of a finding, and the smallest input that shows it.
pub struct Found {
    pub cause: Cause,
    /// The mutations of the smallest subset that still disagrees, in their order.
    pub mutations: Vec<Mutation>,
    /// What the generated document with just those mutations shows.
    pub symptom: Symptom,
}

/// The cause of every finding, and the differential executions spent.
///
/// A subset reproduces a finding when it disagrees with the same outcomes and shows at
/// least one difference the unmutated document does not (with the same outcomes; with
/// other outcomes, any difference). When the unmutated document already shows all of
/// the finding's differences with its outcomes, the cause is the generated document
/// itself ([`Cause::Generated`]).
pub fn find_causes(runner: &Runner, op: Op, findings: &[Finding<'_>]) -> (Vec<Found>, u64) {
    let mut executions = 0u64;
    let mut found: Vec<Option<Found>> = findings.iter().map(|_| None).collect();
    for (i, finding) in findings.iter().enumerate() {
        if finding.mutations.is_empty() {
            found[i] = Some(Found {
                cause: Cause::Generated { diffs: finding.symptom.diffs.clone() },
                mutations: vec![],
                symptom: finding.symptom.clone(),
            });
        }
    }
    // Round 0: the unmutated documents.
    let mutated: Vec<usize> = (0..findings.len()).filter(|&i| found[i].is_none()).collect();
    let bases = evaluate_all(
        runner,
        &mutated.iter().map(|&i| (op, findings[i].generated.to_bytes())).collect::<Vec<_>>(),
    );
    executions += bases.len() as u64;
    // The differences each unmutated document shows with the finding's outcomes.
    let mut base_diffs: Vec<BTreeSet<Diff>> = findings.iter().map(|_| BTreeSet::new()).collect();
    for (&i, base) in mutated.iter().zip(bases) {
        let finding = &findings[i];
        if let Evaluation::Differ(base) = base
            && base.outcomes == finding.symptom.outcomes
        {
            if finding.symptom.diffs.is_subset(&base.diffs) {
                found[i] = Some(Found {
                    cause: Cause::Generated { diffs: base.diffs.clone() },
                    mutations: vec![],
                    symptom: base,
                });
            } else {
                base_diffs[i] = base.diffs;
            }
        }
    }
    // Rounds 1, 2, …: every subset of that size of each finding not resolved yet.
    let most = findings.iter().map(|f| f.mutations.len()).max().unwrap_or(0);
    for size in 1..most {
        let candidates: Vec<(usize, Vec<usize>)> = (0..findings.len())
            .filter(|&i| found[i].is_none() && size < findings[i].mutations.len())
            .flat_map(|i| subsets(findings[i].mutations.len(), size).into_iter().map(move |s| (i, s)))
            .collect();
        let inputs: Vec<(Op, Vec<u8>)> = candidates
            .iter()
            .map(|(i, subset)| {
                (op, render(findings[*i].generated, &pick(&findings[*i].mutations, subset)).to_bytes())
            })
            .collect();
        let evaluations = evaluate_all(runner, &inputs);
        executions += evaluations.len() as u64;
        for ((i, subset), evaluation) in candidates.into_iter().zip(evaluations) {
            let Evaluation::Differ(symptom) = evaluation else { continue };
            let reproduces = symptom.outcomes == findings[i].symptom.outcomes
                && symptom.diffs.iter().any(|d| !base_diffs[i].contains(d));
            if reproduces && found[i].is_none() {
                let mutations = pick(&findings[i].mutations, &subset);
                found[i] = Some(Found { cause: cause_of(&mutations), mutations, symptom });
            }
        }
    }
    let found = found
        .into_iter()
        .zip(findings)
        .map(|(found, finding)| {
            found.unwrap_or_else(|| Found {
                cause: cause_of(&finding.mutations),
                mutations: finding.mutations.clone(),
                symptom: finding.symptom.clone(),
            })
        })
        .collect();
    (found, executions)
}

/// The operators of a set of mutations, sorted: targets do not make a cause.
pub fn cause_of(mutations: &[Mutation]) -> Cause {
    let mut operators: Vec<String> = mutations.iter().map(Mutation::operator).collect();
    operators.sort();
    Cause::Mutations { operators }
}

/// The generated document with `mutations` applied.
pub(super) fn render(generated: &Doc, mutations: &[Mutation]) -> Doc {
    let mut doc = generated.clone();
    super::mutate::apply(&mut doc, mutations);
    doc
}

fn pick(mutations: &[Mutation], subset: &[usize]) -> Vec<Mutation> {
    subset.iter().map(|&i| mutations[i].clone()).collect()
}

/// Every subset of `0..n` with `size` members, in lexicographic order.
fn subsets(n: usize, size: usize) -> Vec<Vec<usize>> {
    fn extend(start: usize, n: usize, size: usize, current: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if current.len() == size {
            out.push(current.clone());
            return;
        }
        for i in start..n {
            current.push(i);
            extend(i + 1, n, size, current, out);
            current.pop();
        }
    }
    let mut out = Vec::new();
    extend(0, n, size, &mut Vec::new(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsets_of_each_size() {
        assert_eq!(subsets(3, 1), vec![vec![0], vec![1], vec![2]]);
        assert_eq!(subsets(3, 2), vec![vec![0, 1], vec![0, 2], vec![1, 2]]);
        assert_eq!(subsets(2, 0), vec![Vec::<usize>::new()]);
    }
}
