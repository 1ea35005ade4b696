//! The administrator's user list in SQL (`Store::user_list`): search, role filter, sort and
//! page over the `users` table without loading it, and what keeps the search's tables true.
//!
//! A term matches a user when it is found in their folded username or display name
//! (`users.folded`), in a word of their role (the roles a term finds are worked out in Rust,
//! `userlist::roles_matching`, and asked for as `role IN (…)`), or in the name, code or id of a
//! place of their area (`user_places` joined to `place_names`). Everything searched is folded
//! once, in Rust, when written; terms are folded the same way, so SQL only compares with `LIKE`
//! (`%`, `_` and `\` in a term escaped). Text sorts by code point on both backends
//! (`Backend::BYTE_ORDER`), as the app's sort did.
//!
//! `place_names` is written by the commit (`write_place_names`, in the transaction that writes
//! the subdistrict, community or grid); `users.folded` and `user_places` with the user
//! (`insert_users`, `update_user`, with `write_user_places`). A database from before these
//! tables gets them filled once at start (`backfill_user_list`, flagged in `meta`).

use super::backend::Backend;
use super::sql::{corrupt, to_i64, user_from_row, SqlStore, CHUNK, USER_COLUMNS};
use super::stmt::Sql;
use super::{StoreError, UserListing, UserRow};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Type};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use tongxin_shared::case::Role;
use tongxin_shared::policy::plan::Write;
use tongxin_shared::userlist::{
    place_hay, roles_matching, user_hay, AreaName, UserQuery, UserSort,
};
use tongxin_shared::{Collection, Record, RecordId};

/// The collections whose records name a user's area.
const AREA_COLLECTIONS: [Collection; 3] = [
    Collection::Subdistricts,
    Collection::Communities,
    Collection::Grids,
];

/// `%term%` for `LIKE … ESCAPE '\'`: the term's own `%`, `_` and `\` match only themselves.
fn like_pattern(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    out.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// A place record's name and code, or `None` when it is not a place or deleted.
fn place_name(r: &Record) -> Option<(String, String)> {
    (AREA_COLLECTIONS.contains(&r.collection) && !r.is_deleted()).then(|| {
        (
            r.str("name").unwrap_or_default().to_owned(),
            r.str("code").unwrap_or_default().to_owned(),
        )
    })
}

/// A user's area as `(level, idx, place)` rows: subdistricts 0, communities 1, grids 2.
fn area_rows(u: &UserRow) -> impl Iterator<Item = (i64, i64, String)> + '_ {
    [&u.subdistricts, &u.communities, &u.grids]
        .into_iter()
        .enumerate()
        .flat_map(|(level, ids)| {
            ids.iter()
                .enumerate()
                .map(move |(i, id)| (level as i64, i as i64, id.to_string()))
        })
}

/// Appends the conditions of `q` (its role and every term) to a statement over `users u`.
fn push_filter(qb: &mut Sql, q: &UserQuery) {
    qb.push(" WHERE 1 = 1");
    if let Some(r) = q.role {
        qb.push(" AND u.role = ").bind(r.as_str().to_owned());
    }
    for term in &q.terms {
        let pattern = like_pattern(term);
        qb.push(" AND (u.folded LIKE ")
            .bind(pattern.clone())
            .push(" ESCAPE '\\'");
        let roles = roles_matching(term);
        if !roles.is_empty() {
            qb.push(" OR u.role IN (");
            let mut list = qb.separated();
            for r in roles {
                list.bind(r.as_str().to_owned());
            }
            qb.push(")");
        }
        qb.push(
            " OR EXISTS (SELECT 1 FROM user_places up LEFT JOIN place_names n ON n.id = up.place \
             WHERE up.username = u.username AND (up.place LIKE ",
        )
        .bind(pattern.clone())
        .push(" ESCAPE '\\' OR n.folded LIKE ")
        .bind(pattern)
        .push(" ESCAPE '\\')))");
    }
}

/// The `ORDER BY` of `q` (every key in its direction, the username last so the order is total).
fn order_by(q: &UserQuery, text_order: &str) -> String {
    let dir = if q.desc { " DESC" } else { "" };
    let username = format!("u.username{text_order}{dir}");
    let first_place = |level: usize| {
        format!(
            "COALESCE((SELECT COALESCE(n.name, up.place) FROM user_places up \
             LEFT JOIN place_names n ON n.id = up.place \
             WHERE up.username = u.username AND up.level = {level} ORDER BY up.idx LIMIT 1), '')\
             {text_order}{dir}"
        )
    };
    match q.sort {
        UserSort::Username => format!(" ORDER BY {username}"),
        UserSort::Name => format!(" ORDER BY u.display_name{text_order}{dir}, {username}"),
        UserSort::Role => {
            let mut ranks = String::new();
            for (i, r) in Role::ALL.iter().enumerate() {
                let _ = write!(ranks, " WHEN '{}' THEN {i}", r.as_str());
            }
            format!(" ORDER BY CASE u.role{ranks} ELSE 99 END{dir}, {username}")
        }
        // Users without an area last, as the app shows them.
        UserSort::Area => format!(
            " ORDER BY CASE WHEN EXISTS \
             (SELECT 1 FROM user_places up WHERE up.username = u.username) \
             THEN 0 ELSE 1 END{dir}, {}, {}, {}, {username}",
            first_place(0),
            first_place(1),
            first_place(2)
        ),
    }
}

impl<B: Backend> SqlStore<B>
where
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    usize: ColumnIndex<<B::Db as Database>::Row>,
    i64: Type<B::Db> + for<'q> Encode<'q, B::Db> + for<'r> Decode<'r, B::Db>,
    String: Type<B::Db> + for<'q> Encode<'q, B::Db> + for<'r> Decode<'r, B::Db>,
    Vec<u8>: Type<B::Db> + for<'q> Encode<'q, B::Db> + for<'r> Decode<'r, B::Db>,
    Option<i64>: Type<B::Db> + for<'q> Encode<'q, B::Db> + for<'r> Decode<'r, B::Db>,
    Option<String>: Type<B::Db> + for<'q> Encode<'q, B::Db> + for<'r> Decode<'r, B::Db>,
{
    /// One page of users matching `q`, how many match and how many there are, and the names of
    /// the page's places; read in one transaction, so the counts and the page agree.
    pub(super) async fn user_list_inner(&self, q: &UserQuery) -> Result<UserListing, StoreError> {
        let mut tx = self.backend().pool().begin().await?;
        let all: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&mut *tx)
            .await?;
        let mut qb = Sql::new("SELECT COUNT(*) FROM users u");
        push_filter(&mut qb, q);
        let total: i64 = qb.query::<B::Db>().fetch_one(&mut *tx).await?.try_get(0)?;
        let mut qb = Sql::new(format!(
            "SELECT {} FROM users u",
            USER_COLUMNS
                .split(", ")
                .map(|c| format!("u.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        push_filter(&mut qb, q);
        qb.push(order_by(q, B::BYTE_ORDER))
            .push(" LIMIT ")
            .bind(i64::from(q.limit))
            .push(" OFFSET ")
            .bind(to_i64(q.offset));
        let users = qb
            .query::<B::Db>()
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| user_from_row(r, 0))
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<RecordId> = users
            .iter()
            .flat_map(|u| u.subdistricts.iter().chain(&u.communities).chain(&u.grids))
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut places = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let mut qb = Sql::new("SELECT id, name, code FROM place_names WHERE ");
            qb.push_in("id", chunk);
            for row in qb.query::<B::Db>().fetch_all(&mut *tx).await? {
                let id: String = row.try_get(0)?;
                places.push(AreaName {
                    id: RecordId::parse(&id).map_err(corrupt)?,
                    name: row.try_get(1)?,
                    code: row.try_get(2)?,
                });
            }
        }
        tx.commit().await?;
        Ok(UserListing {
            users,
            total: u64::try_from(total).unwrap_or(0),
            all: u64::try_from(all).unwrap_or(0),
            places,
        })
    }

    /// Keeps `place_names` equal to the written subdistricts, communities and grids (a deleted
    /// one leaves it). Same transaction as the records.
    pub(super) async fn write_place_names(
        conn: &mut <B::Db as Database>::Connection,
        writes: &[Write],
    ) -> Result<(), StoreError> {
        let records: Vec<&Record> = writes
            .iter()
            .map(|w| &w.record)
            .filter(|r| AREA_COLLECTIONS.contains(&r.collection))
            .collect();
        Self::put_place_names(conn, &records).await
    }

    async fn put_place_names(
        conn: &mut <B::Db as Database>::Connection,
        records: &[&Record],
    ) -> Result<(), StoreError> {
        // One row per id: ids are chosen by devices, so a grid and a community may share one,
        // and one INSERT … ON CONFLICT may not touch a row twice (PostgreSQL refuses it). A
        // named record wins over a deleted one with the same id.
        let mut by_id: std::collections::BTreeMap<RecordId, Option<(String, String)>> =
            std::collections::BTreeMap::new();
        for r in records {
            let name = place_name(r);
            let slot = by_id.entry(r.id).or_default();
            if name.is_some() || slot.is_none() {
                *slot = name;
            }
        }
        let (named, gone): (Vec<_>, Vec<_>) = by_id.into_iter().partition(|(_, n)| n.is_some());
        let gone: Vec<RecordId> = gone.into_iter().map(|(id, _)| id).collect();
        for chunk in gone.chunks(CHUNK) {
            let mut qb = Sql::new("DELETE FROM place_names WHERE ");
            qb.push_in("id", chunk);
            qb.query::<B::Db>().execute(&mut *conn).await?;
        }
        for chunk in named.chunks(CHUNK) {
            let mut qb = Sql::new("INSERT INTO place_names (id, name, code, folded) ");
            qb.values(chunk, |b, (id, n)| {
                let (name, code) = n.clone().unwrap_or_default();
                let folded = place_hay(&name, &code);
                b.bind(id.to_string()).bind(name).bind(code).bind(folded);
            });
            qb.push(
                " ON CONFLICT (id) DO UPDATE SET name = excluded.name, code = excluded.code, \
                 folded = excluded.folded",
            );
            qb.query::<B::Db>().execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Replaces the users' `user_places` rows with their areas. Same transaction as the users
    /// (whose `folded` text their own statements set).
    pub(super) async fn write_user_places(
        conn: &mut <B::Db as Database>::Connection,
        users: &[&UserRow],
    ) -> Result<(), StoreError> {
        for chunk in users.chunks(CHUNK) {
            let mut qb = Sql::new("DELETE FROM user_places WHERE username IN (");
            let mut list = qb.separated();
            for u in chunk {
                list.bind(u.username.clone());
            }
            qb.push(")");
            qb.query::<B::Db>().execute(&mut *conn).await?;
        }
        let rows: Vec<(String, (i64, i64, String))> = users
            .iter()
            .flat_map(|u| area_rows(u).map(|r| (u.username.clone(), r)))
            .collect();
        for chunk in rows.chunks(CHUNK) {
            let mut qb = Sql::new("INSERT INTO user_places (username, level, idx, place) ");
            qb.values(chunk, |b, (name, (level, idx, place))| {
                b.bind(name.clone())
                    .bind(*level)
                    .bind(*idx)
                    .bind(place.clone());
            });
            qb.query::<B::Db>().execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Fills the user list's search tables from the users and places stored before they
    /// existed, once (flagged in `meta`). Under the commit lock, so no commit interleaves.
    pub(super) async fn backfill_user_list(&self) -> Result<(), StoreError> {
        let mut tx = self.backend().pool().begin().await?;
        sqlx::query("UPDATE meta SET value = value WHERE key = 'seq'")
            .execute(&mut *tx)
            .await?;
        let done: Option<i64> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'user_list_backfilled'")
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_some() {
            return Ok(());
        }
        let sql = format!("SELECT {USER_COLUMNS} FROM users");
        let users = sqlx::query(&sql)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| user_from_row(r, 0))
            .collect::<Result<Vec<_>, _>>()?;
        for u in &users {
            let mut qb = Sql::new("UPDATE users SET folded = ");
            qb.bind(user_hay(&u.username, &u.display_name))
                .push(" WHERE username = ")
                .bind(u.username.clone());
            qb.query::<B::Db>().execute(&mut *tx).await?;
        }
        Self::write_user_places(&mut tx, &users.iter().collect::<Vec<_>>()).await?;
        let mut places = 0;
        for c in AREA_COLLECTIONS {
            let mut after = String::new();
            loop {
                let mut qb = Sql::new("SELECT id, body FROM records WHERE collection = ");
                qb.bind(c.as_str().to_owned())
                    .push(" AND id > ")
                    .bind(after.clone())
                    .push(" ORDER BY id LIMIT ")
                    .bind(to_i64(CHUNK as u64));
                let page = qb.query::<B::Db>().fetch_all(&mut *tx).await?;
                let mut records = Vec::with_capacity(page.len());
                for row in &page {
                    after = row.try_get(0)?;
                    let body: String = row.try_get(1)?;
                    records.push(serde_json::from_str::<Record>(&body).map_err(corrupt)?);
                }
                places += records.len();
                Self::put_place_names(&mut tx, &records.iter().collect::<Vec<_>>()).await?;
                if page.len() < CHUNK {
                    break;
                }
            }
        }
        sqlx::query("INSERT INTO meta (key, value) VALUES ('user_list_backfilled', 1)")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if !users.is_empty() || places > 0 {
            tracing::info!(
                users = users.len(),
                places,
                "user list search backfilled from stored users and places"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(like_pattern("w0001"), "%w0001%");
        assert_eq!(like_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}
