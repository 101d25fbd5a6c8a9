use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

use super::*;

/// Any index: the documents below have exactly one target for each mutation.
fn idx() -> Index {
    any::<Index>().new_tree(&mut TestRunner::deterministic()).unwrap().current()
}

fn mutated(doc: &str, m: Mutation) -> String {
    let mut d = parse(doc);
    m.apply(&mut d);
    String::from_utf8_lossy(&d.to_bytes()).into_owned()
}

/// Documents for the tests, built from ordinary JSON.
fn parse(json: &str) -> Doc {
    fn convert(v: serde_json::Value) -> Doc {
        match v {
            serde_json::Value::Null => Doc::Null,
            serde_json::Value::Bool(b) => Doc::Bool(b),
            serde_json::Value::Number(n) => Doc::Number(n.to_string()),
            serde_json::Value::String(s) => Doc::String(s),
            serde_json::Value::Array(a) => Doc::Array(a.into_iter().map(convert).collect()),
            serde_json::Value::Object(o) => {
                Doc::Object(o.into_iter().map(|(k, v)| (k, convert(v))).collect())
            }
        }
    }
    convert(serde_json::from_str(json).unwrap())
}

#[test]
fn key_case_capitalises_a_key() {
    assert_eq!(mutated(r#"{"mediaType":"x"}"#, Mutation::KeyCase(idx())), r#"{"MediaType":"x"}"#);
}

#[test]
fn key_lookalike_swaps_one_letter() {
    assert_eq!(mutated(r#"{"size":1}"#, Mutation::KeyLookalike(idx())), "{\"\u{17F}ize\":1}");
    assert_eq!(mutated(r#"{"kind":1}"#, Mutation::KeyLookalike(idx())), "{\"\u{212A}ind\":1}");
}

#[test]
fn duplicate_repeats_a_member_with_another_value() {
    assert_eq!(mutated(r#"{"os":"linux"}"#, Mutation::Duplicate(idx())), r#"{"os":"linux","os":""}"#);
}

#[test]
fn remove_drops_a_member() {
    assert_eq!(mutated(r#"{"os":"linux"}"#, Mutation::Remove(idx())), "{}");
}

#[test]
fn null_and_empty_replace_a_value() {
    assert_eq!(mutated(r#""x""#, Mutation::Null(idx())), "null");
    assert_eq!(mutated(r#""x""#, Mutation::Empty(idx())), r#""""#);
}

#[test]
fn number_forms_respell_or_push_to_type_edges() {
    let n = |form| mutated("[7]", Mutation::Number(idx(), form));
    assert_eq!(n(NumberForm::Float), "[7.0]");
    assert_eq!(n(NumberForm::Exponent), "[7e0]");
    assert_eq!(n(NumberForm::NegativeZero), "[-0]");
    assert_eq!(n(NumberForm::Negative), "[-7]");
    assert_eq!(n(NumberForm::Fraction), "[7.5]");
    assert_eq!(n(NumberForm::Int64Max), "[9223372036854775807]");
    assert_eq!(n(NumberForm::Int64Overflow), "[9223372036854775808]");
    assert_eq!(n(NumberForm::Uint64Overflow), "[18446744073709551616]");
    assert_eq!(n(NumberForm::Huge), "[1e400]");
}

#[test]
fn escape_forms_respell_strings() {
    let e = |form| {
        let mut d = parse(r#"["ab1"]"#);
        Mutation::Escape(idx(), form).apply(&mut d);
        d.to_bytes()
    };
    assert_eq!(e(EscapeForm::UnicodeEscapes), br#"["\u0061\u00621"]"#.to_vec());
    assert_eq!(e(EscapeForm::LoneSurrogate), br#"["ab1\ud800"]"#.to_vec());
    assert_eq!(e(EscapeForm::InvalidUtf8), b"[\"ab1\xff\"]".to_vec());
    assert_eq!(e(EscapeForm::Nul), br#"["ab1\u0000"]"#.to_vec());
    assert_eq!(e(EscapeForm::LineSeparator), "[\"ab1\u{2028}\"]".as_bytes().to_vec());
    assert_eq!(e(EscapeForm::ByteOrderMark), "[\"\u{FEFF}ab1\"]".as_bytes().to_vec());
    assert_eq!(e(EscapeForm::TrailingSpace), br#"["ab1 "]"#.to_vec());
}

#[test]
fn nest_wraps_a_value_in_arrays() {
    assert_eq!(mutated("true", Mutation::Nest(idx(), 3)), "[[[true]]]");
}

#[test]
fn retype_replaces_a_value_by_another_type() {
    assert_eq!(mutated("true", Mutation::Retype(idx(), Kind::Object)), "{}");
    assert_eq!(mutated("true", Mutation::Retype(idx(), Kind::String)), r#""1""#);
}

#[test]
fn word_puts_a_vocabulary_word_in_a_string() {
    assert_eq!(mutated(r#"["x"]"#, Mutation::Word(idx(), "armbe")), r#"["armbe"]"#);
}

#[test]
fn a_mutation_without_a_target_changes_nothing() {
    assert_eq!(mutated("[true]", Mutation::Number(idx(), NumberForm::Float)), "[true]");
    assert_eq!(mutated("[1]", Mutation::KeyCase(idx())), "[1]");
}
