//! The batch-size sweep drawn as a PNG: throughput (left) and p99 latency (right, log scale)
//! against `batch_size`, one line per `linger_ms`.
//!
//! plotters' bitmap backend needs a font library to draw text, and pulling one in would also
//! change how criterion and `perf-chart` lay out their SVG text. So plotters draws only lines
//! and points, and the labels are rasterised afterwards with `ab_glyph` from a TrueType font
//! found on the machine (DejaVu Sans); without one, the chart has no text and says so.

use std::path::Path;

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use plotters::prelude::*;

use super::sweep::{BATCH_SIZES, LINGERS_MS, Point};
use crate::{Error, Result};

/// The image's size in pixels.
const SIZE: (u32, u32) = (1100, 460);

/// Where a TrueType font for the labels is looked for, in order.
const FONT_PATHS: [&str; 4] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
];

/// The color of each linger's line, in [`LINGERS_MS`] order.
const COLORS: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
];

/// A label to rasterise once plotters is done: text, pixel position, size, and alignment.
struct Label {
    text: String,
    at: (i32, i32),
    size: f32,
    align: Align,
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Center,
    Right,
}

/// Draws `points` to `path` as a PNG; returns whether the labels could be drawn (a font was
/// found).
///
/// # Errors
/// When drawing or writing the file fails.
pub fn draw(points: &[Point], paced_rate: u64, path: &Path) -> Result<bool> {
    let (width, height) = SIZE;
    let mut pixels = vec![255_u8; width as usize * height as usize * 3];
    let labels = plot(points, paced_rate, &mut pixels)?;
    let font = load_font();
    if let Some(font) = &font {
        for label in &labels {
            rasterise(&mut pixels, width, height, font, label);
        }
    }
    write_png(path, width, height, &pixels)?;
    Ok(font.is_some())
}

fn plot(points: &[Point], paced_rate: u64, pixels: &mut [u8]) -> Result<Vec<Label>> {
    let root = BitMapBackend::with_buffer(pixels, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    let (left, right) = root.split_horizontally(SIZE.0 / 2);
    let mut labels = Vec::new();
    let throughput = |point: &Point| point.throughput.map(|rate| rate / 1000.0);
    let max = points.iter().filter_map(throughput).fold(1.0, f64::max);
    let step = nice_step(max / 5.0);
    let top = (max / step).ceil() * step;
    let ticks: Vec<(f64, String)> = (0..=((top / step).round() as usize))
        .map(|index| (index as f64 * step, format!("{}k", index as f64 * step)))
        .collect();
    let title = "W1 throughput, unthrottled (input msg/s carried)".to_owned();
    panel(
        &left,
        points,
        throughput,
        (0.0, top),
        &ticks,
        title,
        &mut labels,
    )?;
    let p99 = |point: &Point| {
        let millis = point.paced.latency?.p99.as_secs_f64() * 1e3;
        Some(millis.max(0.01).log10())
    };
    let (low, high) = points
        .iter()
        .filter_map(p99)
        .fold((0.0_f64, 1.0_f64), |(low, high), value| {
            (low.min(value.floor()), high.max(value.ceil()))
        });
    let ticks: Vec<(f64, String)> = (low as i32..=high as i32)
        .map(|decade| (f64::from(decade), decade_label(decade)))
        .collect();
    let title = format!("W1 p99 latency at {paced_rate} msg/s (ms, log scale)");
    panel(&right, points, p99, (low, high), &ticks, title, &mut labels)?;
    root.present().map_err(chart_error)?;
    Ok(labels)
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    points: &[Point],
    value: impl Fn(&Point) -> Option<f64>,
    (low, high): (f64, f64),
    ticks: &[(f64, String)],
    title: String,
    labels: &mut Vec<Label>,
) -> Result<()> {
    let last = (BATCH_SIZES.len() - 1) as f64;
    let mut chart = ChartBuilder::on(area)
        .margin_top(64)
        .margin_bottom(56)
        .margin_left(70)
        .margin_right(24)
        .build_cartesian_2d(-0.3..last + 0.3, low..high)
        .map_err(chart_error)?;
    let grid = RGBColor(220, 220, 220);
    for (y, text) in ticks {
        let line = [(-0.3, *y), (last + 0.3, *y)];
        chart
            .draw_series(LineSeries::new(line, grid))
            .map_err(chart_error)?;
        let (x, y) = chart.backend_coord(&(-0.3, *y));
        labels.push(label(text.clone(), (x - 8, y + 5), 14.0, Align::Right));
    }
    for (index, batch_size) in BATCH_SIZES.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(index as f64, low));
        labels.push(label(
            batch_size.to_string(),
            (x, y + 22),
            14.0,
            Align::Center,
        ));
    }
    let (left, bottom) = chart.backend_coord(&(-0.3, low));
    let (right, top) = chart.backend_coord(&(last + 0.3, high));
    // `backend_coord` is in the image's pixels; an area draws relative to its own corner.
    let (origin_x, origin_y) = area.get_base_pixel();
    let corners = [
        (left - origin_x, top - origin_y),
        (right - origin_x, bottom - origin_y),
    ];
    let frame = Rectangle::new(corners, BLACK.stroke_width(1));
    area.draw(&frame).map_err(chart_error)?;
    labels.push(label(
        title,
        ((left + right) / 2, top - 40),
        16.0,
        Align::Center,
    ));
    labels.push(label(
        "batch_size".to_owned(),
        ((left + right) / 2, bottom + 46),
        14.0,
        Align::Center,
    ));
    for (linger, color) in LINGERS_MS.iter().zip(COLORS) {
        let series = series(points, *linger, &value);
        let style = color.stroke_width(2);
        chart
            .draw_series(LineSeries::new(series.clone(), style))
            .map_err(chart_error)?;
        let marks = series
            .into_iter()
            .map(|at| Circle::new(at, 4, color.filled()));
        chart.draw_series(marks).map_err(chart_error)?;
    }
    legend(area, labels, (left + 10, top - 14))
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

fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    labels: &mut Vec<Label>,
    (x, y): (i32, i32),
) -> Result<()> {
    for (column, (linger, color)) in LINGERS_MS.iter().zip(COLORS).enumerate() {
        let x = x + column as i32 * 140;
        let (origin_x, origin_y) = area.get_base_pixel();
        let (start, end) = (
            (x - origin_x, y - origin_y),
            (x + 24 - origin_x, y - origin_y),
        );
        let line = PathElement::new([start, end], color.stroke_width(3));
        area.draw(&line).map_err(chart_error)?;
        labels.push(label(
            format!("linger_ms {linger}"),
            (x + 30, y + 5),
            14.0,
            Align::Left,
        ));
    }
    Ok(())
}

fn label(text: String, at: (i32, i32), size: f32, align: Align) -> Label {
    Label {
        text,
        at,
        size,
        align,
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let power = 10_f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|factor| factor * power)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * power)
}

/// The label of a decade on the latency axis: 0.1, 1, 10, 100 (ms).
fn decade_label(decade: i32) -> String {
    let value = 10_f64.powi(decade);
    if decade < 0 {
        format!("{value:.*}", decade.unsigned_abs() as usize)
    } else {
        format!("{value:.0}")
    }
}

fn load_font() -> Option<FontVec> {
    let font = FONT_PATHS
        .iter()
        .find_map(|path| std::fs::read(path).ok())
        .and_then(|bytes| FontVec::try_from_vec(bytes).ok());
    if font.is_none() {
        eprintln!("chart: no DejaVu Sans font found; the chart is drawn without labels");
    }
    font
}

fn rasterise(pixels: &mut [u8], width: u32, height: u32, font: &FontVec, label: &Label) {
    let scaled = font.as_scaled(PxScale::from(label.size));
    let glyphs: Vec<_> = label.text.chars().map(|c| scaled.glyph_id(c)).collect();
    let advance: f32 = glyphs.iter().map(|id| scaled.h_advance(*id)).sum();
    let start = match label.align {
        Align::Left => label.at.0 as f32,
        Align::Center => label.at.0 as f32 - advance / 2.0,
        Align::Right => label.at.0 as f32 - advance,
    };
    let mut x = start;
    for id in glyphs {
        let glyph = id.with_scale_and_position(label.size, ab_glyph::point(x, label.at.1 as f32));
        x += scaled.h_advance(id);
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            let px = bounds.min.x as i64 + i64::from(gx);
            let py = bounds.min.y as i64 + i64::from(gy);
            if px < 0 || py < 0 || px >= i64::from(width) || py >= i64::from(height) {
                return;
            }
            let offset = (py as usize * width as usize + px as usize) * 3;
            for channel in &mut pixels[offset..offset + 3] {
                let ink = 30.0;
                *channel = (f32::from(*channel) * (1.0 - coverage) + ink * coverage) as u8;
            }
        });
    }
}

fn write_png(path: &Path, width: u32, height: u32, pixels: &[u8]) -> Result<()> {
    let file = std::fs::File::create(path)
        .map_err(|error| Error::Chart(format!("cannot create {}: {error}", path.display())))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(chart_error)?;
    writer.write_image_data(pixels).map_err(chart_error)?;
    writer.finish().map_err(chart_error)
}

fn chart_error(error: impl std::fmt::Display) -> Error {
    Error::Chart(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(nice_step(7.3), 10.0);
        assert_eq!(nice_step(1.2), 2.0);
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(0.0), 1.0);
    }

    #[test]
    fn the_sweep_is_drawn_as_a_png() {
        use crate::e2e::sweep::grid;
        use crate::e2e::table::Paced;
        use crate::load::latency::LatencySummary;
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
                    latency: LatencySummary::of(vec![500, 1000 * (index as u64 + 1)]),
                },
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sweep.png");
        draw(&points, 20_000, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    }

    #[test]
    fn decades_are_labelled_in_plain_numbers() {
        assert_eq!(decade_label(-1), "0.1");
        assert_eq!(decade_label(0), "1");
        assert_eq!(decade_label(2), "100");
    }
}
