//! Placeholders for statements built with many parameters (multi-row
//! inserts, a batch's look-ups): positional on SQLite, numbered on
//! PostgreSQL.

use crate::{Tx, TxInner};

impl Tx {
    /// `rows` tuples of `cols` placeholders, each ending with `extra`:
    /// positional `?` on SQLite (whose driver looks numbered parameters up
    /// by name, at a cost that grows with their square), `$N` on PostgreSQL.
    pub(crate) fn tuples(&self, rows: usize, cols: usize, extra: &str) -> String {
        let mut sql = String::with_capacity(rows * cols * 5);
        for i in 0..rows {
            if i > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..cols {
                if c > 0 {
                    sql.push(',');
                }
                sql.push_str(&self.mark(i * cols + c + 1));
            }
            sql.push_str(extra);
            sql.push(')');
        }
        sql
    }

    /// The `n`th (from 1) parameter's placeholder: `?` on SQLite, so a
    /// statement's parameters are bound in the order they appear, and
    /// `$n` on PostgreSQL (see [`Tx::tuples`]).
    pub(crate) fn mark(&self, n: usize) -> String {
        match self.inner {
            TxInner::Postgres(_) => format!("${n}"),
            TxInner::Sqlite(_) => "?".into(),
        }
    }
}
