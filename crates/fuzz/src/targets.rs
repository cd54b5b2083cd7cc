//! Every decoder of outside data, with valid seeds of its format. Where a
//! decoder reads more than bytes (an MQTT topic, a route), the input's
//! first byte chooses among the real choices and the rest is the payload.

use linetwin_core::line::Line;
use linetwin_core::protocol::{Reading, TextMessage, WaveformBlock};
use linetwin_core::scenario::Scenario;
use linetwin_recorder::{FrameKind, RecordedFrame, Recorder, RecorderConfig};
use linetwin_server::decode::{self, Body};
use linetwin_server::mqtt::config::GatewayConfig;
use linetwin_server::mqtt::sparkplug::{SparkplugHost, Value, build};

use crate::{Outcome, Target};

const DEMO_LINE: &str = include_str!("../../../assets/lines/demo.json");
const SCENARIOS: [&str; 4] = [
    include_str!("../../../assets/scenarios/bearing-found-early.json"),
    include_str!("../../../assets/scenarios/fan-unbalance.json"),
    include_str!("../../../assets/scenarios/lubrication-loss.json"),
    include_str!("../../../assets/scenarios/robot-reducer.json"),
];

/// A line of one machine: small, so mutations reach every field quickly.
const SMALL_LINE: &str = r#"{"version":1,"id":"l","name":"L","assets":[{"id":"P1","kind":"pump","name":"Pump","position_m":[0,0,0],"size_m":[1,1,1],"rated_speed_rpm":2955,"iso":{"group":2,"support":"rigid"},"sensors":[{"id":"P1-DE-V","kind":"vibration","unit":"g","sample_rate_hz":12800,"bearing":{"designation":"6309","rolling_elements":8,"ball_diameter_mm":17.46,"pitch_diameter_mm":72.5,"contact_angle_deg":0}},{"id":"P1-T","kind":"temperature","unit":"degC","sample_rate_hz":1}],"maintenance":{"part_cost":1400,"life_shape":1.8,"life_scale_h":30000}}],"flows":[]}"#;

/// The broker config the MQTT targets decode with: plain topics of each
/// payload kind and a Sparkplug group.
const MQTT_CONFIG: &str = r#"
[mqtt]
url = "mqtt://127.0.0.1:1883"
topics = [
  { filter = "plant/+/temperature", payload = "reading", sensor = "{1}-T" },
  { filter = "plant/readings", payload = "readings" },
  { filter = "plant/waveform/#", payload = "waveform" },
  { filter = "plant/ms/+", payload = "reading", sensor = "{1}", time = "arrival" },
]
[mqtt.sparkplug]
group = "line1"
metrics = [
  { node = "plc1", device = "pump", metric = "Bearing/Temperature", sensor = "P1-T" },
  { node = "plc1", metric = "Conveyor/Temperature", sensor = "C1-T" },
  { node = "plc1", device = "pump", metric = "Bearing/Vibration", sensor = "P1-DE-V" },
]
"#;

const CONFIGS: [&str; 4] = [
    MQTT_CONFIG,
    "[state]\npath = \"/tmp/linetwin-fuzz-state.db\"\n[auth]\nallowed_origins = [\"https://hmi.plant.local\"]\nsession_hours = 8.5\nsecure_cookies = true\n",
    "[work_orders]\nraise = \"critical\"\n[[work_orders.webhooks]]\nurl = \"http://cmms.plant.local:8081/notifications\"\n",
    "[mqtt]\nurl = \"mqtts://broker.plant.local:8883\"\nprotocol = 5\nclient_id = \"gw\"\nkeep_alive_s = 30\ntopics = [{ filter = \"a/#\", payload = \"readings\" }]\n[mqtt.tls]\nca_file = \"/nonexistent/ca.pem\"\n",
];

fn demo_line() -> Line {
    Line::from_json("demo.json", DEMO_LINE).expect("the demo line is valid")
}

fn block(sensor: &str, samples: usize, rpm: Option<f32>) -> WaveformBlock {
    WaveformBlock {
        sensor: sensor.into(),
        t_start: 1_796_215_845.25,
        sample_rate_hz: 12_800.0,
        shaft_rpm: rpm,
        samples: (0..samples).map(|i| (i as f32 * 0.37).sin()).collect(),
    }
}

fn with_choice(choice: u8, payload: &[u8]) -> Vec<u8> {
    let mut input = vec![choice];
    input.extend_from_slice(payload);
    input
}

/// The input's first byte chooses one of `n`; the rest is the payload.
fn split(input: &[u8], n: usize) -> (usize, &[u8]) {
    match input.split_first() {
        Some((first, rest)) => (*first as usize % n, rest),
        None => (0, &[]),
    }
}

fn ws_text(line: Line) -> Target {
    let readings = TextMessage::Readings {
        t: 1_796_215_845.0,
        values: vec![
            Reading {
                sensor: "P1-T".into(),
                value: 41.5,
            },
            Reading {
                sensor: "M1-I".into(),
                value: 12.25,
            },
        ],
    };
    let seeds = vec![
        readings.to_json().into_bytes(),
        br#"{"type":"offline","t":1796215845.0,"sensors":["P1-T","P1-DE-V"],"reason":"node plc1 offline"}"#.to_vec(),
        br#"{"type":"hello","protocol":3,"line_id":"bottling-line-1","clock":{"kind":"unix","t0":0}}"#.to_vec(),
        br#"{"type":"baseline","sensor":"P1-DE-V","t":1796302245.0,"by":"maria","value_mm_s":0.9}"#.to_vec(),
        br#"{"type":"notice","level":"warning","message":"x","protocol":2}"#.to_vec(),
    ];
    Target {
        name: "ws_text",
        reads: "producer text frames on /ws/ingest (readings, offline, any message kind)",
        seeds,
        max_len: 64 * 1024 + 16,
        run: Box::new(move |input| decode::ingest_frame(&line, input, false).into()),
    }
}

fn ws_binary(line: Line) -> Target {
    let seeds = vec![
        block("P1-DE-V", 512, Some(2955.0)).encode(),
        block("M1-DE-V", 64, None).encode(),
        block("P1-T", 16, None).encode(),
        block("P1-DE-V", 0, None).encode(),
    ];
    Target {
        name: "ws_binary",
        reads: "producer waveform blocks (LTW1) on /ws/ingest and MQTT",
        seeds,
        max_len: 8 * 1024,
        run: Box::new(move |input| decode::ingest_frame(&line, input, true).into()),
    }
}

fn line_file() -> Target {
    Target {
        name: "line",
        reads: "line description files (--line, /api/line's source)",
        seeds: vec![
            SMALL_LINE.as_bytes().to_vec(),
            DEMO_LINE.as_bytes().to_vec(),
        ],
        max_len: 64 * 1024,
        run: Box::new(|input| {
            let text = String::from_utf8_lossy(input);
            Line::from_json("fuzz.json", &text).map(drop).into()
        }),
    }
}

fn scenario_file(line: Line) -> Target {
    Target {
        name: "scenario",
        reads: "demo story files (--scenario)",
        seeds: SCENARIOS.iter().map(|s| s.as_bytes().to_vec()).collect(),
        max_len: 64 * 1024,
        run: Box::new(move |input| {
            let text = String::from_utf8_lossy(input);
            Scenario::from_json("fuzz.json", &text, &line)
                .map(drop)
                .into()
        }),
    }
}

fn config_file(line: Line) -> Target {
    Target {
        name: "config",
        reads: "gateway config files (--config: MQTT, state, work orders, auth)",
        seeds: CONFIGS.iter().map(|c| c.as_bytes().to_vec()).collect(),
        max_len: 16 * 1024,
        run: Box::new(move |input| {
            let text = String::from_utf8_lossy(input);
            GatewayConfig::from_toml("fuzz.toml", &text, &line)
                .map(drop)
                .into()
        }),
    }
}

const PLAIN_TOPICS: [&str; 5] = [
    "plant/P1/temperature",
    "plant/readings",
    "plant/waveform/P1-DE-V",
    "plant/ms/P1-T",
    "plant/X9/temperature",
];

fn mqtt_plain(line: &Line) -> Target {
    let config = GatewayConfig::from_toml("fuzz.toml", MQTT_CONFIG, line)
        .expect("the fuzz MQTT config is valid");
    let topics = config.mqtt.expect("an [mqtt] section").topics;
    let readings = TextMessage::Readings {
        t: 1_796_215_845.0,
        values: vec![Reading {
            sensor: "R1-T".into(),
            value: 38.0,
        }],
    };
    let seeds = vec![
        with_choice(0, br#"{"value": 61.5, "ts": 1796215845000}"#),
        with_choice(0, br#"{"value": 1, "t": 1796215845}"#),
        with_choice(1, readings.to_json().as_bytes()),
        with_choice(2, &block("P1-DE-V", 256, Some(2955.0)).encode()),
        with_choice(3, b"41.5"),
        with_choice(4, br#"{"value": 1}"#),
    ];
    Target {
        name: "mqtt_plain",
        reads: "MQTT messages on plain topics (one reading, linetwin readings, LTW1 waveforms)",
        seeds,
        max_len: 8 * 1024,
        run: Box::new(move |input| {
            let (topic, payload) = split(input, PLAIN_TOPICS.len());
            match decode::mqtt_plain(&topics, PLAIN_TOPICS[topic], payload) {
                Some(result) => result.into(),
                None => Outcome::Refused,
            }
        }),
    }
}

const SPARKPLUG_TOPICS: [&str; 8] = [
    "spBv1.0/line1/NBIRTH/plc1",
    "spBv1.0/line1/DBIRTH/plc1/pump",
    "spBv1.0/line1/NDATA/plc1",
    "spBv1.0/line1/DDATA/plc1/pump",
    "spBv1.0/line1/NDEATH/plc1",
    "spBv1.0/line1/DDEATH/plc1/pump",
    "spBv1.0/line1/NDATA/plc2",
    "spBv1.0/other/NDATA/plc1",
];

fn sparkplug(line: Line) -> Target {
    let config = GatewayConfig::from_toml("fuzz.toml", MQTT_CONFIG, &line)
        .expect("the fuzz MQTT config is valid");
    let sparkplug = config
        .mqtt
        .and_then(|m| m.sparkplug)
        .expect("a [mqtt.sparkplug] section");
    let mut host = SparkplugHost::new(&sparkplug);
    let ms = 1_796_215_845_000;
    let seeds = vec![
        with_choice(
            0,
            &build::payload(
                ms,
                0,
                vec![
                    build::metric(Some("bdSeq"), None, Value::Long(1), 8),
                    build::metric(
                        Some("Conveyor/Temperature"),
                        Some(1),
                        Value::Double(33.0),
                        10,
                    ),
                ],
            ),
        ),
        with_choice(
            1,
            &build::payload(
                ms + 1,
                1,
                vec![
                    build::metric(Some("Bearing/Temperature"), Some(2), Value::Float(40.5), 9),
                    build::metric(
                        Some("Bearing/Vibration"),
                        Some(3),
                        Value::Bytes(block("P1-DE-V", 128, Some(2955.0)).encode()),
                        17,
                    ),
                ],
            ),
        ),
        with_choice(
            2,
            &build::payload(
                ms + 2,
                2,
                vec![build::metric(None, Some(1), Value::Double(34.0), 10)],
            ),
        ),
        with_choice(
            3,
            &build::payload(
                ms + 3,
                3,
                vec![build::metric(None, Some(2), Value::Float(41.0), 9)],
            ),
        ),
        with_choice(
            4,
            &build::payload(
                ms + 4,
                0,
                vec![build::metric(Some("bdSeq"), None, Value::Long(1), 8)],
            ),
        ),
        with_choice(5, &build::payload(ms + 5, 4, vec![])),
    ];
    Target {
        name: "sparkplug",
        reads: "Sparkplug B payloads (births, data by name and alias, deaths) to the host, whose state carries over between inputs",
        seeds,
        max_len: 8 * 1024,
        run: Box::new(move |input| {
            let (topic, payload) = split(input, SPARKPLUG_TOPICS.len());
            let actions = decode::sparkplug(&mut host, &line, SPARKPLUG_TOPICS[topic], payload);
            if actions > 0 {
                Outcome::Accepted
            } else {
                Outcome::Refused
            }
        }),
    }
}

/// A small recording made by the real recorder: the line, readings and a
/// waveform, in several LZ4 chunks.
fn recording_seed() -> anyhow::Result<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!("linetwin-fuzz-recording-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut config = RecorderConfig::new(&dir);
    config.chunk_bytes = 512;
    let mut recorder = Recorder::open(config, SMALL_LINE.to_owned())?;
    for k in 0..6u32 {
        let readings = TextMessage::Readings {
            t: 1_796_215_845.0 + f64::from(k),
            values: vec![Reading {
                sensor: "P1-T".into(),
                value: 40.0 + f64::from(k),
            }],
        };
        recorder.record(&RecordedFrame {
            wall_ns: 1_000_000_000 * u64::from(k + 1),
            kind: FrameKind::Text,
            bytes: readings.to_json().into_bytes(),
        })?;
    }
    recorder.record(&RecordedFrame {
        wall_ns: 7_000_000_000,
        kind: FrameKind::Binary,
        bytes: block("P1-DE-V", 64, Some(2955.0)).encode(),
    })?;
    let path = recorder
        .current_file()
        .map(std::path::Path::to_path_buf)
        .ok_or_else(|| anyhow::anyhow!("the recorder opened no file"))?;
    recorder.close()?;
    let bytes = std::fs::read(&path)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(bytes)
}

fn recording() -> anyhow::Result<Target> {
    Ok(Target {
        name: "recording",
        reads: "MCAP recordings (--replay, exports), whole or cut short",
        seeds: vec![recording_seed()?],
        max_len: 64 * 1024,
        run: Box::new(|input| {
            linetwin_recorder::read_recording_bytes("fuzz.mcap", input)
                .map(drop)
                .into()
        }),
    })
}

fn http_bodies(line: Line) -> Target {
    let plan = br#"{"by": "maria", "t": 1796215845.0, "recommended": true, "reason": "lowest expected cost",
        "plan": {"name": "replace P1 and lubricate M1", "actions": [
            {"asset": "P1", "kind": {"kind": "replace"}, "at_h": 48.0},
            {"asset": "M1", "kind": {"kind": "lubricate"}, "at_h": 24.0},
            {"asset": "FN1", "kind": {"kind": "slow_down", "percent": 20}, "at_h": 0.0}]},
        "simulated": {"paths": 10000, "expected_cost": 5200.0, "p90_cost": 9000.0, "expected_downtime_h": 4.0, "p90_downtime_h": 6.0}}"#;
    let index = |body: Body| Body::ALL.iter().position(|b| *b == body).unwrap_or(0) as u8;
    let seeds = vec![
        with_choice(
            index(Body::LoginForm),
            b"name=olga&password=a+shop-floor+pass%21&next=%2F%3Fkiosk",
        ),
        with_choice(
            index(Body::LoginJson),
            br#"{"name":"olga","password":"a shop-floor passphrase"}"#,
        ),
        with_choice(
            index(Body::NewUser),
            br#"{"name":"vic","role":"viewer","password":"another passphrase"}"#,
        ),
        with_choice(
            index(Body::NewToken),
            br#"{"name":"P1 edge","role":"producer","assets":["P1"]}"#,
        ),
        with_choice(index(Body::Who), br#"{"by":"maria"}"#),
        with_choice(index(Body::Plan), plan),
    ];
    Target {
        name: "http_bodies",
        reads: "HTTP request bodies: sign-in (form and JSON), new people and tokens, who acts, what-if plans for the CMMS",
        seeds,
        max_len: 16 * 1024,
        run: Box::new(move |input| {
            let (route, body) = split(input, Body::ALL.len());
            decode::http_body(&line, Body::ALL[route], body).into()
        }),
    }
}

/// Every target, in a fixed order.
pub fn all() -> anyhow::Result<Vec<Target>> {
    let line = demo_line();
    Ok(vec![
        ws_text(line.clone()),
        ws_binary(line.clone()),
        mqtt_plain(&line),
        sparkplug(line.clone()),
        line_file(),
        scenario_file(line.clone()),
        config_file(line.clone()),
        recording()?,
        http_bodies(line),
    ])
}
