//! `qkd otdr`: synthesize an OTDR trace from a route TOML, find its events, optionally compare it
//! with a baseline (a SOR file, another route, or the same route before a simulated tap), and
//! write SOR / SVG.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use qkd_core::{derive_seed, sim_rng};
use qkd_fiber::otdr::{
    AnalysisConfig, CompareConfig, Comparison, DetectedEvent, OtdrConfig, Trace, analyze, compare,
    synthesize,
};
use qkd_fiber::sor::{SorMeta, read_sor, write_sor};
use qkd_fiber::svg::render_svg;
use qkd_fiber::{Event, EventKind, LossBudget, Route};
use serde::Serialize;

use super::{GlobalArgs, print_json};

#[derive(Debug, Args)]
pub(crate) struct OtdrArgs {
    /// Route TOML file (spans and events), e.g. crates/qkd-fiber/examples/metro_25km.toml.
    #[arg(long)]
    route: PathBuf,
    /// Baseline to compare with: a .sor file, or a route TOML (synthesized with its own seed).
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Add a non-reflective tap at this position [km]; the untapped route becomes the baseline
    /// unless --baseline is given.
    #[arg(long)]
    tap_km: Option<f64>,
    /// Loss of the simulated tap [dB].
    #[arg(long, default_value_t = 0.5)]
    tap_db: f64,
    /// Wavelength [nm].
    #[arg(long, default_value_t = 1550.0)]
    wavelength_nm: f64,
    /// Pulse width [ns].
    #[arg(long, default_value_t = 50.0)]
    pulse_ns: f64,
    /// Sample spacing [m].
    #[arg(long, default_value_t = 0.5)]
    spacing_m: f64,
    /// Number of averaged acquisitions.
    #[arg(long, default_value_t = 4096)]
    averages: u32,
    /// Write the trace and its events as a Telcordia SR-4731 v2 (.sor) file.
    #[arg(long)]
    sor: Option<PathBuf>,
    /// Write the trace and its events as an SVG plot.
    #[arg(long)]
    svg: Option<PathBuf>,
}

#[derive(Serialize)]
struct Report {
    route: String,
    length_km: f64,
    loss_budget: LossBudget,
    samples: usize,
    sample_spacing_m: f64,
    resolution_m: f64,
    pulse_width_ns: f64,
    averages: u32,
    noise_floor_db: f64,
    events: Vec<DetectedEvent>,
    comparison: Option<Comparison>,
}

pub(crate) fn run(global: &GlobalArgs, args: &OtdrArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.route)
        .with_context(|| format!("reading {}", args.route.display()))?;
    let route = Route::from_toml_str(&text)?;
    let cfg = OtdrConfig::builder()
        .wavelength_nm(args.wavelength_nm)
        .pulse_width_ns(args.pulse_ns)
        .sample_spacing_m(args.spacing_m)
        .averages(args.averages)
        .build()?;
    let measured = match args.tap_km {
        Some(p) => route.with_event(Event::new(p, EventKind::Tap, args.tap_db))?,
        None => route.clone(),
    };
    let trace = synthesize(
        &measured,
        &cfg,
        &mut sim_rng(derive_seed(global.seed, "otdr", 0)),
    )?;
    let acfg = AnalysisConfig::default();
    let events = analyze(&trace, &acfg)?;

    let baseline: Option<Trace> = match (&args.baseline, args.tap_km) {
        (Some(path), _)
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("sor")) =>
        {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let mut t = read_sor(&bytes)?.trace;
            // SOR files carry no saturation level; ours are never clipped above the launch.
            t.saturation_db = cfg.saturation_db;
            Some(t)
        }
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let r = Route::from_toml_str(&text)?;
            Some(synthesize(
                &r,
                &cfg,
                &mut sim_rng(derive_seed(global.seed, "baseline", 0)),
            )?)
        }
        (None, Some(_)) => Some(synthesize(
            &route,
            &cfg,
            &mut sim_rng(derive_seed(global.seed, "baseline", 0)),
        )?),
        (None, None) => None,
    };
    let comparison = match &baseline {
        Some(b) => Some(compare(b, &trace, &CompareConfig::default())?),
        None => None,
    };

    if let Some(path) = &args.sor {
        let meta = SorMeta {
            cable_id: route.name().to_owned(),
            comment: format!("qkd otdr --seed {}", global.seed),
            ..SorMeta::default()
        };
        std::fs::write(path, write_sor(&trace, &events, &meta)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.svg {
        let svg = render_svg(&trace, &events, route.name(), 1000, 500)?;
        std::fs::write(path, svg).with_context(|| format!("writing {}", path.display()))?;
    }

    let report = Report {
        route: route.name().to_owned(),
        length_km: route.length_km(),
        loss_budget: measured.loss_budget(args.wavelength_nm),
        samples: trace.len(),
        sample_spacing_m: trace.sample_spacing_m,
        resolution_m: trace.resolution_m(),
        pulse_width_ns: trace.pulse_width_ns,
        averages: trace.averages,
        noise_floor_db: cfg.averaged_noise_floor_db(),
        events,
        comparison,
    };
    if global.json {
        return print_json(&report);
    }
    println!(
        "route {}: {:.3} km, loss budget {:.2} dB at {} nm",
        report.route, report.length_km, report.loss_budget.total_db, args.wavelength_nm
    );
    println!(
        "trace: {} samples every {} m, pulse {} ns (resolution {:.2} m), {} averages",
        report.samples,
        report.sample_spacing_m,
        report.pulse_width_ns,
        report.resolution_m,
        report.averages
    );
    println!(
        "{:>4} {:>11} {:>15} {:>9} {:>14} {:>11}",
        "#", "position_m", "kind", "loss_db", "reflectance_db", "slope_dB/km"
    );
    let opt = |v: Option<f64>, p: usize| v.map_or("-".to_owned(), |x| format!("{x:.p$}"));
    for (i, e) in report.events.iter().enumerate() {
        println!(
            "{:>4} {:>11.2} {:>15} {:>9} {:>14} {:>11}",
            i + 1,
            e.position_m,
            e.kind.name(),
            opt(e.loss_db, 3),
            opt(e.reflectance_db, 1),
            opt(e.attenuation_before_db_per_km, 3)
        );
    }
    if let Some(c) = &report.comparison {
        println!(
            "against baseline (compared to {:.0} m): {} change(s)",
            c.compared_until_m,
            c.changes.len()
        );
        for ch in &c.changes {
            println!(
                "  {:>11.2} m  {:<15} {:+.3} dB  ({:.0} sigma){}",
                ch.position_m,
                ch.kind.name(),
                ch.delta_db,
                ch.significance_sigma,
                ch.baseline_event_m
                    .map_or(String::new(), |b| format!("  at baseline event {b:.1} m"))
            );
        }
        println!(
            "undetectable tap fraction here: {:.2} %",
            100.0 * c.undetectable_tap_fraction
        );
    }
    Ok(())
}
