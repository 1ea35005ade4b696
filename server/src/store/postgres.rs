//! PostgreSQL, for several server instances on one database. Commits are announced to the other
//! instances with NOTIFY on a per-schema channel, one notification per committed batch carrying
//! its last seq and the places it wrote ([`encode_notify`]).

use crate::store::backend::{Backend, OnCommit};
use crate::store::statistics::Statistics;
use crate::store::{StoreError, StoreFuture};
use futures_util::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions, PgQueryResult};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tongxin_shared::authz::Place;
use tongxin_shared::RecordId;

/// What [`Postgres::grew`] refreshes: the columns commits and pulls look records and ops up by
/// (not the bodies, whose statistics no query uses and which cost the most to sample).
const ANALYZE: &str =
    "ANALYZE records (collection, id, seq, subdistrict, community, grid, due_at, keep_until), \
     ops (op_id)";

pub struct Postgres {
    pool: PgPool,
    /// The channel every commit is announced on. Channels are database-wide, so the schema's
    /// name is part of it: deployments (or tests) that share a database in different schemas do
    /// not poke each other.
    channel: String,
    /// Rows this instance's commits wrote, and when the planner's statistics are next refreshed.
    statistics: Arc<Statistics>,
}

impl Postgres {
    /// Connects to and migrates the database at `url` (`postgres://…`).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        // Plan every statement with its real parameters: a generic plan cached while a table was
        // still small keeps scanning it sequentially as it grows (measured: 40x slower ingest).
        // And price a random page as the server reads them, from memory or an SSD: at the default
        // (4, a spinning disk's), a commit's lookup of its 500 op ids scans the whole ops table
        // instead of probing its index, a cost that grows with every op ever stored.
        let opts = PgConnectOptions::from_str(url)?.options([
            ("plan_cache_mode", "force_custom_plan"),
            ("random_page_cost", "1.1"),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pool)
            .await?;
        Ok(Self {
            pool,
            channel: format!("tongxin_commits_{schema}"),
            statistics: Arc::default(),
        })
    }
}

impl Backend for Postgres {
    type Db = sqlx::Postgres;
    const KIND: &'static str = "postgres";
    const BYTE_ORDER: &'static str = " COLLATE \"C\"";

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }

    fn grew(&self, rows: u64) {
        let Some(covered) = self.statistics.wrote(rows) else {
            return;
        };
        let (pool, statistics) = (self.pool.clone(), self.statistics.clone());
        tokio::spawn(async move {
            let done = sqlx::query(ANALYZE).execute(&pool).await;
            if let Err(e) = &done {
                tracing::warn!(error = %e, "cannot refresh the planner's statistics");
            }
            statistics.done(covered, done.is_ok());
        });
    }

    fn announce<'t>(
        &'t self,
        tx: &'t mut sqlx::PgConnection,
        last_seq: u64,
        places: Option<&'t [Place]>,
    ) -> BoxFuture<'t, Result<(), sqlx::Error>> {
        Box::pin(async move {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(&self.channel)
                .bind(encode_notify(last_seq, places))
                .execute(tx)
                .await?;
            Ok(())
        })
    }

    /// LISTENs on the commit channel; reconnects with backoff when the connection drops (the
    /// database restarted), and then announces the last seq as a commit anywhere, since the
    /// commits of the gap were announced to nobody here.
    fn follow_commits(&self, on_commit: OnCommit) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let pool = self.pool.clone();
            let channel = self.channel.clone();
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(&channel).await?;
            tokio::spawn(async move {
                let mut backoff = Duration::from_millis(200);
                loop {
                    loop {
                        match listener.recv().await {
                            Ok(n) => {
                                backoff = Duration::from_millis(200);
                                if let Some((seq, places)) = decode_notify(n.payload()) {
                                    on_commit(seq, places);
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "commit notifications interrupted; reconnecting");
                                break;
                            }
                        }
                    }
                    loop {
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(10));
                        if pool.is_closed() {
                            return;
                        }
                        match PgListener::connect_with(&pool).await {
                            Ok(mut l) => match l.listen(&channel).await {
                                Ok(()) => {
                                    listener = l;
                                    // Commits announced while nobody here listened are not
                                    // heard again: catch up with the last seq (listening
                                    // first, so none falls between), poking every area.
                                    match sqlx::query_scalar::<_, i64>(
                                        "SELECT value FROM meta WHERE key = 'seq'",
                                    )
                                    .fetch_one(&pool)
                                    .await
                                    {
                                        Ok(seq) => on_commit(u64::try_from(seq).unwrap_or(0), None),
                                        Err(e) => {
                                            tracing::warn!(error = %e, "cannot read the last seq after reconnecting");
                                        }
                                    }
                                    tracing::info!("commit notifications resumed");
                                    break;
                                }
                                Err(e) => tracing::warn!(error = %e, "LISTEN failed"),
                            },
                            Err(e) => {
                                tracing::warn!(error = %e, "cannot LISTEN for commits; retrying");
                            }
                        }
                    }
                }
            });
            Ok(true)
        })
    }
}

/// The NOTIFY payload of a commit: its last seq, then the places as compact JSON
/// (`[[subdistrict, community, grid], …]`, ids or null) when known.
pub fn encode_notify(last_seq: u64, places: Option<&[Place]>) -> String {
    let Some(places) = places else {
        return last_seq.to_string();
    };
    let rows: Vec<[Option<String>; 3]> = places
        .iter()
        .map(|p| [p.subdistrict, p.community, p.grid].map(|id| id.map(|i| i.to_string())))
        .collect();
    format!(
        "{last_seq} {}",
        serde_json::to_string(&rows).unwrap_or_default()
    )
}

/// Reads a NOTIFY payload: the seq, and the places when the payload lists them (a payload of an
/// older instance, or one that does not parse, means "anywhere").
pub fn decode_notify(payload: &str) -> Option<(u64, Option<Vec<Place>>)> {
    let (seq, rest) = payload
        .split_once(' ')
        .map_or((payload, None), |(s, r)| (s, Some(r)));
    let seq = seq.trim().parse().ok()?;
    let places = rest.and_then(|r| {
        let rows: Vec<[Option<String>; 3]> = serde_json::from_str(r).ok()?;
        rows.into_iter()
            .map(|[s, c, g]| {
                let id = |x: Option<String>| -> Result<Option<RecordId>, ()> {
                    x.map(|v| RecordId::parse(&v).map_err(|_| ())).transpose()
                };
                Some(Place {
                    subdistrict: id(s).ok()?,
                    community: id(c).ok()?,
                    grid: id(g).ok()?,
                })
            })
            .collect::<Option<Vec<_>>>()
    });
    Some((seq, places))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{poke_places, MAX_POKE_PLACES};
    use uuid::Uuid;

    fn place(g: u128) -> Place {
        let id = |n: u128| RecordId(Uuid::from_u128(n));
        Place {
            subdistrict: Some(id(1)),
            community: Some(id(2)),
            grid: Some(id(g)),
        }
    }

    #[test]
    fn notify_payloads_round_trip_and_older_ones_mean_anywhere() {
        let places = vec![place(10), Place::default()];
        let payload = encode_notify(42, Some(&places));
        assert!(payload.len() < 8000);
        assert_eq!(decode_notify(&payload), Some((42, Some(places))));
        assert_eq!(decode_notify("42"), Some((42, None)));
        assert_eq!(
            decode_notify("42 [[\"not an id\",null,null]]"),
            Some((42, None))
        );
        assert_eq!(decode_notify("x"), None);
        // The most places a payload lists still fit PostgreSQL's 8,000 bytes.
        let many: Vec<Place> = (0..MAX_POKE_PLACES as u128).map(place).collect();
        assert!(encode_notify(u64::MAX, Some(&many)).len() < 8000);
        assert_eq!(
            poke_places(many.clone()).map(|p| p.len()),
            Some(MAX_POKE_PLACES)
        );
        let more: Vec<Place> = (0..=MAX_POKE_PLACES as u128).map(place).collect();
        assert_eq!(poke_places(more), None);
        assert_eq!(poke_places(vec![place(3), place(3)]), Some(vec![place(3)]));
    }
}
