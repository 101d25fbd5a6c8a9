//! The mutation layer: edits of a generated document aimed at the places where two
//! JSON decoders drift apart (docs/fuzzing.md, "Mutations"). Each mutation picks its
//! target among the document's nodes by a proptest `Index`, so it shrinks too.

use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde::Serialize;

use super::doc::{Doc, Step};

/// One edit of a document.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Change the case of a member's key (`mediaType` → `MediaType`).
    KeyCase(Index),
    /// Swap a key letter for a look-alike that case folding may equate (`k` → U+212A
    /// KELVIN SIGN, `s` → U+017F LONG S) or that only looks the same (Cyrillic `а`).
    KeyLookalike(Index),
    /// Repeat a member, the copy holding a different value.
    Duplicate(Index),
    /// Drop a member.
    Remove(Index),
    /// Replace a value by `null`.
    Null(Index),
    /// Replace a value by the empty value of its type (`""`, `[]`, `{}`, `0`).
    Empty(Index),
    /// Respell or push a number to an edge of a type.
    Number(Index, NumberForm),
    /// Respell a string: other escapes, or characters decoders treat differently.
    Escape(Index, EscapeForm),
    /// Wrap a value in `depth` arrays (decoders have different depth limits).
    Nest(Index, usize),
    /// Replace a value by one of another JSON type.
    Retype(Index, Kind),
    /// Replace a string by a word of the OCI vocabularies, valid or almost.
    Word(Index, &'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberForm {
    Float,
    Exponent,
    NegativeZero,
    Negative,
    Fraction,
    Int64Max,
    Int64Overflow,
    Uint64Overflow,
    Huge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EscapeForm {
    /// Every ASCII letter as `\u00XX`.
    UnicodeEscapes,
    /// A lone high surrogate `\ud800` appended.
    LoneSurrogate,
    /// A raw 0xFF byte appended (not UTF-8).
    InvalidUtf8,
    /// `\u0000` appended.
    Nul,
    /// U+2028 LINE SEPARATOR appended, unescaped.
    LineSeparator,
    /// U+FEFF prepended.
    ByteOrderMark,
    /// Trailing white space.
    TrailingSpace,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    Number,
    Bool,
    Array,
    Object,
}

/// Words from the vocabularies the SDKs check, and near misses of them.
const WORDS: [&str; 16] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.oci.artifact.manifest.v1+json",
    "Application/Vnd.Oci.Image.Manifest.V1+Json",
    "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
    "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
    "sha384:38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
    "blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
    "sha256:e3b0c44298fc1c149afbf4c8996fb924",
    "armbe",
    "windows",
    "2024-02-30T00:00:00Z",
    "2016-12-31T23:59:60Z",
    "e30",
    "",
];

/// Up to three mutations; shrinking removes them one by one.
pub fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 0..=3)
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let number = select(
        &[
            NumberForm::Float,
            NumberForm::Exponent,
            NumberForm::NegativeZero,
            NumberForm::Negative,
            NumberForm::Fraction,
            NumberForm::Int64Max,
            NumberForm::Int64Overflow,
            NumberForm::Uint64Overflow,
            NumberForm::Huge,
        ][..],
    );
    let escape = select(
        &[
            EscapeForm::UnicodeEscapes,
            EscapeForm::LoneSurrogate,
            EscapeForm::InvalidUtf8,
            EscapeForm::Nul,
            EscapeForm::LineSeparator,
            EscapeForm::ByteOrderMark,
            EscapeForm::TrailingSpace,
        ][..],
    );
    let kind = select(&[Kind::String, Kind::Number, Kind::Bool, Kind::Array, Kind::Object][..]);
    prop_oneof![
        any::<Index>().prop_map(Mutation::KeyCase),
        any::<Index>().prop_map(Mutation::KeyLookalike),
        any::<Index>().prop_map(Mutation::Duplicate),
        any::<Index>().prop_map(Mutation::Remove),
        any::<Index>().prop_map(Mutation::Null),
        any::<Index>().prop_map(Mutation::Empty),
        (any::<Index>(), number).prop_map(|(i, f)| Mutation::Number(i, f)),
        (any::<Index>(), escape).prop_map(|(i, f)| Mutation::Escape(i, f)),
        (any::<Index>(), select(&[2usize, 129, 1000][..])).prop_map(|(i, d)| Mutation::Nest(i, d)),
        (any::<Index>(), kind).prop_map(|(i, k)| Mutation::Retype(i, k)),
        (any::<Index>(), select(&WORDS[..])).prop_map(|(i, w)| Mutation::Word(i, w)),
    ]
}

/// A mutation that found its target: its operator, and where it applied (a JSON
/// pointer into the document as it was just before).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub operator: String,
    pub at: String,
}

/// Applies the mutations in order; one that finds no target does nothing and is left
/// out of the result.
pub fn apply(doc: &mut Doc, mutations: &[Mutation]) -> Vec<Applied> {
    mutations.iter().filter_map(|m| Some(Applied { operator: m.operator(), at: m.apply(doc)? })).collect()
}

impl Mutation {
    /// The operator with its parameters but not its target: what a cause is made of
    /// (`key-case`, `number:int64-overflow`, `nest:129`, `word:"armbe"`).
    pub fn operator(&self) -> String {
        let kebab = |debug: String| {
            let mut out = String::new();
            for (i, c) in debug.chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    out.push('-');
                }
                out.push(c.to_ascii_lowercase());
            }
            out
        };
        match self {
            Mutation::KeyCase(_) => "key-case".into(),
            Mutation::KeyLookalike(_) => "key-lookalike".into(),
            Mutation::Duplicate(_) => "duplicate".into(),
            Mutation::Remove(_) => "remove".into(),
            Mutation::Null(_) => "null".into(),
            Mutation::Empty(_) => "empty".into(),
            Mutation::Number(_, form) => format!("number:{}", kebab(format!("{form:?}"))),
            Mutation::Escape(_, form) => format!("escape:{}", kebab(format!("{form:?}"))),
            Mutation::Nest(_, depth) => format!("nest:{depth}"),
            Mutation::Retype(_, kind) => format!("retype:{}", kebab(format!("{kind:?}"))),
            Mutation::Word(_, word) => {
                format!("word:{}", serde_json::to_string(word).expect("a word serialises"))
            }
        }
    }

    /// Applies the mutation; where it applied, or `None` when it found no target.
    pub fn apply(&self, doc: &mut Doc) -> Option<String> {
        match self {
            Mutation::KeyCase(i) => edit_member(doc, i, |members, m| {
                let key = &mut members[m].0;
                *key = match key.chars().next() {
                    Some(c) if c.is_lowercase() => c.to_uppercase().chain(key.chars().skip(1)).collect(),
                    _ => key.to_uppercase(),
                };
            }),
            Mutation::KeyLookalike(i) => edit_member(doc, i, |members, m| {
                let key = &mut members[m].0;
                *key = lookalike(key);
            }),
            Mutation::Duplicate(i) => edit_member(doc, i, |members, m| {
                let (key, value) = members[m].clone();
                members.insert(m + 1, (key, other_value(&value)));
            }),
            Mutation::Remove(i) => edit_member(doc, i, |members, m| {
                members.remove(m);
            }),
            Mutation::Null(i) => edit_node(doc, i, |_| true, |node| *node = Doc::Null),
            Mutation::Empty(i) => edit_node(doc, i, |_| true, |node| *node = empty_of(node)),
            Mutation::Number(i, form) => edit_node(
                doc,
                i,
                |n| matches!(n, Doc::Number(_)),
                |node| *node = Doc::Number(respell(node, *form)),
            ),
            Mutation::Escape(i, form) => {
                edit_node(doc, i, |n| matches!(n, Doc::String(_)), |node| *node = escape(node, *form))
            }
            Mutation::Nest(i, depth) => edit_node(
                doc,
                i,
                |_| true,
                |node| {
                    let mut nested = std::mem::replace(node, Doc::Null);
                    for _ in 0..*depth {
                        nested = Doc::Array(vec![nested]);
                    }
                    *node = nested;
                },
            ),
            Mutation::Retype(i, kind) => edit_node(doc, i, |_| true, |node| *node = of_kind(*kind)),
            Mutation::Word(i, word) => {
                edit_node(doc, i, |n| matches!(n, Doc::String(_)), |node| *node = Doc::str(*word))
            }
        }
    }
}

/// Edits the node the index picks among the nodes that `fits`; returns where.
fn edit_node(
    doc: &mut Doc,
    index: &Index,
    fits: impl Fn(&Doc) -> bool,
    edit: impl FnOnce(&mut Doc),
) -> Option<String> {
    let paths: Vec<Vec<Step>> = doc.nodes().into_iter().filter(|(_, n)| fits(n)).map(|(p, _)| p).collect();
    if paths.is_empty() {
        return None;
    }
    let path = &paths[index.index(paths.len())];
    let at = doc.pointer(path);
    let node = doc.at_mut(path)?;
    let was = node.clone();
    edit(node);
    node.mark(was);
    Some(at)
}

/// Edits the object member the index picks among all members of the document; returns
/// where.
fn edit_member(
    doc: &mut Doc,
    index: &Index,
    edit: impl FnOnce(&mut Vec<(String, Doc)>, usize),
) -> Option<String> {
    let members: Vec<(Vec<Step>, usize)> = doc
        .nodes()
        .into_iter()
        .filter_map(|(p, n)| match n {
            Doc::Object(m) => Some((0..m.len()).map(move |i| (p.clone(), i))),
            _ => None,
        })
        .flatten()
        .collect();
    if members.is_empty() {
        return None;
    }
    let (path, m) = &members[index.index(members.len())];
    let at = doc.pointer(&[path.as_slice(), &[Step::Member(*m)]].concat());
    let parent = doc.at_mut(path)?;
    let was = parent.clone();
    let Doc::Object(object) = parent else { return None };
    edit(object, *m);
    // The mark is on the object: what the mutation took away or renamed was in it.
    parent.mark(was);
    Some(at)
}

fn lookalike(key: &str) -> String {
    let mut done = false;
    key.chars()
        .map(|c| {
            let swapped = match c {
                _ if done => None,
                'k' | 'K' => Some('\u{212A}'),
                's' | 'S' => Some('\u{017F}'),
                'a' => Some('\u{0430}'),
                'i' => Some('\u{0131}'),
                _ => None,
            };
            done |= swapped.is_some();
            swapped.unwrap_or(c)
        })
        .collect()
}

fn other_value(value: &Doc) -> Doc {
    match value {
        Doc::String(s) if s.is_empty() => Doc::str("x"),
        Doc::String(_) => Doc::str(""),
        Doc::Number(_) => Doc::int(0),
        Doc::Bool(b) => Doc::Bool(!b),
        Doc::Null => Doc::Bool(true),
        Doc::Array(_) | Doc::Object(_) | Doc::RawString(_) => Doc::Null,
        Doc::Marked(inner, _) => other_value(inner),
    }
}

fn empty_of(node: &Doc) -> Doc {
    match node {
        Doc::String(_) | Doc::RawString(_) => Doc::str(""),
        Doc::Number(_) => Doc::int(0),
        Doc::Bool(_) => Doc::Bool(false),
        Doc::Array(_) => Doc::Array(vec![]),
        Doc::Object(_) | Doc::Null => Doc::Object(vec![]),
        Doc::Marked(inner, _) => empty_of(inner),
    }
}

fn of_kind(kind: Kind) -> Doc {
    match kind {
        Kind::String => Doc::str("1"),
        Kind::Number => Doc::int(1),
        Kind::Bool => Doc::Bool(true),
        Kind::Array => Doc::Array(vec![]),
        Kind::Object => Doc::Object(vec![]),
    }
}

fn respell(node: &Doc, form: NumberForm) -> String {
    let Doc::Number(text) = node else { unreachable!("a number was selected") };
    match form {
        NumberForm::Float => format!("{text}.0"),
        NumberForm::Exponent => format!("{text}e0"),
        NumberForm::NegativeZero => "-0".into(),
        NumberForm::Negative => format!("-{}", text.trim_start_matches('-')),
        NumberForm::Fraction => format!("{text}.5"),
        NumberForm::Int64Max => i64::MAX.to_string(),
        NumberForm::Int64Overflow => (i64::MAX as u64 + 1).to_string(),
        NumberForm::Uint64Overflow => "18446744073709551616".into(),
        NumberForm::Huge => "1e400".into(),
    }
}

fn escape(node: &Doc, form: EscapeForm) -> Doc {
    let Doc::String(s) = node else { unreachable!("a string was selected") };
    let escaped = |s: &str| {
        let mut out = Doc::String(s.to_string()).to_bytes();
        out.remove(0);
        out.pop();
        out
    };
    match form {
        EscapeForm::UnicodeEscapes => Doc::RawString(
            s.chars()
                .flat_map(|c| match c {
                    c if c.is_ascii_alphabetic() => format!("\\u{:04x}", c as u32).into_bytes(),
                    c => escaped(&c.to_string()),
                })
                .collect(),
        ),
        EscapeForm::LoneSurrogate => Doc::RawString([escaped(s), b"\\ud800".to_vec()].concat()),
        EscapeForm::InvalidUtf8 => Doc::RawString([escaped(s), vec![0xff]].concat()),
        EscapeForm::Nul => Doc::RawString([escaped(s), b"\\u0000".to_vec()].concat()),
        EscapeForm::LineSeparator => Doc::String(format!("{s}\u{2028}")),
        EscapeForm::ByteOrderMark => Doc::String(format!("\u{FEFF}{s}")),
        EscapeForm::TrailingSpace => Doc::String(format!("{s} ")),
    }
}

#[cfg(test)]
#[path = "mutate_tests.rs"]
mod tests;
