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
    /// What the line's output and labour are worth and when it may stop:
    /// the economics a maintenance plan weighs.
    #[serde(default)]
    pub maintenance: LineMaintenance,
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
    /// Replacement costs and life of its monitored component; anything left
    /// out takes the kind's default ([`Asset::maintenance_or_default`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<AssetMaintenance>,
}

impl Asset {
    /// Its maintenance parameters, each one given or the kind's default.
    pub fn maintenance_or_default(&self) -> MaintenanceParams {
        MaintenanceParams::resolve(self.kind, self.maintenance.as_ref())
    }
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
    /// Judged by the twin's temperature rules when its unit is `degC`.
    Temperature,
    Speed,
    Current,
    Pressure,
    /// The cumulative operating-cycle count of a component (a reducer's
    /// rotations, a capping head's caps). It never decreases; a decrease
    /// means the counter was reset or the component replaced.
    Cycles,
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
    /// Cycles the counted component is rated for when new (`cycles` sensors
    /// only, and required for them): what turns a count into used life.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rated_life_cycles: Option<f64>,
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
    /// Hours of production an accumulation buffer between the two assets
    /// absorbs: a stop of `from` shorter than this does not starve `to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer_h: Option<f64>,
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
    /// When the fault ends (the component replaced, the rotor balanced):
    /// from then on the machine runs as healthy again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_s: Option<f64>,
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
    /// The lubricant film thins: metal-to-metal contact raises the bearing's
    /// temperature and its broadband high-frequency noise, with no defect tone.
    LubricationLoss,
    /// A reducer or gear train worn by its cycles: the mesh tone and its
    /// shaft-rate sidebands grow, then the 1×.
    UsageWear,
}

impl FaultMode {
    pub fn needs_bearing(self) -> bool {
        matches!(
            self,
            FaultMode::OuterRace | FaultMode::InnerRace | FaultMode::Ball | FaultMode::Cage
        )
    }
}

/// The line's economics and its planned-stop calendar. Every field is
/// optional; the defaults describe a mid-sized beverage line.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LineMaintenance {
    /// Value of the line's output per hour of running (currency/h): what an
    /// hour of stopped line costs.
    pub production_value_per_h: f64,
    /// Cost of one technician hour (currency/h).
    pub labour_rate_per_h: f64,
    /// How far ahead a plan looks, days.
    pub horizon_days: f64,
    pub stop_calendar: StopCalendar,
}

impl Default for LineMaintenance {
    fn default() -> Self {
        LineMaintenance {
            production_value_per_h: 5000.0,
            labour_rate_per_h: 65.0,
            horizon_days: 365.0,
            stop_calendar: StopCalendar::default(),
        }
    }
}

/// When the line may stop for planned work without losing production: a
/// window every `every_days`, the first `first_day` days from now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StopCalendar {
    pub every_days: f64,
    /// Days from now of the first allowed planned stop (6: the coming weekend).
    pub first_day: f64,
    /// Longest planned stop one window allows, hours.
    pub max_stop_h: f64,
}

impl Default for StopCalendar {
    fn default() -> Self {
        StopCalendar {
            every_days: 7.0,
            first_day: 6.0,
            max_stop_h: 16.0,
        }
    }
}

/// An asset's maintenance parameters as written in the file: each one
/// optional, a missing one takes the kind's default ([`MaintenanceParams`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetMaintenance {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labour_h: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_h: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_stop: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_downtime_h: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub life_shape: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub life_scale_h: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_h: Option<f64>,
}

/// An asset's maintenance parameters with every field filled in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MaintenanceParams {
    /// Parts for a planned replacement of the monitored component (currency).
    pub part_cost: f64,
    /// Technician hours for that replacement.
    pub labour_h: f64,
    /// How long the planned replacement takes, hours.
    pub duration_h: f64,
    /// Whether replacing it stops the line.
    pub line_stop: bool,
    /// What an unplanned failure costs beyond part and labour: secondary
    /// damage (a seized bearing scores the shaft, a failed seal floods the
    /// bearing), express freight, clean-up (currency).
    pub failure_cost: f64,
    /// Outage of an unplanned failure, hours, including waiting for parts.
    pub failure_downtime_h: f64,
    /// Weibull shape of the monitored component's life when new (> 1: wear-out).
    pub life_shape: f64,
    /// Weibull scale (characteristic life, 63 % have failed by then), hours.
    pub life_scale_h: f64,
    /// Hours in service since it was last new.
    pub age_h: f64,
}

/// An unplanned failure costs this many times the part: secondary damage
/// and rush delivery usually make it three to five times dearer.
const FAILURE_COST_PER_PART: f64 = 4.0;
/// An unplanned failure stops this many times the planned duration: the
/// part is rarely on the shelf, and diagnosis comes first.
const FAILURE_DOWNTIME_PER_DURATION: f64 = 3.0;
/// Without a record, a component is assumed part-way through its life.
const DEFAULT_AGE_PER_SCALE: f64 = 0.3;

impl MaintenanceParams {
    /// The kind's defaults (documented in `docs/line-format.md`). The
    /// monitored component is the one its vibration sensor watches: a
    /// bearing, or for the robot its joint reducer. Shapes of 1.5 to 2.5 and
    /// characteristic lives of 20 000 to 60 000 h are typical of rolling
    /// bearings in industrial service.
    pub fn defaults_for(kind: AssetKind) -> MaintenanceParams {
        // (part cost, labour h, duration h, Weibull shape, Weibull scale h)
        let (part_cost, labour_h, duration_h, life_shape, life_scale_h) = match kind {
            AssetKind::Motor => (800.0, 6.0, 4.0, 2.0, 50_000.0),
            AssetKind::Gearbox => (1_500.0, 8.0, 6.0, 2.0, 40_000.0),
            AssetKind::Pump => (1_200.0, 6.0, 4.0, 1.8, 30_000.0),
            AssetKind::Fan => (600.0, 4.0, 3.0, 2.0, 45_000.0),
            AssetKind::Conveyor => (250.0, 3.0, 2.0, 1.5, 30_000.0),
            AssetKind::Robot => (6_000.0, 8.0, 6.0, 2.5, 35_000.0),
            AssetKind::Filler => (900.0, 6.0, 4.0, 2.0, 40_000.0),
            AssetKind::Capper => (700.0, 5.0, 3.0, 2.0, 30_000.0),
            AssetKind::Labeller => (500.0, 4.0, 3.0, 2.0, 35_000.0),
            AssetKind::Compressor => (3_500.0, 12.0, 8.0, 2.0, 50_000.0),
        };
        MaintenanceParams {
            part_cost,
            labour_h,
            duration_h,
            line_stop: true,
            failure_cost: FAILURE_COST_PER_PART * part_cost,
            failure_downtime_h: FAILURE_DOWNTIME_PER_DURATION * duration_h,
            life_shape,
            life_scale_h,
            age_h: DEFAULT_AGE_PER_SCALE * life_scale_h,
        }
    }

    /// The given values over the kind's defaults. Defaults derived from
    /// another field follow the value given for it, so a dearer part makes
    /// a dearer failure and a longer life an older default age.
    pub fn resolve(kind: AssetKind, given: Option<&AssetMaintenance>) -> MaintenanceParams {
        let defaults = MaintenanceParams::defaults_for(kind);
        let Some(given) = given else {
            return defaults;
        };
        let part_cost = given.part_cost.unwrap_or(defaults.part_cost);
        let duration_h = given.duration_h.unwrap_or(defaults.duration_h);
        let life_scale_h = given.life_scale_h.unwrap_or(defaults.life_scale_h);
        MaintenanceParams {
            part_cost,
            labour_h: given.labour_h.unwrap_or(defaults.labour_h),
            duration_h,
            line_stop: given.line_stop.unwrap_or(defaults.line_stop),
            failure_cost: given
                .failure_cost
                .unwrap_or(FAILURE_COST_PER_PART * part_cost),
            failure_downtime_h: given
                .failure_downtime_h
                .unwrap_or(FAILURE_DOWNTIME_PER_DURATION * duration_h),
            life_shape: given.life_shape.unwrap_or(defaults.life_shape),
            life_scale_h,
            age_h: given.age_h.unwrap_or(DEFAULT_AGE_PER_SCALE * life_scale_h),
        }
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
        let line: Line = parse_json(file, text)?;
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

    /// A scripted fault (of the line, or of a scenario): a vibration sensor
    /// of this line, a bearing for bearing modes, sensible times. `at`
    /// turns a field name into its JSON path.
    pub fn validate_fault(
        &self,
        sensor_id: &str,
        mode: FaultMode,
        onset_s: f64,
        ramp_s: f64,
        at: &dyn Fn(&str) -> String,
    ) -> Result<(), (String, String)> {
        let Some((_, sensor)) = self.sensor(sensor_id) else {
            return Err((at("sensor"), format!("no sensor has id `{sensor_id}`")));
        };
        if sensor.kind != SensorKind::Vibration {
            return Err((
                at("sensor"),
                format!("`{sensor_id}` is not a vibration sensor"),
            ));
        }
        if mode.needs_bearing() && sensor.bearing.is_none() {
            return Err((
                at("mode"),
                format!("sensor `{sensor_id}` has no bearing to fail"),
            ));
        }
        if !(onset_s.is_finite() && onset_s >= 0.0) {
            return Err((at("onset_s"), "must be zero or more seconds".into()));
        }
        if !(ramp_s.is_finite() && ramp_s > 0.0) {
            return Err((at("ramp_s"), "must be a positive number of seconds".into()));
        }
        Ok(())
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
            if let Some(maintenance) = &asset.maintenance {
                validate_asset_maintenance(maintenance, &|field| {
                    at(&format!("maintenance.{field}"))
                })?;
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
            if let Some(hours) = flow.buffer_h {
                at_least_zero(&format!("flows[{i}].buffer_h"), hours, "hours")?;
            }
        }
        validate_line_maintenance(&self.maintenance)?;
        for (i, fault) in self.simulation.faults.iter().enumerate() {
            let at = |field: &str| format!("simulation.faults[{i}].{field}");
            self.validate_fault(&fault.sensor, fault.mode, fault.onset_s, fault.ramp_s, &at)?;
            if let Some(until) = fault.until_s
                && !(until.is_finite() && until > fault.onset_s)
            {
                return Err((at("until_s"), "must come after onset_s".into()));
            }
        }
        Ok(())
    }
}

/// Parses a strict JSON file; a problem names the file, the field (as a
/// JSON path) and the reason. Shared by the line and scenario formats.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
) -> Result<T, LineError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let field = match err.path().to_string() {
            path if path == "." => String::new(),
            path => path,
        };
        LineError {
            file: file.to_owned(),
            field,
            reason: err.into_inner().to_string(),
        }
    })
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
    match (sensor.kind, sensor.rated_life_cycles) {
        (SensorKind::Cycles, None) => {
            return Err((
                at("rated_life_cycles"),
                "a cycles sensor needs the rated life of the component it counts".into(),
            ));
        }
        (SensorKind::Cycles, Some(cycles)) => {
            positive(&at("rated_life_cycles"), cycles, "number of cycles")?
        }
        (_, Some(_)) => {
            return Err((
                at("rated_life_cycles"),
                "only a cycles sensor has a rated life".into(),
            ));
        }
        (_, None) => {}
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

fn positive(field: &str, value: f64, what: &str) -> Result<(), (String, String)> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err((field.to_owned(), format!("must be a positive {what}")))
    }
}

fn at_least_zero(field: &str, value: f64, what: &str) -> Result<(), (String, String)> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err((field.to_owned(), format!("must be zero or more {what}")))
    }
}

fn validate_line_maintenance(m: &LineMaintenance) -> Result<(), (String, String)> {
    at_least_zero(
        "maintenance.production_value_per_h",
        m.production_value_per_h,
        "currency units per hour",
    )?;
    at_least_zero(
        "maintenance.labour_rate_per_h",
        m.labour_rate_per_h,
        "currency units per hour",
    )?;
    positive("maintenance.horizon_days", m.horizon_days, "number of days")?;
    let calendar = &m.stop_calendar;
    positive(
        "maintenance.stop_calendar.every_days",
        calendar.every_days,
        "number of days",
    )?;
    at_least_zero(
        "maintenance.stop_calendar.first_day",
        calendar.first_day,
        "days",
    )?;
    positive(
        "maintenance.stop_calendar.max_stop_h",
        calendar.max_stop_h,
        "number of hours",
    )
}

fn validate_asset_maintenance(
    m: &AssetMaintenance,
    at: &dyn Fn(&str) -> String,
) -> Result<(), (String, String)> {
    let zero_or_more = [
        ("part_cost", m.part_cost, "currency units"),
        ("labour_h", m.labour_h, "hours"),
        ("failure_cost", m.failure_cost, "currency units"),
        ("failure_downtime_h", m.failure_downtime_h, "hours"),
        ("age_h", m.age_h, "hours"),
    ];
    for (field, value, what) in zero_or_more {
        if let Some(value) = value {
            at_least_zero(&at(field), value, what)?;
        }
    }
    let above_zero = [
        ("duration_h", m.duration_h, "number of hours"),
        ("life_shape", m.life_shape, "Weibull shape"),
        ("life_scale_h", m.life_scale_h, "number of hours"),
    ];
    for (field, value, what) in above_zero {
        if let Some(value) = value {
            positive(&at(field), value, what)?;
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

    fn asset_index(value: &serde_json::Value, id: &str) -> usize {
        value["assets"]
            .as_array()
            .and_then(|assets| assets.iter().position(|a| a["id"] == id))
            .expect("asset in the demo")
    }

    fn sensor_index(value: &serde_json::Value, asset: usize, id: &str) -> usize {
        value["assets"][asset]["sensors"]
            .as_array()
            .and_then(|sensors| sensors.iter().position(|s| s["id"] == id))
            .expect("sensor in the demo")
    }

    #[test]
    fn demo_counts_cycles_of_the_robot_reducer_and_the_capping_head() {
        let line = Line::from_json("demo.json", DEMO).expect("demo line is valid");
        for (asset, sensor, rated) in [("R1", "R1-CYC", 2.0e7), ("C1", "C1-CYC", 6.0e8)] {
            let (owner, s) = line.sensor(sensor).expect("counter in the demo");
            assert_eq!(owner.id, asset);
            assert_eq!(s.kind, SensorKind::Cycles);
            assert_eq!(s.unit, "cycles");
            assert_eq!(s.rated_life_cycles, Some(rated));
        }
        assert_eq!(
            serde_json::to_value(SensorKind::Cycles).unwrap(),
            "cycles",
            "the name in the file"
        );
    }

    #[test]
    fn a_cycles_sensor_needs_a_positive_rated_life_and_only_it_has_one() {
        let value: serde_json::Value = serde_json::from_str(DEMO).unwrap();
        let r1 = asset_index(&value, "R1");
        let cyc = sensor_index(&value, r1, "R1-CYC");
        let temp = sensor_index(&value, r1, "R1-T");
        let at = |j: usize| format!("assets[{r1}].sensors[{j}].rated_life_cycles");

        let missing = error_of(&with_demo(|v| {
            v["assets"][r1]["sensors"][cyc]
                .as_object_mut()
                .unwrap()
                .remove("rated_life_cycles");
        }));
        assert_eq!(missing.field, at(cyc), "{missing}");
        assert!(missing.reason.contains("needs the rated life"), "{missing}");

        for bad in [0.0, -5.0] {
            let err = error_of(&with_demo(|v| {
                v["assets"][r1]["sensors"][cyc]["rated_life_cycles"] = bad.into()
            }));
            assert_eq!(err.field, at(cyc), "{err}");
            assert!(err.reason.contains("positive"), "{err}");
        }

        let elsewhere = error_of(&with_demo(|v| {
            v["assets"][r1]["sensors"][temp]["rated_life_cycles"] = 1e6.into()
        }));
        assert_eq!(elsewhere.field, at(temp), "{elsewhere}");
        assert!(
            elsewhere.reason.contains("only a cycles sensor"),
            "{elsewhere}"
        );
    }

    #[test]
    fn maintenance_defaults_fill_what_the_file_leaves_out() {
        let mut value: serde_json::Value = serde_json::from_str(DEMO).unwrap();
        value.as_object_mut().unwrap().remove("maintenance");
        let line = Line::from_json("demo.json", &value.to_string()).unwrap();
        assert_eq!(line.maintenance.production_value_per_h, 5000.0);
        assert_eq!(line.maintenance.labour_rate_per_h, 65.0);
        assert_eq!(line.maintenance.horizon_days, 365.0);
        assert_eq!(
            line.maintenance.stop_calendar,
            StopCalendar {
                every_days: 7.0,
                first_day: 6.0,
                max_stop_h: 16.0
            }
        );

        // One field given, the rest default, inside a nested block too.
        let partial = with_demo(|v| {
            v["maintenance"] = serde_json::json!({ "stop_calendar": { "every_days": 14 } })
        });
        let line = Line::from_json("demo.json", &partial).unwrap();
        assert_eq!(line.maintenance.stop_calendar.every_days, 14.0);
        assert_eq!(line.maintenance.stop_calendar.max_stop_h, 16.0);
        assert_eq!(line.maintenance.production_value_per_h, 5000.0);

        let m1 = line.asset("M1").unwrap();
        assert!(m1.maintenance.is_none());
        let params = m1.maintenance_or_default();
        assert_eq!(params, MaintenanceParams::defaults_for(AssetKind::Motor));
        assert!(params.line_stop);
        assert_eq!(params.age_h, 0.3 * params.life_scale_h);
        assert_eq!(params.failure_downtime_h, 3.0 * params.duration_h);
    }

    #[test]
    fn derived_defaults_follow_the_values_given() {
        let given = AssetMaintenance {
            part_cost: Some(2_000.0),
            duration_h: Some(10.0),
            life_scale_h: Some(10_000.0),
            ..AssetMaintenance::default()
        };
        let params = MaintenanceParams::resolve(AssetKind::Pump, Some(&given));
        assert_eq!(params.part_cost, 2_000.0);
        assert_eq!(params.failure_cost, 8_000.0, "four times the given part");
        assert_eq!(params.failure_downtime_h, 30.0);
        assert_eq!(params.age_h, 3_000.0);
        let defaults = MaintenanceParams::defaults_for(AssetKind::Pump);
        assert_eq!(params.labour_h, defaults.labour_h);
        assert_eq!(params.life_shape, defaults.life_shape);
    }

    #[test]
    fn every_kind_has_defaults_that_pass_validation_and_make_failure_dearer() {
        for kind in AssetKind::ALL {
            let d = MaintenanceParams::defaults_for(kind);
            let as_given = AssetMaintenance {
                part_cost: Some(d.part_cost),
                labour_h: Some(d.labour_h),
                duration_h: Some(d.duration_h),
                line_stop: Some(d.line_stop),
                failure_cost: Some(d.failure_cost),
                failure_downtime_h: Some(d.failure_downtime_h),
                life_shape: Some(d.life_shape),
                life_scale_h: Some(d.life_scale_h),
                age_h: Some(d.age_h),
            };
            validate_asset_maintenance(&as_given, &|f| f.to_owned())
                .unwrap_or_else(|e| panic!("{kind:?}: {e:?}"));
            assert_eq!(MaintenanceParams::resolve(kind, Some(&as_given)), d);
            assert!(d.failure_cost > d.part_cost, "{kind:?}");
            assert!(d.failure_downtime_h > d.duration_h, "{kind:?}");
            assert!((1.5..=2.5).contains(&d.life_shape), "{kind:?}");
            assert!((20_000.0..=60_000.0).contains(&d.life_scale_h), "{kind:?}");
        }
    }

    #[test]
    fn demo_maintenance_makes_a_p1_failure_clearly_dearer_than_a_planned_job() {
        let line = Line::from_json("demo.json", DEMO).unwrap();
        let economics = line.maintenance;
        let p1 = line.asset("P1").unwrap();
        assert!(p1.maintenance.is_some());
        let m = p1.maintenance_or_default();
        let hour_stopped = economics.production_value_per_h;
        let planned = m.part_cost + m.labour_h * economics.labour_rate_per_h;
        let failed = planned + m.failure_cost + m.failure_downtime_h * hour_stopped;
        // Planned work waits for a stop window, so it loses no production.
        assert!(failed > 5.0 * planned, "planned {planned}, failed {failed}");
        let blocks = line
            .assets
            .iter()
            .filter(|a| a.maintenance.is_some())
            .count();
        assert!((2..=3).contains(&blocks), "{blocks} assets carry a block");
        let buffered: Vec<_> = line.flows.iter().filter(|f| f.buffer_h.is_some()).collect();
        assert_eq!(buffered.len(), 1);
        assert_eq!(
            (
                buffered[0].from.as_str(),
                buffered[0].to.as_str(),
                buffered[0].medium.as_str()
            ),
            ("C1", "L1", "bottles")
        );
        assert_eq!(buffered[0].buffer_h, Some(0.25));
    }

    #[test]
    fn maintenance_errors_name_the_field() {
        type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
        let value: serde_json::Value = serde_json::from_str(DEMO).unwrap();
        let p1 = asset_index(&value, "P1");
        let m1 = asset_index(&value, "M1");
        let cases: Vec<(Edit, String, &str)> = vec![
            (
                Box::new(move |v| v["assets"][p1]["maintenance"]["part_cost"] = (-1.0).into()),
                format!("assets[{p1}].maintenance.part_cost"),
                "zero or more",
            ),
            (
                Box::new(move |v| v["assets"][p1]["maintenance"]["life_scale_h"] = 0.0.into()),
                format!("assets[{p1}].maintenance.life_scale_h"),
                "positive",
            ),
            (
                Box::new(move |v| v["assets"][p1]["maintenance"]["life_shape"] = 0.0.into()),
                format!("assets[{p1}].maintenance.life_shape"),
                "positive Weibull shape",
            ),
            (
                Box::new(move |v| {
                    v["assets"][m1]["maintenance"] = serde_json::json!({ "life_shape": -2 })
                }),
                format!("assets[{m1}].maintenance.life_shape"),
                "positive",
            ),
            (
                Box::new(move |v| v["assets"][p1]["maintenance"]["failure_cots"] = 1.0.into()),
                format!("assets[{p1}].maintenance.failure_cots"),
                "unknown field",
            ),
            (
                Box::new(|v| v["flows"][0]["buffer_h"] = (-0.5).into()),
                "flows[0].buffer_h".to_owned(),
                "zero or more",
            ),
            (
                Box::new(|v| v["maintenance"]["labour_rate_per_h"] = (-65.0).into()),
                "maintenance.labour_rate_per_h".to_owned(),
                "zero or more",
            ),
            (
                Box::new(|v| v["maintenance"]["horizon_days"] = 0.0.into()),
                "maintenance.horizon_days".to_owned(),
                "positive",
            ),
            (
                Box::new(|v| v["maintenance"]["stop_calendar"]["every_days"] = 0.0.into()),
                "maintenance.stop_calendar.every_days".to_owned(),
                "positive",
            ),
            (
                Box::new(|v| v["maintenance"]["stop_calendar"]["first_day"] = (-1.0).into()),
                "maintenance.stop_calendar.first_day".to_owned(),
                "zero or more",
            ),
            (
                Box::new(|v| v["maintenance"]["stop_calendar"]["weekday"] = "sat".into()),
                "maintenance.stop_calendar.weekday".to_owned(),
                "unknown field",
            ),
        ];
        for (edit, field, reason) in cases {
            let err = error_of(&with_demo(edit));
            assert_eq!(err.file, "plant.json");
            assert_eq!(err.field, field, "{err}");
            assert!(err.reason.contains(reason), "{err}");
        }
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
