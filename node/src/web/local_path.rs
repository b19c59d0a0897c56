//! [`LocalPath`]: where the login may send the browser back to, parsed from the `next`
//! parameter so that the login cannot become an open redirect.

use std::fmt;

/// A path on this site: one leading `/`, not followed by `/` or `\` (which browsers read as
/// `//host`, another origin), no `\` anywhere (browsers treat it as `/`) and no control
/// character anywhere (browsers drop tab, CR and LF from URLs, so `/\t/evil.example` becomes
/// `//evil.example`; CR/LF would also split the `Location` header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath(String);

impl LocalPath {
    /// Where a login goes when it was given no usable `next`.
    pub const DASHBOARD: &str = "/dashboard";

    /// The path, if `text` is one of this site.
    pub fn parse(text: &str) -> Option<LocalPath> {
        let rest = text.strip_prefix('/')?;
        if rest.starts_with('/') || text.contains('\\') || text.chars().any(char::is_control) {
            return None;
        }
        Some(LocalPath(text.to_owned()))
    }

    /// The parsed `next`, or the dashboard.
    pub fn or_dashboard(text: Option<&str>) -> LocalPath {
        text.and_then(LocalPath::parse)
            .unwrap_or_else(|| LocalPath(Self::DASHBOARD.to_owned()))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LocalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_origin_paths_are_kept() {
        for good in [
            "/",
            "/dashboard",
            "/helpdesk?status=new&x=a/b",
            "/sua/12#lotti",
        ] {
            assert_eq!(LocalPath::parse(good).map(|p| p.0), Some(good.to_owned()));
        }
        for bad in [
            "",
            "dashboard",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/a\\b",
            "/\u{7f}",
            "/\u{85}x",
            "https://evil.example/",
        ] {
            assert_eq!(LocalPath::parse(bad), None, "{bad:?}");
        }
        assert_eq!(LocalPath::or_dashboard(Some("//x")).as_str(), "/dashboard");
        assert_eq!(LocalPath::or_dashboard(None).as_str(), "/dashboard");
    }
}
