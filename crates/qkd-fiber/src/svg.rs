//! SVG rendering of a trace with its events (plotters, SVG backend).

use plotters::prelude::*;

use crate::error::FiberError;
use crate::otdr::{DetectedEvent, DetectedKind, Trace};

/// Renders `trace` (distance in km against one-way dB) with a marker per event, as SVG text.
///
/// At most 4000 points are drawn: each drawn point is the maximum of its bucket of samples, so
/// reflective peaks survive the decimation.
///
/// # Errors
/// [`FiberError::Empty`] for an empty trace, [`FiberError::Plot`] if plotters fails.
pub fn render_svg(
    trace: &Trace,
    events: &[DetectedEvent],
    title: &str,
    width_px: u32,
    height_px: u32,
) -> Result<String, FiberError> {
    if trace.is_empty() {
        return Err(FiberError::Empty("no samples to plot"));
    }
    let bucket = trace.len().div_ceil(4000).max(1);
    let pts: Vec<(f64, f64)> = trace
        .levels_db
        .chunks(bucket)
        .enumerate()
        .map(|(i, c)| {
            let y = c.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (trace.distance_m(i * bucket) * 1e-3, y)
        })
        .collect();
    let ymin = pts
        .iter()
        .map(|p| p.1)
        .fold(f64::INFINITY, f64::min)
        .floor()
        - 1.0;
    let ymax = pts
        .iter()
        .map(|p| p.1)
        .fold(f64::NEG_INFINITY, f64::max)
        .ceil()
        + 1.0;
    let xmax = trace.range_m() * 1e-3;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width_px, height_px)).into_drawing_area();
        let e = |x: &dyn std::fmt::Display| FiberError::Plot(x.to_string());
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..xmax, ymin..ymax)
            .map_err(|x| e(&x))?;
        chart
            .configure_mesh()
            .x_desc("distance [km]")
            .y_desc("level [dB, one-way]")
            .draw()
            .map_err(|x| e(&x))?;
        chart
            .draw_series(LineSeries::new(pts, &BLUE))
            .map_err(|x| e(&x))?;
        chart
            .draw_series(events.iter().map(|ev| {
                let x = ev.position_m * 1e-3;
                let color = match ev.kind {
                    DetectedKind::Reflective => RED,
                    DetectedKind::End => BLACK,
                    _ => GREEN,
                };
                Cross::new((x, ymax - 0.5), 5, color.stroke_width(2))
            }))
            .map_err(|x| e(&x))?;
        root.present().map_err(|x| e(&x))?;
    }
    Ok(out)
}
