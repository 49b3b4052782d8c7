//! `qkd reconcile` end to end on a small input.

mod common;

use common::qkd_json;
use std::process::Command;

#[test]
fn reconcile_json_has_the_documented_fields() {
    let v = qkd_json([
        "--json",
        "--seed",
        "3",
        "reconcile",
        "--algorithm",
        "cascade-original",
        "--qber",
        "0.03",
        "--block",
        "2000",
        "--frames",
        "20",
    ]);
    for field in [
        "algorithm",
        "qber",
        "block_bits",
        "frames",
        "efficiency_mean",
        "efficiency_std",
        "fer",
        "messages_mean",
        "round_trips_mean",
        "throughput_mbps",
        "efficiency_estimated_mean",
        "fer_ci95",
        "undetected_frames",
        "seconds_per_frame",
        "efficiency_estimated_parities_only",
        "efficiency_parities_only",
        "cascade_tag_bits",
        "eps_cor",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    assert_eq!(v["algorithm"], "cascade-original");
    assert_eq!(v["frames"], 20);
    let f = v["efficiency_mean"].as_f64().unwrap();
    assert!(f > 1.0 && f < 1.6, "f = {f}");
    assert_eq!(v["fer"].as_f64().unwrap(), 0.0);
}

#[test]
fn several_qbers_give_an_array_and_bad_names_fail() {
    let v = qkd_json([
        "--json",
        "reconcile",
        "-a",
        "cascade-yan,cascade-option8+bpi",
        "--qber",
        "0.02,0.08",
        "--block",
        "1000",
        "--frames",
        "5",
    ]);
    assert_eq!(v.as_array().unwrap().len(), 4);
    let bad = Command::new(env!("CARGO_BIN_EXE_qkd"))
        .args(["reconcile", "--algorithm", "cascade-nope", "--frames", "1"])
        .output()
        .expect("runs");
    assert!(!bad.status.success());
    let bad = Command::new(env!("CARGO_BIN_EXE_qkd"))
        .args(["reconcile", "--qber", "0.7", "--frames", "1"])
        .output()
        .expect("runs");
    assert!(!bad.status.success());
}
