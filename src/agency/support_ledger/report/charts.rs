//! The report's charts, drawn with plotters: the trend (consultations per
//! month, one line per contact kind) and the breakdown (consultations by
//! kind), each as SVG and PNG.
//!
//! plotters measures text with a font it is given (its `ab_glyph`
//! feature), so a chart needs a font installed: a CJK font
//! (fonts-noto-cjk) if there is one, else a Latin one (DejaVu,
//! Liberation). An SVG's text is drawn by the browser, so its labels are
//! Japanese whenever the report is; a PNG's text is drawn here, so its
//! labels are Japanese only with a CJK font and English otherwise — never
//! boxes for glyphs the font lacks.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Month, Report};
use crate::agency::support_ledger::ContactKind;
use crate::i18n::Lang;

/// CJK fonts looked for, in order (Debian's fonts-noto-cjk and others).
const CJK_FONTS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
];

/// Latin fonts, when no CJK font is installed.
const LATIN_FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

/// The font family name the charts ask plotters for.
const FAMILY: &str = "sans-serif";

/// Which font the charts were given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fonts {
    /// A CJK font: PNG labels may be Japanese.
    Cjk,
    /// A Latin font only: PNG labels are English.
    Latin,
}

/// Why no chart could be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("no font is installed for the charts (install fonts-noto-cjk or fonts-dejavu-core)")]
    NoFont,
    #[error("drawing the chart failed: {0}")]
    Draw(String),
}

fn drawn<E: std::fmt::Debug>(e: E) -> ChartError {
    ChartError::Draw(format!("{e:?}"))
}

/// Register a font with plotters once per process (the first installed of
/// the lists above); which kind it was.
pub fn fonts() -> Result<Fonts, ChartError> {
    static LOADED: OnceLock<Option<Fonts>> = OnceLock::new();
    let loaded = LOADED.get_or_init(|| {
        let try_list = |paths: &[&str]| {
            paths.iter().any(|p| {
                let Ok(bytes) = std::fs::read(p) else {
                    return false;
                };
                // plotters keeps fonts for the life of the process.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                plotters::style::register_font(FAMILY, FontStyle::Normal, bytes).is_ok()
            })
        };
        if try_list(CJK_FONTS) {
            Some(Fonts::Cjk)
        } else if try_list(LATIN_FONTS) {
            Some(Fonts::Latin)
        } else {
            None
        }
    });
    loaded.ok_or(ChartError::NoFont)
}

/// The language a PNG can be labelled in: Japanese needs a CJK font.
pub fn png_lang(lang: Lang, fonts: Fonts) -> Lang {
    match fonts {
        Fonts::Cjk => lang,
        Fonts::Latin => Lang::En,
    }
}

/// Which chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chart {
    /// Consultations per month, by kind.
    Trend,
    /// Consultations in the period, by kind.
    Breakdown,
}

impl Chart {
    /// The file name stem (`trend.svg`, `breakdown.png`).
    pub fn name(self) -> &'static str {
        match self {
            Chart::Trend => "trend",
            Chart::Breakdown => "breakdown",
        }
    }

    /// The chart with this name.
    pub fn parse(name: &str) -> Option<Self> {
        [Chart::Trend, Chart::Breakdown]
            .into_iter()
            .find(|c| c.name() == name)
    }

    /// What the chart shows, for its title and the page's alt text.
    pub fn title(self, lang: Lang) -> &'static str {
        match self {
            Chart::Trend => lang.pick(
                "月別の相談・接触件数（種別ごと）",
                "Consultations per month, by kind",
            ),
            Chart::Breakdown => lang.pick(
                "期間内の相談・接触件数の内訳",
                "Consultations in the period, by kind",
            ),
        }
    }
}

const SIZE: (u32, u32) = (880, 420);

/// Colours from the デジタル庁 palette (blue, green, orange, purple, grey).
const COLOURS: [RGBColor; 5] = [
    RGBColor(0x00, 0x41, 0x8f),
    RGBColor(0x19, 0x7a, 0x4b),
    RGBColor(0xc2, 0x4b, 0x00),
    RGBColor(0x6d, 0x3b, 0xb0),
    RGBColor(0x4d, 0x4d, 0x4d),
];

/// The chart as SVG text.
pub fn svg(report: &Report, chart: Chart, lang: Lang) -> Result<String, ChartError> {
    fonts()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw(&root, report, chart, lang)?;
        root.present().map_err(drawn)?;
    }
    Ok(out)
}

/// The chart as PNG bytes, labelled in `lang` if the font allows (see
/// [`png_lang`]).
pub fn png(report: &Report, chart: Chart, lang: Lang) -> Result<Vec<u8>, ChartError> {
    let lang = png_lang(lang, fonts()?);
    let (w, h) = SIZE;
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        draw(&root, report, chart, lang)?;
        root.present().map_err(drawn)?;
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(drawn)?;
    writer.write_image_data(&pixels).map_err(drawn)?;
    writer.finish().map_err(drawn)?;
    Ok(bytes)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    report: &Report,
    chart: Chart,
    lang: Lang,
) -> Result<(), ChartError> {
    root.fill(&WHITE).map_err(drawn)?;
    match chart {
        Chart::Trend => trend(root, &report.months, chart.title(lang), lang),
        Chart::Breakdown => breakdown(root, &report.months, chart.title(lang), lang),
    }
}

fn trend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    months: &[Month],
    title: &str,
    lang: Lang,
) -> Result<(), ChartError> {
    let top = months
        .iter()
        .flat_map(|m| m.by_kind.iter().copied())
        .max()
        .unwrap_or(0);
    let last = months.len().saturating_sub(1).max(1) as i32;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FAMILY, 20))
        .margin(16)
        // Room for the last month's label, centred on the right edge.
        .margin_right(40)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0..last, 0u64..top + 1)
        .map_err(drawn)?;
    let label = |x: &i32| {
        months
            .get(*x as usize)
            .map(|m| m.month.clone())
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .x_labels(months.len().clamp(1, 12))
        .x_label_formatter(&label)
        .y_desc(lang.pick("件数", "count"))
        .label_style((FAMILY, 14))
        .draw()
        .map_err(drawn)?;
    for (k, kind) in ContactKind::ALL.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let points = months
            .iter()
            .enumerate()
            .map(|(i, m)| (i as i32, m.by_kind.get(k).copied().unwrap_or(0)));
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)).point_size(3))
            .map_err(drawn)?
            .label(kind.label(lang))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FAMILY, 14))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(drawn)
}

fn breakdown<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    months: &[Month],
    title: &str,
    lang: Lang,
) -> Result<(), ChartError> {
    let totals: Vec<u64> = (0..ContactKind::ALL.len())
        .map(|k| {
            months
                .iter()
                .map(|m| m.by_kind.get(k).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let top = totals.iter().copied().max().unwrap_or(0);
    let kinds = ContactKind::ALL.len() as i32;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FAMILY, 20))
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d((0..kinds - 1).into_segmented(), 0u64..top + 1)
        .map_err(drawn)?;
    let label = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => ContactKind::ALL
            .get(*i as usize)
            .map(|k| k.label(lang).to_owned())
            .unwrap_or_default(),
        SegmentValue::Last => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(ContactKind::ALL.len())
        .x_label_formatter(&label)
        .y_desc(lang.pick("件数", "count"))
        .label_style((FAMILY, 14))
        .draw()
        .map_err(drawn)?;
    chart
        .draw_series(
            Histogram::vertical(&chart)
                .style(COLOURS[0].filled())
                .margin(24)
                .data(totals.iter().enumerate().map(|(i, n)| (i as i32, *n))),
        )
        .map_err(drawn)?;
    Ok(())
}
