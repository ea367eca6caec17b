//! A growable window over the input plus the small JSON walker built on it.
//!
//! The walker handles only the outer structure (objects and arrays we must
//! descend into); every value we want is parsed straight out of the window by
//! serde_json, which also tells us where the value ends. A value cut by the
//! window edge comes back as an EOF error: we read more (geometrically, so a
//! huge entry is re-parsed only a few times) and try again.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Read};

use serde::Deserialize;
use serde::de::{self, IgnoredAny, Visitor};
use serde_json::error::Category;

use crate::{Format, IngestError, Options, Position};

pub(crate) struct Chunked<R> {
    r: R,
    buf: Vec<u8>,
    pos: usize,
    /// Absolute offset of `buf[0]`.
    base: u64,
    eof: bool,
    opts: Options,
}

/// Where errors point: the file, its format and the record being read.
#[derive(Clone, Copy)]
pub(crate) struct Where<'a> {
    pub label: &'a str,
    pub format: Format,
    pub entry: Option<u64>,
}

impl Where<'_> {
    fn position(&self, byte: u64) -> Position {
        Position {
            entry: self.entry,
            line: None,
            byte: Some(byte),
        }
    }

    pub fn syntax(&self, byte: u64, message: impl Into<String>) -> IngestError {
        IngestError::Syntax {
            file: self.label.to_string(),
            format: self.format,
            position: self.position(byte),
            message: message.into(),
        }
    }

    pub fn truncated(&self, byte: u64) -> IngestError {
        IngestError::Truncated {
            file: self.label.to_string(),
            position: self.position(byte),
        }
    }

    fn io(&self, error: io::Error) -> IngestError {
        IngestError::io(self.label, error)
    }
}

/// A type constructor, so one parse routine can hand out values borrowing the window.
pub(crate) trait Family {
    type T<'de>: Deserialize<'de>;
}

pub(crate) struct Skip;
impl Family for Skip {
    type T<'de> = IgnoredAny;
}

pub(crate) struct Key;
impl Family for Key {
    type T<'de> = LStr<'de>;
}

/// Result of parsing one value.
pub(crate) enum Parsed<O> {
    Value(O),
    /// Valid JSON of the wrong shape; the value was skipped. Carries serde's reason.
    Shape(String),
}

enum Attempt<O> {
    Done(O, usize),
    More,
    Shape(String),
    Syntax(u64, String),
}

impl<R: Read> Chunked<R> {
    pub fn new(r: R, head: Vec<u8>, opts: Options) -> Self {
        // A UTF-8 byte order mark is not content; offsets still count it.
        let pos = if head.starts_with(b"\xef\xbb\xbf") {
            3
        } else {
            0
        };
        Chunked {
            r,
            buf: head,
            pos,
            base: 0,
            eof: false,
            opts,
        }
    }

    pub fn data(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub fn consume(&mut self, n: usize) {
        self.pos += n.min(self.buf.len() - self.pos);
    }

    /// Reads until at least `want` bytes are buffered past `pos`, or end of input.
    /// Returns whether anything was added.
    fn fill_to(&mut self, want: usize) -> io::Result<bool> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
        let before = self.buf.len();
        if before < want && !self.eof {
            // read_to_end grows the buffer as data arrives (no zero-filling a
            // whole chunk up front, which dominated reading many small files).
            let need = (want - before) as u64;
            let got = (&mut self.r).take(need).read_to_end(&mut self.buf)?;
            if (got as u64) < need {
                self.eof = true;
            }
        }
        Ok(self.buf.len() > before)
    }

    /// Reads another chunk (more, geometrically, when a record is already big).
    /// `Ok(false)` at end of input.
    pub fn more(&mut self, w: &Where<'_>) -> Result<bool, IngestError> {
        let have = self.data().len();
        if have >= self.opts.max_record {
            return Err(IngestError::TooLarge {
                file: w.label.to_string(),
                position: w.position(self.offset()),
                limit: self.opts.max_record,
            });
        }
        let want = (have + self.opts.chunk)
            .max(have.saturating_mul(2))
            .min(self.opts.max_record);
        self.fill_to(want).map_err(|e| w.io(e))
    }

    /// Skips whitespace and returns the next byte without consuming it; `None` at end of input.
    pub fn peek(&mut self, w: &Where<'_>) -> Result<Option<u8>, IngestError> {
        loop {
            let d = self.data();
            match d
                .iter()
                .position(|c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
            {
                Some(i) => {
                    let b = d[i];
                    self.pos += i;
                    return Ok(Some(b));
                }
                None => {
                    self.pos = self.buf.len();
                    if !self.more(w)? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Consumes `b` (after whitespace) or fails naming what was expected.
    pub fn expect(&mut self, b: u8, what: &str, w: &Where<'_>) -> Result<(), IngestError> {
        match self.peek(w)? {
            Some(x) if x == b => {
                self.pos += 1;
                Ok(())
            }
            Some(x) => Err(w.syntax(
                self.offset(),
                format!("expected {what}, found {:?}", x as char),
            )),
            None => Err(w.truncated(self.offset())),
        }
    }

    /// Parses the next JSON value as `F::T` and hands it to `f`. Valid JSON of
    /// the wrong shape is skipped and reported as [`Parsed::Shape`].
    pub fn value<F: Family, O>(
        &mut self,
        w: &Where<'_>,
        f: impl for<'de> FnOnce(F::T<'de>) -> O,
    ) -> Result<Parsed<O>, IngestError> {
        if self.peek(w)?.is_none() {
            return Err(w.truncated(self.offset()));
        }
        let mut f = Some(f);
        loop {
            let attempt = {
                let data = &self.buf[self.pos..];
                let mut it = serde_json::Deserializer::from_slice(data).into_iter::<F::T<'_>>();
                let res = it.next();
                let n = it.byte_offset();
                match res {
                    Some(Ok(v)) => {
                        // A number or literal ending exactly at the window edge may go on.
                        let open = n == data.len()
                            && !self.eof
                            && data.last().is_some_and(|c| c.is_ascii_alphanumeric());
                        if open {
                            Attempt::More
                        } else {
                            match f.take() {
                                Some(f) => Attempt::Done(f(v), n),
                                None => Attempt::Shape("internal: value handled twice".into()),
                            }
                        }
                    }
                    Some(Err(e)) if e.is_eof() => Attempt::More,
                    None => Attempt::More,
                    Some(Err(e)) if e.classify() == Category::Data => Attempt::Shape(e.to_string()),
                    Some(Err(e)) => Attempt::Syntax(error_offset(data, &e), e.to_string()),
                }
            };
            match attempt {
                Attempt::Done(o, n) => {
                    self.pos += n;
                    return Ok(Parsed::Value(o));
                }
                Attempt::More => {
                    if !self.more(w)? {
                        return Err(w.truncated(self.offset()));
                    }
                }
                Attempt::Shape(msg) => {
                    // Skip the value; this also finds syntax errors inside it.
                    self.value::<Skip, ()>(w, ignore as fn(IgnoredAny))?;
                    return Ok(Parsed::Shape(msg));
                }
                Attempt::Syntax(at, msg) => {
                    return Err(w.syntax(self.offset() + at, msg));
                }
            }
        }
    }

    /// Walks an object: `on_key` is called with the window positioned on each value
    /// and must consume it.
    pub fn object(
        &mut self,
        w: &Where<'_>,
        mut on_key: impl FnMut(&mut Self, &str) -> Result<(), IngestError>,
    ) -> Result<(), IngestError> {
        self.expect(b'{', "'{'", w)?;
        if self.peek(w)? == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if self.peek(w)? != Some(b'"') {
                return self.unexpected(w, "a key");
            }
            let key = match self.value::<Key, _>(w, |k| k.0.map(Cow::into_owned))? {
                Parsed::Value(Some(k)) => k,
                _ => return Err(w.syntax(self.offset(), "expected a key")),
            };
            self.expect(b':', "':'", w)?;
            on_key(self, &key)?;
            match self.peek(w)? {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return self.unexpected(w, "',' or '}'"),
            }
        }
    }

    /// Walks an array: `on_elem` is called with the 0-based index and the window
    /// positioned on each element, and must consume it.
    pub fn array(
        &mut self,
        w: &Where<'_>,
        mut on_elem: impl FnMut(&mut Self, u64) -> Result<(), IngestError>,
    ) -> Result<(), IngestError> {
        self.expect(b'[', "'['", w)?;
        if self.peek(w)? == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        let mut i = 0u64;
        loop {
            on_elem(self, i)?;
            i += 1;
            match self.peek(w)? {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return self.unexpected(w, "',' or ']'"),
            }
        }
    }

    fn unexpected(&mut self, w: &Where<'_>, what: &str) -> Result<(), IngestError> {
        match self.peek(w)? {
            None => Err(w.truncated(self.offset())),
            Some(x) => Err(w.syntax(
                self.offset(),
                format!("expected {what}, found {:?}", x as char),
            )),
        }
    }

    pub fn skip_value(&mut self, w: &Where<'_>) -> Result<(), IngestError> {
        self.value::<Skip, ()>(w, ignore as fn(IgnoredAny))
            .map(|_| ())
    }
}

fn ignore(_: IgnoredAny) {}

/// Byte offset of a serde_json error inside `data` (serde reports line and byte column).
fn error_offset(data: &[u8], e: &serde_json::Error) -> u64 {
    let line_start = if e.line() <= 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', data)
            .nth(e.line() - 2)
            .map_or(data.len(), |i| i + 1)
    };
    (line_start + e.column().saturating_sub(1)).min(data.len()) as u64
}

/// A string if the value is one; anything else is accepted and dropped, so a
/// stray type in a field we only read for context never costs the whole record.
#[derive(Debug, Default)]
pub(crate) struct LStr<'a>(pub Option<Cow<'a, str>>);

impl<'a> LStr<'a> {
    pub fn owned(self) -> Option<String> {
        self.0.map(Cow::into_owned)
    }

    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for LStr<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = LStr<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(LStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(LStr(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(LStr(Some(Cow::Owned(v))))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(LStr(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(LStr(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(LStr(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(LStr(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(LStr(None))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(LStr(None))
            }
            fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                LStr::deserialize(d)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LStr(None))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                // With arbitrary_precision a number also arrives here; dropped like any non-string.
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LStr(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A list that drops (instead of failing on) a non-array value.
#[derive(Debug)]
pub(crate) struct LVec<T>(pub Vec<T>);

impl<T> Default for LVec<T> {
    fn default() -> Self {
        LVec(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for LVec<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = LVec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(LVec(v))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LVec(Vec::new()))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(LVec(Vec::new()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(LVec(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(LVec(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(LVec(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(LVec(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(LVec(Vec::new()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}
