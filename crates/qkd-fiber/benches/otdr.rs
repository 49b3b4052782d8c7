//! Speed figure of issue 4: synthesize and analyse a 100 km trace of 1e6 points.
//!
//! `cargo bench -p qkd-fiber --bench otdr -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qkd_core::sim_rng;
use qkd_fiber::otdr::{AnalysisConfig, CompareConfig, OtdrConfig, analyze, compare, synthesize};
use qkd_fiber::{Event, EventKind, Route, Span};

fn route_100km() -> Route {
    let spans = (0..4).map(|_| Span::standard(25.0)).collect();
    let mut events = vec![Event::new(0.05, EventKind::Connector, 0.3).with_reflectance(-50.0)];
    for k in 1..4 {
        events.push(Event::new(25.0 * f64::from(k), EventKind::Splice, 0.05));
    }
    events.push(Event::new(48.0, EventKind::Connector, 0.4).with_reflectance(-45.0));
    events.push(Event::new(100.0, EventKind::End, 0.0).with_reflectance(-14.7));
    Route::new("bench-100km", spans, events).expect("valid route")
}

fn bench(c: &mut Criterion) {
    let route = route_100km();
    // 110 km range at 0.11 m spacing: 1.0e6 points; 1 us pulse, as used for 100 km.
    let cfg = OtdrConfig::builder()
        .pulse_width_ns(1000.0)
        .sample_spacing_m(0.11)
        .range_km(110.0)
        .averages(65_536)
        .build()
        .expect("valid config");
    let acfg = AnalysisConfig {
        fit_window_m: 1000.0,
        dead_zone_m: 300.0,
        ..AnalysisConfig::default()
    };
    let trace = synthesize(&route, &cfg, &mut sim_rng(1)).expect("trace");
    let mut g = c.benchmark_group("otdr_100km_1e6_points");
    g.throughput(Throughput::Elements(trace.len() as u64));
    g.sample_size(10);
    g.bench_function("synthesize", |b| {
        b.iter(|| synthesize(&route, &cfg, &mut sim_rng(2)).expect("trace"));
    });
    g.bench_function("analyze", |b| {
        b.iter(|| analyze(&trace, &acfg).expect("events"))
    });
    g.bench_function("synthesize_and_analyze", |b| {
        b.iter(|| {
            let t = synthesize(&route, &cfg, &mut sim_rng(3)).expect("trace");
            analyze(&t, &acfg).expect("events")
        });
    });
    let other = synthesize(&route, &cfg, &mut sim_rng(4)).expect("trace");
    let ccfg = CompareConfig {
        window_m: 1000.0,
        dead_zone_m: 300.0,
        analysis: acfg.clone(),
        ..CompareConfig::default()
    };
    g.bench_function("compare_with_baseline", |b| {
        b.iter(|| compare(&trace, &other, &ccfg).expect("comparison"));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
