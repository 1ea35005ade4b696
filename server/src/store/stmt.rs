//! A SQL statement built at run time with its values, for either backend: each placeholder is
//! written in the backend's own style when the query is made ([`Dialect`]), `$1, $2, …` for
//! PostgreSQL and `?` for SQLite. (SQLite reads `$N` too, but as a *named* parameter: sqlx's
//! driver then asks SQLite each parameter's name, a linear scan of the statement's names, so
//! binding a batch insert of 4,500 values cost O(n²) and took 64% of the ingest's CPU.)
//!
//! Many values at once — the ids of an `IN` list ([`Sql::push_in_list`]), the rows of a batch
//! insert ([`Sql::rows`]) — are given as [`Column`]s. PostgreSQL takes each column as one array
//! parameter (`= ANY($1)`, `SELECT * FROM UNNEST($1, $2, …)`): the statement's text is the same
//! for any number of values, so it is parsed once per connection, and planning it does not
//! grow with the values (a `VALUES` list of 500 rows of 11 parameters was planned anew at every
//! commit). SQLite has no arrays and takes one `?` per value, in the same text as before.
//!
//! Why not sqlx's `QueryBuilder`: generic over the database, its arguments type is an associated
//! type, so a builder borrowed to build its query stays borrowed until it is dropped (the
//! lifetime is invariant) and cannot be used in generic code. Here the text and the values are
//! plain owned data and the sqlx query borrows only the text.

use sqlx::query::Query;
use sqlx::{Database, Encode, Type};
use std::fmt::Write;
use tongxin_shared::RecordId;

/// One value to bind.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    Int(i64),
    Text(String),
    OptInt(Option<i64>),
    OptText(Option<String>),
    Bytes(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Self::OptInt(v)
    }
}

impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Self::OptText(v)
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Self::Bytes(v)
    }
}

/// What one mark of the text stands for.
#[derive(Clone, Debug)]
enum Arg {
    /// One value ([`MARK`]).
    One(Value),
    /// The values of an `IN` list ([`LIST`]).
    List(Column),
    /// The rows of a batch insert, column by column, all of one length ([`ROWS`]).
    Rows(Vec<Column>),
}

/// Many values of one type: a list's, or one column of a batch's rows.
#[derive(Clone, Debug)]
pub enum Column {
    Int(Vec<i64>),
    Text(Vec<String>),
    OptInt(Vec<Option<i64>>),
    OptText(Vec<Option<String>>),
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Self::Int(v) => v.len(),
            Self::Text(v) => v.len(),
            Self::OptInt(v) => v.len(),
            Self::OptText(v) => v.len(),
        }
    }

    /// PostgreSQL's array type of the column.
    fn array_type(&self) -> &'static str {
        match self {
            Self::Int(_) | Self::OptInt(_) => "int8[]",
            Self::Text(_) | Self::OptText(_) => "text[]",
        }
    }

    /// The values one by one.
    fn into_values(self) -> Box<dyn Iterator<Item = Value>> {
        match self {
            Self::Int(v) => Box::new(v.into_iter().map(Value::Int)),
            Self::Text(v) => Box::new(v.into_iter().map(Value::Text)),
            Self::OptInt(v) => Box::new(v.into_iter().map(Value::OptInt)),
            Self::OptText(v) => Box::new(v.into_iter().map(Value::OptText)),
        }
    }
}

/// How a database takes the parameters of a statement.
pub trait Dialect: Database {
    /// `$1, $2, …` placeholders and arrays as parameters (PostgreSQL), or `?` placeholders and
    /// one per value (SQLite).
    const ARRAYS: bool;

    /// Binds a column: one array parameter (PostgreSQL), or each of its values (SQLite, whose
    /// text has a `?` for each).
    fn bind_column<'q>(
        q: Query<'q, Self, <Self as Database>::Arguments<'q>>,
        column: Column,
    ) -> Query<'q, Self, <Self as Database>::Arguments<'q>>;
}

impl Dialect for sqlx::Postgres {
    const ARRAYS: bool = true;

    fn bind_column(
        q: Query<'_, Self, sqlx::postgres::PgArguments>,
        column: Column,
    ) -> Query<'_, Self, sqlx::postgres::PgArguments> {
        match column {
            Column::Int(v) => q.bind(v),
            Column::Text(v) => q.bind(v),
            Column::OptInt(v) => q.bind(v),
            Column::OptText(v) => q.bind(v),
        }
    }
}

impl Dialect for sqlx::Sqlite {
    const ARRAYS: bool = false;

    fn bind_column<'q>(
        q: Query<'q, Self, sqlx::sqlite::SqliteArguments<'q>>,
        column: Column,
    ) -> Query<'q, Self, sqlx::sqlite::SqliteArguments<'q>> {
        column.into_values().fold(q, bind_value)
    }
}

/// Binds one value.
fn bind_value<'q, DB>(
    q: Query<'q, DB, <DB as Database>::Arguments<'q>>,
    value: Value,
) -> Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    i64: Type<DB> + Encode<'q, DB>,
    String: Type<DB> + Encode<'q, DB>,
    Option<i64>: Type<DB> + Encode<'q, DB>,
    Option<String>: Type<DB> + Encode<'q, DB>,
    Vec<u8>: Type<DB> + Encode<'q, DB>,
{
    match value {
        Value::Int(v) => q.bind(v),
        Value::Text(v) => q.bind(v),
        Value::OptInt(v) => q.bind(v),
        Value::OptText(v) => q.bind(v),
        Value::Bytes(v) => q.bind(v),
    }
}

/// Marks a placeholder in the text until the backend's style is known ([`Sql::query`]); a
/// control character that no SQL text of this crate contains.
const MARK: char = '\u{1}';
/// Marks an `IN` list: `= ANY($n)` or `IN (?, ?, …)`.
const LIST: char = '\u{2}';
/// Marks a batch's rows: `SELECT * FROM UNNEST($n, …)` or `VALUES (?, …), …`.
const ROWS: char = '\u{3}';

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
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.args.push(Arg::One(value.into()));
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

    /// The rows given column by column (all of one length, at least one row), as the source of
    /// an `INSERT … (columns) `: `SELECT * FROM UNNEST(…)` of one array per column
    /// (PostgreSQL), or `VALUES (…), (…)` (SQLite).
    pub fn rows(&mut self, columns: Vec<Column>) -> &mut Self {
        debug_assert!(columns.windows(2).all(|w| w[0].len() == w[1].len()));
        self.args.push(Arg::Rows(columns));
        self.text.push(ROWS);
        self
    }

    /// `col IN (values…)`, or a condition that is false when there are none.
    pub fn push_in_list(&mut self, col: &str, values: Column) -> &mut Self {
        if values.len() == 0 {
            return self.push("1 = 0");
        }
        self.push(col).push(" ");
        self.args.push(Arg::List(values));
        self.text.push(LIST);
        self
    }

    /// `col IN (ids…)`, or a condition that is false when there are none.
    pub fn push_in(&mut self, col: &str, ids: &[RecordId]) -> &mut Self {
        self.push_in_list(
            col,
            Column::Text(ids.iter().map(ToString::to_string).collect()),
        )
    }

    /// The sqlx query, with the values moved into it (the statement is spent).
    pub fn query<'q, DB>(&'q mut self) -> Query<'q, DB, <DB as Database>::Arguments<'q>>
    where
        DB: Dialect,
        i64: Type<DB> + Encode<'q, DB>,
        String: Type<DB> + Encode<'q, DB>,
        Option<i64>: Type<DB> + Encode<'q, DB>,
        Option<String>: Type<DB> + Encode<'q, DB>,
        Vec<u8>: Type<DB> + Encode<'q, DB>,
    {
        let args = std::mem::take(&mut self.args);
        self.text = render(&self.text, &args, DB::ARRAYS);
        let mut q = sqlx::query(self.text.as_str());
        for arg in args {
            q = match arg {
                Arg::One(value) => bind_value(q, value),
                Arg::List(column) => DB::bind_column(q, column),
                Arg::Rows(columns) if DB::ARRAYS => columns.into_iter().fold(q, DB::bind_column),
                Arg::Rows(columns) => row_major(columns).fold(q, bind_value),
            };
        }
        q
    }
}

/// The values of `columns` row by row (the order of a `VALUES` list's placeholders).
fn row_major(columns: Vec<Column>) -> impl Iterator<Item = Value> {
    let rows = columns.first().map_or(0, Column::len);
    let mut columns: Vec<_> = columns.into_iter().map(Column::into_values).collect();
    (0..rows).flat_map(move |_| {
        columns
            .iter_mut()
            .filter_map(Iterator::next)
            .collect::<Vec<_>>()
    })
}

/// `text` with each mark replaced by its placeholders: numbered (`$1`, `$2`, …) with arrays
/// for lists and rows, or `?` one per value. `args` are the values of the marks, in order.
fn render(text: &str, args: &[Arg], arrays: bool) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut n = 0;
    let mut args = args.iter();
    let mut next = |out: &mut String| {
        if arrays {
            n += 1;
            let _ = write!(out, "${n}");
        } else {
            out.push('?');
        }
    };
    for c in text.chars() {
        match c {
            MARK => {
                args.next();
                next(&mut out);
            }
            LIST => {
                let Some(Arg::List(column)) = args.next() else {
                    continue;
                };
                if arrays {
                    out.push_str("= ANY(");
                    next(&mut out);
                    let _ = write!(out, "::{})", column.array_type());
                } else {
                    out.push_str("IN (");
                    for i in 0..column.len() {
                        out.push_str(if i == 0 { "" } else { ", " });
                        next(&mut out);
                    }
                    out.push(')');
                }
            }
            ROWS => {
                let Some(Arg::Rows(columns)) = args.next() else {
                    continue;
                };
                if arrays {
                    out.push_str("SELECT * FROM UNNEST(");
                    for (i, column) in columns.iter().enumerate() {
                        out.push_str(if i == 0 { "" } else { ", " });
                        next(&mut out);
                        let _ = write!(out, "::{}", column.array_type());
                    }
                    out.push(')');
                } else {
                    out.push_str("VALUES ");
                    let rows = columns.first().map_or(0, Column::len);
                    for row in 0..rows {
                        out.push_str(if row == 0 { "(" } else { ", (" });
                        for i in 0..columns.len() {
                            out.push_str(if i == 0 { "" } else { ", " });
                            next(&mut out);
                        }
                        out.push(')');
                    }
                }
            }
            c => out.push(c),
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
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
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
        q.push(") AND ");
        q.push_in_list("d", Column::Text(vec!["p".into(), "q".into(), "r".into()]));
        q.push(" AND e = ").bind("z");
        q
    }

    #[test]
    fn placeholders_take_the_backends_style() {
        let q = built();
        assert_eq!(
            render(&q.text, &q.args, true),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) AND d = ANY($4::text[]) AND e = $5"
        );
        assert_eq!(
            render(&q.text, &q.args, false),
            "SELECT a FROM t WHERE b = ? AND c IN (?, ?) AND d IN (?, ?, ?) AND e = ?"
        );
        assert_eq!(q.args.len(), 5);
    }

    #[test]
    fn rows_are_arrays_or_values_in_row_order() {
        let mut q = Sql::new("INSERT INTO t (a, b, c) ");
        q.rows(vec![
            Column::Text(vec!["x".into(), "y".into()]),
            Column::OptInt(vec![Some(1), None]),
            Column::Int(vec![7, 8]),
        ]);
        q.push(" ON CONFLICT DO NOTHING");
        assert_eq!(
            render(&q.text, &q.args, true),
            "INSERT INTO t (a, b, c) SELECT * FROM UNNEST($1::text[], $2::int8[], $3::int8[]) \
             ON CONFLICT DO NOTHING"
        );
        assert_eq!(
            render(&q.text, &q.args, false),
            "INSERT INTO t (a, b, c) VALUES (?, ?, ?), (?, ?, ?) ON CONFLICT DO NOTHING"
        );
        let Some(Arg::Rows(columns)) = q.args.pop() else {
            panic!("rows expected");
        };
        let order: Vec<String> = row_major(columns).map(|a| format!("{a:?}")).collect();
        assert_eq!(
            order,
            [
                r#"Text("x")"#,
                "OptInt(Some(1))",
                "Int(7)",
                r#"Text("y")"#,
                "OptInt(None)",
                "Int(8)"
            ]
        );
    }

    #[test]
    fn an_empty_list_matches_nothing() {
        let mut q = Sql::new("SELECT a FROM t WHERE ");
        q.push_in_list("d", Column::Text(Vec::new()));
        assert_eq!(
            render(&q.text, &q.args, true),
            "SELECT a FROM t WHERE 1 = 0"
        );
        assert!(q.args.is_empty());
    }
}
