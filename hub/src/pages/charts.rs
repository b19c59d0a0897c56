//! Horizontal bar charts drawn in HTML (no script, no image): each bar a line with its label,
//! a bar proportional to its value and the value written out, so the chart stays readable at
//! 390 px (labels wrap above their bar) and prints as it is.
//!
//! The chart is one image for assistive technology (`role="img"`, its label lists every
//! value); the caller prints the table of the same figures right after it.

use maud::{Markup, html};

/// One bar: what it is, how long it is against the longest (any unit), and the value as
/// people read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Label, e.g. a region.
    pub label: String,
    /// Length in the chart's own unit (only ratios matter).
    pub length: f64,
    /// The value written next to the bar, e.g. `1 su 11 (9 %)`.
    pub shown: String,
}

impl Bar {
    /// A bar whose length is a count, shown in Italian notation.
    pub fn count(label: impl Into<String>, value: u64) -> Bar {
        Bar {
            label: label.into(),
            length: value as f64,
            shown: crate::format::count(value),
        }
    }
}

/// A bar chart with its title; `max` fixes the full length (a share's 100 %), or the longest
/// bar is full when `None`.
pub fn bar_chart(id: &str, title: &str, bars: &[Bar], max: Option<f64>) -> Markup {
    let max = max
        .unwrap_or_else(|| bars.iter().map(|b| b.length).fold(0.0, f64::max))
        .max(f64::MIN_POSITIVE);
    let summary = bars
        .iter()
        .map(|b| format!("{}: {}", b.label, b.shown))
        .collect::<Vec<_>>()
        .join("; ");
    html! {
        figure class="my-3" {
            div id=(id) class="pico-chart" role="img" aria-label=(format!("{title}. {summary}")) {
                @for bar in bars {
                    @let width = (bar.length / max * 100.0).clamp(0.0, 100.0);
                    div class="row g-1 align-items-center mb-1" {
                        div class="col-12 col-md-4 small" { (bar.label) }
                        div class="col-8 col-md-6" {
                            div class="bg-light w-100" style="height: 1rem" {
                                div class="bg-primary h-100" style=(format!("width: {width:.1}%")) {}
                            }
                        }
                        div class="col-4 col-md-2 small text-end text-md-start" { (bar.shown) }
                    }
                }
            }
            figcaption class="small mt-2" { (title) " (i valori sono nella tabella che segue)" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_proportional_and_the_label_lists_every_value() {
        let html = bar_chart(
            "grafico",
            "Province aderenti",
            &[
                Bar::count("Veneto", 3),
                Bar::count("Lombardia", 12),
                Bar::count("Molise", 0),
            ],
            None,
        )
        .into_string();
        assert!(html.contains("width: 25.0%"), "{html}");
        assert!(html.contains("width: 100.0%"));
        assert!(html.contains("width: 0.0%"));
        assert!(
            html.contains("aria-label=\"Province aderenti. Veneto: 3; Lombardia: 12; Molise: 0\"")
        );
        let shares = bar_chart(
            "quote",
            "Quota",
            &[Bar {
                label: "Lombardia".into(),
                length: 1.0 / 12.0,
                shown: "1 su 12".into(),
            }],
            Some(1.0),
        )
        .into_string();
        assert!(
            shares.contains("width: 8.3%"),
            "a share is drawn against 100 %"
        );
    }
}
