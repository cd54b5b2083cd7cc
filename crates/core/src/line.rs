//! The line description: what a plant engineer edits to describe a line.
//!
//! The format is documented in `docs/line-format.md`; `assets/lines/demo.json`
//! is a complete example. Loading never panics: every problem comes back as a
//! [`LineError`] naming the file, the field (as a JSON path) and the reason.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::iso::{MachineGroup, Support};

/// The only format version this build reads.
pub const LINE_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    #[serde(default = "default_version")]
    pub version: u32,
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub assets: Vec<Asset>,
    #[serde(default)]
    pub flows: Vec<Flow>,
    /// Scripted behaviour for the built-in simulator; ignored by real plants.
    #[serde(default)]
    pub simulation: SimulationScript,
}

fn default_version() -> u32 {
    LINE_FORMAT_VERSION
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    Motor,
    Gearbox,
    Pump,
    Fan,
    Conveyor,
    Robot,
    Filler,
    Capper,
    Labeller,
    Compressor,
}

impl AssetKind {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: [AssetKind; 10] = [
        AssetKind::Motor,
        AssetKind::Gearbox,
        AssetKind::Pump,
        AssetKind::Fan,
        AssetKind::Conveyor,
        AssetKind::Robot,
        AssetKind::Filler,
        AssetKind::Capper,
        AssetKind::Labeller,
        AssetKind::Compressor,
    ];

    pub fn label(self) -> &'static str {
        match self {
            AssetKind::Motor => "motor",
            AssetKind::Gearbox => "gearbox",
            AssetKind::Pump => "pump",
            AssetKind::Fan => "fan",
            AssetKind::Conveyor => "conveyor",
            AssetKind::Robot => "robot",
            AssetKind::Filler => "filler",
            AssetKind::Capper => "capper",
            AssetKind::Labeller => "labeller",
            AssetKind::Compressor => "compressor",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    pub id: String,
    pub kind: AssetKind,
    pub name: String,
    /// Centre of the asset's footprint on the floor, metres, Y up.
    pub position_m: [f32; 3],
    /// Rotation about the vertical axis, degrees, counter-clockwise seen from above.
    #[serde(default)]
    pub yaw_deg: f32,
    /// Bounding box: length (X), height (Y), width (Z), metres.
    pub size_m: [f32; 3],
    /// Optional glTF file under `assets/`, replacing the built-in shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Rated speed of the main shaft.
    pub rated_speed_rpm: f32,
    /// ISO 20816-3 classification used to judge its vibration.
    pub iso: IsoClass,
    #[serde(default)]
    pub sensors: Vec<Sensor>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsoClass {
    pub group: MachineGroup,
    pub support: Support,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorKind {
    /// Acceleration waveform blocks (binary frames).
    Vibration,
    Temperature,
    Speed,
    Current,
    Pressure,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sensor {
    pub id: String,
    pub kind: SensorKind,
    pub unit: String,
    /// Samples per second: the waveform rate for vibration, the reporting rate otherwise.
    pub sample_rate_hz: f32,
    /// Where it sits, in words a technician finds it by ("drive-end bearing, radial").
    pub mount: String,
    /// Speed of the shaft this sensor watches, when it differs from the asset's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shaft_rpm: Option<f32>,
    /// The rolling bearing under a vibration sensor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearing: Option<BearingGeometry>,
}

impl Sensor {
    pub fn shaft_rpm(&self, asset: &Asset) -> f32 {
        self.shaft_rpm.unwrap_or(asset.rated_speed_rpm)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BearingGeometry {
    #[serde(default)]
    pub designation: String,
    pub rolling_elements: u32,
    pub ball_diameter_mm: f64,
    pub pitch_diameter_mm: f64,
    #[serde(default)]
    pub contact_angle_deg: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub medium: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationScript {
    #[serde(default)]
    pub faults: Vec<ScriptedFault>,
}

/// A fault the simulator grows on one sensor's bearing: absent before
/// `onset_s`, growing to full severity over `ramp_s` (simulated seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedFault {
    pub sensor: String,
    pub mode: FaultMode,
    pub onset_s: f64,
    pub ramp_s: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultMode {
    OuterRace,
    InnerRace,
    Ball,
    Cage,
    Unbalance,
    Misalignment,
}

impl FaultMode {
    pub fn needs_bearing(self) -> bool {
        matches!(
            self,
            FaultMode::OuterRace | FaultMode::InnerRace | FaultMode::Ball | FaultMode::Cage
        )
    }
}

/// A problem with a line description: which file, which field, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct LineError {
    pub file: String,
    /// JSON path of the offending field, e.g. `assets[3].sensors[0].sample_rate_hz`.
    pub field: String,
    pub reason: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.file, self.reason)
        } else {
            write!(f, "{}: field `{}`: {}", self.file, self.field, self.reason)
        }
    }
}

impl Line {
    /// Parses and validates a description. `file` only labels errors.
    pub fn from_json(file: &str, text: &str) -> Result<Line, LineError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let line: Line = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
            let field = match err.path().to_string() {
                path if path == "." => String::new(),
                path => path,
            };
            LineError {
                file: file.to_owned(),
                field,
                reason: err.into_inner().to_string(),
            }
        })?;
        line.validate().map_err(|(field, reason)| LineError {
            file: file.to_owned(),
            field,
            reason,
        })?;
        Ok(line)
    }

    pub fn asset(&self, id: &str) -> Option<&Asset> {
        self.assets.iter().find(|a| a.id == id)
    }

    /// The asset owning a sensor, and the sensor.
    pub fn sensor(&self, sensor_id: &str) -> Option<(&Asset, &Sensor)> {
        self.assets.iter().find_map(|asset| {
            asset
                .sensors
                .iter()
                .find(|s| s.id == sensor_id)
                .map(|sensor| (asset, sensor))
        })
    }

    pub fn sensors(&self) -> impl Iterator<Item = (&Asset, &Sensor)> {
        self.assets
            .iter()
            .flat_map(|asset| asset.sensors.iter().map(move |sensor| (asset, sensor)))
    }

    fn validate(&self) -> Result<(), (String, String)> {
        if self.version != LINE_FORMAT_VERSION {
            return Err((
                "version".into(),
                format!(
                    "format version {} is not supported (this build reads {LINE_FORMAT_VERSION})",
                    self.version
                ),
            ));
        }
        non_empty("id", &self.id)?;
        if self.assets.is_empty() {
            return Err(("assets".into(), "a line needs at least one asset".into()));
        }
        let mut asset_ids = HashSet::new();
        let mut sensor_ids = HashSet::new();
        for (i, asset) in self.assets.iter().enumerate() {
            let at = |field: &str| format!("assets[{i}].{field}");
            non_empty(&at("id"), &asset.id)?;
            if !asset_ids.insert(asset.id.as_str()) {
                return Err((at("id"), format!("duplicate asset id `{}`", asset.id)));
            }
            non_empty(&at("name"), &asset.name)?;
            if asset.position_m.iter().any(|v| !v.is_finite()) {
                return Err((
                    at("position_m"),
                    "coordinates must be finite numbers".into(),
                ));
            }
            if !asset.yaw_deg.is_finite() {
                return Err((at("yaw_deg"), "must be a finite number".into()));
            }
            if asset.size_m.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
                return Err((
                    at("size_m"),
                    "every dimension must be a positive number of metres".into(),
                ));
            }
            if !(asset.rated_speed_rpm.is_finite() && asset.rated_speed_rpm > 0.0) {
                return Err((at("rated_speed_rpm"), "must be a positive speed".into()));
            }
            if let Some(model) = &asset.model
                && (model.is_empty() || model.contains(".."))
            {
                return Err((
                    at("model"),
                    "must be a path under assets/ without `..`".into(),
                ));
            }
            for (j, sensor) in asset.sensors.iter().enumerate() {
                let at = |field: &str| format!("assets[{i}].sensors[{j}].{field}");
                validate_sensor(sensor, &at)?;
                if !sensor_ids.insert(sensor.id.as_str()) {
                    return Err((at("id"), format!("duplicate sensor id `{}`", sensor.id)));
                }
            }
        }
        for (i, flow) in self.flows.iter().enumerate() {
            for (field, id) in [("from", &flow.from), ("to", &flow.to)] {
                if !asset_ids.contains(id.as_str()) {
                    return Err((
                        format!("flows[{i}].{field}"),
                        format!("no asset has id `{id}`"),
                    ));
                }
            }
        }
        for (i, fault) in self.simulation.faults.iter().enumerate() {
            let at = |field: &str| format!("simulation.faults[{i}].{field}");
            let Some((_, sensor)) = self.sensor(&fault.sensor) else {
                return Err((at("sensor"), format!("no sensor has id `{}`", fault.sensor)));
            };
            if sensor.kind != SensorKind::Vibration {
                return Err((
                    at("sensor"),
                    format!("`{}` is not a vibration sensor", fault.sensor),
                ));
            }
            if fault.mode.needs_bearing() && sensor.bearing.is_none() {
                return Err((
                    at("mode"),
                    format!("sensor `{}` has no bearing to fail", fault.sensor),
                ));
            }
            if !(fault.onset_s.is_finite() && fault.onset_s >= 0.0) {
                return Err((at("onset_s"), "must be zero or more seconds".into()));
            }
            if !(fault.ramp_s.is_finite() && fault.ramp_s > 0.0) {
                return Err((at("ramp_s"), "must be a positive number of seconds".into()));
            }
        }
        Ok(())
    }
}

fn non_empty(field: &str, value: &str) -> Result<(), (String, String)> {
    if value.trim().is_empty() {
        Err((field.to_owned(), "must not be empty".into()))
    } else {
        Ok(())
    }
}

fn validate_sensor(sensor: &Sensor, at: &dyn Fn(&str) -> String) -> Result<(), (String, String)> {
    non_empty(&at("id"), &sensor.id)?;
    non_empty(&at("unit"), &sensor.unit)?;
    if !(sensor.sample_rate_hz.is_finite() && sensor.sample_rate_hz > 0.0) {
        return Err((at("sample_rate_hz"), "must be a positive rate".into()));
    }
    if sensor.kind == SensorKind::Vibration && sensor.sample_rate_hz < 2_560.0 {
        return Err((
            at("sample_rate_hz"),
            "a vibration waveform needs at least 2560 Hz to cover the ISO band up to 1 kHz".into(),
        ));
    }
    if let Some(rpm) = sensor.shaft_rpm
        && !(rpm.is_finite() && rpm > 0.0)
    {
        return Err((at("shaft_rpm"), "must be a positive speed".into()));
    }
    if let Some(bearing) = &sensor.bearing {
        if sensor.kind != SensorKind::Vibration {
            return Err((
                at("bearing"),
                "only a vibration sensor watches a bearing".into(),
            ));
        }
        let at = |field: &str| at(&format!("bearing.{field}"));
        if bearing.rolling_elements < 3 {
            return Err((
                at("rolling_elements"),
                "a bearing has at least 3 rolling elements".into(),
            ));
        }
        if !(bearing.ball_diameter_mm.is_finite() && bearing.ball_diameter_mm > 0.0) {
            return Err((at("ball_diameter_mm"), "must be a positive diameter".into()));
        }
        if !(bearing.pitch_diameter_mm.is_finite()
            && bearing.pitch_diameter_mm > bearing.ball_diameter_mm)
        {
            return Err((
                at("pitch_diameter_mm"),
                "must be larger than the ball diameter".into(),
            ));
        }
        if !(0.0..60.0).contains(&bearing.contact_angle_deg) {
            return Err((
                at("contact_angle_deg"),
                "must be between 0 and 60 degrees".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../../../assets/lines/demo.json");

    #[test]
    fn demo_line_loads_and_is_realistic() {
        let line = Line::from_json("demo.json", DEMO).expect("demo line is valid");
        assert!(
            line.assets.len() >= 12,
            "demo has {} assets",
            line.assets.len()
        );
        let kinds: HashSet<_> = line.assets.iter().map(|a| a.kind).collect();
        for kind in &AssetKind::ALL[..6] {
            assert!(kinds.contains(kind), "demo lacks a {kind:?}");
        }
        assert_eq!(
            line.simulation.faults.len(),
            1,
            "one asset degrades in the demo"
        );
        assert!(
            line.sensors()
                .any(|(_, s)| s.kind == SensorKind::Temperature)
        );
    }

    fn with_demo(edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut value: serde_json::Value = serde_json::from_str(DEMO).unwrap();
        edit(&mut value);
        value.to_string()
    }

    fn error_of(text: &str) -> LineError {
        Line::from_json("plant.json", text).expect_err("should be rejected")
    }

    #[test]
    fn type_error_names_file_field_and_reason() {
        let text = with_demo(|v| v["assets"][2]["sensors"][0]["sample_rate_hz"] = "fast".into());
        let err = error_of(&text);
        assert_eq!(err.file, "plant.json");
        assert_eq!(err.field, "assets[2].sensors[0].sample_rate_hz");
        assert!(err.reason.contains("expected f32"), "{}", err.reason);
        assert!(
            err.to_string()
                .starts_with("plant.json: field `assets[2].sensors[0].sample_rate_hz`")
        );
    }

    #[test]
    fn misspelt_field_is_rejected_not_ignored() {
        let text = with_demo(|v| v["assets"][0]["rated_sped_rpm"] = 1500.into());
        let err = error_of(&text);
        assert_eq!(err.field, "assets[0].rated_sped_rpm");
        assert!(err.reason.contains("unknown field"), "{}", err.reason);
    }

    #[test]
    fn unknown_kind_lists_the_known_ones() {
        let err = error_of(&with_demo(|v| v["assets"][1]["kind"] = "toaster".into()));
        assert_eq!(err.field, "assets[1].kind");
        assert!(err.reason.contains("gearbox"), "{}", err.reason);
    }

    #[test]
    fn syntax_error_reports_position() {
        let err = error_of("{\"id\": \"x\", ");
        assert!(err.reason.contains("line 1"), "{}", err.reason);
    }

    #[test]
    fn semantic_errors_name_the_field() {
        type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
        let cases: Vec<(Edit, &str, &str)> = vec![
            (
                Box::new(|v| v["assets"][1]["id"] = v["assets"][0]["id"].clone()),
                "assets[1].id",
                "duplicate asset id",
            ),
            (
                Box::new(|v| v["assets"][0]["size_m"][1] = (-1.0).into()),
                "assets[0].size_m",
                "positive",
            ),
            (
                Box::new(|v| v["flows"][0]["to"] = "nowhere".into()),
                "flows[0].to",
                "no asset has id `nowhere`",
            ),
            (
                Box::new(|v| v["assets"][0]["rated_speed_rpm"] = 0.into()),
                "assets[0].rated_speed_rpm",
                "positive",
            ),
            (
                Box::new(|v| v["simulation"]["faults"][0]["sensor"] = "ghost".into()),
                "simulation.faults[0].sensor",
                "no sensor",
            ),
            (
                Box::new(|v| v["assets"] = serde_json::json!([])),
                "assets",
                "at least one",
            ),
            (
                Box::new(|v| v["version"] = 7.into()),
                "version",
                "not supported",
            ),
        ];
        for (edit, field, reason) in cases {
            let err = error_of(&with_demo(edit));
            assert_eq!(err.field, field, "{err}");
            assert!(err.reason.contains(reason), "{err}");
        }
    }

    #[test]
    fn bearing_geometry_is_checked() {
        let text = with_demo(|v| {
            let sensors = v["assets"]
                .as_array_mut()
                .unwrap()
                .iter_mut()
                .flat_map(|a| a["sensors"].as_array_mut().unwrap().iter_mut());
            let bearing_sensor = sensors
                .into_iter()
                .find(|s| s.get("bearing").is_some())
                .unwrap();
            bearing_sensor["bearing"]["ball_diameter_mm"] = 500.0.into();
        });
        let err = error_of(&text);
        assert!(err.field.ends_with("bearing.pitch_diameter_mm"), "{err}");
    }

    #[test]
    fn duplicate_sensor_ids_across_assets_are_rejected() {
        let text = with_demo(|v| {
            let first = v["assets"][0]["sensors"][0]["id"].clone();
            v["assets"][1]["sensors"][0]["id"] = first;
        });
        assert!(error_of(&text).reason.contains("duplicate sensor id"));
    }
}
