//! `qkd keyrate` end to end.

mod common;

use common::qkd_json;

#[test]
fn keyrate_gys_json_vanishes_near_142_km_and_stays_below_plob() {
    let dir = std::env::temp_dir().join(format!("qkd-keyrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let svg = dir.join("rate.svg");
    let mut args: Vec<std::ffi::OsString> = [
        "keyrate",
        "--preset",
        "gys",
        "--distance",
        "0..150",
        "--step",
        "50",
        "--finite",
        "1e10",
        "--json",
        "--svg",
    ]
    .map(Into::into)
    .to_vec();
    args.push(svg.clone().into_os_string());
    let v = qkd_json(args);
    let d = v["max_distance_km"].as_f64().expect("number");
    assert!((142.0..=143.0).contains(&d), "{d}");
    let points = v["points"].as_array().expect("array");
    assert_eq!(points.len(), 4);
    for p in points {
        let r = p["asymptotic_bps"].as_f64().expect("number");
        let f = p["finite_bps"].as_f64().expect("number");
        // PLOB is unbounded (JSON null) at zero loss.
        let plob = p["plob_bps"].as_f64().unwrap_or(f64::INFINITY);
        assert!(r <= plob && f <= plob);
        let efficient = p["efficient_bits_per_pulse"].as_f64().expect("number") * 2e6;
        assert!(
            f >= 0.0 && f <= efficient,
            "finite {f} above its asymptotic limit {efficient}"
        );
    }
    let text = std::fs::read_to_string(&svg).expect("svg written");
    assert!(text.starts_with("<svg") && text.contains("PLOB"));
    std::fs::remove_dir_all(&dir).ok();
}
