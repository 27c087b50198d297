//! Small charts drawn on the server as inline SVG: no script, no fonts to fetch, a few hundred bytes.
use std::fmt::Write;

/// The bottom of every chart's scale (50 %), and its top (100 %), unless a value lies outside.
const SCALE_LOW: f64 = 0.5;

/// A monthly line of percentages (0–100 %) with the target as a dashed line. Values are ratios.
pub fn line(points: &[(String, Option<f64>)], target: Option<f64>, title: &str) -> String {
    const W: f64 = 600.0;
    const H: f64 = 180.0;
    const PAD: f64 = 28.0;
    // room for the scale's labels: 20 units, drawn at 12 px or more on a 390 px phone (0.6 of the view box)
    const LEFT: f64 = 56.0;
    let y_min = SCALE_LOW;
    let y = |v: f64| PAD + (1.0 - ((v - y_min) / (1.0 - y_min)).clamp(0.0, 1.0)) * (H - 2.0 * PAD);
    let n = points.len().max(2) as f64 - 1.0;
    let x = |i: usize| LEFT + i as f64 * (W - LEFT - PAD) / n;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(title)
    );
    for v in [0.5, 0.75, 1.0] {
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"grid\"/><text x=\"2\" y=\"{:.1}\" class=\"axis\">{}%</text>",
            W - PAD,
            y(v) + 7.0,
            (v * 100.0) as i64,
            y = y(v)
        );
    }
    if let Some(t) = target {
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"target\"/>",
            W - PAD,
            y = y(t)
        );
    }
    let mut path = String::new();
    for (i, (_, v)) in points.iter().enumerate() {
        if let Some(v) = v {
            let _ = write!(path, "{}{:.1},{:.1} ", if path.is_empty() { "M" } else { "L" }, x(i), y(*v));
        }
    }
    if !path.is_empty() {
        let _ = write!(svg, "<path d=\"{}\" class=\"series\"/>", path.trim_end());
    }
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let _ = write!(
            svg,
            "<text x=\"{LEFT}\" y=\"{}\" class=\"axis\">{}</text><text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"end\">{}</text>",
            H - 6.0,
            escape(&first.0),
            W - PAD,
            H - 6.0,
            escape(&last.0)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A small trend for a tile: the monthly values as a line, the target dashed, no axes. Values are ratios.
pub fn spark(values: &[Option<f64>], target: Option<f64>, title: &str) -> String {
    const W: f64 = 120.0;
    const H: f64 = 28.0;
    if values.iter().flatten().count() < 2 {
        return String::new();
    }
    // every tile on one scale, the target's and the big chart's (50–100 %), widened only to show what lies outside
    // it: a wobble of three points looks like three points, not like a fall
    let known: Vec<f64> = values.iter().flatten().copied().chain(target).collect();
    let lo = known.iter().copied().fold(SCALE_LOW, f64::min);
    let hi = known.iter().copied().fold(1.0, f64::max);
    let span = hi - lo;
    let y = |v: f64| 2.0 + (1.0 - (v - lo) / span) * (H - 4.0);
    let x = |i: usize| 2.0 + i as f64 * (W - 4.0) / (values.len() - 1) as f64;
    let mut svg = format!(
        "<svg class=\"spark\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"{}\" \
         xmlns=\"http://www.w3.org/2000/svg\">",
        escape(title)
    );
    if let Some(t) = target {
        let _ = write!(svg, "<line x1=\"0\" x2=\"{W}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"target\"/>", y = y(t));
    }
    let mut path = String::new();
    for (i, v) in values.iter().enumerate() {
        if let Some(v) = v {
            let _ = write!(path, "{}{:.1},{:.1} ", if path.is_empty() { "M" } else { "L" }, x(i), y(*v));
        }
    }
    let _ = write!(svg, "<path d=\"{}\" class=\"series\"/></svg>", path.trim_end());
    svg
}

/// One horizontal bar split into parts: (label, count, css class).
pub fn stacked_bar(parts: &[(&str, i64, &str)], title: &str) -> String {
    let total: i64 = parts.iter().map(|p| p.1).sum();
    let mut svg = format!(
        "<svg class=\"bar\" viewBox=\"0 0 600 28\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(title)
    );
    let mut x = 0.0;
    for (label, count, class) in parts {
        if total == 0 || *count == 0 {
            continue;
        }
        let w = 600.0 * *count as f64 / total as f64;
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"0\" width=\"{w:.1}\" height=\"28\" class=\"{class}\"><title>{}: {count}</title></rect>",
            escape(label)
        );
        x += w;
    }
    svg.push_str("</svg>");
    svg
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::spark;

    /// The (lowest, highest) y of a spark's line.
    fn extent(svg: &str) -> (f64, f64) {
        let path = svg.split("class=\"series\"").next().unwrap().rsplit("d=\"").next().unwrap();
        let ys: Vec<f64> = path
            .split(['M', 'L', ' ', '"'])
            .filter_map(|p| p.split_once(','))
            .map(|(_, y)| y.parse().unwrap())
            .collect();
        (ys.iter().copied().fold(f64::INFINITY, f64::min), ys.iter().copied().fold(f64::NEG_INFINITY, f64::max))
    }

    #[test]
    fn a_wobble_of_three_points_looks_like_three_points() {
        let svg = spark(&[Some(0.90), Some(0.93), Some(0.91)], Some(0.9), "t");
        let (top, bottom) = extent(&svg);
        // 3 points of a 50-point scale on a 24 px high drawing: under 2 px, not the whole height
        assert!(bottom - top < 2.0, "{svg}");
        // two tiles with different values share the scale: the same value is drawn at the same height
        let other = spark(&[Some(0.60), Some(0.90)], Some(0.8), "t");
        let (_, at_90) = extent(&spark(&[Some(0.90), Some(0.90)], None, "t"));
        assert!(other.contains(&format!(",{at_90:.1}")), "0.90 at y {at_90} in both: {other}");
    }
}
