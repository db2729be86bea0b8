//! Sensor alerts: raised once an episode (the UNIQUE key decides, also
//! across restarts), their lifecycle (open → acknowledged → resolved, with
//! who, when and a note), the care-system webhook's outbox, and thresholds
//! adjusted per resident. What the rules are is `wherry-sensors`'s.

use crate::{Error, Store, Tx};

/// An alert to raise.
#[derive(Debug, Clone)]
pub struct NewAlert {
    /// The resident.
    pub person_id: String,
    /// `kettle_not_used`, …, `battery_low`.
    pub kind: String,
    /// The episode.
    pub episode: String,
    /// About wellbeing (else a device).
    pub wellbeing: bool,
    /// 1 (most urgent) to 3.
    pub urgency: i64,
    /// When the condition was met (Unix ms).
    pub due_ms: i64,
    /// When raised.
    pub raised_ms: i64,
    /// The device concerned.
    pub dev_eui: Option<String>,
    /// What the routine expected.
    pub expected: String,
    /// What happened.
    pub observed: String,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredAlert {
    /// Its number.
    pub id: i64,
    /// The resident.
    pub person_id: String,
    /// What it is about.
    pub kind: String,
    /// The episode.
    pub episode: String,
    /// About wellbeing (else a device).
    pub wellbeing: bool,
    /// 1 (most urgent) to 3.
    pub urgency: i64,
    /// When the condition was met (Unix ms).
    pub due_ms: i64,
    /// When raised.
    pub raised_ms: i64,
    /// The device concerned.
    pub dev_eui: Option<String>,
    /// What the routine expected.
    pub expected: String,
    /// What happened.
    pub observed: String,
    /// `open`, `acknowledged` or `resolved`.
    pub status: String,
    /// Acknowledged: by, when, note.
    pub acknowledged: Option<Step>,
    /// Resolved: by, when, note.
    pub resolved: Option<Step>,
}

/// A step in an alert's life.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    /// Who.
    pub by: String,
    /// When (Unix ms).
    pub at_ms: i64,
    /// Their note.
    pub note: String,
}

/// One delivery attempt's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The alert.
    pub alert_id: i64,
    /// Delivered then (Unix ms), if it was.
    pub delivered_ms: Option<i64>,
    /// When to try again, if it was not.
    pub next_ms: i64,
    /// Why it failed.
    pub error: Option<String>,
}

/// A delivery owed to the care system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The alert.
    pub alert_id: i64,
    /// Sent as `Idempotency-Key`: the same on every attempt.
    pub idempotency_key: String,
    /// Attempts made so far.
    pub attempts: i64,
}

/// Thresholds set for a resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredThresholds {
    /// The resident.
    pub person_id: String,
    /// JSON.
    pub thresholds: String,
    /// By whom.
    pub set_by: String,
    /// When (Unix ms).
    pub set_ms: i64,
}

const ALERT_COLUMNS: &str = "id, person_id, kind, episode, wellbeing, urgency, due_ms, raised_ms,
    dev_eui, expected, observed, status, acknowledged_by, acknowledged_ms, acknowledged_note,
    resolved_by, resolved_ms, resolved_note";

fn step(by: Option<String>, at: Option<i64>, note: Option<String>) -> Option<Step> {
    Some(Step {
        by: by?,
        at_ms: at?,
        note: note.unwrap_or_default(),
    })
}

/// Runs `$sql` (selecting [`ALERT_COLUMNS`]) with the binds and reads each
/// row by position (more columns than sqlx's tuples take).
macro_rules! fetch_alerts {
    ($store:expr, $sql:expr, $($bind:expr),*) => {{
        use sqlx::Row;
        dispatch!(&$store.pool, p => {
            let rows = sqlx::query(sqlx::AssertSqlSafe($sql))$(.bind($bind))*.fetch_all(p).await?;
            rows.iter()
                .map(|r| {
                    Ok(StoredAlert {
                        id: r.try_get(0)?,
                        person_id: r.try_get(1)?,
                        kind: r.try_get(2)?,
                        episode: r.try_get(3)?,
                        wellbeing: r.try_get::<i64, _>(4)? != 0,
                        urgency: r.try_get(5)?,
                        due_ms: r.try_get(6)?,
                        raised_ms: r.try_get(7)?,
                        dev_eui: r.try_get(8)?,
                        expected: r.try_get(9)?,
                        observed: r.try_get(10)?,
                        status: r.try_get(11)?,
                        acknowledged: step(r.try_get(12)?, r.try_get(13)?, r.try_get(14)?),
                        resolved: step(r.try_get(15)?, r.try_get(16)?, r.try_get(17)?),
                    })
                })
                .collect::<Result<Vec<StoredAlert>, sqlx::Error>>()
        })?
    }};
}

/// Why a lifecycle step was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepRefused {
    /// No such alert.
    NotFound,
    /// The alert is already past that step.
    AlreadyDone,
}

impl Store {
    /// Raises an alert unless its episode was raised before; with
    /// `deliver`, queues it for the care system in the same transaction.
    /// Returns its number when new.
    pub async fn raise_alert(&self, a: &NewAlert, deliver: bool) -> Result<Option<i64>, Error> {
        let insert = "INSERT INTO sensor_alerts (person_id, kind, episode, wellbeing, urgency,
                          due_ms, raised_ms, dev_eui, expected, observed, status)
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open')
                      ON CONFLICT (person_id, kind, episode) DO NOTHING RETURNING id";
        let outbox = "INSERT INTO sensor_alert_deliveries (alert_id, idempotency_key, attempts,
                          next_ms) VALUES ($1, $2, 0, $3)";
        let mut tx = self.begin().await?;
        let id = dispatch_tx!(&mut tx.inner, t => {
            let id: Option<i64> = sqlx::query_scalar(insert).bind(&a.person_id).bind(&a.kind)
                .bind(&a.episode).bind(i64::from(a.wellbeing)).bind(a.urgency).bind(a.due_ms)
                .bind(a.raised_ms).bind(&a.dev_eui).bind(&a.expected).bind(&a.observed)
                .fetch_optional(&mut **t).await?;
            if let (Some(id), true) = (id, deliver) {
                let key = format!("wherry-alert-{id}-{}", a.raised_ms);
                sqlx::query(outbox).bind(id).bind(key).bind(a.raised_ms)
                    .execute(&mut **t).await?;
            }
            Ok::<_, sqlx::Error>(id)
        })?;
        tx.commit().await?;
        Ok(id)
    }

    /// Alerts, most urgent and oldest first: open and acknowledged ones
    /// (or every one with `all`), of one resident or everyone.
    pub async fn alerts(&self, person: Option<&str>, all: bool) -> Result<Vec<StoredAlert>, Error> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM sensor_alerts
             WHERE ($1 = '' OR person_id = $1) AND ($2 = 1 OR status <> 'resolved')
             ORDER BY CASE status WHEN 'resolved' THEN 1 ELSE 0 END, urgency, due_ms, id"
        );
        Ok(fetch_alerts!(
            self,
            sql,
            person.unwrap_or(""),
            i64::from(all)
        ))
    }

    /// One alert.
    pub async fn alert(&self, id: i64) -> Result<Option<StoredAlert>, Error> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM sensor_alerts WHERE id = $1");
        Ok(fetch_alerts!(self, sql, id).into_iter().next())
    }

    /// Every episode raised for a resident (to restore after a restart).
    pub async fn alert_episodes(&self, person: &str) -> Result<Vec<(String, String)>, Error> {
        let sql = "SELECT kind, episode FROM sensor_alerts WHERE person_id = $1";
        Ok(dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(person).fetch_all(p).await
        })?)
    }

    /// Acknowledges an open alert.
    pub async fn acknowledge_alert(
        &self,
        id: i64,
        by: &str,
        at_ms: i64,
        note: &str,
    ) -> Result<Result<(), StepRefused>, Error> {
        let sql = "UPDATE sensor_alerts SET status = 'acknowledged', acknowledged_by = $2,
                       acknowledged_ms = $3, acknowledged_note = $4
                   WHERE id = $1 AND status = 'open'";
        self.alert_step(id, sql, by, at_ms, note).await
    }

    /// Resolves an open or acknowledged alert.
    pub async fn resolve_alert(
        &self,
        id: i64,
        by: &str,
        at_ms: i64,
        note: &str,
    ) -> Result<Result<(), StepRefused>, Error> {
        let sql = "UPDATE sensor_alerts SET status = 'resolved', resolved_by = $2,
                       resolved_ms = $3, resolved_note = $4
                   WHERE id = $1 AND status <> 'resolved'";
        self.alert_step(id, sql, by, at_ms, note).await
    }

    async fn alert_step(
        &self,
        id: i64,
        sql: &'static str,
        by: &str,
        at_ms: i64,
        note: &str,
    ) -> Result<Result<(), StepRefused>, Error> {
        let n = dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(id).bind(by).bind(at_ms).bind(note).execute(p).await
                .map(|r| r.rows_affected())
        })?;
        if n == 1 {
            return Ok(Ok(()));
        }
        Ok(Err(match self.alert(id).await? {
            Some(_) => StepRefused::AlreadyDone,
            None => StepRefused::NotFound,
        }))
    }

    /// Deliveries due by `now_ms`, oldest first.
    pub async fn due_deliveries(&self, now_ms: i64, limit: i64) -> Result<Vec<Delivery>, Error> {
        let sql = "SELECT alert_id, idempotency_key, attempts FROM sensor_alert_deliveries
                   WHERE delivered_ms IS NULL AND next_ms <= $1 ORDER BY next_ms, alert_id
                   LIMIT $2";
        let rows: Vec<(i64, String, i64)> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(now_ms).bind(limit).fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(|(alert_id, idempotency_key, attempts)| Delivery {
                alert_id,
                idempotency_key,
                attempts,
            })
            .collect())
    }

    /// When the next undelivered alert is due, if any.
    pub async fn next_delivery_ms(&self) -> Result<Option<i64>, Error> {
        let sql = "SELECT MIN(next_ms) FROM sensor_alert_deliveries WHERE delivered_ms IS NULL";
        Ok(dispatch!(&self.pool, p => {
            sqlx::query_scalar(sql).fetch_one(p).await
        })?)
    }

    /// Records delivery attempts, together: each delivered at
    /// `delivered_ms`, or failed with `error` and due again at `next_ms`.
    pub async fn deliveries_attempted(&self, attempts: &[Attempt]) -> Result<(), Error> {
        if attempts.is_empty() {
            return Ok(());
        }
        let sql = "UPDATE sensor_alert_deliveries SET attempts = attempts + 1,
                       delivered_ms = $2, next_ms = $3, last_error = $4
                   WHERE alert_id = $1";
        let mut tx = self.begin().await?;
        dispatch_tx!(&mut tx.inner, t => {
            for a in attempts {
                sqlx::query(sql).bind(a.alert_id).bind(a.delivered_ms).bind(a.next_ms)
                    .bind(a.error.as_deref()).execute(&mut **t).await?;
            }
            Ok::<_, sqlx::Error>(())
        })?;
        tx.commit().await
    }

    /// A delivery's state: attempts, delivered when, last error.
    pub async fn delivery(
        &self,
        alert_id: i64,
    ) -> Result<Option<(i64, Option<i64>, Option<String>)>, Error> {
        let sql = "SELECT attempts, delivered_ms, last_error FROM sensor_alert_deliveries
                   WHERE alert_id = $1";
        Ok(dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(alert_id).fetch_optional(p).await
        })?)
    }

    /// Sets a resident's thresholds (JSON).
    pub async fn set_thresholds(&self, t: &StoredThresholds) -> Result<(), Error> {
        let sql = "INSERT INTO sensor_thresholds (person_id, thresholds, set_by, set_ms)
                   VALUES ($1, $2, $3, $4)
                   ON CONFLICT (person_id) DO UPDATE SET thresholds = excluded.thresholds,
                       set_by = excluded.set_by, set_ms = excluded.set_ms";
        dispatch!(&self.pool, p => {
            sqlx::query(sql).bind(&t.person_id).bind(&t.thresholds).bind(&t.set_by)
                .bind(t.set_ms).execute(p).await.map(|_| ())
        })?;
        Ok(())
    }

    /// A resident's thresholds, if set.
    pub async fn thresholds(&self, person: &str) -> Result<Option<StoredThresholds>, Error> {
        let sql = "SELECT person_id, thresholds, set_by, set_ms FROM sensor_thresholds
                   WHERE person_id = $1";
        let row: Option<(String, String, String, i64)> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(person).fetch_optional(p).await
        })?;
        Ok(
            row.map(|(person_id, thresholds, set_by, set_ms)| StoredThresholds {
                person_id,
                thresholds,
                set_by,
                set_ms,
            }),
        )
    }

    /// The newest stored uplink's number (0 when there is none).
    pub async fn last_uplink_id(&self) -> Result<i64, Error> {
        let sql = "SELECT COALESCE(MAX(id), 0) FROM sensor_uplinks";
        Ok(dispatch!(&self.pool, p => sqlx::query_scalar(sql).fetch_one(p).await)?)
    }

    /// Residents with a home device an uplink numbered above `after` came from.
    pub async fn residents_heard_after(&self, after: i64) -> Result<Vec<String>, Error> {
        let sql = "SELECT DISTINCT d.person_id FROM sensor_uplinks u
                   JOIN sensor_devices d ON d.dev_eui = u.dev_eui
                   WHERE u.id > $1 AND d.person_id IS NOT NULL";
        Ok(dispatch!(&self.pool, p => sqlx::query_scalar(sql).bind(after).fetch_all(p).await)?)
    }

    /// A resident's home uplinks from `since_ms` on, in time order, with the
    /// payload to decode again: (device, frame counter, time, port, hex).
    pub async fn home_uplinks_since(
        &self,
        person: &str,
        since_ms: i64,
    ) -> Result<Vec<(String, i64, i64, i32, String)>, Error> {
        let sql = "SELECT u.dev_eui, u.f_cnt, u.time_ms, u.f_port, u.payload
                   FROM sensor_uplinks u JOIN sensor_devices d ON d.dev_eui = u.dev_eui
                   WHERE d.person_id = $1 AND u.time_ms >= $2 ORDER BY u.time_ms, u.id";
        Ok(dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(person).bind(since_ms).fetch_all(p).await
        })?)
    }
}

impl Tx {
    /// Deletes readings taken before `before_ms`, and alerts (with their
    /// deliveries) due before it: the sensor agreement's retention.
    /// Returns (readings, alerts) deleted.
    pub async fn expire_sensor_data(&mut self, before_ms: i64) -> Result<(u64, u64), Error> {
        let readings = "DELETE FROM sensor_uplinks WHERE time_ms < $1";
        let deliveries = "DELETE FROM sensor_alert_deliveries WHERE alert_id IN
                              (SELECT id FROM sensor_alerts WHERE due_ms < $1)";
        let alerts = "DELETE FROM sensor_alerts WHERE due_ms < $1";
        let counts = dispatch_tx!(&mut self.inner, t => {
            let r = sqlx::query(readings).bind(before_ms).execute(&mut **t).await?.rows_affected();
            sqlx::query(deliveries).bind(before_ms).execute(&mut **t).await?;
            let a = sqlx::query(alerts).bind(before_ms).execute(&mut **t).await?.rows_affected();
            Ok::<_, sqlx::Error>((r, a))
        })?;
        Ok(counts)
    }

    /// Deletes resident `person`'s alerts, their deliveries and thresholds;
    /// returns the alerts deleted.
    pub async fn erase_alerts_of(&mut self, person: &str) -> Result<u64, Error> {
        let deliveries = "DELETE FROM sensor_alert_deliveries WHERE alert_id IN
                              (SELECT id FROM sensor_alerts WHERE person_id = $1)";
        let alerts = "DELETE FROM sensor_alerts WHERE person_id = $1";
        let thresholds = "DELETE FROM sensor_thresholds WHERE person_id = $1";
        let n = dispatch_tx!(&mut self.inner, t => {
            sqlx::query(deliveries).bind(person).execute(&mut **t).await?;
            let n = sqlx::query(alerts).bind(person).execute(&mut **t).await?.rows_affected();
            sqlx::query(thresholds).bind(person).execute(&mut **t).await?;
            Ok::<_, sqlx::Error>(n)
        })?;
        Ok(n)
    }
}
