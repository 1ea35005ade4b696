//! Which tab is the current screen (the tabs are `ui::nav`).

/// Whether the tab to `href` is the current screen at `path`: the home tab only at `/`; the
/// report tab only on the report form; a list tab on its list and the pages below it
/// (a case's page belongs to the case list, the report form does not).
pub fn is_current(href: &str, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    let path = if path.is_empty() { "/" } else { path };
    match href {
        "/" => path == "/",
        "/cases/new" => path == "/cases/new",
        "/cases" => path == "/cases" || (path.starts_with("/cases/") && path != "/cases/new"),
        _ => path == href || path.starts_with(&format!("{href}/")),
    }
}

#[cfg(test)]
mod tests {
    use super::is_current;

    #[test]
    fn the_current_tab_follows_the_path() {
        assert!(is_current("/", "/"));
        assert!(!is_current("/", "/cases"));
        assert!(is_current("/cases", "/cases"));
        assert!(is_current("/cases", "/cases/0190-abc"));
        assert!(!is_current("/cases", "/cases/new"));
        assert!(is_current("/cases/new", "/cases/new"));
        assert!(is_current("/visits", "/visits/new"));
        assert!(!is_current("/visits", "/visitsx"));
        assert!(is_current("/supervision", "/supervision/"));
    }
}
