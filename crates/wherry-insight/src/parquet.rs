//! A small Apache Parquet writer for extracts: one row group, one
//! uncompressed data page (v1) per column, PLAIN values, every column
//! optional (nulls as definition levels, RLE/bit-packed), UTF-8 strings
//! and 64-bit integers; the file metadata in Thrift's compact protocol.
//! Written here rather than pulling arrow and parquet (minutes of build
//! for two column types); checked by reading its files with pyarrow and
//! DuckDB (the extract's test).

/// A column's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// UTF-8 strings.
    Text(Vec<Option<String>>),
    /// 64-bit integers.
    Int(Vec<Option<i64>>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Text(v) => v.len(),
            Values::Int(v) => v.len(),
        }
    }
    fn present(&self) -> Vec<bool> {
        match self {
            Values::Text(v) => v.iter().map(Option::is_some).collect(),
            Values::Int(v) => v.iter().map(Option::is_some).collect(),
        }
    }
}

/// Thrift compact protocol, as much as Parquet's metadata needs.
#[derive(Default)]
struct Thrift {
    out: Vec<u8>,
    last: Vec<i16>,
}

const I32: u8 = 5;
const I64: u8 = 6;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const STRUCT: u8 = 12;

impl Thrift {
    fn varint(&mut self, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.out.push(b);
                return;
            }
            self.out.push(b | 0x80);
        }
    }
    fn zigzag(&mut self, v: i64) {
        self.varint(((v << 1) ^ (v >> 63)) as u64);
    }
    fn field(&mut self, id: i16, kind: u8) {
        let last = self.last.last_mut().expect("inside a struct");
        let delta = id - *last;
        *last = id;
        if (1..=15).contains(&delta) {
            self.out.push(((delta as u8) << 4) | kind);
        } else {
            self.out.push(kind);
            self.zigzag(i64::from(id));
        }
    }
    fn begin(&mut self) {
        self.last.push(0);
    }
    fn end(&mut self) {
        self.out.push(0);
        self.last.pop();
    }
    fn i32(&mut self, id: i16, v: i32) {
        self.field(id, I32);
        self.zigzag(i64::from(v));
    }
    fn i64(&mut self, id: i16, v: i64) {
        self.field(id, I64);
        self.zigzag(v);
    }
    fn string(&mut self, id: i16, v: &str) {
        self.field(id, BINARY);
        self.varint(v.len() as u64);
        self.out.extend_from_slice(v.as_bytes());
    }
    fn list(&mut self, id: i16, kind: u8, n: usize) {
        self.field(id, LIST);
        if n < 15 {
            self.out.push(((n as u8) << 4) | kind);
        } else {
            self.out.push(0xf0 | kind);
            self.varint(n as u64);
        }
    }
    fn struct_field(&mut self, id: i16) {
        self.field(id, STRUCT);
        self.begin();
    }
}

/// Definition levels (bit width 1) as one bit-packed run, with the v1
/// page's 4-byte length prefix.
fn levels(present: &[bool]) -> Vec<u8> {
    let groups = present.len().div_ceil(8);
    let mut run = Vec::with_capacity(groups + 5);
    let mut header = ((groups as u64) << 1) | 1;
    loop {
        let b = (header & 0x7f) as u8;
        header >>= 7;
        if header == 0 {
            run.push(b);
            break;
        }
        run.push(b | 0x80);
    }
    for chunk in present.chunks(8) {
        run.push(
            chunk
                .iter()
                .enumerate()
                .fold(0u8, |b, (i, p)| b | (u8::from(*p) << i)),
        );
    }
    let mut out = (run.len() as u32).to_le_bytes().to_vec();
    out.extend(run);
    out
}

/// The file: `columns` (name, values; all the same length) as Parquet.
pub fn write(columns: &[(String, Values)]) -> Vec<u8> {
    let rows = columns.first().map_or(0, |c| c.1.len());
    assert!(columns.iter().all(|c| c.1.len() == rows), "ragged columns");
    let mut file = b"PAR1".to_vec();
    let mut chunks = Vec::new();
    for (_, values) in columns {
        let mut data = levels(&values.present());
        match values {
            Values::Text(v) => {
                for s in v.iter().flatten() {
                    data.extend((s.len() as u32).to_le_bytes());
                    data.extend(s.as_bytes());
                }
            }
            Values::Int(v) => {
                for i in v.iter().flatten() {
                    data.extend(i.to_le_bytes());
                }
            }
        }
        let mut h = Thrift::default();
        h.begin();
        h.i32(1, 0); // DATA_PAGE
        h.i32(2, data.len() as i32);
        h.i32(3, data.len() as i32);
        h.struct_field(5);
        h.i32(1, rows as i32);
        h.i32(2, 0); // PLAIN
        h.i32(3, 3); // RLE
        h.i32(4, 3); // RLE
        h.end();
        h.end();
        let offset = file.len() as i64;
        let size = (h.out.len() + data.len()) as i64;
        file.extend(h.out);
        file.extend(data);
        chunks.push((offset, size));
    }
    let physical = |v: &Values| match v {
        Values::Text(_) => 6, // BYTE_ARRAY
        Values::Int(_) => 2,  // INT64
    };
    let mut m = Thrift::default();
    m.begin();
    m.i32(1, 1);
    m.list(2, STRUCT, columns.len() + 1);
    m.begin();
    m.string(4, "schema");
    m.i32(5, columns.len() as i32);
    m.end();
    for (name, values) in columns {
        m.begin();
        m.i32(1, physical(values));
        m.i32(3, 1); // OPTIONAL
        m.string(4, name);
        if matches!(values, Values::Text(_)) {
            m.i32(6, 0); // UTF8
        }
        m.end();
    }
    m.i64(3, rows as i64);
    m.list(4, STRUCT, 1);
    m.begin();
    m.list(1, STRUCT, columns.len());
    for ((name, values), (offset, size)) in columns.iter().zip(&chunks) {
        m.begin();
        m.i64(2, *offset);
        m.struct_field(3);
        m.i32(1, physical(values));
        m.list(2, I32, 2);
        m.zigzag(0); // PLAIN
        m.zigzag(3); // RLE
        m.list(3, BINARY, 1);
        m.varint(name.len() as u64);
        m.out.extend_from_slice(name.as_bytes());
        m.i32(4, 0); // UNCOMPRESSED
        m.i64(5, rows as i64);
        m.i64(6, *size);
        m.i64(7, *size);
        m.i64(9, *offset);
        m.end();
        m.end();
    }
    m.i64(2, chunks.iter().map(|c| c.1).sum());
    m.i64(3, rows as i64);
    m.end();
    m.string(6, "wherry");
    m.end();
    let len = m.out.len() as u32;
    file.extend(m.out);
    file.extend(len.to_le_bytes());
    file.extend(b"PAR1");
    file
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_framed_and_its_levels_bit_packed() {
        let f = write(&[
            ("a".into(), Values::Text(vec![Some("x".into()), None])),
            ("b".into(), Values::Int(vec![None, Some(7)])),
        ]);
        assert!(f.starts_with(b"PAR1") && f.ends_with(b"PAR1"));
        let n = f.len();
        let meta = u32::from_le_bytes(f[n - 8..n - 4].try_into().unwrap()) as usize;
        assert!(meta > 20 && meta < n);
        // 10 present of 10, then 1 of 3: one group of 8, two groups.
        assert_eq!(levels(&[true; 3]), vec![2, 0, 0, 0, 3, 0b111]);
        assert_eq!(levels(&[true, false, true]), vec![2, 0, 0, 0, 3, 0b101]);
        assert_eq!(levels(&[true; 9])[4..], [5, 0xff, 1]);
    }
}
