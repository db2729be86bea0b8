//! Delivering alerts to the care system's webhook, at least once: each
//! alert is queued in the store's outbox in the same transaction that
//! raises it; the notifier posts it with an `Idempotency-Key` that is the
//! same on every attempt (so the receiver can drop repeats), retries with
//! exponential backoff until the receiver answers 2xx, and carries on
//! after a restart from what the outbox still owes. Each delivery is a
//! disclosure to another organisation, audited
//! before each attempt (`sensor_alert_delivery`, user `care_system`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use wherry_access::Access;
use wherry_core::{Purpose, Role};
use wherry_store::sensor_alerts::{Attempt, Delivery, StoredAlert};

/// The care system's endpoint.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// Where alerts are posted.
    pub url: String,
    /// Sent as `Authorization: Bearer …`, when set.
    pub bearer: Option<String>,
}

/// The first retry's wait; each further retry doubles it.
pub const FIRST_RETRY_MS: i64 = 1_000;

/// The longest wait between attempts.
pub const MAX_RETRY_MS: i64 = 15 * 60 * 1000;

/// The wait before attempt `attempts + 1` after `attempts` failures.
pub fn backoff_ms(attempts: i64) -> i64 {
    FIRST_RETRY_MS
        .saturating_mul(1i64 << attempts.clamp(0, 30))
        .min(MAX_RETRY_MS)
}

/// What the care system receives.
#[derive(Debug, serde::Serialize)]
struct Body<'a> {
    idempotency_key: &'a str,
    #[serde(flatten)]
    alert: &'a StoredAlert,
}

/// Starts the notifier: delivers what is due, then sleeps until the next
/// retry or until `raised` says a new alert is queued.
/// `holder` is whatever owns the hub's one [`Access`] (its audit writer
/// keeps the chain in order), `access` reads it from there.
pub fn spawn<H: Send + Sync + 'static>(
    holder: Arc<H>,
    access: fn(&H) -> &Access,
    webhook: Webhook,
    raised: Arc<Notify>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let access = access(&holder);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        loop {
            let now = wherry_core::clock::unix_ms();
            // A store that does not answer is asked again a second later
            // (not at the next alert raised, which may be hours away).
            let (due, answered) = match access.store().due_deliveries(now, 100).await {
                Ok(due) => (due.len(), deliver(access, &agent, &webhook, &due).await),
                Err(_) => (0, false),
            };
            if due == 100 && answered {
                continue;
            }
            let next = match access.store().next_delivery_ms().await {
                Ok(next) if answered => next,
                _ => Some(now + FIRST_RETRY_MS),
            };
            let wait = next.map_or(Duration::from_secs(3600), |at| {
                Duration::from_millis(
                    (at - wherry_core::clock::unix_ms()).clamp(0, MAX_RETRY_MS) as u64
                )
            });
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = raised.notified() => {}
            }
        }
    })
}

/// Deliveries posted at once.
const AT_ONCE: usize = 16;

/// One round: the alerts due are read, every attempt audited (in one
/// append, before any is made), posted (up to [`AT_ONCE`] at a time) and
/// their outcomes recorded together. False when the store did not answer
/// (what it could not read stays due, nothing is marked for it).
async fn deliver(
    access: &Access,
    agent: &ureq::Agent,
    webhook: &Webhook,
    due: &[Delivery],
) -> bool {
    let store = access.store();
    let now = wherry_core::clock::unix_ms();
    let mut outcomes: Vec<Attempt> = Vec::new();
    let mut sends: Vec<(&Delivery, String)> = Vec::new();
    let mut entries = Vec::new();
    let mut answered = true;
    for d in due {
        let alert = match store.alert(d.alert_id).await {
            Ok(Some(alert)) => alert,
            Err(_) => {
                answered = false;
                continue;
            }
            // Erased since it was raised: nothing left to send.
            Ok(None) => {
                outcomes.push(Attempt {
                    alert_id: d.alert_id,
                    delivered_ms: Some(now),
                    next_ms: 0,
                    error: Some("erased".into()),
                });
                continue;
            }
        };
        let Ok(body) = serde_json::to_string(&Body {
            idempotency_key: &d.idempotency_key,
            alert: &alert,
        }) else {
            continue;
        };
        let mut entry = wherry_access::Caller {
            user: "care_system".into(),
            role: Role::PartnerSystem,
            purpose: Purpose::DirectCare,
            break_glass: None,
            sources: Vec::new(),
        }
        .entry(
            "sensor_alert_delivery",
            Some(&alert.person_id),
            &d.idempotency_key,
        );
        entry.sources = format!("[\"{}\"]", wherry_access::sensors::SOURCE);
        entry.fields = "[\"alerts\"]".into();
        entries.push(entry);
        sends.push((d, body));
    }
    // Audited before they leave: attempts that cannot be audited are not made.
    let audited = access
        .record(entries)
        .await
        .map_err(|e| format!("not sent: {e}"));
    for group in sends.chunks(AT_ONCE) {
        let posts: Vec<_> = group
            .iter()
            .map(|(d, body)| {
                let (agent, webhook) = (agent.clone(), webhook.clone());
                let (key, body) = (d.idempotency_key.clone(), body.clone());
                let audited = audited.clone();
                tokio::task::spawn_blocking(move || {
                    audited.and_then(|()| post(&agent, &webhook, &key, &body))
                })
            })
            .collect();
        for ((d, _), sent) in group.iter().zip(posts) {
            let now = wherry_core::clock::unix_ms();
            let failed = match sent.await {
                Ok(Ok(status)) if (200..300).contains(&status) => None,
                Ok(Ok(status)) => Some(format!("the care system answered {status}")),
                Ok(Err(why)) => Some(why),
                Err(_) => Some("the delivery task failed".to_string()),
            };
            outcomes.push(Attempt {
                alert_id: d.alert_id,
                delivered_ms: failed.is_none().then_some(now),
                next_ms: now + backoff_ms(d.attempts),
                error: failed,
            });
        }
    }
    answered && store.deliveries_attempted(&outcomes).await.is_ok()
}

/// Posts one alert; the care system's HTTP status.
fn post(agent: &ureq::Agent, webhook: &Webhook, key: &str, body: &str) -> Result<u16, String> {
    let mut request = agent
        .post(&webhook.url)
        .header("content-type", "application/json")
        .header("idempotency-key", key);
    if let Some(token) = &webhook.bearer {
        request = request.header("authorization", &format!("Bearer {token}"));
    }
    request
        .send(body.as_bytes())
        .map(|r| r.status().as_u16())
        .map_err(|e| format!("the care system could not be reached: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_fifteen_minutes() {
        assert_eq!(backoff_ms(0), 1_000);
        assert_eq!(backoff_ms(3), 8_000);
        assert_eq!(backoff_ms(40), MAX_RETRY_MS);
    }
}
