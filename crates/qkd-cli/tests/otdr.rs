//! `qkd otdr` end to end on the 25 km metro route.

use std::process::Command;

fn route() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../qkd-fiber/examples/metro_25km.toml"
    )
    .to_owned()
}

#[test]
fn finds_a_simulated_tap_and_writes_sor_and_svg() {
    let dir = std::env::temp_dir().join(format!("qkd-otdr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sor = dir.join("t.sor");
    let svg = dir.join("t.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_qkd"))
        .args([
            "otdr",
            "--json",
            "--seed",
            "3",
            "--route",
            &route(),
            "--tap-km",
            "17.3",
        ])
        .args(["--tap-db", "0.3", "--spacing-m", "2"])
        .arg("--sor")
        .arg(&sor)
        .arg("--svg")
        .arg(&svg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = v["comparison"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["kind"], "new_loss");
    let pos = changes[0]["position_m"].as_f64().unwrap();
    assert!((pos - 17_300.0).abs() < 12.0, "{pos}");
    assert!(std::fs::metadata(&sor).unwrap().len() > 1000);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));

    // The written SOR serves as the baseline of a second run: no change.
    let out = Command::new(env!("CARGO_BIN_EXE_qkd"))
        .args([
            "otdr",
            "--seed",
            "4",
            "--route",
            &route(),
            "--tap-km",
            "17.3",
        ])
        .args(["--tap-db", "0.3", "--spacing-m", "2", "--baseline"])
        .arg(&sor)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("0 change(s)"), "{text}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_route_is_an_error_not_a_panic() {
    let dir = std::env::temp_dir().join(format!("qkd-otdr-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[[spans]]\nlength_km = -1.0\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_qkd"))
        .args(["otdr", "--route"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("length_km"));
    std::fs::remove_dir_all(&dir).ok();
}
