//! `qkd keyrate`: analytic key rate versus distance (asymptotic decoy BB84, finite-key, PLOB).

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use qkd_privacy::finite::{SecurityParams, optimal_finite_rate};
use qkd_privacy::{KeyRatePoint, LinkParams, key_rate_curve};
use serde::Serialize;

use super::{GlobalArgs, print_json};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Preset {
    /// Gobby-Yuan-Shields 2004 (Lo-Ma-Chen 2005): InGaAs APD, 0.21 dB/km.
    Gys,
    /// Modern SNSPD link: 60 % detection, 1 GHz, 0.2 dB/km.
    Snspd,
}

#[derive(Debug, Args)]
pub(crate) struct KeyrateArgs {
    /// Distance range in km, `START..END` (inclusive).
    #[arg(long, default_value = "0..300")]
    distance: String,
    /// Step in km.
    #[arg(long, default_value_t = 10.0)]
    step: f64,
    /// Also compute the finite-key rate (Lim et al. 2014) for blocks of N pulses.
    #[arg(long, value_name = "N")]
    finite: Option<f64>,
    /// Link parameter set.
    #[arg(long, value_enum, default_value_t = Preset::Snspd)]
    preset: Preset,
    /// Secrecy parameter of the finite-key bound.
    #[arg(long, default_value_t = 1e-10)]
    eps_sec: f64,
    /// Correctness parameter of the finite-key bound.
    #[arg(long, default_value_t = 1e-15)]
    eps_cor: f64,
    /// Write an SVG plot (log rate vs distance) to this file.
    #[arg(long, value_name = "FILE")]
    svg: Option<std::path::PathBuf>,
}

#[derive(Serialize)]
struct KeyrateReport {
    params: LinkParams,
    finite_pulses: Option<f64>,
    max_distance_km: f64,
    points: Vec<KeyRatePoint>,
}

fn parse_range(text: &str) -> anyhow::Result<(f64, f64)> {
    let Some((a, b)) = text.split_once("..") else {
        bail!("--distance must look like START..END, got {text:?}");
    };
    let a: f64 = a.trim().parse().context("distance start")?;
    let b: f64 = b.trim().parse().context("distance end")?;
    if !(a.is_finite() && b.is_finite() && a >= 0.0 && b >= a) {
        bail!("--distance needs 0 <= START <= END, got {text:?}");
    }
    Ok((a, b))
}

pub(crate) fn run(global: &GlobalArgs, args: &KeyrateArgs) -> anyhow::Result<()> {
    let (start, end) = parse_range(&args.distance)?;
    anyhow::ensure!(
        args.step.is_finite() && args.step > 0.0,
        "--step must be > 0"
    );
    let params = match args.preset {
        Preset::Gys => LinkParams::gys(),
        Preset::Snspd => LinkParams::snspd(),
    };
    let security = SecurityParams::new(args.eps_sec, args.eps_cor)?;
    let mut distances = Vec::new();
    let mut k = 0u32;
    loop {
        let d = start + f64::from(k) * args.step;
        if d > end + 1e-9 {
            break;
        }
        distances.push(d);
        k += 1;
        anyhow::ensure!(k < 100_000, "too many points; increase --step");
    }
    let mut points = key_rate_curve(&params, &distances)?;
    if let Some(pulses) = args.finite {
        for p in &mut points {
            let (r, _) = optimal_finite_rate(&params, security, p.length_km, pulses)?;
            p.finite_bits_per_pulse = Some(r);
            p.finite_bps = Some(r * params.rep_rate_hz);
        }
    }
    let report = KeyrateReport {
        max_distance_km: params.max_distance_km(),
        params,
        finite_pulses: args.finite,
        points,
    };
    if let Some(path) = &args.svg {
        plot(&report, path)?;
    }
    if global.json {
        return print_json(&report);
    }
    println!(
        "{:>8} {:>8} {:>14} {:>14} {:>14} {:>14}",
        "km", "mu_opt", "asympt b/s", "q->1 b/s", "finite b/s", "PLOB b/s"
    );
    for p in &report.points {
        let finite = p
            .finite_bps
            .map_or_else(|| "-".to_string(), |v| format!("{v:.4e}"));
        println!(
            "{:>8.1} {:>8.3} {:>14.4e} {:>14.4e} {:>14} {:>14.4e}",
            p.length_km,
            p.mu_opt,
            p.asymptotic_bps,
            p.efficient_bits_per_pulse * report.params.rep_rate_hz,
            finite,
            p.plob_bps
        );
    }
    println!(
        "asymptotic key vanishes at {:.2} km",
        report.max_distance_km
    );
    Ok(())
}

fn plot(report: &KeyrateReport, path: &std::path::Path) -> anyhow::Result<()> {
    use plotters::prelude::*;
    let positive = |v: f64| (v > 0.0 && v.is_finite()).then_some(v.log10());
    let mut ys: Vec<f64> = Vec::new();
    for p in &report.points {
        ys.extend(positive(p.asymptotic_bps));
        ys.extend(positive(p.plob_bps));
        ys.extend(p.finite_bps.and_then(positive));
    }
    let y_min = ys.iter().copied().fold(f64::INFINITY, f64::min).floor();
    let y_max = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max).ceil();
    anyhow::ensure!(y_min.is_finite() && y_max.is_finite(), "nothing to plot");
    let x_max = report.points.last().map_or(1.0, |p| p.length_km.max(1.0));
    let root = SVGBackend::new(path, (800, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Secret key rate vs distance", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, y_min..y_max)?;
    chart
        .configure_mesh()
        .x_desc("distance (km)")
        .y_desc("log10 rate (bit/s)")
        .draw()?;
    let series = |f: &dyn Fn(&KeyRatePoint) -> Option<f64>| -> Vec<(f64, f64)> {
        report
            .points
            .iter()
            .filter_map(|p| f(p).and_then(positive).map(|y| (p.length_km, y)))
            .collect()
    };
    chart
        .draw_series(LineSeries::new(series(&|p| Some(p.plob_bps)), &BLACK))?
        .label("PLOB bound")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    chart
        .draw_series(LineSeries::new(series(&|p| Some(p.asymptotic_bps)), &BLUE))?
        .label("asymptotic decoy BB84")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    let rate = report.params.rep_rate_hz;
    chart
        .draw_series(LineSeries::new(
            series(&|p| Some(p.efficient_bits_per_pulse * rate)),
            &GREEN,
        ))?
        .label("asymptotic, efficient BB84 (q -> 1)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREEN));
    if report.finite_pulses.is_some() {
        chart
            .draw_series(LineSeries::new(series(&|p| p.finite_bps), &RED))?
            .label("finite-key (Lim 2014)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
