//! Reading a payload byte by byte, and the error that names the byte.

use std::fmt;

/// Why a payload could not be decoded, and at which byte (counted from 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Offset of the byte where decoding stopped.
    pub offset: usize,
    /// What was wrong there.
    pub kind: DecodeErrorKind,
}

/// What was wrong with a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The payload is empty.
    Empty,
    /// A channel's value runs past the end of the payload.
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes it needs.
        needed: usize,
        /// Bytes left.
        left: usize,
    },
    /// A channel (id and type) the model does not send.
    UnknownChannel {
        /// Channel id.
        id: u8,
        /// Channel type.
        kind: u8,
    },
    /// The payload does not start with a header the model sends.
    UnknownHeader {
        /// What the model's payloads start with.
        expected: &'static str,
    },
    /// A payload of a known header but the wrong length.
    WrongLength {
        /// Which payload.
        what: &'static str,
        /// Its length.
        expected: usize,
        /// The length received.
        got: usize,
    },
    /// The frame port does not carry readings for this model.
    WrongPort {
        /// The port received.
        port: u8,
        /// What the model uses.
        expected: &'static str,
    },
}

impl DecodeError {
    /// A short code for counting rejections by reason (`/metrics`).
    pub fn reason(&self) -> &'static str {
        match self.kind {
            DecodeErrorKind::Empty => "empty_payload",
            DecodeErrorKind::Truncated { .. } | DecodeErrorKind::WrongLength { .. } => {
                "payload_too_short"
            }
            DecodeErrorKind::UnknownChannel { .. } => "unknown_channel",
            DecodeErrorKind::UnknownHeader { .. } => "unknown_header",
            DecodeErrorKind::WrongPort { .. } => "wrong_port",
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match &self.kind {
            DecodeErrorKind::Empty => write!(f, "byte {at}: the payload is empty"),
            DecodeErrorKind::Truncated { what, needed, left } => write!(
                f,
                "byte {at}: {what} needs {needed} byte{}, the payload has {left} left",
                if *needed == 1 { "" } else { "s" }
            ),
            DecodeErrorKind::UnknownChannel { id, kind } => write!(
                f,
                "byte {at}: unknown channel 0x{id:02x} 0x{kind:02x} for this model"
            ),
            DecodeErrorKind::UnknownHeader { expected } => {
                write!(f, "byte {at}: the payload does not start with {expected}")
            }
            DecodeErrorKind::WrongLength {
                what,
                expected,
                got,
            } => write!(
                f,
                "byte {at}: {what} is {expected} bytes long, this payload has {got}"
            ),
            DecodeErrorKind::WrongPort { port, expected } => write!(
                f,
                "byte {at}: fPort {port} carries no readings for this model ({expected})"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A cursor over a payload.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    pub(crate) fn offset(&self) -> usize {
        self.at
    }

    pub(crate) fn is_done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    pub(crate) fn error(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            offset: self.at,
            kind,
        }
    }

    /// The next `n` bytes, or an error naming `what` at the current byte.
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let left = self.bytes.len() - self.at;
        if left < n {
            return Err(self.error(DecodeErrorKind::Truncated {
                what,
                needed: n,
                left,
            }));
        }
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    pub(crate) fn u16_le(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub(crate) fn u16_be(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32_le(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Lower-case hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    wherry_core::clock::hex(bytes)
}

/// Bytes from hex (either case, an even number of digits, spaces allowed
/// between bytes), or the offending character's position.
pub fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<(usize, char)> = text
        .char_indices()
        .filter(|(_, c)| !c.is_whitespace())
        .collect();
    if digits.len() % 2 != 0 {
        return Err(format!(
            "hex has an odd number of digits ({}): each byte is two",
            digits.len()
        ));
    }
    digits
        .chunks(2)
        .map(|pair| {
            let value = |(at, c): (usize, char)| {
                c.to_digit(16)
                    .ok_or_else(|| format!("character {} is not a hex digit", at + 1))
            };
            Ok((value(pair[0])? * 16 + value(pair[1])?) as u8)
        })
        .collect()
}
