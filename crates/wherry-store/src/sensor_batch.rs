//! Storing uplinks in batches (group commit): a few statements a batch,
//! not a few an uplink. In one transaction: the batch's frames already
//! stored (same device and frame counter, same or neighbouring window) are
//! found with one query, the devices' registration with another (an uplink
//! is stored only while its device is registered as the model it was
//! decoded with and its consent stands: the registry decides at the
//! moment of writing, so a consent withdrawn a moment ago is honoured),
//! and the rest go in one multi-row insert. (Placeholders are positional on
//! SQLite: its driver looks numbered ones up by name, at a cost that grows
//! with their square, and a batch binds thousands.)

use std::collections::{HashMap, HashSet};

use crate::sensors::{NewUplink, Stored};
use crate::{Error, Store};

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
        let mut stored: HashMap<(String, i64), Vec<i64>> = HashMap::new();
        let mut devices: HashMap<String, (String, bool)> = HashMap::new();
        for chunk in batch.chunks(ROWS) {
            let pairs: Vec<String> = (0..chunk.len())
                .map(|k| {
                    let (eui, f_cnt) = (tx.mark(2 * k + 1), tx.mark(2 * k + 2));
                    format!("(dev_eui = {eui} AND f_cnt = {f_cnt})")
                })
                .collect();
            let seen = format!(
                "SELECT dev_eui, f_cnt, dedup_window FROM sensor_uplinks WHERE {}",
                pairs.join(" OR ")
            );
            let euis: Vec<&str> = chunk.iter().map(|u| u.dev_eui.as_str()).collect();
            let marks: Vec<String> = (1..=euis.len()).map(|k| tx.mark(k)).collect();
            let registered = format!(
                "SELECT dev_eui, model, consent_withdrawn_ms FROM sensor_devices WHERE dev_eui IN ({})",
                marks.join(", ")
            );
            let (found, regs) = dispatch_tx!(&mut tx.inner, t => {
                let mut q = sqlx::query_as::<_, (String, i64, i64)>(sqlx::AssertSqlSafe(seen));
                for u in chunk {
                    q = q.bind(&u.dev_eui).bind(u.f_cnt);
                }
                let found = q.fetch_all(&mut **t).await?;
                let mut q = sqlx::query_as::<_, (String, String, Option<i64>)>(sqlx::AssertSqlSafe(registered));
                for e in &euis {
                    q = q.bind(*e);
                }
                Ok::<_, sqlx::Error>((found, q.fetch_all(&mut **t).await?))
            })?;
            for (eui, f_cnt, window) in found {
                stored.entry((eui, f_cnt)).or_default().push(window);
            }
            for (eui, model, withdrawn) in regs {
                devices.insert(eui, (model, withdrawn.is_none()));
            }
        }
        // Decide each: refused, a duplicate, or to insert.
        let mut insert: Vec<usize> = Vec::new();
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
            insert.push(i);
        }
        let mut ids: HashMap<(String, i64, i64), i64> = HashMap::new();
        for chunk in insert.chunks(ROWS) {
            let rows = tx.tuples(chunk.len(), 11, "");
            let sql = format!(
                "INSERT INTO sensor_uplinks (dev_eui, f_cnt, dedup_window, time_ms, received_ms,
                     network, f_port, payload, reading, battery, rssi)
                 VALUES {rows}
                 ON CONFLICT (dev_eui, f_cnt, dedup_window) DO NOTHING
                 RETURNING id, dev_eui, f_cnt, dedup_window"
            );
            let returned = dispatch_tx!(&mut tx.inner, t => {
                let mut q = sqlx::query_as::<_, (i64, String, i64, i64)>(sqlx::AssertSqlSafe(sql));
                for &i in chunk {
                    let u = &batch[i];
                    q = q.bind(&u.dev_eui).bind(u.f_cnt).bind(u.window).bind(u.time_ms)
                        .bind(u.received_ms).bind(u.network).bind(u.f_port).bind(&u.payload)
                        .bind(&u.reading).bind(u.battery).bind(u.rssi);
                }
                q.fetch_all(&mut **t).await
            })?;
            for (id, eui, f_cnt, window) in returned {
                ids.insert((eui, f_cnt, window), id);
            }
        }
        let mut taken: HashSet<i64> = HashSet::new();
        for i in insert {
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
