//! The database under a store, for what only SQL can do in a test (write what an older
//! version wrote, read raw rows).

use super::TestDb;

/// The database under the store, for what only SQL can do (write old bodies, read raw ones).
pub enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Raw {
    pub async fn connect(db: &TestDb) -> Self {
        if db.url.starts_with("sqlite:") {
            Self::Sqlite(sqlx::SqlitePool::connect(&db.url).await.unwrap())
        } else {
            Self::Postgres(sqlx::PgPool::connect(&db.url).await.unwrap())
        }
    }

    pub async fn bodies(&self) -> Vec<(i64, String)> {
        let q = "SELECT seq, body FROM records ORDER BY seq";
        match self {
            Self::Sqlite(p) => sqlx::query_as(q).fetch_all(p).await.unwrap(),
            Self::Postgres(p) => sqlx::query_as(q).fetch_all(p).await.unwrap(),
        }
    }

    pub async fn set_body(&self, seq: i64, body: &str) {
        match self {
            Self::Sqlite(p) => sqlx::query("UPDATE records SET body = ?1 WHERE seq = ?2")
                .bind(body)
                .bind(seq)
                .execute(p)
                .await
                .map(drop),
            Self::Postgres(p) => sqlx::query("UPDATE records SET body = $1 WHERE seq = $2")
                .bind(body)
                .bind(seq)
                .execute(p)
                .await
                .map(drop),
        }
        .unwrap();
    }

    /// Runs a statement without parameters.
    pub async fn exec(&self, sql: &str) {
        match self {
            Self::Sqlite(p) => sqlx::query(sql).execute(p).await.map(drop),
            Self::Postgres(p) => sqlx::query(sql).execute(p).await.map(drop),
        }
        .unwrap();
    }

    pub async fn meta(&self, key: &str) -> Option<i64> {
        let q = format!("SELECT value FROM meta WHERE key = '{key}'");
        match self {
            Self::Sqlite(p) => sqlx::query_scalar(&q).fetch_optional(p).await.unwrap(),
            Self::Postgres(p) => sqlx::query_scalar(&q).fetch_optional(p).await.unwrap(),
        }
    }

    pub async fn close(self) {
        match self {
            Self::Sqlite(p) => p.close().await,
            Self::Postgres(p) => p.close().await,
        }
    }
}
