//! A compact JSON writer for `serde::Serialize` values, byte for byte what `serde_json::to_vec`
//! writes (compact form, shortest round-trip floats through `zmij` as serde_json's, non-finite
//! floats as `null`, the same string escapes), whose string escaping scans 16 bytes at a time
//! with WebAssembly SIMD (8 at a time elsewhere).
//!
//! Why not serde_json's writer: it escapes strings one byte at a time, and a 300 KiB agent
//! request is almost all string bytes (prompts, tool descriptions, tool results).

use crate::read::RAW_VALUE_TOKEN;
use crate::scan::next_escape;
use serde::ser::{self, Serialize};
use std::fmt::{self, Display};

/// What can fail while writing: a map key that is not a string, or a value's own error.
#[derive(Debug)]
pub struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

type R = Result<(), Error>;

/// The writer: appends to a byte vector.
pub struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Writer { out }
    }
}

/// serde_json's short escapes; other control characters are `\u00XX` (lowercase hex).
fn escape_byte(out: &mut Vec<u8>, b: u8) {
    let short = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        0x0c => b'f',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        _ => 0,
    };
    if short != 0 {
        out.extend_from_slice(&[b'\\', short]);
    } else {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]);
    }
}

/// `s` as a JSON string, quotes included.
#[inline(never)]
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    while let Some(i) = next_escape(bytes, start) {
        if let (Some(run), Some(&b)) = (bytes.get(start..i), bytes.get(i)) {
            out.extend_from_slice(run);
            escape_byte(out, b);
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        out.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

fn write_int(out: &mut Vec<u8>, v: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// A sequence, map or struct being written: whether an entry was written yet, and the bytes
/// that close it (`]`, `}`, or `]}` / `}}` for an enum variant's). `raw`: a `RawValue` (such as
/// [`crate::read::Kept`]), a struct of one field whose text is written as it is.
pub struct Compound<'w, 'a> {
    w: &'w mut Writer<'a>,
    first: bool,
    close: &'static [u8],
    raw: bool,
}

impl Compound<'_, '_> {
    fn sep(&mut self) {
        if !self.first {
            self.w.out.push(b',');
        }
        self.first = false;
    }

    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> R {
        self.sep();
        value.serialize(&mut *self.w)
    }

    fn field<T: ?Sized + Serialize>(&mut self, key: &str, value: &T) -> R {
        self.sep();
        write_str(self.w.out, key);
        self.w.out.push(b':');
        value.serialize(&mut *self.w)
    }

    fn finish(self) -> R {
        self.w.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl<'w, 'a> Writer<'a> {
    fn open(&'w mut self, open: &[u8], close: &'static [u8]) -> Compound<'w, 'a> {
        self.out.extend_from_slice(open);
        Compound {
            w: self,
            first: true,
            close,
            raw: false,
        }
    }

    /// `{"variant":` before an enum variant's contents.
    fn variant_key(&mut self, variant: &str) {
        self.out.push(b'{');
        write_str(self.out, variant);
        self.out.push(b':');
    }
}

impl<'w, 'a> ser::Serializer for &'w mut Writer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'w, 'a>;
    type SerializeTuple = Compound<'w, 'a>;
    type SerializeTupleStruct = Compound<'w, 'a>;
    type SerializeTupleVariant = Compound<'w, 'a>;
    type SerializeMap = Compound<'w, 'a>;
    type SerializeStruct = Compound<'w, 'a>;
    type SerializeStructVariant = Compound<'w, 'a>;

    fn serialize_bool(self, v: bool) -> R {
        self.out.extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> R {
        write_int(self.out, v);
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> R {
        write_int(self.out, v);
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> R {
        write_int(self.out, v);
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> R {
        write_int(self.out, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> R {
        write_int(self.out, v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> R {
        write_int(self.out, v);
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> R {
        write_int(self.out, v);
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> R {
        write_int(self.out, v);
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> R {
        write_int(self.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> R {
        write_int(self.out, v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> R {
        if v.is_finite() {
            self.out
                .extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
        } else {
            self.out.extend_from_slice(b"null");
        }
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> R {
        write_f64(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> R {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> R {
        write_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> R {
        let mut seq = self.open(b"[", b"]");
        for b in v {
            seq.element(b)?;
        }
        seq.finish()
    }
    fn serialize_none(self) -> R {
        self.serialize_unit()
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_unit(self) -> R {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> R {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> R {
        write_str(self.out, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _name: &'static str, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> R {
        self.variant_key(variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Ok(self.open(b"[", b"]"))
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Self::SerializeTupleStruct, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(self, _: &str, _: u32, v: &str, _: usize) -> Result<Self::SerializeTupleVariant, Error> {
        self.variant_key(v);
        Ok(self.open(b"[", b"]}"))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Ok(self.open(b"{", b"}"))
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeStruct, Error> {
        if name == RAW_VALUE_TOKEN {
            let mut c = self.open(b"", b"");
            c.raw = true;
            return Ok(c);
        }
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &str,
        _: u32,
        v: &str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        self.variant_key(v);
        Ok(self.open(b"{", b"}}"))
    }
}

/// The sequence-like compounds: each element after a comma.
macro_rules! elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> R {
                self.element(value)
            }
            fn end(self) -> R {
                self.finish()
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> R {
        self.sep();
        key.serialize(KeyWriter {
            w: &mut *self.w,
            raw: false,
        })
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> R {
        self.w.out.push(b':');
        value.serialize(&mut *self.w)
    }
    fn end(self) -> R {
        self.finish()
    }
}

/// The struct-like compounds: `"key":value` after a comma.
macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> R {
                if self.raw {
                    return value.serialize(KeyWriter { w: &mut *self.w, raw: true });
                }
                self.field(key, value)
            }
            fn end(self) -> R {
                self.finish()
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

/// A map key: JSON keys are strings. Strings and characters are written as such, integers,
/// booleans and finite floats quoted (as serde_json does); anything else is an error. `raw`: the
/// text of a `RawValue` instead, a string written as it is.
struct KeyWriter<'w, 'a> {
    w: &'w mut Writer<'a>,
    raw: bool,
}

fn key_error() -> Error {
    Error("key must be a string".to_string())
}

impl KeyWriter<'_, '_> {
    fn quoted(self, text: &[u8]) -> R {
        self.w.out.push(b'"');
        self.w.out.extend_from_slice(text);
        self.w.out.push(b'"');
        Ok(())
    }
}

macro_rules! int_keys {
    ($($f:ident: $t:ty),*) => {$(
        fn $f(self, v: $t) -> R {
            self.quoted(itoa::Buffer::new().format(v).as_bytes())
        }
    )*};
}

impl ser::Serializer for KeyWriter<'_, '_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    int_keys!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_i128: i128,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_u128: u128);

    fn serialize_bool(self, v: bool) -> R {
        self.quoted(if v { b"true" } else { b"false" })
    }
    fn serialize_f32(self, v: f32) -> R {
        match v.is_finite() {
            true => self.quoted(zmij::Buffer::new().format_finite(v).as_bytes()),
            false => Err(Error("float key must be finite".to_string())),
        }
    }
    fn serialize_f64(self, v: f64) -> R {
        match v.is_finite() {
            true => self.quoted(zmij::Buffer::new().format_finite(v).as_bytes()),
            false => Err(Error("float key must be finite".to_string())),
        }
    }
    fn serialize_char(self, v: char) -> R {
        write_str(self.w.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> R {
        if self.raw {
            self.w.out.extend_from_slice(v.as_bytes());
        } else {
            write_str(self.w.out, v);
        }
        Ok(())
    }
    fn serialize_bytes(self, _v: &[u8]) -> R {
        Err(key_error())
    }
    fn serialize_none(self) -> R {
        Err(key_error())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> R {
        Err(key_error())
    }
    fn serialize_unit(self) -> R {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> R {
        Err(key_error())
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> R {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _name: &'static str, value: &T) -> R {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(self, _: &str, _: u32, _: &str, _: &T) -> R {
        Err(key_error())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_error())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_error())
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_error())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_error())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct, Error> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_error())
    }
}
