//! The benches' charts as SVG, drawn with plotters: the batch-size sweep ([`draw`]:
//! throughput on the left, p99 latency on a log scale on the right, against `batch_size`, one
//! line per `linger_ms`), and the pieces `perf-chart`'s chart of the chain bench shares with it
//! ([`svg_root`], [`draw_line`], [`draw_legend`]).
//!
//! Text is written as SVG `<text>` in the viewer's sans-serif face and sized by plotters'
//! estimate, so drawing needs no font on the machine.

use std::ops::Range;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::sweep::{BATCH_SIZES, LINGERS_MS, Point};
use crate::{Error, Result};

/// The font family of every label.
pub const FONT: &str = "sans-serif";

/// The sweep chart's size in pixels: two panels side by side.
const SIZE: (u32, u32) = (1100, 460);

/// The color of each linger's line, in [`LINGERS_MS`] order.
const COLORS: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
];

/// Draws `points` to `path` as an SVG: the unthrottled throughput, and the p99 latency of the
/// run paced at `paced_rate`. Returns whether the chart has its labels, which SVG text always
/// has.
///
/// # Errors
/// When drawing or writing the file fails.
pub fn draw(points: &[Point], paced_rate: u64, path: &Path) -> Result<bool> {
    let root = svg_root(path, SIZE)?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    throughput_panel(&left, points)?;
    latency_panel(&right, points, paced_rate)?;
    root.present().map_err(chart_error)?;
    Ok(true)
}

/// A white drawing area of `size` pixels that writes itself to `path` as SVG when presented.
///
/// # Errors
/// When the background cannot be drawn.
pub fn svg_root(path: &Path, size: (u32, u32)) -> Result<DrawingArea<SVGBackend<'_>, Shift>> {
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    Ok(root)
}

/// `points` as a line of `color` with a dot at each point, named `label` in the legend.
///
/// # Errors
/// When drawing fails.
pub fn draw_line<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    label: &str,
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
        .map_err(chart_error)?
        .label(label)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    let dots = points
        .into_iter()
        .map(|point| Circle::new(point, 4, color.filled()));
    chart.draw_series(dots).map_err(chart_error)?;
    Ok(())
}

/// The legend of every labelled series, boxed, at `position`.
///
/// # Errors
/// When drawing fails.
pub fn draw_legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(chart_error)
}

/// A drawing error as the crate's [`Error::Chart`].
pub fn chart_error(error: impl std::fmt::Display) -> Error {
    Error::Chart(error.to_string())
}

fn throughput_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[Point],
) -> Result<()> {
    let thousands = |point: &Point| point.throughput.map(|rate| rate / 1000.0);
    let top = points.iter().filter_map(thousands).fold(1.0, f64::max) * 1.15;
    let mut chart = panel(area, "W1 throughput, unthrottled")
        .build_cartesian_2d(batch_axis(), 0.0..top)
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(BATCH_SIZES.len())
        .x_label_formatter(&batch_label)
        .x_desc("batch_size")
        .y_label_formatter(&|rate| format!("{}k", plain(*rate)))
        .y_desc("input msg/s carried")
        .draw()
        .map_err(chart_error)?;
    for (linger, color) in LINGERS_MS.iter().zip(COLORS) {
        let line = series(points, *linger, thousands);
        draw_line(&mut chart, line, color, &format!("linger_ms {linger}"))?;
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

fn latency_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[Point],
    paced_rate: u64,
) -> Result<()> {
    // A log scale has no zero: a p99 under 10 µs is drawn at 10 µs.
    let p99 = |point: &Point| Some((point.paced.latency?.p99.as_secs_f64() * 1e3).max(0.01));
    let (low, high) = points
        .iter()
        .filter_map(p99)
        .fold((1.0_f64, 10.0_f64), |(low, high), millis| {
            (low.min(millis), high.max(millis))
        });
    // Whole decades, so that the axis starts and ends on a label; widened by a hair, as plotters
    // labels only the decades that its rounded logarithms put inside the range.
    let decades =
        10_f64.powf(low.log10().floor()) * 0.999..10_f64.powf(high.log10().ceil()) * 1.001;
    let title = format!("W1 p99 latency at {paced_rate} msg/s");
    let mut chart = panel(area, &title)
        .build_cartesian_2d(batch_axis(), decades.log_scale())
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(BATCH_SIZES.len())
        .x_label_formatter(&batch_label)
        .x_desc("batch_size")
        .y_label_formatter(&|millis| plain(*millis))
        .y_desc("p99 latency (ms, log scale)")
        .draw()
        .map_err(chart_error)?;
    for (linger, color) in LINGERS_MS.iter().zip(COLORS) {
        let line = series(points, *linger, p99);
        draw_line(&mut chart, line, color, &format!("linger_ms {linger}"))?;
    }
    Ok(())
}

/// One panel of the sweep, titled `title`, before its axes are chosen.
fn panel<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(title, (FONT, 18))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64);
    builder
}

/// The x axis: the batch sizes evenly spaced at 0, 1, 2, …, with a little room either side.
fn batch_axis() -> Range<f64> {
    -0.3..(BATCH_SIZES.len() - 1) as f64 + 0.3
}

/// The label at `position` on [`batch_axis`]: its batch size, or nothing between two.
fn batch_label(position: &f64) -> String {
    let index = position.round();
    let size = (index >= 0.0 && (position - index).abs() < 1e-6)
        .then(|| BATCH_SIZES.get(index as usize))
        .flatten();
    size.map_or_else(String::new, ToString::to_string)
}

/// The points of one linger as (batch size index, value), in batch size order.
fn series(points: &[Point], linger: u64, value: impl Fn(&Point) -> Option<f64>) -> Vec<(f64, f64)> {
    BATCH_SIZES
        .iter()
        .enumerate()
        .filter_map(|(index, batch_size)| {
            let point = points.iter().find(|point| {
                point.batching.batch_size == *batch_size && point.batching.linger_ms == linger
            })?;
            Some((index as f64, value(point)?))
        })
        .collect()
}

/// `value` with at most three decimals and no trailing zeros: 0.1, 1, 2.5, 100.
fn plain(value: f64) -> String {
    let rounded = (value * 1000.0).round() / 1000.0;
    // -0.0 would print as "-0".
    format!("{}", rounded + 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::e2e::sweep::grid;
    use crate::e2e::table::Paced;
    use crate::load::latency::LatencySummary;

    /// The text of every `<text>` element of `svg`.
    fn texts(svg: &str) -> Vec<&str> {
        svg.split("<text")
            .skip(1)
            .filter_map(|element| {
                let (_, rest) = element.split_once('>')?;
                Some(rest.split_once("</text>")?.0.trim())
            })
            .collect()
    }

    #[test]
    fn the_sweep_is_drawn_as_an_svg_with_its_labels() {
        let points: Vec<Point> = grid()
            .into_iter()
            .enumerate()
            .map(|(index, batching)| Point {
                batching,
                throughput: Some(10_000.0 * (index + 1) as f64),
                loss: 0,
                paced: Paced {
                    rate: 20_000,
                    loss: 0,
                    latency: LatencySummary::of(vec![500, 800 * (index as u64 + 1)]),
                },
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sweep.svg");
        assert!(draw(&points, 20_000, &path).unwrap());
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        let texts = texts(&svg);
        for label in [
            "W1 throughput, unthrottled",
            "W1 p99 latency at 20000 msg/s",
            "batch_size",
            "input msg/s carried",
            "p99 latency (ms, log scale)",
            "linger_ms 0",
            "linger_ms 5",
            "linger_ms 20",
            "1",
            "16",
            "128",
            "1024",
            "8192",
            "0k",
            "100k",
            "0.1",
            "1",
            "10",
            "100",
        ] {
            assert!(texts.contains(&label), "no {label:?} in {texts:?}");
        }
    }

    #[test]
    fn batch_sizes_label_whole_positions_only() {
        assert_eq!(batch_label(&0.0), "1");
        assert_eq!(batch_label(&4.0), "8192");
        assert_eq!(batch_label(&0.5), "");
        assert_eq!(batch_label(&-1.0), "");
        assert_eq!(batch_label(&5.0), "");
    }

    #[test]
    fn numbers_are_labelled_plainly() {
        assert_eq!(plain(0.1), "0.1");
        assert_eq!(plain(0.30000000000000004), "0.3");
        assert_eq!(plain(1.0), "1");
        assert_eq!(plain(100.0), "100");
        assert_eq!(plain(-0.0), "0");
    }
}
