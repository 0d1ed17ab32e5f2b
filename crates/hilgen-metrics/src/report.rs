//! Classification reports: seqeval's text layout, JSON and CSV.

use crate::error::{MetricsError, Result};
use crate::scores::{Evaluation, Prf};
use std::fmt::Write;

/// Python's `{:>W.Df}` for floats (`nan` spelled as Python does).
fn fmt_float(x: f64, digits: usize) -> String {
    if x.is_nan() {
        "nan".to_string()
    } else {
        format!("{x:.digits$}")
    }
}

/// The report in seqeval's `classification_report` text layout, byte for byte.
///
/// seqeval raises when there is no entity type in gold or prediction; so does this (an error
/// saying there is nothing to report).
pub fn text(eval: &Evaluation, digits: usize) -> Result<String> {
    let name_width =
        eval.per_type.keys().map(|k| k.chars().count()).max().ok_or_else(|| {
            MetricsError::Empty("neither the gold standard nor the prediction contains an entity".into())
        })?;
    let width = name_width.max("weighted avg".len()).max(digits);
    let mut out = format!("{:>width$} ", "");
    for h in ["precision", "recall", "f1-score", "support"] {
        write!(out, " {h:>9}").unwrap();
    }
    out.push_str("\n\n");
    let row = |name: &str, p: &Prf| {
        let mut line = format!("{name:>width$} ");
        for v in [p.precision, p.recall, p.f1] {
            write!(line, " {:>9}", fmt_float(v, digits)).unwrap();
        }
        write!(line, " {:>9}", p.support).unwrap();
        line
    };
    let mut rows: Vec<String> = eval.per_type.iter().map(|(k, v)| row(k, v)).collect();
    rows.push(String::new());
    rows.push(row("micro avg", &eval.micro));
    rows.push(row("macro avg", &eval.macro_avg));
    rows.push(row("weighted avg", &eval.weighted));
    rows.push(String::new());
    out.push_str(&rows.join("\n"));
    Ok(out)
}

/// The evaluation as pretty JSON (per type, averages, counts, accuracy, options).
pub fn json(eval: &Evaluation) -> String {
    serde_json::to_string_pretty(eval).expect("evaluations serialize")
}

/// The report as CSV: `row,precision,recall,f1,support` with one line per type and average.
pub fn csv(eval: &Evaluation) -> String {
    let mut out = String::from("row,precision,recall,f1,support\n");
    let mut line = |name: &str, p: &Prf| {
        let name =
            if name.contains([',', '"']) { format!("\"{}\"", name.replace('"', "\"\"")) } else { name.to_string() };
        writeln!(out, "{name},{},{},{},{}", p.precision, p.recall, p.f1, p.support).unwrap();
    };
    for (k, v) in &eval.per_type {
        line(k, v);
    }
    line("micro avg", &eval.micro);
    line("macro avg", &eval.macro_avg);
    line("weighted avg", &eval.weighted);
    writeln!(out, "accuracy,,,,{}", eval.accuracy).unwrap();
    out
}
