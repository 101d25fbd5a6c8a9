//! The signature of a comparison: what an expectations entry records and matches.

use serde_json::Value;

use super::model::{PathSignature, Signature};
use crate::compare::Comparison;
use crate::guest::{GuestRun, Outcome};

/// Each guest's outcome, and the shape of every difference.
pub fn signature(comparison: &Comparison, runs: &[(String, GuestRun)]) -> Signature {
    let outcomes = runs
        .iter()
        .map(|(name, run)| {
            let label = match (&run.outcome, run.outcome.kind()) {
                (Outcome::EngineError(f), _) => format!("engine-error/{}", f.kind()),
                (o, Some(kind)) => format!("{}/{kind}", o.class()),
                (o, None) => o.class().to_string(),
            };
            (name.clone(), label)
        })
        .collect();
    let diffs = comparison
        .diffs
        .iter()
        .map(|d| PathSignature {
            path: d.path.clone(),
            values: d.values.iter().map(|(name, v)| (name.clone(), shape(&d.path, v.as_ref()))).collect(),
        })
        .collect();
    Signature { outcomes, diffs }
}

fn shape(path: &str, value: Option<&Value>) -> String {
    match value {
        None => "absent".into(),
        Some(Value::String(s)) if path == "/outcome" || path == "/kind" => s.clone(),
        Some(Value::Null) => "null".into(),
        Some(Value::String(_)) => "string".into(),
        Some(Value::Number(_)) => "number".into(),
        Some(Value::Bool(_)) => "bool".into(),
        Some(Value::Array(_)) => "array".into(),
        Some(Value::Object(_)) => "object".into(),
    }
}
