//! SVG rendering and TOML route files.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use qkd_core::sim_rng;
use qkd_fiber::otdr::{OtdrConfig, analyze, synthesize};
use qkd_fiber::svg::render_svg;
use qkd_fiber::{AnalysisConfig, FiberError, Route};

#[test]
fn svg_has_the_trace_and_markers() {
    let r = Route::from_toml_str(include_str!("../examples/metro_25km.toml")).unwrap();
    let t = synthesize(&r, &OtdrConfig::default(), &mut sim_rng(1)).unwrap();
    let ev = analyze(&t, &AnalysisConfig::default()).unwrap();
    let svg = render_svg(&t, &ev, "metro", 800, 400).unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains("polyline") || svg.contains("path"));
}

#[test]
fn route_toml_round_trips_and_rejects_bad_files() {
    let r = Route::from_toml_str(include_str!("../examples/metro_25km.toml")).unwrap();
    assert!((r.length_km() - 25.0).abs() < 1e-9);
    let back = Route::from_toml_str(&r.to_toml_string().unwrap()).unwrap();
    assert_eq!(back, r);
    // 25 km x ~0.193 dB/km + 0.77 dB of events.
    let b = r.loss_budget(1550.0);
    assert!((b.total_db - 5.5).abs() < 0.3, "{b:?}");
    assert!(matches!(
        Route::from_toml_str("[[spans]]\nlength_km = -3.0\n"),
        Err(FiberError::InvalidParameter { .. })
    ));
    assert!(matches!(
        Route::from_toml_str(
            "[[spans]]\nlength_km = 3.0\n[[events]]\nposition_km = 4.0\nkind = \"splice\"\n"
        ),
        Err(FiberError::EventOutsideRoute { .. })
    ));
    assert!(matches!(
        Route::from_toml_str("spans = 3"),
        Err(FiberError::Toml(_))
    ));
}
