//! A JSON document that keeps what two decoders may read differently: member order,
//! duplicate keys, the spelling of numbers and strings, even bytes that are not UTF-8.
//! Generators build it, mutations edit it, and it serialises to exactly the bytes the
//! host sends.

use std::fmt::Write as _;

/// One JSON value, as written.
#[derive(Clone, Debug, PartialEq)]
pub enum Doc {
    Null,
    Bool(bool),
    /// A number as its literal text (`1`, `1.0`, `-0`, `1e400`, `18446744073709551616`).
    Number(String),
    /// A string, escaped the ordinary way when written.
    String(String),
    /// A string token written verbatim between its quotes: lets a mutation choose its
    /// own escapes (`\u006d`, a lone `\ud800`) or put raw bytes there (`0xff`).
    RawString(Vec<u8>),
    Array(Vec<Doc>),
    /// Members in order; the same key may appear twice.
    Object(Vec<(String, Doc)>),
    /// A node a mutation made (or an object whose members it changed), with what was
    /// there before: written, listed and reached as the node itself. Shrinking removes
    /// nothing marked, inside a mark or holding one, and checks that the document with
    /// every mark undone ([`Doc::reverted`]) no longer shows what was found, so a saved
    /// input keeps its cause.
    Marked(Box<Doc>, Box<Doc>),
}

impl Doc {
    pub fn object(members: impl IntoIterator<Item = (&'static str, Doc)>) -> Doc {
        Doc::Object(members.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    pub fn str(s: impl Into<String>) -> Doc {
        Doc::String(s.into())
    }

    pub fn int(n: impl std::fmt::Display) -> Doc {
        Doc::Number(n.to_string())
    }

    /// The compact bytes of the document.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Doc::Marked(inner, _) => inner.write(out),
            Doc::Null => out.extend_from_slice(b"null"),
            Doc::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Doc::Number(text) => out.extend_from_slice(text.as_bytes()),
            Doc::String(s) => write_string(s, out),
            Doc::RawString(raw) => {
                out.push(b'"');
                out.extend_from_slice(raw);
                out.push(b'"');
            }
            Doc::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write(out);
                }
                out.push(b']');
            }
            Doc::Object(members) => {
                out.push(b'{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_string(key, out);
                    out.push(b':');
                    value.write(out);
                }
                out.push(b'}');
            }
        }
    }

    /// Every node in depth-first order, with its path of member keys and indices.
    pub fn nodes(&self) -> Vec<(Vec<Step>, &Doc)> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect<'a>(&'a self, path: &mut Vec<Step>, out: &mut Vec<(Vec<Step>, &'a Doc)>) {
        if let Doc::Marked(inner, _) = self {
            return inner.collect(path, out);
        }
        out.push((path.clone(), self));
        match self {
            Doc::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Step::Index(i));
                    item.collect(path, out);
                    path.pop();
                }
            }
            Doc::Object(members) => {
                for (i, (_, value)) in members.iter().enumerate() {
                    path.push(Step::Member(i));
                    value.collect(path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    /// Marks this node as made by a mutation from `was` (see [`Doc::Marked`]); a node
    /// marked already keeps its first `was`.
    pub fn mark(&mut self, was: Doc) {
        let now = std::mem::replace(self, Doc::Null);
        *self = match now {
            Doc::Marked(now, first) => Doc::Marked(now, first),
            now => Doc::Marked(Box::new(now), Box::new(was)),
        };
    }

    /// The document with every mark undone: what it was before the mutations.
    pub fn reverted(&self) -> Doc {
        match self {
            Doc::Marked(_, was) => was.reverted(),
            Doc::Array(items) => Doc::Array(items.iter().map(Doc::reverted).collect()),
            Doc::Object(members) => {
                Doc::Object(members.iter().map(|(k, v)| (k.clone(), v.reverted())).collect())
            }
            other => other.clone(),
        }
    }

    /// The paths of the marked nodes.
    pub fn marks(&self) -> Vec<Vec<Step>> {
        fn walk(doc: &Doc, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
            match doc {
                Doc::Marked(inner, _) => {
                    out.push(path.clone());
                    walk(inner, path, out);
                }
                Doc::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        path.push(Step::Index(i));
                        walk(item, path, out);
                        path.pop();
                    }
                }
                Doc::Object(members) => {
                    for (i, (_, value)) in members.iter().enumerate() {
                        path.push(Step::Member(i));
                        walk(value, path, out);
                        path.pop();
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(self, &mut Vec::new(), &mut out);
        out
    }

    /// Removes the member or item at `path` from its parent; false if there is none.
    pub fn remove(&mut self, path: &[Step]) -> bool {
        let Some((last, parent)) = path.split_last() else { return false };
        match (self.at_mut(parent), last) {
            (Some(Doc::Object(members)), Step::Member(i)) if *i < members.len() => {
                members.remove(*i);
                true
            }
            (Some(Doc::Array(items)), Step::Index(i)) if *i < items.len() => {
                items.remove(*i);
                true
            }
            _ => false,
        }
    }

    /// `path` as a JSON pointer with member keys (`/layers/0/mediaType`), escaped as
    /// RFC 6901 says; a step that leads nowhere ends it.
    pub fn pointer(&self, path: &[Step]) -> String {
        let mut out = String::new();
        let mut node = self;
        for step in path {
            while let Doc::Marked(inner, _) = node {
                node = inner;
            }
            match (node, step) {
                (Doc::Array(items), Step::Index(i)) if *i < items.len() => {
                    let _ = write!(out, "/{i}");
                    node = &items[*i];
                }
                (Doc::Object(members), Step::Member(i)) if *i < members.len() => {
                    let _ = write!(out, "/{}", members[*i].0.replace('~', "~0").replace('/', "~1"));
                    node = &members[*i].1;
                }
                _ => break,
            }
        }
        out
    }

    /// The node at `path`, for editing (inside its mark, if it has one).
    pub fn at_mut(&mut self, path: &[Step]) -> Option<&mut Doc> {
        if let Doc::Marked(inner, _) = self {
            return inner.at_mut(path);
        }
        let Some((first, rest)) = path.split_first() else { return Some(self) };
        match (self, first) {
            (Doc::Array(items), Step::Index(i)) => items.get_mut(*i)?.at_mut(rest),
            (Doc::Object(members), Step::Member(i)) => members.get_mut(*i)?.1.at_mut(rest),
            _ => None,
        }
    }
}

/// One step into a document: the `i`th member of an object, the `i`th item of an array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Member(usize),
    Index(usize),
}

/// JSON string escaping as serde_json and encoding/json agree on for ordinary text:
/// quotes, backslashes and control characters.
fn write_string(s: &str, out: &mut Vec<u8>) {
    let mut escaped = String::with_capacity(s.len() + 2);
    escaped.push('"');
    for c in s.chars() {
        match c {
            '"' => escaped.push_str("\\\""),
            '\\' => escaped.push_str("\\\\"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(escaped, "\\u{:04x}", c as u32);
            }
            c => escaped.push(c),
        }
    }
    escaped.push('"');
    out.extend_from_slice(escaped.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_exactly_what_it_holds() {
        let doc = Doc::Object(vec![
            ("b".into(), Doc::Number("1.0".into())),
            ("a".into(), Doc::Array(vec![Doc::Null, Doc::Bool(true), Doc::str("x\"\n\u{1}")])),
            ("b".into(), Doc::RawString(vec![b'\\', b'u', b'0', b'0', b'6', b'd', 0xff])),
        ]);
        assert_eq!(
            doc.to_bytes(),
            b"{\"b\":1.0,\"a\":[null,true,\"x\\\"\\n\\u0001\"],\"b\":\"\\u006d\xff\"}".to_vec()
        );
    }

    #[test]
    fn nodes_are_listed_depth_first_and_reachable() {
        let mut doc = Doc::object([("a", Doc::Array(vec![Doc::int(1), Doc::int(2)])), ("b", Doc::Null)]);
        let paths: Vec<Vec<Step>> = doc.nodes().into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths.len(), 5);
        assert_eq!(paths[3], vec![Step::Member(0), Step::Index(1)]);
        assert_eq!(doc.pointer(&paths[3]), "/a/1");
        *doc.at_mut(&paths[3]).unwrap() = Doc::str("x");
        assert_eq!(doc.to_bytes(), br#"{"a":[1,"x"],"b":null}"#.to_vec());
        assert!(doc.remove(&paths[2]));
        assert!(doc.remove(&[Step::Member(1)]));
        assert!(!doc.remove(&[]));
        assert_eq!(doc.to_bytes(), br#"{"a":["x"]}"#.to_vec());
    }

    #[test]
    fn a_mark_changes_no_byte_and_no_path() {
        let mut doc = Doc::object([("a", Doc::Array(vec![Doc::int(1), Doc::int(2)])), ("b", Doc::Null)]);
        let original = doc.clone();
        let before = (doc.to_bytes(), doc.nodes().into_iter().map(|(p, _)| p).collect::<Vec<_>>());
        // A mutation replaced a[1], another then changed the members of the root.
        let item = doc.at_mut(&[Step::Member(0), Step::Index(1)]).unwrap();
        *item = Doc::str("x");
        item.mark(Doc::int(2));
        let was = doc.clone();
        doc.at_mut(&[]).unwrap().mark(was);
        assert_eq!(doc.to_bytes(), br#"{"a":[1,"x"],"b":null}"#.to_vec());
        assert_eq!(doc.nodes().into_iter().map(|(p, _)| p).collect::<Vec<_>>(), before.1);
        assert_eq!(doc.marks(), [vec![], vec![Step::Member(0), Step::Index(1)]]);
        assert_eq!(doc.pointer(&[Step::Member(0), Step::Index(1)]), "/a/1");
        // Undone, both marks give back the document before the mutations.
        assert_eq!(doc.reverted(), original);
        assert_eq!(original.to_bytes(), before.0);
    }
}
