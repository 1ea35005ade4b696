//! A SQL statement built at run time with its values, for either backend: each placeholder is
//! written in the backend's own style when the query is made, `$1, $2, …` for PostgreSQL and
//! `?` for SQLite. (SQLite reads `$N` too, but as a *named* parameter: sqlx's driver then asks
//! SQLite each parameter's name, a linear scan of the statement's names, so binding a batch
//! insert of 4,500 values cost O(n²) and took 64% of the ingest's CPU.)
//!
//! Why not sqlx's `QueryBuilder`: generic over the database, its arguments type is an associated
//! type, so a builder borrowed to build its query stays borrowed until it is dropped (the
//! lifetime is invariant) and cannot be used in generic code. Here the text and the values are
//! plain owned data and the sqlx query borrows only the text.

use sqlx::query::Query;
use sqlx::{Database, Encode, Type};
use std::fmt::Write;
use tongxin_shared::RecordId;

/// A value to bind.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    Int(i64),
    Text(String),
    OptInt(Option<i64>),
    OptText(Option<String>),
    Bytes(Vec<u8>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Self::OptInt(v)
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Self::OptText(v)
    }
}

impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Self::Bytes(v)
    }
}

/// Marks a placeholder in the text until the backend's style is known ([`Sql::query`]); a
/// control character that no SQL text of this crate contains.
const MARK: char = '\u{1}';

/// SQL text and the values of its placeholders, in order.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            args: Vec::new(),
        }
    }

    /// Appends SQL text.
    pub fn push(&mut self, text: impl std::fmt::Display) -> &mut Self {
        let _ = write!(self.text, "{text}");
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        self.text.push(MARK);
        self
    }

    /// Values to append separated by commas (no parentheses).
    pub fn separated(&mut self) -> List<'_> {
        List {
            sql: self,
            first: true,
        }
    }

    /// `VALUES (…), (…)`: one parenthesised tuple per item, filled by `row`.
    pub fn values<I: IntoIterator>(
        &mut self,
        items: I,
        mut row: impl FnMut(&mut List<'_>, I::Item),
    ) -> &mut Self {
        self.push("VALUES ");
        for (i, item) in items.into_iter().enumerate() {
            self.push(if i == 0 { "(" } else { ", (" });
            row(&mut self.separated(), item);
            self.push(")");
        }
        self
    }

    /// `col IN (ids…)`, or a condition that is false when there are none.
    pub fn push_in(&mut self, col: &str, ids: &[RecordId]) -> &mut Self {
        if ids.is_empty() {
            return self.push("1 = 0");
        }
        self.push(col).push(" IN (");
        let mut list = self.separated();
        for id in ids {
            list.bind(id.to_string());
        }
        self.push(")")
    }

    /// The sqlx query, with the values moved into it (the statement is spent).
    pub fn query<'q, DB>(&'q mut self) -> Query<'q, DB, <DB as Database>::Arguments<'q>>
    where
        DB: Database,
        i64: Type<DB> + Encode<'q, DB>,
        String: Type<DB> + Encode<'q, DB>,
        Option<i64>: Type<DB> + Encode<'q, DB>,
        Option<String>: Type<DB> + Encode<'q, DB>,
        Vec<u8>: Type<DB> + Encode<'q, DB>,
    {
        let args = std::mem::take(&mut self.args);
        self.text = render(&self.text, DB::NAME == <sqlx::Postgres as Database>::NAME);
        let mut q = sqlx::query(self.text.as_str());
        for arg in args {
            q = match arg {
                Arg::Int(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::OptInt(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
                Arg::Bytes(v) => q.bind(v),
            };
        }
        q
    }
}

/// `text` with each [`MARK`] replaced by a placeholder: numbered (`$1`, `$2`, …) or `?`.
fn render(text: &str, numbered: bool) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut n = 0;
    for c in text.chars() {
        if c != MARK {
            out.push(c);
        } else if numbered {
            n += 1;
            let _ = write!(out, "${n}");
        } else {
            out.push('?');
        }
    }
    out
}

/// Placeholders separated by commas.
pub(crate) struct List<'a> {
    sql: &'a mut Sql,
    first: bool,
}

impl List<'_> {
    pub fn bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        if !self.first {
            self.sql.push(", ");
        }
        self.first = false;
        self.sql.bind(value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built() -> Sql {
        let mut q = Sql::new("SELECT a FROM t WHERE b = ");
        q.bind(1_i64).push(" AND c IN (");
        let mut list = q.separated();
        list.bind("x").bind("y");
        q.push(")");
        q
    }

    #[test]
    fn placeholders_take_the_backends_style() {
        let q = built();
        assert_eq!(
            render(&q.text, true),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
        );
        assert_eq!(
            render(&q.text, false),
            "SELECT a FROM t WHERE b = ? AND c IN (?, ?)"
        );
        assert_eq!(q.args.len(), 3);
    }
}
