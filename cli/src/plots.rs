//! SVG figures of a training run, drawn with plotters.

use plotters::prelude::*;
use std::path::Path;

type Result<T> = std::result::Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A line plot of one or more series against x (linear axes: plotters labels a log axis
/// only at whole decades, and a loss curve often spans less than one); with `markers`, a
/// dot on every point (for a few measured points, each a run).
pub fn lines(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(&str, Vec<(f64, f64)>)],
    markers: bool,
) -> Result<()> {
    let root = SVGBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let points = series.iter().flat_map(|(_, s)| s.iter()).filter(|(_, y)| y.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) =
        (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    // Also true when no finite point was found (both infinite).
    if x0.partial_cmp(&x1) != Some(std::cmp::Ordering::Less) {
        (x0, x1) = if x0.is_finite() { (x0, x0 + 1.0) } else { (0.0, 1.0) };
    }
    if y0.partial_cmp(&y1) != Some(std::cmp::Ordering::Less) {
        (y0, y1) = if y0.is_finite() { (y0, y0 + 1.0) } else { (0.0, 1.0) };
    }
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    let colors = [BLUE, RED, GREEN, BLACK, MAGENTA, CYAN];
    chart.configure_mesh().x_desc(x_label).y_desc(y_label).draw().map_err(err)?;
    for (k, (name, s)) in series.iter().enumerate() {
        let color = colors[k % colors.len()];
        let s = s.iter().copied().filter(|(_, y)| y.is_finite());
        if markers {
            let dots = s.clone().map(|p| Circle::new(p, 4, color.filled()));
            chart.draw_series(dots).map_err(err)?;
        }
        chart
            .draw_series(LineSeries::new(s, color))
            .map_err(err)?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// One panel of a raster figure: a trial's inputs, spikes and readout against time (ms).
pub struct RasterPanel {
    /// Panel title.
    pub title: String,
    /// Input channels, each a series of (time, value).
    pub inputs: Vec<Vec<(f64, f64)>>,
    /// (time, neuron) of every spike.
    pub spikes: Vec<(f64, usize)>,
    /// Readout and target series.
    pub readout: Vec<(String, Vec<(f64, f64)>)>,
}

/// Panels stacked vertically: for each trial, inputs on top, the spike raster below,
/// the readout against its target at the bottom.
pub fn rasters(
    path: &Path,
    panels: &[RasterPanel],
    neurons: usize,
    duration_ms: f64,
) -> Result<()> {
    let height = 360 * panels.len() as u32;
    let root = SVGBackend::new(path, (1000, height.max(360))).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let colors = [BLUE, RED, GREEN, BLACK];
    for (area, panel) in root.split_evenly((panels.len(), 1)).iter().zip(panels) {
        let rows = area.split_by_breakpoints([] as [i32; 0], [80, 250]);
        let (top, middle, bottom) = (&rows[0], &rows[1], &rows[2]);
        let mut chart = ChartBuilder::on(top)
            .caption(&panel.title, ("sans-serif", 16))
            .margin(5)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..duration_ms, span(panel.inputs.iter().map(|s| &s[..])))
            .map_err(err)?;
        chart.configure_mesh().disable_mesh().y_desc("input").x_labels(0).draw().map_err(err)?;
        // Input c in the colour of target c below (readout c, target c take 2c+1, 2c+2).
        for (c, input) in panel.inputs.iter().enumerate() {
            chart
                .draw_series(LineSeries::new(input.iter().copied(), colors[(2 * c + 2) % 4]))
                .map_err(err)?;
        }
        let mut chart = ChartBuilder::on(middle)
            .margin(5)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..duration_ms, 0.0..neurons as f64)
            .map_err(err)?;
        chart.configure_mesh().disable_mesh().y_desc("neuron").x_labels(0).draw().map_err(err)?;
        chart
            .draw_series(panel.spikes.iter().map(|&(t, i)| {
                Rectangle::new(
                    [(t, i as f64 + 0.1), (t + duration_ms / 400.0, i as f64 + 0.9)],
                    BLACK.filled(),
                )
            }))
            .map_err(err)?;
        let mut chart = ChartBuilder::on(bottom)
            .margin(5)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..duration_ms, span(panel.readout.iter().map(|(_, s)| &s[..])))
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .y_desc("readout")
            .x_desc("time (ms)")
            .draw()
            .map_err(err)?;
        for (k, (name, s)) in panel.readout.iter().enumerate() {
            let color = colors[(k + 1) % colors.len()];
            chart
                .draw_series(LineSeries::new(s.iter().copied(), color))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)
}

/// A y range holding every point of `series` and at least [-1, 1], with a 5% margin.
fn span<'a>(series: impl Iterator<Item = &'a [(f64, f64)]>) -> std::ops::Range<f64> {
    let (mut lo, mut hi) = (-1.0f64, 1.0f64);
    for &(_, y) in series.flatten() {
        if y.is_finite() {
            lo = lo.min(y);
            hi = hi.max(y);
        }
    }
    lo * 1.05..hi * 1.05
}
