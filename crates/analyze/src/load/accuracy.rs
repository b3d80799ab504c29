//! The user's accuracy table (`--accuracy FILE`): CSV with columns `model,top1_error[,top5_error]`
//! in percent, an optional header line, `#` comments. Bad lines are skipped with a note; only an
//! unreadable file is an error. Accuracy is 100 - top1_error.

use super::file::read_file;
use super::note::SkipNote;
use crate::error::AnalyzeError;
use std::collections::BTreeMap;
use std::path::Path;

/// Top-1/top-5 error (percent) supplied by the user for one model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AccuracyEntry {
    pub top1_error_pct: f64,
    pub top5_error_pct: Option<f64>,
}

pub type AccuracyTable = BTreeMap<String, AccuracyEntry>;

pub fn read_csv(path: &Path) -> Result<(AccuracyTable, Vec<SkipNote>), AnalyzeError> {
    let text = read_file(path)?;
    Ok(parse_csv(path, &String::from_utf8_lossy(&text)))
}

pub fn parse_csv(path: &Path, text: &str) -> (AccuracyTable, Vec<SkipNote>) {
    let mut table = AccuracyTable::new();
    let mut notes = Vec::new();
    let mut note = |line: usize, reason: String| {
        notes.push(SkipNote {
            file: path.to_path_buf(),
            line,
            reason,
        });
    };
    for (ix, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if ix == 0
            && fields
                .first()
                .is_some_and(|f| f.eq_ignore_ascii_case("model"))
        {
            continue;
        }
        let parse = |f: Option<&&str>| f.filter(|s| !s.is_empty()).map(|s| s.parse::<f64>());
        let (model, top1, top5) = (fields[0], parse(fields.get(1)), parse(fields.get(2)));
        match (top1, top5) {
            (Some(Ok(t1)), None) if valid(t1) => {
                table.insert(
                    model.into(),
                    AccuracyEntry {
                        top1_error_pct: t1,
                        top5_error_pct: None,
                    },
                );
            }
            (Some(Ok(t1)), Some(Ok(t5))) if valid(t1) && valid(t5) => {
                table.insert(
                    model.into(),
                    AccuracyEntry {
                        top1_error_pct: t1,
                        top5_error_pct: Some(t5),
                    },
                );
            }
            _ if model.is_empty() => {
                note(ix + 1, "accuracy line without a model name; ignored".into())
            }
            _ => note(
                ix + 1,
                format!(
                    "accuracy line `{line}` ignored: expected model,top1_error[,top5_error] with \
                     errors in percent (0-100)"
                ),
            ),
        }
    }
    (table, notes)
}

fn valid(pct: f64) -> bool {
    pct.is_finite() && (0.0..=100.0).contains(&pct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_comments_and_bad_lines() {
        let text =
            "model,top1_error,top5_error\n# zoo\nresnet50,22.1,6.0\nvgg16, 27.5\nbad,abc\nneg,-3\n";
        let (t, notes) = parse_csv(Path::new("acc.csv"), text);
        assert_eq!(t.len(), 2);
        assert_eq!(t["resnet50"].top5_error_pct, Some(6.0));
        assert_eq!(t["vgg16"].top1_error_pct, 27.5);
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[0].line, 5);
        assert!(
            notes[0]
                .to_string()
                .starts_with("acc.csv:5: accuracy line `bad,abc` ignored")
        );
    }
}
