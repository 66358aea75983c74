//! One connection per probe, bounded by the deadline, always closed.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use patchbay_core::{Endpoint, FailureReason, Result};
use sqlx::error::DatabaseError;
use sqlx::{ConnectOptions, Connection};
use tokio::time::{timeout_at, Instant};

use crate::classify::{classify_at, timeout_error};

/// A boxed, `Send` future borrowing for `'a` (what a probe body returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// When a probe started and when its phases must be done.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// When the probe started; latencies are measured from here.
    pub start: Instant,
    /// The whole probe ends here.
    pub deadline: Instant,
    /// Connecting (TCP, TLS, login) ends here: the deadline, or earlier
    /// with a configured connect timeout.
    pub connect_deadline: Instant,
}

impl Limits {
    /// Limits starting now.
    pub fn new(deadline: Instant, connect_timeout: Option<Duration>) -> Self {
        let start = Instant::now();
        let connect_deadline = connect_timeout.map_or(deadline, |t| deadline.min(start + t));
        Self {
            start,
            deadline,
            connect_deadline,
        }
    }

    /// Milliseconds since the start.
    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Time left until the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    fn budget_ms(&self, until: Instant) -> u128 {
        until.saturating_duration_since(self.start).as_millis()
    }
}

/// Opens one connection with the first of `options` that connects, runs
/// `body` on it and closes it, all before `limits` run out. `options` are
/// alternatives for the same server (one per checked address, in order):
/// the next is tried only when one fails with an I/O error (refused,
/// unreachable), as a client trying each address of a name would.
/// `by_address` says the options name addresses (no lookup happens, so no
/// failure is `dns`). Errors are classified with `db_reason` for server
/// errors; running out of time is `timeout`.
///
/// On success or a server error the connection is closed politely (the
/// server ends the session at once); on timeout it is dropped, which closes
/// the socket. Either way nothing stays open.
///
/// # Panics
/// When `options` is empty.
pub async fn with_connection<O, T, F>(
    options: &[O],
    by_address: bool,
    target: &Endpoint,
    limits: &Limits,
    db_reason: fn(&dyn DatabaseError) -> FailureReason,
    body: F,
) -> Result<T>
where
    O: ConnectOptions,
    O::Connection: Sized,
    T: Send,
    F: for<'c> FnOnce(&'c mut O::Connection) -> BoxFuture<'c, sqlx::Result<T>>,
{
    assert!(!options.is_empty(), "with_connection needs options");
    let mut conn = None;
    for (i, option) in options.iter().enumerate() {
        let last = i + 1 == options.len();
        match timeout_at(limits.connect_deadline, option.connect()).await {
            Ok(Ok(c)) => {
                conn = Some(c);
                break;
            }
            Ok(Err(sqlx::Error::Io(_))) if !last => continue,
            Ok(Err(e)) => {
                return Err(classify_at(e, target, by_address, limits.deadline, db_reason).await)
            }
            Err(_) => {
                let budget = limits.budget_ms(limits.connect_deadline);
                return Err(timeout_error(target, "connecting to", budget));
            }
        }
    }
    let mut conn = conn.expect("the last attempt returns unless it connected");
    match timeout_at(limits.deadline, body(&mut conn)).await {
        Ok(Ok(value)) => {
            close(conn, limits.deadline).await;
            Ok(value)
        }
        Ok(Err(e)) => {
            close(conn, limits.deadline).await;
            Err(classify_at(e, target, by_address, limits.deadline, db_reason).await)
        }
        Err(_) => {
            drop(conn);
            let budget = limits.budget_ms(limits.deadline);
            Err(timeout_error(target, "querying", budget))
        }
    }
}

/// Says goodbye to the server, but never past the deadline (dropping the
/// connection then closes the socket, which ends the session too).
async fn close<C: Connection>(conn: C, deadline: Instant) {
    // A failed goodbye changes nothing for the caller: the answer is in.
    let _ = timeout_at(deadline, conn.close()).await;
}
