//! Storing uplinks in batches (group commit): a few statements a batch,
//! not a few an uplink. In one transaction: the batch's frames already
//! stored (same device and frame counter, same or neighbouring window) are
//! found with one query, the devices' registration with another (an uplink
//! is stored only while its device is registered as the model it was
//! decoded with and its consent stands: the registry decides at the
//! moment of writing, so a consent withdrawn a moment ago is honoured),
//! and the rest go in one multi-row insert.
//!
//! On PostgreSQL each of the three statements takes the batch as arrays
//! (`unnest`), so its text is the same whatever the batch's size: prepared
//! once, planned cheaply, a dozen parameters instead of thousands. SQLite
//! has no arrays: there the batch is bound in chunks of positional `?`
//! (its driver looks numbered parameters up by name, at a cost that grows
//! with their square).

use std::collections::{HashMap, HashSet};

use crate::sensors::{NewUplink, Stored};
use crate::{Error, Store, Tx, TxInner};

/// Rows per statement (11 binds a row; well under both databases' limits).
const ROWS: usize = 256;

impl Store {
    /// Stores `u` unless an uplink of the same device and frame counter is
    /// stored in its window or one beside it (see [`Store::store_uplinks`]).
    pub async fn store_uplink(&self, u: &NewUplink) -> Result<Stored, Error> {
        let mut stored = self.store_uplinks(std::slice::from_ref(u)).await?;
        Ok(stored.pop().unwrap_or(Stored::Duplicate))
    }

    /// Stores each of `batch` in one transaction (one commit for many
    /// deliveries): a frame stored before, or earlier in the batch, in the
    /// same or a neighbouring window is a duplicate; an uplink whose device
    /// is not registered as its model with consent standing is refused.
    pub async fn store_uplinks(&self, batch: &[NewUplink]) -> Result<Vec<Stored>, Error> {
        let mut out = vec![Stored::Duplicate; batch.len()];
        if batch.is_empty() {
            return Ok(out);
        }
        let mut tx = self.begin().await?;
        let Found {
            mut stored,
            devices,
        } = found(&mut tx, batch).await?;
        // Decide each: refused, a duplicate, or to insert.
        let mut insert_at: Vec<usize> = Vec::new();
        for (i, u) in batch.iter().enumerate() {
            let live = devices
                .get(&u.dev_eui)
                .is_some_and(|(model, consent)| *consent && *model == u.model);
            if !live {
                out[i] = Stored::Refused;
                continue;
            }
            let windows = stored.entry((u.dev_eui.clone(), u.f_cnt)).or_default();
            if windows.iter().any(|w| (w - u.window).abs() <= 1) {
                continue;
            }
            windows.push(u.window);
            insert_at.push(i);
        }
        let ids = insert(&mut tx, batch, &insert_at).await?;
        let mut taken: HashSet<i64> = HashSet::new();
        for i in insert_at {
            let u = &batch[i];
            if let Some(&id) = ids.get(&(u.dev_eui.clone(), u.f_cnt, u.window)) {
                if taken.insert(id) {
                    out[i] = Stored::New(id);
                }
            }
        }
        tx.commit().await?;
        Ok(out)
    }
}

/// What is already known of a batch: the windows each (device, frame
/// counter) is stored in, and each device's model and whether its consent
/// stands.
#[derive(Default)]
struct Found {
    stored: HashMap<(String, i64), Vec<i64>>,
    devices: HashMap<String, (String, bool)>,
}

/// Reads [`Found`] for `batch`. PostgreSQL takes the batch as arrays (one
/// statement text whatever its size, prepared once); SQLite, which has no
/// arrays, as chunks of positional parameters.
async fn found(tx: &mut Tx, batch: &[NewUplink]) -> Result<Found, Error> {
    let mut out = Found::default();
    let (frames, regs) = match &mut tx.inner {
        // Planned afresh each time (not kept prepared): a plan kept from
        // when the tables were small scans them whole once they are not.
        TxInner::Postgres(t) => {
            let euis: Vec<&str> = batch.iter().map(|u| u.dev_eui.as_str()).collect();
            let f_cnts: Vec<i64> = batch.iter().map(|u| u.f_cnt).collect();
            let frames = sqlx::query_as::<_, (String, i64, i64)>(
                "SELECT s.dev_eui, s.f_cnt, s.dedup_window
                   FROM unnest($1::text[], $2::bigint[]) AS k(dev_eui, f_cnt)
                   JOIN sensor_uplinks s ON s.dev_eui = k.dev_eui AND s.f_cnt = k.f_cnt",
            )
            .bind(&euis)
            .bind(&f_cnts)
            .persistent(false)
            .fetch_all(&mut **t)
            .await?;
            let regs = sqlx::query_as::<_, (String, String, Option<i64>)>(
                "SELECT dev_eui, model, consent_withdrawn_ms FROM sensor_devices
                  WHERE dev_eui = ANY($1::text[])",
            )
            .bind(&euis)
            .persistent(false)
            .fetch_all(&mut **t)
            .await?;
            (frames, regs)
        }
        TxInner::Sqlite(t) => {
            let (mut frames, mut regs) = (Vec::new(), Vec::new());
            for chunk in batch.chunks(ROWS) {
                let pairs = vec!["(dev_eui = ? AND f_cnt = ?)"; chunk.len()].join(" OR ");
                let seen = format!(
                    "SELECT dev_eui, f_cnt, dedup_window FROM sensor_uplinks WHERE {pairs}"
                );
                let mut q = sqlx::query_as::<_, (String, i64, i64)>(sqlx::AssertSqlSafe(seen));
                for u in chunk {
                    q = q.bind(&u.dev_eui).bind(u.f_cnt);
                }
                frames.extend(q.fetch_all(&mut **t).await?);
                let marks = vec!["?"; chunk.len()].join(", ");
                let registered = format!(
                    "SELECT dev_eui, model, consent_withdrawn_ms FROM sensor_devices
                      WHERE dev_eui IN ({marks})"
                );
                let mut q = sqlx::query_as::<_, (String, String, Option<i64>)>(
                    sqlx::AssertSqlSafe(registered),
                );
                for u in chunk {
                    q = q.bind(&u.dev_eui);
                }
                regs.extend(q.fetch_all(&mut **t).await?);
            }
            (frames, regs)
        }
    };
    for (eui, f_cnt, window) in frames {
        out.stored.entry((eui, f_cnt)).or_default().push(window);
    }
    for (eui, model, withdrawn) in regs {
        out.devices.insert(eui, (model, withdrawn.is_none()));
    }
    Ok(out)
}

/// Inserts `batch[i]` for each `i` of `at`, a row already stored (a
/// concurrent writer's) skipped; the ids the new rows were given, by
/// device, frame counter and window.
async fn insert(
    tx: &mut Tx,
    batch: &[NewUplink],
    at: &[usize],
) -> Result<HashMap<(String, i64, i64), i64>, Error> {
    const COLUMNS: &str = "dev_eui, f_cnt, dedup_window, time_ms, received_ms,
                           network, f_port, payload, reading, battery, rssi";
    const TAIL: &str = "ON CONFLICT (dev_eui, f_cnt, dedup_window) DO NOTHING
                        RETURNING id, dev_eui, f_cnt, dedup_window";
    let mut returned: Vec<(i64, String, i64, i64)> = Vec::new();
    if at.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = || at.iter().map(|&i| &batch[i]);
    // SQLite's statements, a chunk each (its placeholders: `Tx::tuples`).
    let statements: Vec<String> = match tx.inner {
        TxInner::Sqlite(_) => at
            .chunks(ROWS)
            .map(|c| {
                let values = tx.tuples(c.len(), 11, "");
                format!("INSERT INTO sensor_uplinks ({COLUMNS}) VALUES {values} {TAIL}")
            })
            .collect(),
        TxInner::Postgres(_) => Vec::new(),
    };
    match &mut tx.inner {
        TxInner::Postgres(t) => {
            let sql = format!(
                "INSERT INTO sensor_uplinks ({COLUMNS})
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[],
                     $5::bigint[], $6::text[], $7::int[], $8::text[], $9::text[],
                     $10::float8[], $11::int[])
                 {TAIL}"
            );
            returned = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(rows().map(|u| u.dev_eui.as_str()).collect::<Vec<_>>())
                .bind(rows().map(|u| u.f_cnt).collect::<Vec<_>>())
                .bind(rows().map(|u| u.window).collect::<Vec<_>>())
                .bind(rows().map(|u| u.time_ms).collect::<Vec<_>>())
                .bind(rows().map(|u| u.received_ms).collect::<Vec<_>>())
                .bind(rows().map(|u| u.network).collect::<Vec<_>>())
                .bind(rows().map(|u| u.f_port).collect::<Vec<_>>())
                .bind(rows().map(|u| u.payload.as_str()).collect::<Vec<_>>())
                .bind(rows().map(|u| u.reading.as_str()).collect::<Vec<_>>())
                .bind(rows().map(|u| u.battery).collect::<Vec<_>>())
                .bind(rows().map(|u| u.rssi).collect::<Vec<_>>())
                .fetch_all(&mut **t)
                .await?;
        }
        TxInner::Sqlite(t) => {
            for (chunk, sql) in at.chunks(ROWS).zip(statements) {
                let mut q = sqlx::query_as::<_, (i64, String, i64, i64)>(sqlx::AssertSqlSafe(sql));
                for &i in chunk {
                    let u = &batch[i];
                    q = q
                        .bind(&u.dev_eui)
                        .bind(u.f_cnt)
                        .bind(u.window)
                        .bind(u.time_ms)
                        .bind(u.received_ms)
                        .bind(u.network)
                        .bind(u.f_port)
                        .bind(&u.payload)
                        .bind(&u.reading)
                        .bind(u.battery)
                        .bind(u.rssi);
                }
                returned.extend(q.fetch_all(&mut **t).await?);
            }
        }
    }
    Ok(returned
        .into_iter()
        .map(|(id, eui, f_cnt, window)| ((eui, f_cnt, window), id))
        .collect())
}
