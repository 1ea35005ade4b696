//! CSV for Excel: UTF-8 with a byte-order mark (so Excel opens Chinese text correctly), CRLF
//! line ends, fields quoted when they need it (RFC 4180). Pure, so it is tested natively.

/// The byte-order mark every exported file starts with.
pub const BOM: char = '\u{feff}';

/// A CSV field, quoted when it needs to be (RFC 4180).
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Appends one CSV line.
pub fn push_row<S: AsRef<str>>(out: &mut String, cells: &[S]) {
    let cells: Vec<String> = cells.iter().map(|c| field(c.as_ref())).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

/// A table of text: its title, column headers and rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub title: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Several tables in one file: each table's title, header and rows, a blank line between.
pub fn tables(tables: &[&Table]) -> String {
    let mut out = String::from(BOM);
    for (i, t) in tables.iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        push_row(&mut out, &[t.title.as_str()]);
        push_row(&mut out, &t.header);
        for row in &t.rows {
            push_row(&mut out, row);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("路灯"), "路灯");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn tables_have_a_bom_and_one_block_each() {
        let a = Table {
            title: "按类别".into(),
            header: vec!["类别".into(), "件数".into()],
            rows: vec![vec!["环境, 卫生".into(), "3".into()]],
        };
        let b = Table {
            title: "B".into(),
            header: vec!["x".into()],
            rows: vec![],
        };
        let csv = tables(&[&a, &b]);
        assert_eq!(
            csv,
            "\u{feff}按类别\r\n类别,件数\r\n\"环境, 卫生\",3\r\n\r\nB\r\nx\r\n"
        );
        assert_eq!(&csv.as_bytes()[..3], [0xef, 0xbb, 0xbf]);
    }
}
