//! PostgreSQL's COPY, for bulk writes: CSV lines or binary rows streamed a
//! megabyte at a time.

use crate::Error;

/// Appends one CSV line, every field quoted (as PostgreSQL's COPY reads it).
fn csv_line(buf: &mut Vec<u8>, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.push(b'"');
        for &b in f.as_bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    }
    buf.push(b'\n');
}

/// Streams CSV lines into a COPY already begun, a megabyte at a time.
pub(crate) async fn copy_lines<'a>(
    conn: &mut sqlx::PgConnection,
    statement: &str,
    lines: impl Iterator<Item = Vec<&'a str>>,
) -> Result<(), Error> {
    let mut copy = conn.copy_in_raw(statement).await?;
    let mut buf = Vec::with_capacity(1 << 20);
    for fields in lines {
        csv_line(&mut buf, &fields);
        if buf.len() >= 1 << 20 {
            copy.send(std::mem::take(&mut buf)).await?;
        }
    }
    if !buf.is_empty() {
        copy.send(buf).await?;
    }
    copy.finish().await?;
    Ok(())
}

/// One value of a binary COPY row.
pub(crate) enum Cell<'a> {
    Text(&'a str),
    Int(i64),
    Float(f64),
    Null,
}

/// Streams rows into a binary COPY (no quoting to add or for the server to
/// parse: a tenth of the bytes of a FHIR row are quotes), a megabyte at a time.
pub(crate) async fn copy_binary<'a>(
    conn: &mut sqlx::PgConnection,
    statement: &str,
    rows: impl Iterator<Item = Vec<Cell<'a>>>,
) -> Result<(), Error> {
    let mut copy = conn.copy_in_raw(statement).await?;
    let mut buf = Vec::with_capacity(1 << 20);
    // Signature, flags, header extension length.
    buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    buf.extend_from_slice(&0i32.to_be_bytes());
    buf.extend_from_slice(&0i32.to_be_bytes());
    for row in rows {
        buf.extend_from_slice(&(row.len() as i16).to_be_bytes());
        for cell in row {
            match cell {
                Cell::Text(t) => {
                    buf.extend_from_slice(&(t.len() as i32).to_be_bytes());
                    buf.extend_from_slice(t.as_bytes());
                }
                Cell::Int(n) => {
                    buf.extend_from_slice(&8i32.to_be_bytes());
                    buf.extend_from_slice(&n.to_be_bytes());
                }
                Cell::Float(x) => {
                    buf.extend_from_slice(&8i32.to_be_bytes());
                    buf.extend_from_slice(&x.to_be_bytes());
                }
                Cell::Null => buf.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        if buf.len() >= 1 << 20 {
            copy.send(std::mem::take(&mut buf)).await?;
        }
    }
    buf.extend_from_slice(&(-1i16).to_be_bytes());
    copy.send(buf).await?;
    copy.finish().await?;
    Ok(())
}
