//! Speed of the qkd-quantum engines (one chunk, so one core).
//!
//! - `fast/records`: detection records per second (throughput in elements = records) at 10 km with
//!   SNSPDs (no dead time: ~17 % clicks per pulse, the record-bound case).
//! - `fast/pulses_100km_snspd`: emitted pulses per second at 100 km with the SNSPD preset.
//! - `exact/pulses`: pulses per second of the exact engine at 50 km.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qkd::quantum::{ChannelConfig, DetectorConfig, Engine, LinkConfig, Simulator};

fn link(length_km: f64, detector: DetectorConfig, pulses: u64) -> Simulator {
    let config = LinkConfig::builder()
        .channel(ChannelConfig::fiber(length_km, 0.2).expect("valid length"))
        .detector(detector)
        .chunk_pulses(pulses)
        .build()
        .expect("valid config");
    Simulator::new(&config).expect("valid config")
}

fn engines(c: &mut Criterion) {
    let mut g = c.benchmark_group("fast");
    let pulses = 10_000_000;
    let sim = link(10.0, DetectorConfig::snspd().without_memory(), pulses);
    let records = sim
        .run(Engine::Fast, pulses, 1)
        .expect("runs")
        .records
        .len() as u64;
    g.throughput(Throughput::Elements(records));
    g.bench_function("records_10km_snspd", |b| {
        b.iter(|| {
            sim.run(Engine::Fast, pulses, 1)
                .expect("runs")
                .records
                .len()
        });
    });
    let pulses = 1_000_000_000;
    let sim = link(100.0, DetectorConfig::snspd(), pulses);
    g.throughput(Throughput::Elements(pulses));
    g.bench_function("pulses_100km_snspd", |b| {
        b.iter(|| {
            sim.run(Engine::Fast, pulses, 2)
                .expect("runs")
                .records
                .len()
        });
    });
    g.finish();

    let mut g = c.benchmark_group("exact");
    let pulses = 2_000_000;
    let sim = link(50.0, DetectorConfig::snspd(), pulses);
    g.throughput(Throughput::Elements(pulses));
    g.bench_function("pulses_50km_snspd", |b| {
        b.iter(|| {
            sim.run(Engine::Exact, pulses, 3)
                .expect("runs")
                .records
                .len()
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = engines
}
criterion_main!(benches);
