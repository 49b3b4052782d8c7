//! `qkd pa` end to end on a small input.

mod common;

use common::qkd_json;
use std::process::Command;

#[test]
fn pa_reports_sizes_and_throughput_as_json() {
    let v = qkd_json(["pa", "--bits", "100000", "--ratio", "0.25", "--json"]);
    assert_eq!(v["input_bits"], 100_000);
    assert_eq!(v["output_bits"], 25_000);
    assert!(v["seconds"].as_f64().expect("number") > 0.0);
    assert!(v["throughput_mbps"].as_f64().expect("number") > 0.0);
    // 1e5 bits is below the FFT threshold: the Karatsuba path, whatever the CPU.
    assert_eq!(v["path"], "karatsuba");
}

#[test]
fn pa_reports_the_fft_path_when_it_runs() {
    let v = qkd_json(["pa", "--bits", "1000000", "--repeat", "2", "--json"]);
    assert_eq!(v["path"], "additive-fft");
    assert_eq!(v["fft_transform_log"], 16);
    assert_eq!(v["repeat"], 2);
    assert_ne!(v["kernel"], "Pclmul");
}

#[test]
fn pa_rejects_a_ratio_above_one() {
    let out = Command::new(env!("CARGO_BIN_EXE_qkd"))
        .args(["pa", "--bits", "1000", "--ratio", "1.5"])
        .output()
        .expect("runs");
    assert!(!out.status.success());
}
