//! Scoring diagnoses against labelled records: the confusion matrix,
//! recall and precision per class, false alarms on healthy records, wrong
//! and uncertain locations, and a row per record with its reason.
//!
//! Pure: the caller diagnoses (or fails to read) each record and hands
//! over what came out; `linetwin validate` reads the manifest and prints.

use serde::{Deserialize, Serialize};

use crate::diagnosis::Verdict;

/// A label that names no fault the engine knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown fault {0:?}: use none, outer_race, inner_race, ball, cage, bearing, unbalance or misalignment"
)]
pub struct UnknownFault(pub String);

/// What a labelled record truly has, in the verdict's words. Labels are
/// read leniently (`outer`, `outer_race`, `OR`...) because labelled sets
/// come from many places; anything else is an error that names it.
pub fn parse_truth(label: &str) -> Result<Verdict, UnknownFault> {
    let words = label.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    Ok(match words.as_str() {
        "none" | "normal" | "healthy" | "no_fault" | "ok" => Verdict::None,
        "outer" | "outer_race" | "or" | "bpfo" => Verdict::OuterRace,
        "inner" | "inner_race" | "ir" | "bpfi" => Verdict::InnerRace,
        "ball" | "rolling_element" | "roller" | "b" | "bsf" => Verdict::Ball,
        "cage" | "ftf" => Verdict::Cage,
        "bearing" => Verdict::Bearing,
        "unbalance" | "imbalance" => Verdict::Unbalance,
        "misalignment" => Verdict::Misalignment,
        other => return Err(UnknownFault(other.to_owned())),
    })
}

/// How one record's verdict compares with its truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The verdict names the true fault (or no fault on a healthy record).
    Correct,
    /// A bearing defect found, its location honestly left open: better
    /// than a wrong location, not as good as the right one.
    LocationUncertain,
    /// A bearing defect found at another location of the bearing.
    WrongLocation,
    /// A fault found, but of another kind (a shaft fault for a bearing
    /// one, or the reverse).
    WrongFault,
    /// A faulty record judged healthy.
    Missed,
    /// A healthy record judged faulty.
    FalseAlarm,
    /// The record could not be judged (unreadable, or the signal unusable).
    NotJudged,
}

impl Outcome {
    pub fn of(truth: Verdict, verdict: Verdict) -> Outcome {
        match (truth, verdict) {
            (t, v) if t == v => Outcome::Correct,
            (Verdict::None, _) => Outcome::FalseAlarm,
            (_, Verdict::None) => Outcome::Missed,
            (t, Verdict::Bearing) if t.is_bearing() => Outcome::LocationUncertain,
            // A truth of "some bearing defect" is met by any location.
            (Verdict::Bearing, v) if v.is_bearing() => Outcome::Correct,
            (t, v) if t.is_bearing() && v.is_bearing() => Outcome::WrongLocation,
            _ => Outcome::WrongFault,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Correct => "correct",
            Outcome::LocationUncertain => "location uncertain",
            Outcome::WrongLocation => "wrong location",
            Outcome::WrongFault => "wrong fault",
            Outcome::Missed => "missed",
            Outcome::FalseAlarm => "false alarm",
            Outcome::NotJudged => "not judged",
        }
    }

    pub const ALL: [Outcome; 7] = [
        Outcome::Correct,
        Outcome::LocationUncertain,
        Outcome::WrongLocation,
        Outcome::WrongFault,
        Outcome::Missed,
        Outcome::FalseAlarm,
        Outcome::NotJudged,
    ];
}

/// One labelled record and what the engine said of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordResult {
    pub id: String,
    pub truth: Verdict,
    /// `None` when the record could not be judged.
    pub verdict: Option<Verdict>,
    pub confidence: Option<f64>,
    pub health: Option<String>,
    pub outcome: Outcome,
    /// Why: the verdict's evidence and which method found it, or the
    /// error that stopped the record.
    pub reason: String,
    /// The manifest's own note (e.g. a benchmark's grade), shown as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl RecordResult {
    pub fn judged(
        id: String,
        truth: Verdict,
        verdict: Verdict,
        confidence: f64,
        health: String,
        reason: String,
    ) -> Self {
        RecordResult {
            id,
            truth,
            verdict: Some(verdict),
            confidence: Some(confidence),
            health: Some(health),
            outcome: Outcome::of(truth, verdict),
            reason,
            note: None,
        }
    }

    pub fn not_judged(id: String, truth: Verdict, reason: String) -> Self {
        RecordResult {
            id,
            truth,
            verdict: None,
            confidence: None,
            health: None,
            outcome: Outcome::NotJudged,
            reason,
            note: None,
        }
    }
}

/// Recall and precision of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScore {
    pub class: Verdict,
    /// Records whose truth is this class.
    pub records: usize,
    /// Verdicts of this class.
    pub called: usize,
    /// Records of this class judged correct (for a `bearing` truth, any
    /// location counts).
    pub correct: usize,
    /// Verdicts of this class that were right (a `bearing` call, location
    /// left open, is right on a record with any bearing defect).
    pub right_calls: usize,
    /// correct / records; `None` with no records.
    pub recall: Option<f64>,
    /// right_calls / called; `None` when never called.
    pub precision: Option<f64>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub records: Vec<RecordResult>,
    /// Classes in a fixed order: those that occur as truth or verdict.
    pub classes: Vec<Verdict>,
    /// `matrix[i][j]`: records of truth `classes[i]` given verdict
    /// `classes[j]`; not-judged records are counted in `not_judged`.
    pub matrix: Vec<Vec<usize>>,
    pub not_judged: Vec<usize>,
    pub per_class: Vec<ClassScore>,
    /// How many records ended each way.
    pub outcomes: Vec<(Outcome, usize)>,
    pub healthy_records: usize,
    /// False alarms / healthy records judged.
    pub false_alarm_rate: Option<f64>,
    /// Correct / records judged.
    pub accuracy: Option<f64>,
}

/// Every class the engine can name, in the order reports list them.
pub const CLASS_ORDER: [Verdict; 8] = [
    Verdict::None,
    Verdict::OuterRace,
    Verdict::InnerRace,
    Verdict::Ball,
    Verdict::Cage,
    Verdict::Bearing,
    Verdict::Unbalance,
    Verdict::Misalignment,
];

fn ratio(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl Report {
    pub fn new(records: Vec<RecordResult>) -> Report {
        let occurs = |c: Verdict| records.iter().any(|r| r.truth == c || r.verdict == Some(c));
        let classes: Vec<Verdict> = CLASS_ORDER.into_iter().filter(|&c| occurs(c)).collect();
        let index = |v: Verdict| classes.iter().position(|&c| c == v);
        let mut matrix = vec![vec![0; classes.len()]; classes.len()];
        let mut not_judged = vec![0; classes.len()];
        for r in &records {
            let Some(i) = index(r.truth) else { continue };
            match r.verdict.and_then(index) {
                Some(j) => matrix[i][j] += 1,
                None => not_judged[i] += 1,
            }
        }
        let per_class = classes
            .iter()
            .enumerate()
            .map(|(i, &class)| {
                let records_of = matrix[i].iter().sum::<usize>() + not_judged[i];
                let called = matrix.iter().map(|row| row[i]).sum();
                let correct = records
                    .iter()
                    .filter(|r| r.truth == class && r.outcome == Outcome::Correct)
                    .count();
                let right_calls = records
                    .iter()
                    .filter(|r| r.verdict == Some(class))
                    .filter(|r| {
                        r.outcome == Outcome::Correct
                            || (class == Verdict::Bearing && r.truth.is_bearing())
                    })
                    .count();
                ClassScore {
                    class,
                    records: records_of,
                    called,
                    correct,
                    right_calls,
                    recall: ratio(correct, records_of),
                    precision: ratio(right_calls, called),
                }
            })
            .collect();
        let outcomes = Outcome::ALL
            .into_iter()
            .map(|o| (o, records.iter().filter(|r| r.outcome == o).count()))
            .collect();
        let healthy: Vec<&RecordResult> = records
            .iter()
            .filter(|r| r.truth == Verdict::None && r.outcome != Outcome::NotJudged)
            .collect();
        let false_alarms = healthy
            .iter()
            .filter(|r| r.outcome == Outcome::FalseAlarm)
            .count();
        let judged = records
            .iter()
            .filter(|r| r.outcome != Outcome::NotJudged)
            .count();
        let correct = records
            .iter()
            .filter(|r| r.outcome == Outcome::Correct)
            .count();
        Report {
            healthy_records: healthy.len(),
            false_alarm_rate: ratio(false_alarms, healthy.len()),
            accuracy: ratio(correct, judged),
            records,
            classes,
            matrix,
            not_judged,
            per_class,
            outcomes,
        }
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.outcomes
            .iter()
            .find(|(o, _)| *o == outcome)
            .map_or(0, |(_, n)| *n)
    }

    /// The report as Markdown, for a commissioning record.
    pub fn markdown(&self, title: &str, source: &str) -> String {
        let mut out = format!("# {title}\n\n{source}\n\n");
        out += &self.summary_lines().join("\n");
        out += "\n\n## Confusion matrix\n\nRows: the truth; columns: the verdict.\n\n";
        let cells = self.matrix_cells();
        for (i, row) in cells.iter().enumerate() {
            out += &format!("| {} |\n", row.join(" | "));
            if i == 0 {
                out += &format!("|{}\n", "---|".repeat(row.len()));
            }
        }
        out += "\n## Per class\n\n| class | records | called | correct | right calls | recall | precision |\n|---|---|---|---|---|---|---|\n";
        for row in self.class_rows() {
            out += &format!("| {} |\n", row.join(" | "));
        }
        out += "\n## Per record\n\n| record | truth | verdict | confidence | health | outcome | reason |";
        let notes = self.records.iter().any(|r| r.note.is_some());
        out += if notes { " note |\n" } else { "\n" };
        out += if notes {
            "|---|---|---|---|---|---|---|---|\n"
        } else {
            "|---|---|---|---|---|---|---|\n"
        };
        for r in &self.records {
            out += &format!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.id,
                r.truth.as_str(),
                r.verdict.map_or("-", Verdict::as_str),
                r.confidence
                    .map_or("-".to_owned(), |c| format!("{:.0} %", 100.0 * c)),
                r.health.as_deref().unwrap_or("-"),
                r.outcome.as_str(),
                r.reason.replace('|', "/")
            );
            if notes {
                out += &format!(" {} |", r.note.as_deref().unwrap_or("-"));
            }
            out += "\n";
        }
        out
    }

    /// The report as a plain-text table for a terminal.
    pub fn table(&self) -> String {
        let mut out = self.summary_lines().join("\n");
        out += "\n\nconfusion matrix (rows truth, columns verdict):\n";
        out += &align(&self.matrix_cells());
        out += "\nper class:\n";
        let mut class_cells = vec![
            [
                "class",
                "records",
                "called",
                "correct",
                "right calls",
                "recall",
                "precision",
            ]
            .map(str::to_owned)
            .to_vec(),
        ];
        class_cells.extend(self.class_rows());
        out += &align(&class_cells);
        out += "\nper record:\n";
        let mut record_cells = vec![vec![
            "record".to_owned(),
            "truth".into(),
            "verdict".into(),
            "conf.".into(),
            "outcome".into(),
            "reason".into(),
        ]];
        for r in &self.records {
            record_cells.push(vec![
                r.id.clone(),
                r.truth.as_str().to_owned(),
                r.verdict.map_or("-", Verdict::as_str).to_owned(),
                r.confidence
                    .map_or("-".to_owned(), |c| format!("{:.0} %", 100.0 * c)),
                r.outcome.as_str().to_owned(),
                r.reason.clone(),
            ]);
        }
        out += &align(&record_cells);
        out
    }

    fn summary_lines(&self) -> Vec<String> {
        let judged = self.records.len() - self.count(Outcome::NotJudged);
        let mut lines = vec![format!(
            "- {} records, {} judged: {} correct ({})",
            self.records.len(),
            judged,
            self.count(Outcome::Correct),
            percent(self.accuracy)
        )];
        lines.push(format!(
            "- false alarms on healthy records: {} of {} ({})",
            self.count(Outcome::FalseAlarm),
            self.healthy_records,
            percent(self.false_alarm_rate)
        ));
        lines.push(format!(
            "- wrong location: {}; location uncertain (a bearing defect, not placed): {}; wrong fault: {}; missed: {}; not judged: {}",
            self.count(Outcome::WrongLocation),
            self.count(Outcome::LocationUncertain),
            self.count(Outcome::WrongFault),
            self.count(Outcome::Missed),
            self.count(Outcome::NotJudged)
        ));
        lines
    }

    /// The matrix as cells: a header, then one row per truth class that
    /// has records.
    fn matrix_cells(&self) -> Vec<Vec<String>> {
        let mut header = vec!["truth \\ verdict".to_owned()];
        header.extend(self.classes.iter().map(|c| c.as_str().to_owned()));
        header.push("not judged".into());
        let mut rows = vec![header];
        for (i, class) in self.classes.iter().enumerate() {
            if self.per_class[i].records == 0 {
                continue;
            }
            let mut cells = vec![class.as_str().to_owned()];
            cells.extend(self.matrix[i].iter().map(usize::to_string));
            cells.push(self.not_judged[i].to_string());
            rows.push(cells);
        }
        rows
    }

    fn class_rows(&self) -> Vec<Vec<String>> {
        self.per_class
            .iter()
            .map(|c| {
                vec![
                    c.class.as_str().to_owned(),
                    c.records.to_string(),
                    c.called.to_string(),
                    c.correct.to_string(),
                    c.right_calls.to_string(),
                    percent(c.recall),
                    percent(c.precision),
                ]
            })
            .collect()
    }
}

fn percent(value: Option<f64>) -> String {
    value.map_or("-".to_owned(), |v| format!("{:.0} %", 100.0 * v))
}

/// Columns padded to their widest cell.
fn align(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c + 1 == row.len() {
                    cell.clone()
                } else {
                    format!("{cell:<width$}", width = widths[c])
                }
            })
            .collect();
        out += line.join("  ").trim_end();
        out += "\n";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(id: &str, truth: Verdict, verdict: Verdict) -> RecordResult {
        RecordResult::judged(
            id.into(),
            truth,
            verdict,
            0.9,
            "maintenance_required".into(),
            "because".into(),
        )
    }

    #[test]
    fn outcomes_tell_misses_from_wrong_and_uncertain_locations() {
        use Verdict::*;
        assert_eq!(Outcome::of(OuterRace, OuterRace), Outcome::Correct);
        assert_eq!(Outcome::of(None, None), Outcome::Correct);
        assert_eq!(Outcome::of(None, Bearing), Outcome::FalseAlarm);
        assert_eq!(Outcome::of(Ball, None), Outcome::Missed);
        assert_eq!(Outcome::of(Ball, Bearing), Outcome::LocationUncertain);
        assert_eq!(Outcome::of(Ball, OuterRace), Outcome::WrongLocation);
        assert_eq!(Outcome::of(Ball, Unbalance), Outcome::WrongFault);
        assert_eq!(Outcome::of(Unbalance, Misalignment), Outcome::WrongFault);
        assert_eq!(Outcome::of(Bearing, InnerRace), Outcome::Correct);
    }

    #[test]
    fn a_bearing_label_is_met_by_any_location_and_scores_within_bounds() {
        use Verdict::*;
        let report = Report::new(vec![
            judged("a", Bearing, OuterRace),
            judged("b", Bearing, Bearing),
            judged("c", InnerRace, Bearing),
        ]);
        let class = |v: Verdict| report.per_class.iter().find(|c| c.class == v).unwrap();
        let bearing = class(Bearing);
        assert_eq!((bearing.records, bearing.correct), (2, 2));
        assert_eq!(bearing.recall, Some(1.0));
        assert_eq!((bearing.called, bearing.right_calls), (2, 2));
        assert_eq!(bearing.precision, Some(1.0));
        assert_eq!(
            class(OuterRace).precision,
            Some(1.0),
            "a located call meets a bearing label"
        );
        for c in &report.per_class {
            for rate in [c.recall, c.precision].into_iter().flatten() {
                assert!((0.0..=1.0).contains(&rate), "{c:?}");
            }
        }
    }

    #[test]
    fn labels_are_read_leniently_and_unknown_ones_named() {
        assert_eq!(parse_truth("Outer Race"), Ok(Verdict::OuterRace));
        assert_eq!(parse_truth("inner"), Ok(Verdict::InnerRace));
        assert_eq!(parse_truth("normal"), Ok(Verdict::None));
        assert_eq!(parse_truth("rolling-element"), Ok(Verdict::Ball));
        let error = parse_truth("gearbox").unwrap_err().to_string();
        assert!(error.contains("\"gearbox\""), "{error}");
    }

    #[test]
    fn the_report_counts_the_matrix_recall_precision_and_false_alarms() {
        use Verdict::*;
        let records = vec![
            judged("a", OuterRace, OuterRace),
            judged("b", OuterRace, OuterRace),
            judged("c", Ball, OuterRace),
            judged("d", Ball, Bearing),
            judged("e", Ball, None),
            judged("f", None, None),
            judged("g", None, InnerRace),
            RecordResult::not_judged("h".into(), None, "h.f32: cannot read".into()),
        ];
        let report = Report::new(records);
        assert_eq!(
            report.classes,
            vec![None, OuterRace, InnerRace, Ball, Bearing]
        );
        let outer = &report.per_class[1];
        assert_eq!((outer.records, outer.called, outer.correct), (2, 3, 2));
        assert_eq!(outer.recall, Some(1.0));
        assert!((outer.precision.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        let ball = &report.per_class[3];
        assert_eq!(
            (ball.records, ball.correct, ball.precision),
            (3, 0, Option::None)
        );
        assert_eq!(
            report.healthy_records, 2,
            "the unreadable one is not judged"
        );
        assert_eq!(report.false_alarm_rate, Some(0.5));
        assert_eq!(report.count(Outcome::WrongLocation), 1);
        assert_eq!(report.count(Outcome::LocationUncertain), 1);
        assert_eq!(report.count(Outcome::Missed), 1);
        assert_eq!(report.count(Outcome::NotJudged), 1);
        assert_eq!(report.not_judged[0], 1);
        assert_eq!(report.matrix[3][1], 1, "ball called outer race");
        assert_eq!(report.accuracy, Some(3.0 / 7.0));

        let markdown = report.markdown("Validation", "dev set");
        assert!(
            markdown.contains("| ball | 1 | 1 | 0 | 0 | 1 | 0 |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| ball | 3 | 0 | 0 | 0 | 0 % | - |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| bearing | 0 | 1 | 0 | 1 | - | 100 % |"),
            "an open location on a faulty bearing is a right call: {markdown}"
        );
        assert!(
            markdown.contains("| c | ball | outer_race | 90 % |"),
            "{markdown}"
        );
        assert!(markdown.contains("false alarms on healthy records: 1 of 2 (50 %)"));
        let table = report.table();
        assert!(table.contains("wrong location: 1"), "{table}");
        assert!(
            table
                .lines()
                .any(|l| l.starts_with("e ") && l.contains("missed")),
            "{table}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["records"][3]["outcome"], "location_uncertain");
    }
}
