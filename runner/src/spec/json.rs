//! JSON as RFC 8259 defines it, and I-JSON (RFC 7493), the profile that forbids what
//! makes decoders disagree: duplicate member names, surrogate and noncharacter code
//! points, numbers beyond IEEE 754 doubles.
//!
//! serde_json reads the document (it accepts exactly RFC 8259's grammar, up to 128
//! levels of nesting); a visitor walks it for what RFC 8259 allows and I-JSON does not.
//! A lone surrogate escape (forbidden) and a number out of the double range (advised
//! against) make serde_json stop: they are told apart from grammar errors by serde_json's
//! message, and the document is not walked further. At most [`MAX_FINDINGS`] findings
//! of each kind are kept; the rest are counted.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::Serialize;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// How a document stands against RFC 8259 and I-JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum JsonVerdict {
    /// RFC 8259 JSON and I-JSON; `advice`, what I-JSON only advises against (integers a
    /// double does not hold exactly), each with its JSON Pointer and the clause.
    Valid { advice: Vec<String> },
    /// RFC 8259 JSON that I-JSON forbids: each problem with its JSON Pointer and the clause.
    IJsonViolation { problems: Vec<String> },
    /// Not RFC 8259 JSON.
    Invalid { error: String },
    /// Not read to the end: nested deeper than the checker reads (128; RFC 8259 §9 lets
    /// parsers set a limit), or a number beyond the double range stopped it.
    Unchecked { reason: String },
}

/// Findings kept per list; the rest are counted (a document of a million duplicate
/// names must not make a million-line report).
pub const MAX_FINDINGS: usize = 5;

/// The largest integer an IEEE 754 double holds exactly (RFC 7493 §2.2).
const EXACT_INTEGERS: u64 = (1 << 53) - 1;

pub fn judge(bytes: &[u8]) -> (JsonVerdict, Option<serde_json::Value>) {
    let mut problems = Vec::new();
    let body = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => {
            problems.push("/: a byte order mark before the text (RFC 8259 §8.1: MUST NOT be added)".into());
            rest
        }
        None => bytes,
    };
    if let Err(e) = std::str::from_utf8(body) {
        let error = format!("not UTF-8 at byte {} (RFC 8259 §8.1)", e.valid_up_to());
        return (JsonVerdict::Invalid { error }, None);
    }
    let found = RefCell::new(Findings::default());
    let advice = RefCell::new(Findings::default());
    let mut reader = serde_json::Deserializer::from_slice(body);
    let walked = Walk { path: String::new(), problems: &found, advice: &advice }.deserialize(&mut reader);
    let walked = walked.and_then(|()| reader.end());
    problems.extend(found.into_inner().list());
    match walked {
        Ok(()) => {}
        Err(e) => {
            let message = e.to_string();
            // serde_json says "lone leading surrogate in hex escape", or "unexpected end
            // of hex escape" for a leading surrogate with no trailing one after it.
            if message.contains("surrogate") || message.contains("end of hex escape") {
                let problem = "a lone surrogate escape (RFC 7493 §2.1: MUST NOT)";
                problems.push(format!("{problem}, {}", position(&e)));
                return (JsonVerdict::IJsonViolation { problems }, None);
            }
            // I-JSON only advises against such a number (§2.2: SHOULD NOT), but the
            // check cannot read past it.
            let reason = if message.contains("number out of range") {
                format!(
                    "a number beyond the IEEE 754 double range (RFC 7493 §2.2: SHOULD NOT) stops the check, {}",
                    position(&e)
                )
            } else if message.contains("recursion limit") {
                message
            } else {
                return (JsonVerdict::Invalid { error: message }, None);
            };
            return (JsonVerdict::Unchecked { reason }, None);
        }
    }
    let value = serde_json::from_slice(body).ok();
    match problems.is_empty() {
        true => (JsonVerdict::Valid { advice: advice.into_inner().list() }, value),
        false => (JsonVerdict::IJsonViolation { problems }, value),
    }
}

fn position(e: &serde_json::Error) -> String {
    format!("line {} column {}", e.line(), e.column())
}

/// One value at `path`: what I-JSON forbids there goes to `problems`, what it only
/// advises against to `advice`.
struct Walk<'p> {
    path: String,
    problems: &'p RefCell<Findings>,
    advice: &'p RefCell<Findings>,
}

/// The first [`MAX_FINDINGS`] findings, and how many more there were.
#[derive(Default)]
struct Findings {
    kept: Vec<String>,
    more: usize,
}

impl Findings {
    fn add(&mut self, finding: impl FnOnce() -> String) {
        match self.kept.len() < MAX_FINDINGS {
            true => self.kept.push(finding()),
            false => self.more += 1,
        }
    }

    fn list(mut self) -> Vec<String> {
        if self.more > 0 {
            self.kept.push(format!("… and {} more", self.more));
        }
        self.kept
    }
}

impl Walk<'_> {
    fn note(&self, problem: impl fmt::Display) {
        self.problems.borrow_mut().add(|| self.located(problem));
    }

    fn advise(&self, advice: impl fmt::Display) {
        self.advice.borrow_mut().add(|| self.located(advice));
    }

    fn located(&self, what: impl fmt::Display) -> String {
        let at = if self.path.is_empty() { "/" } else { &self.path };
        format!("{at}: {what}")
    }

    fn at(&self, step: &str) -> Walk<'_> {
        let step = step.replace('~', "~0").replace('/', "~1");
        Walk { path: format!("{}/{step}", self.path), problems: self.problems, advice: self.advice }
    }

    fn integer(&self, magnitude: u64, negative: bool) {
        if magnitude > EXACT_INTEGERS {
            let sign = if negative { "-" } else { "" };
            self.advise(format_args!(
                "{sign}{magnitude} is beyond the integers a double holds exactly (RFC 7493 §2.2: SHOULD NOT)"
            ));
        }
    }

    fn string(&self, s: &str) {
        if let Some(c) = s.chars().find(|c| is_noncharacter(*c)) {
            self.note(format_args!("the noncharacter U+{:04X} (RFC 7493 §2.1: MUST NOT)", c as u32));
        }
    }
}

/// U+FDD0..U+FDEF and the last two code points of every plane (Unicode §23.7).
fn is_noncharacter(c: char) -> bool {
    let c = c as u32;
    (0xFDD0..=0xFDEF).contains(&c) || c & 0xFFFE == 0xFFFE
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, n: u64) -> Result<(), E> {
        self.integer(n, false);
        Ok(())
    }

    fn visit_i64<E>(self, n: i64) -> Result<(), E> {
        self.integer(n.unsigned_abs(), n < 0);
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, s: &str) -> Result<(), E> {
        self.string(s);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while items.next_element_seed(self.at(&index.to_string()))?.is_some() {
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<(), A::Error> {
        let mut names = HashSet::new();
        while let Some(name) = members.next_key::<String>()? {
            let member = self.at(&name);
            member.string(&name);
            if !names.insert(name) {
                member
                    .note("a duplicate member name (RFC 7493 §2.3: MUST NOT; RFC 8259 §4: SHOULD be unique)");
            }
            members.next_value_seed(member)?;
        }
        Ok(())
    }
}
