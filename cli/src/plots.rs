//! SVG figures of a training run, drawn with plotters: one colour per series from a
//! colour-blind-safe palette, legends inside their panels (beside the data, never over
//! it), and tick labels without needless decimals.

use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

type Result<T> = std::result::Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The Okabe-Ito palette, told apart with every common colour-vision deficiency (its
/// yellow left out: too pale on white).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
];

/// The colour of series `k`.
fn color(k: usize) -> RGBColor {
    PALETTE[k % PALETTE.len()]
}

/// A tick label: the value to six significant digits in its shortest form ("60", not
/// "60.0"; "0.8", not "0.800"), in exponent form beyond 1e5 or below 1e-3.
fn tick(value: &f64) -> String {
    if *value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let decimals = 5 - value.abs().log10().floor() as i32;
    let scale = 10f64.powi(decimals);
    let rounded = if decimals >= 0 { (value * scale).round() / scale } else { *value };
    if rounded.abs() >= 1e5 || rounded.abs() < 1e-3 {
        format!("{rounded:e}")
    } else {
        format!("{rounded}")
    }
}

/// The range of the finite points, widened to a unit when empty or flat.
fn extent(
    points: impl Iterator<Item = (f64, f64)>,
) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
    let (mut x0, mut x1, mut y0, mut y1) =
        (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for (x, y) in points.filter(|(_, y)| y.is_finite()) {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    let widen = |lo: f64, hi: f64| match lo.partial_cmp(&hi) {
        Some(std::cmp::Ordering::Less) => lo..hi,
        _ if lo.is_finite() => lo..lo + 1.0,
        _ => 0.0..1.0,
    };
    (widen(x0, x1), widen(y0, y1))
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
    let (xs, mut ys) = extent(series.iter().flat_map(|(_, s)| s.iter().copied()));
    // A curve's first few points (an untrained model's loss) can be a hundred times the
    // rest: the axis stops at 1.5 times the 99th percentile, so the rest stays readable.
    let mut values: Vec<f64> =
        series.iter().flat_map(|(_, s)| s.iter().map(|p| p.1)).filter(|y| y.is_finite()).collect();
    if !markers && values.len() >= 100 {
        values.sort_by(f64::total_cmp);
        let p99 = values[values.len() * 99 / 100];
        let cap = ys.start + 1.5 * (p99 - ys.start);
        if cap < ys.end && cap > ys.start {
            ys.end = cap;
        }
    }
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(xs, ys)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    for (k, (name, s)) in series.iter().enumerate() {
        let color = color(k);
        let s = s.iter().copied().filter(|(_, y)| y.is_finite());
        if markers {
            let dots = s.clone().map(|p| Circle::new(p, 4, color.filled()));
            chart.draw_series(dots).map_err(err)?;
        }
        chart
            .draw_series(LineSeries::new(s, color.stroke_width(2)))
            .map_err(err)?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.9))
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
    /// Readout channels, each a series of (time, value).
    pub readouts: Vec<Vec<(f64, f64)>>,
    /// The target of each readout channel where it is scored (empty for none).
    pub targets: Vec<Vec<(f64, f64)>>,
    /// For a classifier: the window (ms) its readout is scored over, and the class it
    /// reads out there (the largest mean readout).
    pub classified: Option<((f64, f64), usize)>,
}

/// How a legend entry's sample is drawn.
#[derive(Clone, Copy, PartialEq)]
enum Swatch {
    Line,
    Dashed,
    Area,
}

/// An entry of a legend: its text, colour and sample.
struct Entry {
    label: String,
    color: RGBColor,
    swatch: Swatch,
}

/// A legend in the column beside a panel's chart, its first entry at pixel row `top`.
fn legend(area: &DrawingArea<SVGBackend, Shift>, top: i32, entries: &[Entry]) -> Result<()> {
    for (i, entry) in entries.iter().enumerate() {
        let y = top + 17 * i as i32;
        let style = entry.color.stroke_width(2);
        match entry.swatch {
            Swatch::Line => area.draw(&PathElement::new(vec![(8, y), (28, y)], style)),
            Swatch::Dashed => area
                .draw(&PathElement::new(vec![(8, y), (14, y)], style))
                .and_then(|_| area.draw(&PathElement::new(vec![(20, y), (28, y)], style))),
            Swatch::Area => {
                area.draw(&Rectangle::new([(8, y - 6), (28, y + 6)], entry.color.filled()))
            }
        }
        .map_err(err)?;
        let text = Text::new(entry.label.clone(), (34, y - 7), ("sans-serif", 13));
        area.draw(&text).map_err(err)?;
    }
    Ok(())
}

/// The shade of a classifier's scored window.
const WINDOW: RGBColor = RGBColor(225, 225, 225);

/// The legend column's width (px).
const LEGEND_WIDTH: u32 = 170;

/// Panels stacked vertically: for each trial, inputs on top, the spike raster below,
/// the readout against its target at the bottom (for a classifier, its scored window
/// shaded and the class it reads out drawn bold); each part's legend beside it.
pub fn rasters(
    path: &Path,
    panels: &[RasterPanel],
    neurons: usize,
    duration_ms: f64,
) -> Result<()> {
    let (width, height) = (1000, 360 * panels.len().max(1) as u32);
    let root = SVGBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    for (area, panel) in root.split_evenly((panels.len(), 1)).iter().zip(panels) {
        let (charts, column) = area.split_horizontally(width - LEGEND_WIDTH);
        let rows = charts.split_by_breakpoints([] as [i32; 0], [80, 250]);
        inputs_chart(&rows[0], panel, duration_ms)?;
        spikes_chart(&rows[1], panel, neurons, duration_ms)?;
        readout_chart(&rows[2], panel, duration_ms)?;
        let inputs: Vec<Entry> = (0..panel.inputs.len())
            .map(|c| Entry { label: format!("input {c}"), color: color(c), swatch: Swatch::Line })
            .collect();
        legend(&column, 34, &inputs)?;
        let mut readouts = Vec::new();
        for (c, target) in panel.targets.iter().enumerate().take(panel.readouts.len()) {
            let mark = match panel.classified {
                Some((_, class)) if class == c => " (read out)",
                _ => "",
            };
            let label = format!("readout {c}{mark}");
            readouts.push(Entry { label, color: color(c), swatch: Swatch::Line });
            if !target.is_empty() {
                let label = format!("target {c}");
                readouts.push(Entry { label, color: color(c), swatch: Swatch::Dashed });
            }
        }
        if panel.classified.is_some() {
            let label = "scored window".into();
            readouts.push(Entry { label, color: WINDOW, swatch: Swatch::Area });
        }
        legend(&column, 262, &readouts)?;
    }
    root.present().map_err(err)
}

fn inputs_chart(
    area: &DrawingArea<SVGBackend, Shift>,
    panel: &RasterPanel,
    duration_ms: f64,
) -> Result<()> {
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 16))
        .margin(5)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..duration_ms, span(panel.inputs.iter().map(|s| &s[..])))
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .y_desc("input")
        .y_labels(3)
        .y_label_formatter(&tick)
        .label_style(("sans-serif", 12))
        .x_labels(0)
        .draw()
        .map_err(err)?;
    for (c, input) in panel.inputs.iter().enumerate() {
        chart
            .draw_series(LineSeries::new(input.iter().copied(), color(c).stroke_width(2)))
            .map_err(err)?;
    }
    Ok(())
}

fn spikes_chart(
    area: &DrawingArea<SVGBackend, Shift>,
    panel: &RasterPanel,
    neurons: usize,
    duration_ms: f64,
) -> Result<()> {
    let mut chart = ChartBuilder::on(area)
        .margin(5)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..duration_ms, 0.0..neurons.max(1) as f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .y_desc("neuron")
        .y_labels(5)
        .y_label_formatter(&|y| format!("{:.0}", y.round()))
        .label_style(("sans-serif", 12))
        .x_labels(0)
        .draw()
        .map_err(err)?;
    let tick_width = duration_ms / 400.0;
    chart
        .draw_series(panel.spikes.iter().map(|&(t, i)| {
            Rectangle::new([(t, i as f64 + 0.1), (t + tick_width, i as f64 + 0.9)], BLACK.filled())
        }))
        .map_err(err)?;
    Ok(())
}

fn readout_chart(
    area: &DrawingArea<SVGBackend, Shift>,
    panel: &RasterPanel,
    duration_ms: f64,
) -> Result<()> {
    let all = panel.readouts.iter().chain(&panel.targets);
    let ys = span(all.map(|s| &s[..]));
    let mut chart = ChartBuilder::on(area)
        .margin(5)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..duration_ms, ys.clone())
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .y_desc("readout")
        .x_desc("time (ms)")
        .y_labels(4)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(err)?;
    if let Some(((from, to), _)) = panel.classified {
        let shade = WINDOW.filled();
        chart
            .draw_series([Rectangle::new([(from, ys.start), (to, ys.end)], shade)])
            .map_err(err)?;
    }
    for (c, readout) in panel.readouts.iter().enumerate() {
        // A classifier's read-out class bold, the others thin; a regression's readouts
        // all of one width.
        let width = match panel.classified {
            Some((_, class)) if class == c => 3,
            Some(_) => 1,
            None => 2,
        };
        let style = color(c).stroke_width(width);
        chart.draw_series(LineSeries::new(readout.iter().copied(), style)).map_err(err)?;
    }
    for (c, target) in panel.targets.iter().enumerate() {
        let style = color(c).stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new(target.iter().copied(), 6, 4, style))
            .map_err(err)?;
    }
    Ok(())
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
