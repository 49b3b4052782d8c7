//! OTDR synthesis, analysis and baseline comparison on the 25 km metro route.

use qkd_core::{derive_seed, sim_rng};
use qkd_fiber::otdr::{
    ChangeKind, CompareConfig, DetectedKind, OtdrConfig, analyze, compare, synthesize,
};
use qkd_fiber::{AnalysisConfig, Event, EventKind, Route};

fn metro() -> Route {
    Route::from_toml_str(include_str!("../examples/metro_25km.toml")).unwrap()
}

#[test]
fn debug_print() {
    let r = metro();
    let cfg = OtdrConfig::default();
    let t = synthesize(&r, &cfg, &mut sim_rng(1)).unwrap();
    eprintln!("n = {}, res = {}", t.len(), t.resolution_m());
    for i in [
        0usize, 10, 50, 100, 200, 1000, 10000, 40000, 49990, 50000, 50010, 50100, 52000, 55000,
    ] {
        eprintln!("{i} {:.4}", t.levels_db[i]);
    }
    let ev = analyze(&t, &AnalysisConfig::default()).unwrap();
    for e in &ev {
        eprintln!("{e:?}");
    }
    let tapped = r
        .with_event(Event::new(17.3217, EventKind::Tap, 0.1))
        .unwrap();
    let t2 = synthesize(&tapped, &cfg, &mut sim_rng(2)).unwrap();
    let c = compare(&t, &t2, &CompareConfig::default()).unwrap();
    for ch in &c.changes {
        eprintln!("{ch:?}");
    }
    eprintln!(
        "until {} frac {}",
        c.compared_until_m, c.undetectable_tap_fraction
    );
    let _ = (
        ChangeKind::NewLoss,
        DetectedKind::End,
        derive_seed(1, "x", 0),
    );
}
