//! Demo scenarios (`assets/scenarios/*.json`): a story told on a line by
//! the built-in simulator, in files of their own, not in the plant's
//! description. A timeline of faults (onset and growth), operator actions
//! (an intervention at a time, which ends the faults it fixes) and captions
//! with when to show them, grouped in chapters. The format is
//! `docs/scenarios.md`; loading never panics, every problem names the file,
//! the field and the reason, like the line description.

use serde::{Deserialize, Serialize};

use crate::line::{FaultMode, Line, LineError, ScriptedFault, SimulationScript, parse_json};

pub const SCENARIO_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default = "default_version")]
    pub version: u32,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The line it is told on (its `id`).
    pub line: String,
    #[serde(default)]
    pub chapters: Vec<Chapter>,
    #[serde(default)]
    pub faults: Vec<StoryFault>,
    #[serde(default)]
    pub actions: Vec<OperatorAction>,
    #[serde(default)]
    pub captions: Vec<Caption>,
}

fn default_version() -> u32 {
    SCENARIO_FORMAT_VERSION
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chapter {
    pub at_s: f64,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoryFault {
    pub sensor: String,
    pub mode: FaultMode,
    pub onset_s: f64,
    pub ramp_s: f64,
}

/// What an operator does; each ends the faults it fixes on the asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intervention {
    /// Replace the bearing or the worn part: ends bearing faults (outer and
    /// inner race, ball, cage) and usage wear.
    Replace,
    /// Relubricate: ends a loss of lubrication.
    Lubricate,
    /// Balance the rotor: ends unbalance.
    Balance,
    /// Realign the coupling: ends misalignment.
    Realign,
}

impl Intervention {
    pub fn fixes(self, mode: FaultMode) -> bool {
        match self {
            Intervention::Replace => mode.needs_bearing() || mode == FaultMode::UsageWear,
            Intervention::Lubricate => mode == FaultMode::LubricationLoss,
            Intervention::Balance => mode == FaultMode::Unbalance,
            Intervention::Realign => mode == FaultMode::Misalignment,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorAction {
    pub at_s: f64,
    pub asset: String,
    pub action: Intervention,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caption {
    pub at_s: f64,
    pub text: String,
    #[serde(default = "default_caption_s")]
    pub duration_s: f64,
}

fn default_caption_s() -> f64 {
    12.0
}

impl Scenario {
    /// Parses and checks a scenario against the line it is told on.
    pub fn from_json(file: &str, text: &str, line: &Line) -> Result<Scenario, LineError> {
        let scenario: Scenario = parse_json(file, text)?;
        scenario
            .validate(line)
            .map_err(|(field, reason)| LineError {
                file: file.to_owned(),
                field,
                reason,
            })?;
        Ok(scenario)
    }

    fn validate(&self, line: &Line) -> Result<(), (String, String)> {
        if self.version != SCENARIO_FORMAT_VERSION {
            return Err((
                "version".into(),
                format!(
                    "format version {} is not supported (this build reads {SCENARIO_FORMAT_VERSION})",
                    self.version
                ),
            ));
        }
        if self.line != line.id {
            return Err((
                "line".into(),
                format!(
                    "the scenario is told on line `{}`, but the gateway serves `{}`",
                    self.line, line.id
                ),
            ));
        }
        let time = |field: String, t: f64| -> Result<(), (String, String)> {
            if t.is_finite() && t >= 0.0 {
                Ok(())
            } else {
                Err((field, "must be zero or more seconds".into()))
            }
        };
        for (i, chapter) in self.chapters.iter().enumerate() {
            time(format!("chapters[{i}].at_s"), chapter.at_s)?;
            if chapter.title.trim().is_empty() {
                return Err((format!("chapters[{i}].title"), "must not be empty".into()));
            }
        }
        for (i, fault) in self.faults.iter().enumerate() {
            let at = |field: &str| format!("faults[{i}].{field}");
            line.validate_fault(&fault.sensor, fault.mode, fault.onset_s, fault.ramp_s, &at)?;
        }
        for (i, action) in self.actions.iter().enumerate() {
            let at = |field: &str| format!("actions[{i}].{field}");
            time(at("at_s"), action.at_s)?;
            if line.asset(&action.asset).is_none() {
                return Err((at("asset"), format!("no asset has id `{}`", action.asset)));
            }
            let fixes_something = self
                .faults_of(line, &action.asset)
                .any(|f| action.action.fixes(f.mode) && f.onset_s < action.at_s);
            if !fixes_something {
                return Err((
                    at("action"),
                    format!(
                        "nothing on `{}` for `{:?}` to fix before {} s",
                        action.asset, action.action, action.at_s
                    ),
                ));
            }
        }
        for (i, caption) in self.captions.iter().enumerate() {
            time(format!("captions[{i}].at_s"), caption.at_s)?;
            if caption.text.trim().is_empty() {
                return Err((format!("captions[{i}].text"), "must not be empty".into()));
            }
            if !(caption.duration_s.is_finite() && caption.duration_s > 0.0) {
                return Err((
                    format!("captions[{i}].duration_s"),
                    "must be a positive number of seconds".into(),
                ));
            }
        }
        Ok(())
    }

    fn faults_of<'a>(
        &'a self,
        line: &'a Line,
        asset: &'a str,
    ) -> impl Iterator<Item = &'a StoryFault> + 'a {
        self.faults
            .iter()
            .filter(move |f| line.sensor(&f.sensor).is_some_and(|(a, _)| a.id == asset))
    }

    /// The simulator's script: each fault, ended by the first action after
    /// its onset that fixes it.
    pub fn simulation_script(&self, line: &Line) -> SimulationScript {
        let faults = self
            .faults
            .iter()
            .map(|fault| {
                let asset = line.sensor(&fault.sensor).map(|(a, _)| a.id.clone());
                let until_s = self
                    .actions
                    .iter()
                    .filter(|a| Some(&a.asset) == asset.as_ref())
                    .filter(|a| a.action.fixes(fault.mode) && a.at_s > fault.onset_s)
                    .map(|a| a.at_s)
                    .reduce(f64::min);
                ScriptedFault {
                    sensor: fault.sensor.clone(),
                    mode: fault.mode,
                    onset_s: fault.onset_s,
                    ramp_s: fault.ramp_s,
                    until_s,
                }
            })
            .collect();
        SimulationScript { faults }
    }

    /// What the hello says of it.
    pub fn info(&self) -> crate::protocol::ScenarioInfo {
        let mut chapters: Vec<(f64, String)> = self
            .chapters
            .iter()
            .map(|c| (c.at_s, c.title.clone()))
            .collect();
        chapters.sort_by(|a, b| a.0.total_cmp(&b.0));
        crate::protocol::ScenarioInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            chapters,
        }
    }

    /// The chapter in force at data time `t`.
    pub fn chapter_at(&self, t: f64) -> Option<&Chapter> {
        self.chapters
            .iter()
            .filter(|c| c.at_s <= t)
            .max_by(|a, b| a.at_s.total_cmp(&b.at_s))
    }

    /// Captions due in `(after, until]`, in time order.
    pub fn captions_between(&self, after: f64, until: f64) -> Vec<&Caption> {
        let mut due: Vec<&Caption> = self
            .captions
            .iter()
            .filter(|c| c.at_s > after && c.at_s <= until)
            .collect();
        due.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Line {
        Line::from_json("demo.json", include_str!("../../../assets/lines/demo.json")).unwrap()
    }

    const STORY: &str = r#"{
        "id": "t", "name": "T", "line": "bottling-line-1",
        "chapters": [{"at_s": 0, "title": "Healthy"}, {"at_s": 30, "title": "A fault"}],
        "faults": [{"sensor": "P1-DE-V", "mode": "outer_race", "onset_s": 30, "ramp_s": 600}],
        "actions": [{"at_s": 400, "asset": "P1", "action": "replace"}],
        "captions": [{"at_s": 5, "text": "All is well"}, {"at_s": 35, "text": "Envelope finds it"}]
    }"#;

    #[test]
    fn a_replacement_ends_the_bearing_fault_it_fixes() {
        let line = demo();
        let scenario = Scenario::from_json("t.json", STORY, &line).unwrap();
        let script = scenario.simulation_script(&line);
        assert_eq!(script.faults[0].until_s, Some(400.0));
        assert_eq!(scenario.chapter_at(100.0).unwrap().title, "A fault");
        assert_eq!(scenario.chapter_at(10.0).unwrap().title, "Healthy");
        let due: Vec<&str> = scenario
            .captions_between(0.0, 40.0)
            .iter()
            .map(|c| c.text.as_str())
            .collect();
        assert_eq!(due, vec!["All is well", "Envelope finds it"]);
        assert!(scenario.captions_between(40.0, 100.0).is_empty());
        assert_eq!(scenario.captions[0].duration_s, 12.0);

        let mut told = line.clone();
        told.simulation = script;
        let sim = crate::sim::Simulator::new(&told, 1);
        assert!(
            sim.severity("P1-DE-V", 399.0) > 0.5,
            "grown by the replacement"
        );
        assert_eq!(sim.severity("P1-DE-V", 400.0), 0.0, "a new bearing");
        assert_eq!(sim.severity("P1-DE-V", 20.0), 0.0, "not yet begun");
    }

    #[test]
    fn each_intervention_ends_only_the_faults_it_fixes() {
        use Intervention::*;
        let all = [
            FaultMode::OuterRace,
            FaultMode::InnerRace,
            FaultMode::Ball,
            FaultMode::Cage,
            FaultMode::Unbalance,
            FaultMode::Misalignment,
            FaultMode::LubricationLoss,
            FaultMode::UsageWear,
        ];
        let fixed = |action: Intervention| -> Vec<FaultMode> {
            all.iter().copied().filter(|m| action.fixes(*m)).collect()
        };
        assert_eq!(fixed(Lubricate), vec![FaultMode::LubricationLoss]);
        assert_eq!(fixed(Balance), vec![FaultMode::Unbalance]);
        assert_eq!(fixed(Realign), vec![FaultMode::Misalignment]);
        assert_eq!(
            fixed(Replace),
            vec![
                FaultMode::OuterRace,
                FaultMode::InnerRace,
                FaultMode::Ball,
                FaultMode::Cage,
                FaultMode::UsageWear
            ]
        );

        let line = demo();
        let story = STORY
            .replace("outer_race", "lubrication_loss")
            .replace("\"replace\"", "\"lubricate\"");
        let scenario = Scenario::from_json("t.json", &story, &line).unwrap();
        assert_eq!(
            scenario.simulation_script(&line).faults[0].until_s,
            Some(400.0)
        );
        let wrong = STORY.replace("\"replace\"", "\"lubricate\"");
        let error = Scenario::from_json("t.json", &wrong, &line).unwrap_err();
        assert_eq!(error.field, "actions[0].action");
    }

    #[test]
    fn bad_scenarios_name_file_field_and_reason() {
        let line = demo();
        let edit = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v: serde_json::Value = serde_json::from_str(STORY).unwrap();
            f(&mut v);
            Scenario::from_json("story.json", &v.to_string(), &line).unwrap_err()
        };
        type Edit = Box<dyn Fn(&mut serde_json::Value)>;
        let cases: Vec<(Edit, &str, &str)> = vec![
            (
                Box::new(|v| v["line"] = "other".into()),
                "line",
                "gateway serves",
            ),
            (
                Box::new(|v| v["faults"][0]["sensor"] = "P1-T".into()),
                "faults[0].sensor",
                "not a vibration",
            ),
            (
                Box::new(|v| v["faults"][0]["sensor"] = "XX".into()),
                "faults[0].sensor",
                "no sensor",
            ),
            (
                Box::new(|v| v["actions"][0]["action"] = "balance".into()),
                "actions[0].action",
                "nothing on `P1`",
            ),
            (
                Box::new(|v| v["actions"][0]["asset"] = "ZZ".into()),
                "actions[0].asset",
                "no asset",
            ),
            (
                Box::new(|v| v["captions"][1]["at_s"] = (-1).into()),
                "captions[1].at_s",
                "zero or more",
            ),
            (
                Box::new(|v| v["captions"][0]["txt"] = "x".into()),
                "captions[0].txt",
                "unknown field",
            ),
        ];
        for (change, field, reason) in cases {
            let error = edit(&*change);
            assert_eq!(error.field, field, "{error}");
            assert!(error.reason.contains(reason), "{error}");
            assert_eq!(error.file, "story.json");
        }
    }

    #[test]
    fn the_shipped_stories_load() {
        let line = demo();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/scenarios");
        let mut loaded = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let scenario = Scenario::from_json(&path.display().to_string(), &text, &line)
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(!scenario.captions.is_empty() && !scenario.chapters.is_empty());
            loaded += 1;
        }
        assert!(loaded >= 3, "{loaded} stories");
    }
}
