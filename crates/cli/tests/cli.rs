//! The `linetwin` command line on a real CWRU recording, in every input
//! format, and its errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/bearings");
/// CWRU record 131: outer race defect, 0.007 in, 1 hp, 1773 rpm, 12 kHz.
const RECORD: &str = "cwru_131_de.f32";
const CWRU_BEARING: &str = "9,0.3126,1.537,0";

fn linetwin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_linetwin"))
        .args(args)
        .output()
        .expect("runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scratch folder for this test binary.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("linetwin-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A real recording; missing data fails the test (see `cargo xtask test`).
fn record() -> Option<PathBuf> {
    let path = data_dir().join(RECORD);
    assert!(
        path.exists(),
        "the real recording {} is missing (set LINETWIN_DATA)",
        path.display()
    );
    Some(path)
}

fn data_dir() -> PathBuf {
    std::env::var_os("LINETWIN_DATA").map_or_else(|| PathBuf::from(DATA), PathBuf::from)
}

fn samples(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// Fails with a message that says `words`, exit code 2, no panic.
fn fails_with(args: &[&str], words: &[&str]) {
    let out = linetwin(args);
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "{args:?} should fail; stdout {}",
        text(&out.stdout)
    );
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    for w in words {
        assert!(
            stderr.contains(w),
            "{args:?}: {stderr:?} should mention {w:?}"
        );
    }
}

#[test]
fn diagnoses_an_outer_race_record_in_words_and_in_json() {
    let Some(path) = record() else { return };
    let file = path.to_str().unwrap();
    let args = [
        "diagnose",
        file,
        "--fs",
        "12000",
        "--rpm",
        "1773",
        "--bearing",
        CWRU_BEARING,
        "--bearing-unit",
        "in",
    ];
    let out = linetwin(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains("outer race defect [outer_race]"),
        "{report}"
    );
    assert!(report.contains("BPFO"), "{report}");
    assert!(report.contains("maintenance required"), "{report}");

    let mut json_args = args.to_vec();
    json_args.push("--json");
    let out = linetwin(&json_args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "one JSON object");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["verdict"], "outer_race");
    assert_eq!(value["health"], "maintenance_required");
    assert!(value["score"].as_f64().is_some());
    assert!(value["reasons"].as_array().is_some_and(|r| !r.is_empty()));
}

#[test]
fn reads_csv_with_a_header_and_columns() {
    let Some(path) = record() else { return };
    let x = samples(&path);
    let dir = scratch("csv");
    let single = dir.join("one.csv");
    let mut body = String::from("acceleration_g\n");
    for v in &x {
        body.push_str(&format!("{v}\n"));
    }
    std::fs::write(&single, body).unwrap();
    let columns = dir.join("two.txt");
    let mut body = String::from("time_s;accel_g\n");
    for (i, v) in x.iter().enumerate() {
        body.push_str(&format!("{};{v}\n", i as f64 / 12_000.0));
    }
    std::fs::write(&columns, body).unwrap();
    for (file, extra) in [(&single, None), (&columns, Some("2"))] {
        let mut args = vec![
            "diagnose",
            file.to_str().unwrap(),
            "--fs",
            "12000",
            "--rpm",
            "1773",
        ];
        args.extend(["--bearing", "9,7.94,39.04,0", "--json"]);
        if let Some(c) = extra {
            args.extend(["--column", c]);
        }
        let out = linetwin(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let value: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
        assert_eq!(value["verdict"], "outer_race", "{}", file.display());
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn runs_a_manifest_one_json_line_per_record() {
    let Some(path) = record() else { return };
    let dir = scratch("manifest");
    std::fs::copy(&path, dir.join("a.f32")).unwrap();
    std::fs::copy(data_dir().join("cwru_106_de.f32"), dir.join("b.f32")).unwrap();
    let bearing = serde_json::json!({
        "n_rolling_elements": 9, "ball_diameter_in": 0.3126, "pitch_diameter_in": 1.537, "contact_angle_deg": 0.0
    });
    let manifest = serde_json::json!({
        "format": { "sample_type": "float32", "byte_order": "little-endian" },
        "records": [
            { "id": "r1", "file": "a.f32", "n_samples": 120000, "fs_hz": 12000.0, "shaft_speed_rpm": 1773.0, "units": "g", "bearing": bearing },
            { "id": "r2", "file": "b.f32", "n_samples": 120000, "fs_hz": 12000.0, "shaft_speed_rpm": 1772.0, "units": "g", "bearing": bearing },
        ]
    });
    let manifest_path = dir.join("manifest.json");
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
    let out = linetwin(&["diagnose", "--manifest", manifest_path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0]["id"].as_str(), lines[0]["verdict"].as_str()),
        (Some("r1"), Some("outer_race"))
    );
    assert_eq!(
        (lines[1]["id"].as_str(), lines[1]["verdict"].as_str()),
        (Some("r2"), Some("inner_race"))
    );
    for line in &lines {
        assert!(line["health"].is_string() && line["score"].is_number());
        assert!(
            line["key_evidence"]
                .as_array()
                .is_some_and(|e| !e.is_empty()),
            "{line}"
        );
    }

    // A record whose file is missing: an error line for it, the others still run, exit code 1.
    let mut broken = manifest.clone();
    broken["records"][1]["file"] = "missing.f32".into();
    std::fs::write(&manifest_path, broken.to_string()).unwrap();
    let out = linetwin(&["diagnose", "--manifest", manifest_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["verdict"], "outer_race");
    assert_eq!(lines[1]["id"], "r2");
    assert!(
        lines[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("missing.f32")),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_files_and_parameters_give_clear_errors() {
    let dir = scratch("errors");
    let odd = dir.join("odd.f32");
    std::fs::write(&odd, [0u8; 1023]).unwrap();
    let odd = odd.to_str().unwrap();
    let unknown = dir.join("data.wav");
    std::fs::write(&unknown, [0u8; 16]).unwrap();
    let bad_csv = dir.join("bad.csv");
    std::fs::write(&bad_csv, "accel\n0.1\n0.2\nabc\n").unwrap();
    let empty_csv = dir.join("empty.csv");
    std::fs::write(&empty_csv, "accel\n").unwrap();
    let fs_rpm = ["--fs", "12000", "--rpm", "1773"];
    let with = |file: &str, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = vec!["diagnose".into(), file.into()];
        v.extend(fs_rpm.iter().map(|s| s.to_string()));
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |args: Vec<String>, words: &[&str]| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        fails_with(&refs, words);
    };
    run(
        with("/no/such/file.f32", &[]),
        &["/no/such/file.f32", "cannot read"],
    );
    run(with(odd, &[]), &["odd.f32", "1023 bytes", "4-byte"]);
    run(
        with(unknown.to_str().unwrap(), &[]),
        &["data.wav", "unknown file type"],
    );
    run(
        with(bad_csv.to_str().unwrap(), &[]),
        &["bad.csv", "line 4", "not a number"],
    );
    run(
        with(empty_csv.to_str().unwrap(), &[]),
        &["empty.csv", "no samples"],
    );
    let Some(path) = record() else { return };
    let file = path.to_str().unwrap();
    run(
        with(file, &["--bearing", "9,abc,1.537,0"]),
        &["--bearing", "ball diameter d"],
    );
    run(
        with(file, &["--bearing", "9,0.3126"]),
        &["--bearing", "2 fields"],
    );
    run(
        with(file, &["--bearing", "9.5,0.3,1.5,0"]),
        &["rolling elements"],
    );
    run(
        with(
            file,
            &["--bearing", "9,1.6,1.537,0", "--bearing-unit", "in"],
        ),
        &["smaller than pitch diameter"],
    );
    run(
        with(file, &["--bearing", "9,0.3,1.5,120"]),
        &["contact angle"],
    );
    run(with(file, &["--unit", "furlongs"]), &["--unit", "furlongs"]);
    run(with(file, &["--iso", "3,rigid"]), &["--iso", "1 or 2"]);
    fails_with(
        &["diagnose", file, "--fs", "0", "--rpm", "1773"],
        &["--fs", "positive"],
    );
    fails_with(
        &["diagnose", file, "--fs", "12000", "--rpm", "-10"],
        &["--rpm", "positive"],
    );
    fails_with(&["diagnose", file, "--fs", "12000"], &["--rpm"]);
    fails_with(
        &["diagnose", "--manifest", "/no/such/manifest.json"],
        &["manifest.json", "cannot read"],
    );
    let not_json = dir.join("m.json");
    std::fs::write(&not_json, "{records: nope").unwrap();
    fails_with(
        &["diagnose", "--manifest", not_json.to_str().unwrap()],
        &["m.json", "not valid JSON"],
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn unusable_signal_is_reported_not_crashed() {
    let dir = scratch("flat");
    let flat = dir.join("flat.f32");
    std::fs::write(&flat, vec![0u8; 4 * 20_000]).unwrap();
    let out = linetwin(&[
        "diagnose",
        flat.to_str().unwrap(),
        "--fs",
        "12000",
        "--rpm",
        "1500",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let value: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(value["health"], "check_function");
    assert_eq!(value["verdict"], "none");
    let _ = std::fs::remove_dir_all(dir);
}

fn write_f32(path: &Path, values: &[f32]) {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes).unwrap();
}

/// `linetwin rul` on the real IMS trends: tests 1 and 3 as history, test 2
/// bearing 1 cut at 75 % of its life (41 h before it failed) to predict.
fn rul_manifest(dir: &Path, predict: serde_json::Value) -> PathBuf {
    let data = data_dir();
    let history = |id: &str, test: u32, channel: &str| {
        serde_json::json!({
            "id": id, "role": "history", "group": "ims-6000lb-2000rpm", "rpm": 2000.0,
            "load_n": 26690.0, "indicator_kind": "mean_abs_g",
            "indicator": data.join(format!("ims{test}_trend_meanabs_{channel}.f32")),
            "t_h": data.join(format!("ims{test}_trend_meanabs_elapsed_h.f32")),
        })
    };
    let manifest = serde_json::json!({ "records": [
        history("ims1-b3", 1, "bearing3c1"),
        history("ims3-b3", 3, "bearing3"),
        predict,
    ]});
    let path = dir.join("rul.json");
    std::fs::write(&path, manifest.to_string()).unwrap();
    path
}

#[test]
fn rul_predicts_a_real_run_cut_at_three_quarters_of_its_life() {
    let dir = scratch("rul");
    let data = data_dir();
    let t = samples(&data.join("ims2_trend_meanabs_elapsed_h.f32"));
    let x = samples(&data.join("ims2_trend_meanabs_bearing1.f32"));
    assert!(
        !t.is_empty(),
        "the IMS trends are missing (set LINETWIN_DATA)"
    );
    let life = *t.last().unwrap();
    let cut = t.partition_point(|h| *h <= 0.75 * life);
    write_f32(&dir.join("t.f32"), &t[..cut]);
    write_f32(&dir.join("x.f32"), &x[..cut]);
    let predict = serde_json::json!({
        "id": "ims2-b1", "role": "predict", "group": "ims-6000lb-2000rpm", "rpm": 2000.0,
        "load_n": 26690.0, "indicator_kind": "mean_abs_g", "indicator": "x.f32", "t_h": "t.f32",
    });
    let manifest = rul_manifest(&dir, predict);
    let out = linetwin(&["rul", "--manifest", manifest.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line per predict record: {stdout}");
    let answer: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(answer["id"], "ims2-b1");
    assert_eq!(answer["state"], "degrading");
    let at = answer["at_h"].as_f64().unwrap();
    let truth = f64::from(life) - at;
    let (low, high) = (
        answer["rul_h_low"].as_f64().unwrap(),
        answer["rul_h_high"].as_f64().unwrap(),
    );
    let median = answer["rul_h"].as_f64().unwrap();
    assert!(low <= median && median <= high, "{answer}");
    assert!(
        low <= truth && truth <= high,
        "truth {truth} outside {answer}"
    );
}

#[test]
fn rul_errors_name_the_record_and_the_field() {
    let dir = scratch("rul-errors");
    let missing = serde_json::json!({
        "id": "pump-7", "role": "predict", "group": "g", "rpm": 1500.0, "load_n": 1000.0,
        "indicator_kind": "mean_abs_g", "indicator": "nowhere.f32", "t_h": "nowhere.f32",
    });
    let manifest = rul_manifest(&dir, missing);
    fails_with(
        &["rul", "--manifest", manifest.to_str().unwrap()],
        &["pump-7", "indicator", "nowhere.f32"],
    );
    let bad_role = serde_json::json!({
        "id": "pump-8", "role": "guess", "group": "g", "rpm": 1500.0, "load_n": 1000.0,
        "indicator_kind": "mean_abs_g", "indicator": "x.f32", "t_h": "t.f32",
    });
    let manifest = rul_manifest(&dir, bad_role);
    fails_with(
        &["rul", "--manifest", manifest.to_str().unwrap()],
        &["records[2].role", "history"],
    );
    write_f32(&dir.join("short.f32"), &[1.0, 2.0]);
    write_f32(&dir.join("long.f32"), &[0.1, 0.1, 0.1]);
    let mismatch = serde_json::json!({
        "id": "pump-9", "role": "predict", "group": "g", "rpm": 1500.0, "load_n": 1000.0,
        "indicator_kind": "rms_g", "indicator": "long.f32", "t_h": "short.f32",
    });
    let manifest = rul_manifest(&dir, mismatch);
    fails_with(
        &["rul", "--manifest", manifest.to_str().unwrap()],
        &["pump-9", "3 values", "2"],
    );
}

#[test]
fn rul_of_a_component_with_only_a_few_snapshots_comes_from_the_fleet() {
    let dir = scratch("rul-short");
    write_f32(&dir.join("t.f32"), &[100.0, 101.0, 102.0, 103.0]);
    write_f32(&dir.join("x.f32"), &[0.06, 0.061, 0.059, 0.06]);
    let predict = serde_json::json!({
        "id": "new-pump", "role": "predict", "group": "ims-6000lb-2000rpm", "rpm": 2000.0,
        "load_n": 26690.0, "indicator_kind": "mean_abs_g", "indicator": "x.f32", "t_h": "t.f32",
    });
    let manifest = rul_manifest(&dir, predict);
    let out = linetwin(&["rul", "--manifest", manifest.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let answer: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(answer["state"], "no degradation");
    assert_eq!(answer["at_h"], 103.0);
    assert!(answer["rul_h"].as_f64().unwrap() > 0.0, "{answer}");
    assert!(
        answer["evidence"].as_str().unwrap().contains("too few"),
        "{answer}"
    );
}

/// A labelled manifest of real records in the holdout format plus `fault`.
fn labelled_manifest(dir: &Path, records: &[(&str, &str, u32, &str)]) -> PathBuf {
    let records: Vec<serde_json::Value> = records
        .iter()
        .map(|(id, file, rpm, fault)| {
            serde_json::json!({
                "id": id,
                "file": data_dir().join(file).to_str().unwrap(),
                "fs_hz": 12000,
                "shaft_speed_rpm": rpm,
                "units": "g",
                "bearing": {"n_rolling_elements": 9, "ball_diameter_in": 0.3126,
                            "pitch_diameter_in": 1.537, "contact_angle_deg": 0.0},
                "fault": fault,
            })
        })
        .collect();
    let path = dir.join("labelled.json");
    std::fs::write(
        &path,
        serde_json::to_string(&serde_json::json!({ "records": records })).unwrap(),
    )
    .unwrap();
    path
}

#[test]
fn validate_scores_a_labelled_set_in_a_table_json_and_markdown() {
    let dir = scratch("validate");
    // 131 is an outer-race record; labelling it inner race must show up
    // as a wrong location, and a ball label on 186 (nothing found) as a miss.
    let manifest = labelled_manifest(
        &dir,
        &[
            ("or", RECORD, 1772, "outer_race"),
            ("ir", "cwru_106_de.f32", 1772, "inner"),
            ("mislabelled", RECORD, 1772, "inner_race"),
            ("quiet", "cwru_186_de.f32", 1774, "ball"),
        ],
    );
    let manifest = manifest.to_str().unwrap();
    let out = linetwin(&["validate", "--manifest", manifest]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.contains("4 records, 4 judged: 2 correct (50 %)"),
        "{table}"
    );
    assert!(table.contains("wrong location: 1"), "{table}");
    assert!(table.contains("missed: 1"), "{table}");
    assert!(
        table.lines().any(|l| l.starts_with("mislabelled")
            && l.contains("wrong location")
            && l.contains("BPFO")),
        "{table}"
    );

    let out = linetwin(&["validate", "--manifest", manifest, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["records"][2]["outcome"], "wrong_location");
    assert_eq!(report["records"][3]["outcome"], "missed");
    let outer = report["per_class"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == "outer_race")
        .unwrap();
    assert_eq!(outer["recall"], 1.0);
    assert_eq!(outer["precision"], 0.5);

    let markdown = dir.join("report.md");
    let out = linetwin(&[
        "validate",
        "--manifest",
        manifest,
        "--markdown",
        markdown.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&markdown).unwrap();
    assert!(written.contains("## Confusion matrix"), "{written}");
    assert!(
        written.contains("| inner_race | 0 | 1 | 1 | 0 | 0 |"),
        "one inner-race label met, one called outer race: {written}"
    );
}

#[test]
fn validate_names_the_record_and_field_of_a_bad_label_and_counts_unreadable_files() {
    let dir = scratch("validate-errors");
    let unlabelled = dir.join("unlabelled.json");
    std::fs::write(
        &unlabelled,
        r#"{"records":[{"id":"r1","file":"x.f32","fs_hz":12000,"shaft_speed_rpm":1800}]}"#,
    )
    .unwrap();
    fails_with(
        &["validate", "--manifest", unlabelled.to_str().unwrap()],
        &["r1", "\"fault\" is missing"],
    );
    let manifest = labelled_manifest(&dir, &[("gear", RECORD, 1772, "gearbox")]);
    fails_with(
        &["validate", "--manifest", manifest.to_str().unwrap()],
        &["gear", "unknown fault \"gearbox\""],
    );
    let manifest = labelled_manifest(
        &dir,
        &[
            ("or", RECORD, 1772, "outer_race"),
            ("gone", "nowhere.f32", 1772, "none"),
        ],
    );
    let out = linetwin(&["validate", "--manifest", manifest.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("not judged: 1"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("gone") && l.contains("nowhere.f32")),
        "{table}"
    );
}
