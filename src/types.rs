//! The ClickHouse type grammar: parses every type name the server prints into a [`TypeDesc`] tree and
//! prints it back in canonical form.
//!
//! The grammar is small: `Name` or `Name(arg, arg, …)`, where an argument is a nested type, a number, a
//! quoted string (`'…'` with backslash escapes), an enum member (`'name' = -3`), or a named element
//! (`name Type`, for named tuples and `Nested`). A few types carry argument lists that are not types
//! (`AggregateFunction(quantiles(0.5), UInt64)`, `JSON(max_dynamic_paths = 8, a.b UInt32, SKIP c)`,
//! `Dynamic(max_types = 3)`); those keep their arguments as raw, balanced text. Syntax errors carry the
//! byte position where parsing stopped.

use crate::error::{Error, Result};
use std::borrow::Cow;
use std::fmt;

/// Upper bound on nesting depth, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

/// A parsed ClickHouse data type.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum TypeDesc {
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    UInt128,
    UInt256,
    Int8,
    Int16,
    Int32,
    Int64,
    Int128,
    Int256,
    Float32,
    Float64,
    BFloat16,
    Bool,
    /// `Decimal(P, S)`; `Decimal32(S)` … `Decimal256(S)` are normalised to their precision.
    Decimal {
        precision: u8,
        scale: u8,
    },
    String,
    FixedString(usize),
    Uuid,
    Ipv4,
    Ipv6,
    Date,
    Date32,
    DateTime(Option<String>),
    DateTime64(u8, Option<String>),
    Time,
    Time64(u8),
    Enum8(Vec<(String, i8)>),
    Enum16(Vec<(String, i16)>),
    /// `IntervalSecond`, `IntervalDay`, …: the unit after `Interval`.
    Interval(String),
    Nothing,
    Nullable(Box<TypeDesc>),
    Array(Box<TypeDesc>),
    /// Elements with their names for named tuples.
    Tuple(Vec<(Option<String>, TypeDesc)>),
    Map(Box<TypeDesc>, Box<TypeDesc>),
    LowCardinality(Box<TypeDesc>),
    Nested(Vec<(String, TypeDesc)>),
    SimpleAggregateFunction(String, Box<TypeDesc>),
    Point,
    Ring,
    LineString,
    MultiPoint,
    MultiLineString,
    Polygon,
    MultiPolygon,
    /// `Variant(T1, T2, …)`: the alternatives in the server's order (sorted by name), which is the order
    /// of their discriminators.
    Variant(Vec<TypeDesc>),
    /// `Dynamic` or `Dynamic(max_types=N)`: any type, each value with its own.
    Dynamic {
        /// The most types stored as their own columns (the server's default is 32).
        max_types: Option<u64>,
    },
    /// The `JSON` object type with its parameters.
    Json(Box<JsonType>),
    /// `QBit(T, dimension[, stride])`: a vector of `dimension` values of `T` (Int8, BFloat16, Float32
    /// or Float64) stored as bit planes, in groups of `stride` dimensions (all in one group when
    /// `None`).
    QBit {
        element: Box<TypeDesc>,
        dimension: u64,
        stride: Option<u64>,
    },
    /// `Geometry`: one of the geo types, stored as
    /// `Variant(LineString, MultiLineString, MultiPolygon, Point, Polygon, Ring, MultiPoint)` (in this
    /// order, the server's).
    Geometry,
    /// `AggregateFunction([version, ]f(params), T…)`: intermediate states of the aggregate function
    /// `function` (its name with parameters as written, e.g. `quantiles(0.5, 0.9)`) over arguments
    /// `args`.
    AggregateFunction {
        /// The state's serialization version, when the server names one (`sumMap` does).
        version: Option<u64>,
        function: String,
        args: Vec<TypeDesc>,
    },
    /// A type whose arguments are kept as raw text: `Object`, and any name this grammar does not know.
    /// The codec rejects these with a clear error.
    Opaque {
        name: String,
        args: Option<String>,
    },
}

/// The parameters of a `JSON` type, in the server's canonical order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct JsonType {
    /// `max_dynamic_types=N`: most types per dynamic path before values go to its shared variant.
    pub max_dynamic_types: Option<u64>,
    /// `max_dynamic_paths=N`: most paths stored as their own columns before the rest go to shared
    /// data.
    pub max_dynamic_paths: Option<u64>,
    /// Paths declared with a type, sorted by path.
    pub typed_paths: Vec<(String, TypeDesc)>,
    /// `SKIP path`: paths (and their sub-paths) not stored.
    pub skip: Vec<String>,
    /// `SKIP REGEXP '…'`: path patterns not stored.
    pub skip_regexp: Vec<String>,
}

impl TypeDesc {
    /// Parses a type name as ClickHouse prints it.
    pub fn parse(input: &str) -> Result<TypeDesc> {
        let mut p = Parser { s: input.as_bytes(), pos: 0, input };
        p.ws();
        let t = p.parse_type(0)?;
        p.ws();
        if p.pos != p.s.len() {
            return Err(p.err("unexpected text after the type"));
        }
        Ok(t)
    }

    /// Whether this is a single value's type: not `Nullable`, `LowCardinality`, an array, tuple, map,
    /// `Nested`, geo type, `SimpleAggregateFunction`, `Variant`, `Nothing` or an opaque type.
    pub fn is_scalar(&self) -> bool {
        use TypeDesc::*;
        !matches!(
            self,
            Nullable(_)
                | LowCardinality(_)
                | Array(_)
                | Tuple(_)
                | Map(..)
                | Nested(_)
                | Point
                | Ring
                | LineString
                | MultiPoint
                | MultiLineString
                | Polygon
                | MultiPolygon
                | SimpleAggregateFunction(..)
                | Variant(_)
                | Dynamic { .. }
                | Json(_)
                | QBit { .. }
                | AggregateFunction { .. }
                | Geometry
                | Nothing
                | Opaque { .. }
        )
    }

    /// Whether this type or any type inside it (elements, keys and values, alternatives, typed JSON
    /// paths) satisfies `f`.
    pub fn contains(&self, f: &impl Fn(&TypeDesc) -> bool) -> bool {
        use TypeDesc::*;
        f(self)
            || match self {
                Nullable(i) | Array(i) | LowCardinality(i) | SimpleAggregateFunction(_, i) => i.contains(f),
                QBit { element, .. } => element.contains(f),
                Map(k, v) => k.contains(f) || v.contains(f),
                Tuple(items) => items.iter().any(|(_, t)| t.contains(f)),
                Nested(items) => items.iter().any(|(_, t)| t.contains(f)),
                Variant(items) => items.iter().any(|t| t.contains(f)),
                Json(j) => j.typed_paths.iter().any(|(_, t)| t.contains(f)),
                AggregateFunction { args, .. } => args.iter().any(|t| t.contains(f)),
                _ => false,
            }
    }

    /// The time zones of the type's date-times, at any depth, each once (`None`: the server's).
    pub fn time_zones(&self) -> Vec<Option<String>> {
        fn walk(t: &TypeDesc, out: &mut Vec<Option<String>>) {
            use TypeDesc::*;
            match t {
                DateTime(z) | DateTime64(_, z) if !out.contains(z) => out.push(z.clone()),
                Nullable(i) | Array(i) | LowCardinality(i) | SimpleAggregateFunction(_, i) => walk(i, out),
                Map(k, v) => {
                    walk(k, out);
                    walk(v, out);
                }
                Tuple(items) => items.iter().for_each(|(_, t)| walk(t, out)),
                Nested(items) => items.iter().for_each(|(_, t)| walk(t, out)),
                Variant(items) => items.iter().for_each(|t| walk(t, out)),
                Json(j) => j.typed_paths.iter().for_each(|(_, t)| walk(t, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }

    /// The type its Native columns are laid out as, the one normalisation the codec applies: the geo
    /// types as tuples and arrays of points (`Point` = `Tuple(Float64, Float64)`, `Ring`/`LineString`/`MultiPoint` =
    /// `Array(Point)`, `Polygon`/`MultiLineString` = `Array(Ring)`, `MultiPolygon` = `Array(Polygon)`),
    /// `Geometry` as the variant of those, `Nested(a T, …)` as `Array(Tuple(a T, …))`,
    /// `SimpleAggregateFunction(f, T)` as `T`. Every other
    /// type is its own layout (borrowed back). Only the outermost type is rewritten; elements are
    /// normalised when the codec builds their columns.
    ///
    /// ```
    /// use clickhouse_connect::types::TypeDesc;
    /// let t = TypeDesc::parse("SimpleAggregateFunction(max, Ring)").unwrap();
    /// assert_eq!(t.physical().to_string(), "Array(Tuple(Float64, Float64))");
    /// ```
    pub fn physical(&self) -> Cow<'_, TypeDesc> {
        use TypeDesc as T;
        let point = || T::Tuple(vec![(None, T::Float64), (None, T::Float64)]);
        let arrays = |depth: usize| (0..depth).fold(point(), |t, _| T::Array(Box::new(t)));
        let mut t = Cow::Borrowed(self);
        loop {
            let next = match t.as_ref() {
                T::SimpleAggregateFunction(_, inner) => inner.as_ref().clone(),
                T::Point => point(),
                T::Ring | T::LineString | T::MultiPoint => arrays(1),
                T::Polygon | T::MultiLineString => arrays(2),
                T::MultiPolygon => arrays(3),
                // 26.9's order: by name, and MultiPoint (added later) last.
                T::Geometry => T::Variant(vec![
                    T::LineString,
                    T::MultiLineString,
                    T::MultiPolygon,
                    T::Point,
                    T::Polygon,
                    T::Ring,
                    T::MultiPoint,
                ]),
                T::Nested(elems) => {
                    T::Array(Box::new(T::Tuple(elems.iter().map(|(n, t)| (Some(n.clone()), t.clone())).collect())))
                }
                _ => return t,
            };
            t = Cow::Owned(next);
        }
    }

    /// Size in bytes of one value when the type is fixed-width in Native format.
    pub fn fixed_size(&self) -> Option<usize> {
        use TypeDesc::*;
        Some(match self {
            UInt8 | Int8 | Bool | Enum8(_) => 1,
            UInt16 | Int16 | Date | Enum16(_) | BFloat16 => 2,
            UInt32 | Int32 | Float32 | Date32 | DateTime(_) | Ipv4 | Time => 4,
            UInt64 | Int64 | Float64 | DateTime64(..) | Time64(_) | Interval(_) => 8,
            UInt128 | Int128 | Uuid | Ipv6 => 16,
            UInt256 | Int256 => 32,
            Decimal { precision, .. } => decimal_size(*precision),
            FixedString(n) => *n,
            Nothing => 1,
            Point => return None,
            _ => return None,
        })
    }
}

/// Bytes of a `Decimal(P, S)` value: the smallest of 4/8/16/32 that holds P digits.
pub fn decimal_size(precision: u8) -> usize {
    match precision {
        0..=9 => 4,
        10..=18 => 8,
        19..=38 => 16,
        _ => 32,
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    input: &'a str,
}

impl<'a> Parser<'a> {
    fn err(&self, message: &str) -> Error {
        Error::TypeSyntax { input: self.input.to_string(), position: self.pos, message: message.to_string() }
    }

    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        if self.eat(c) { Ok(()) } else { Err(self.err(&format!("expected '{}'", c as char))) }
    }

    fn ident(&mut self) -> Result<&'a str> {
        self.ws();
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' {
                self.pos += 1;
            } else {
                break;
            }
        }
        if start == self.pos {
            return Err(self.err("expected a type name"));
        }
        Ok(&self.input[start..self.pos])
    }

    /// An element name: a bare identifier or a back-quoted one.
    fn element_name(&mut self) -> Result<String> {
        self.ws();
        if self.peek() == Some(b'`') {
            self.pos += 1;
            let mut out = Vec::new();
            loop {
                match self.peek() {
                    None => return Err(self.err("unterminated `name`")),
                    Some(b'`') => {
                        self.pos += 1;
                        if self.peek() == Some(b'`') {
                            out.push(b'`');
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                    Some(b'\\') if self.pos + 1 < self.s.len() => {
                        out.push(self.s[self.pos + 1]);
                        self.pos += 2;
                    }
                    Some(c) => {
                        out.push(c);
                        self.pos += 1;
                    }
                }
            }
            return String::from_utf8(out).map_err(|_| self.err("element name is not UTF-8"));
        }
        Ok(self.ident()?.to_string())
    }

    fn quoted(&mut self) -> Result<String> {
        self.ws();
        if self.peek() != Some(b'\'') {
            return Err(self.err("expected a quoted string"));
        }
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(c) = self.peek() else { return Err(self.err("unterminated string")) };
            self.pos += 1;
            match c {
                b'\'' => {
                    if self.peek() == Some(b'\'') {
                        out.push(b'\'');
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                b'\\' => {
                    let Some(e) = self.peek() else { return Err(self.err("unterminated escape")) };
                    self.pos += 1;
                    out.push(escaped(e));
                }
                c => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| self.err("string is not UTF-8"))
    }

    fn integer(&mut self) -> Result<i64> {
        self.ws();
        let start = self.pos;
        if matches!(self.peek(), Some(b'-') | Some(b'+')) {
            self.pos += 1;
        }
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.input[start..self.pos].parse().map_err(|_| {
            self.pos = start;
            self.err("expected an integer")
        })
    }

    fn small<T: TryFrom<i64>>(&mut self, what: &str) -> Result<T> {
        let start = self.pos;
        let v = self.integer()?;
        T::try_from(v).map_err(|_| {
            self.pos = start;
            self.err(&format!("{what} out of range"))
        })
    }

    /// Raw, balanced argument text up to the closing parenthesis (which is consumed).
    fn raw_args(&mut self) -> Result<String> {
        let start = self.pos;
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'\'' | b'`' | b'"' => {
                    self.pos += 1;
                    loop {
                        match self.peek() {
                            None => return Err(self.err("unterminated quote")),
                            Some(b'\\') => self.pos += 2,
                            Some(q) if q == c => {
                                self.pos += 1;
                                break;
                            }
                            Some(_) => self.pos += 1,
                        }
                    }
                    continue;
                }
                b'(' => depth += 1,
                b')' if depth == 0 => {
                    let raw = self.input[start..self.pos].trim().to_string();
                    self.pos += 1;
                    return Ok(raw);
                }
                b')' => depth -= 1,
                _ => {}
            }
            self.pos += 1;
        }
        Err(self.err("expected ')'"))
    }

    fn optional_tz(&mut self) -> Result<Option<String>> {
        if self.eat(b'(') {
            let tz = self.quoted()?;
            self.expect(b')')?;
            Ok(Some(tz))
        } else {
            Ok(None)
        }
    }

    fn one_arg(&mut self, depth: usize) -> Result<Box<TypeDesc>> {
        self.expect(b'(')?;
        let t = self.parse_type(depth + 1)?;
        self.expect(b')')?;
        Ok(Box::new(t))
    }

    /// Either `name Type` or a plain `Type`, as in tuple elements.
    fn maybe_named(&mut self, depth: usize) -> Result<(Option<String>, TypeDesc)> {
        self.ws();
        let save = self.pos;
        if self.peek() == Some(b'`') {
            let name = self.element_name()?;
            return Ok((Some(name), self.parse_type(depth + 1)?));
        }
        let first = self.ident()?;
        let after = self.pos;
        self.ws();
        if self.pos > after && matches!(self.peek(), Some(c) if c.is_ascii_alphabetic() || c == b'_') {
            return Ok((Some(first.to_string()), self.parse_type(depth + 1)?));
        }
        self.pos = save;
        Ok((None, self.parse_type(depth + 1)?))
    }

    fn enum_members<T: TryFrom<i64>>(&mut self) -> Result<Vec<(String, T)>> {
        self.expect(b'(')?;
        let mut out = Vec::new();
        loop {
            let name = self.quoted()?;
            let value = if self.eat(b'=') {
                self.small::<T>("enum value")?
            } else {
                T::try_from(out.len() as i64 + 1).map_err(|_| self.err("too many enum members"))?
            };
            out.push((name, value));
            if !self.eat(b',') {
                break;
            }
        }
        self.expect(b')')?;
        Ok(out)
    }

    /// A keyword (ASCII, any case) followed by a non-identifier character.
    fn keyword(&mut self, word: &str) -> Result<()> {
        if self.try_keyword(word) { Ok(()) } else { Err(self.err(&format!("expected {word}"))) }
    }

    fn try_keyword(&mut self, word: &str) -> bool {
        self.ws();
        let end = self.pos + word.len();
        let matches = self.s.get(self.pos..end).is_some_and(|w| w.eq_ignore_ascii_case(word.as_bytes()))
            && !self.s.get(end).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.');
        if matches {
            self.pos = end;
        }
        matches
    }

    /// The arguments of `JSON(…)` after the opening parenthesis: settings, typed paths, `SKIP` paths
    /// and `SKIP REGEXP` patterns, in any order; kept in the server's order (typed paths sorted).
    fn json_args(&mut self, depth: usize) -> Result<JsonType> {
        let mut j = JsonType::default();
        if self.eat(b')') {
            return Ok(j);
        }
        loop {
            if self.try_keyword("max_dynamic_paths") {
                self.expect(b'=')?;
                j.max_dynamic_paths = Some(self.small::<u64>("max_dynamic_paths")?);
            } else if self.try_keyword("max_dynamic_types") {
                self.expect(b'=')?;
                j.max_dynamic_types = Some(self.small::<u64>("max_dynamic_types")?);
            } else if self.try_keyword("SKIP") {
                if self.try_keyword("REGEXP") {
                    j.skip_regexp.push(self.quoted()?);
                } else {
                    j.skip.push(self.element_name()?);
                }
            } else {
                let path = self.element_name()?;
                let t = self.parse_type(depth + 1)?;
                j.typed_paths.push((path, t));
            }
            if !self.eat(b',') {
                break;
            }
        }
        self.expect(b')')?;
        j.typed_paths.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(j)
    }

    fn parse_type(&mut self, depth: usize) -> Result<TypeDesc> {
        if depth > MAX_DEPTH {
            return Err(self.err("type nested too deeply"));
        }
        let name_pos = {
            self.ws();
            self.pos
        };
        let name = self.ident()?;
        use TypeDesc::*;
        let t = match name {
            "UInt8" => UInt8,
            "UInt16" => UInt16,
            "UInt32" => UInt32,
            "UInt64" => UInt64,
            "UInt128" => UInt128,
            "UInt256" => UInt256,
            "Int8" => Int8,
            "Int16" => Int16,
            "Int32" => Int32,
            "Int64" => Int64,
            "Int128" => Int128,
            "Int256" => Int256,
            "Float32" => Float32,
            "Float64" => Float64,
            "BFloat16" => BFloat16,
            "Bool" => Bool,
            "String" => String,
            "UUID" => Uuid,
            "IPv4" => Ipv4,
            "IPv6" => Ipv6,
            "Date" => Date,
            "Date32" => Date32,
            "Time" => Time,
            "Nothing" => Nothing,
            "Point" => Point,
            "Ring" => Ring,
            "LineString" => LineString,
            "MultiPoint" => MultiPoint,
            "MultiLineString" => MultiLineString,
            "Polygon" => Polygon,
            "MultiPolygon" => MultiPolygon,
            "DateTime" => DateTime(self.optional_tz()?),
            "DateTime64" => {
                self.expect(b'(')?;
                let p = self.small::<u8>("precision")?;
                let tz = if self.eat(b',') { Some(self.quoted()?) } else { None };
                self.expect(b')')?;
                if p > 9 {
                    return Err(self.err("DateTime64 precision must be 0..=9"));
                }
                DateTime64(p, tz)
            }
            "Time64" => {
                self.expect(b'(')?;
                let p = self.small::<u8>("precision")?;
                self.expect(b')')?;
                if p > 9 {
                    return Err(self.err("Time64 precision must be 0..=9"));
                }
                Time64(p)
            }
            "FixedString" => {
                self.expect(b'(')?;
                let n = self.small::<usize>("length")?;
                self.expect(b')')?;
                if n == 0 {
                    return Err(self.err("FixedString length must be positive"));
                }
                FixedString(n)
            }
            "Decimal" => {
                self.expect(b'(')?;
                let p = self.small::<u8>("precision")?;
                let s = if self.eat(b',') { self.small::<u8>("scale")? } else { 0 };
                self.expect(b')')?;
                if !(1..=76).contains(&p) || s > p {
                    return Err(self.err("Decimal needs 1 <= P <= 76 and S <= P"));
                }
                Decimal { precision: p, scale: s }
            }
            "Decimal32" | "Decimal64" | "Decimal128" | "Decimal256" => {
                let p = match name {
                    "Decimal32" => 9,
                    "Decimal64" => 18,
                    "Decimal128" => 38,
                    _ => 76,
                };
                self.expect(b'(')?;
                let s = self.small::<u8>("scale")?;
                self.expect(b')')?;
                if s > p {
                    return Err(self.err("Decimal scale exceeds precision"));
                }
                Decimal { precision: p, scale: s }
            }
            "Enum8" => Enum8(self.enum_members()?),
            "Enum16" => Enum16(self.enum_members()?),
            "Nullable" => Nullable(self.one_arg(depth)?),
            "Array" => Array(self.one_arg(depth)?),
            "LowCardinality" => LowCardinality(self.one_arg(depth)?),
            "Map" => {
                self.expect(b'(')?;
                let k = self.parse_type(depth + 1)?;
                self.expect(b',')?;
                let v = self.parse_type(depth + 1)?;
                self.expect(b')')?;
                Map(Box::new(k), Box::new(v))
            }
            "Tuple" => {
                self.expect(b'(')?;
                let mut elems = Vec::new();
                if !self.eat(b')') {
                    loop {
                        elems.push(self.maybe_named(depth)?);
                        if !self.eat(b',') {
                            break;
                        }
                    }
                    self.expect(b')')?;
                }
                Tuple(elems)
            }
            "Nested" => {
                self.expect(b'(')?;
                let mut elems = Vec::new();
                loop {
                    let n = self.element_name()?;
                    elems.push((n, self.parse_type(depth + 1)?));
                    if !self.eat(b',') {
                        break;
                    }
                }
                self.expect(b')')?;
                Nested(elems)
            }
            "Variant" => {
                self.expect(b'(')?;
                let mut elems = Vec::new();
                loop {
                    elems.push(self.parse_type(depth + 1)?);
                    if !self.eat(b',') {
                        break;
                    }
                }
                self.expect(b')')?;
                Variant(elems)
            }
            "Dynamic" => {
                let mut max_types = None;
                if self.eat(b'(') && !self.eat(b')') {
                    self.keyword("max_types")?;
                    self.expect(b'=')?;
                    max_types = Some(self.small::<u64>("max_types")?);
                    self.expect(b')')?;
                }
                Dynamic { max_types }
            }
            "JSON" => Json(Box::new(if self.eat(b'(') { self.json_args(depth)? } else { JsonType::default() })),
            "Geometry" => Geometry,
            "QBit" => {
                self.expect(b'(')?;
                let element = self.parse_type(depth + 1)?;
                self.expect(b',')?;
                let dimension = self.small::<u64>("dimension")?;
                let stride = if self.eat(b',') { Some(self.small::<u64>("stride")?) } else { None };
                self.expect(b')')?;
                if !matches!(element, Int8 | BFloat16 | Float32 | Float64) {
                    return Err(self.err("QBit elements are Int8, BFloat16, Float32 or Float64"));
                }
                if dimension == 0 || dimension > 1 << 20 || stride.is_some_and(|s| s == 0 || dimension % s != 0) {
                    return Err(self.err("QBit needs a dimension of 1 to 2^20 and a stride that divides it"));
                }
                QBit { element: Box::new(element), dimension, stride: stride.filter(|&s| s != dimension) }
            }
            "AggregateFunction" => {
                self.expect(b'(')?;
                self.ws();
                let version = if matches!(self.peek(), Some(b'0'..=b'9')) {
                    let v = self.small::<u64>("version")?;
                    self.expect(b',')?;
                    Some(v)
                } else {
                    None
                };
                self.ws();
                let start = self.pos;
                self.ident()?;
                if self.eat(b'(') {
                    self.raw_args()?;
                }
                let function = self.input[start..self.pos].trim().to_string();
                let mut args = Vec::new();
                while self.eat(b',') {
                    args.push(self.parse_type(depth + 1)?);
                }
                self.expect(b')')?;
                AggregateFunction { version, function, args }
            }
            "SimpleAggregateFunction" => {
                self.expect(b'(')?;
                self.ws();
                let start = self.pos;
                // The function may carry parameters: `anyLast`, `sumMap`, `groupArrayArray(10)`…
                self.ident()?;
                if self.eat(b'(') {
                    self.raw_args()?;
                }
                let func = self.input[start..self.pos].trim().to_string();
                self.expect(b',')?;
                let t = self.parse_type(depth + 1)?;
                self.expect(b')')?;
                SimpleAggregateFunction(func, Box::new(t))
            }
            other => {
                if let Some(unit) = other.strip_prefix("Interval") {
                    if !unit.is_empty() {
                        return Ok(Interval(unit.to_string()));
                    }
                }
                let args = if self.eat(b'(') { Some(self.raw_args()?) } else { None };
                if other.is_empty() || !other.as_bytes()[0].is_ascii_alphabetic() {
                    self.pos = name_pos;
                    return Err(self.err("expected a type name"));
                }
                Opaque { name: other.to_string(), args }
            }
        };
        Ok(t)
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for c in s.chars() {
        match c {
            '\'' => f.write_str("\\'")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            '\0' => f.write_str("\\0")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("'")
}

fn write_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    let plain = !name.is_empty()
        && !name.as_bytes()[0].is_ascii_digit()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if plain { f.write_str(name) } else { write!(f, "`{}`", name.replace('\\', "\\\\").replace('`', "\\`")) }
}

/// An element name as the server prints it (back-quoted unless a plain identifier).
struct Name<'a>(&'a str);

impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_name(f, self.0)
    }
}

/// A string literal as the server prints it in type names.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_quoted(f, self.0)
    }
}

fn write_enum<T: fmt::Display>(f: &mut fmt::Formatter<'_>, kind: &str, members: &[(String, T)]) -> fmt::Result {
    write!(f, "{kind}(")?;
    for (i, (n, v)) in members.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write_quoted(f, n)?;
        write!(f, " = {v}")?;
    }
    f.write_str(")")
}

impl fmt::Display for TypeDesc {
    /// The canonical name, as ClickHouse 26.9 prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TypeDesc::*;
        match self {
            UInt8 => f.write_str("UInt8"),
            UInt16 => f.write_str("UInt16"),
            UInt32 => f.write_str("UInt32"),
            UInt64 => f.write_str("UInt64"),
            UInt128 => f.write_str("UInt128"),
            UInt256 => f.write_str("UInt256"),
            Int8 => f.write_str("Int8"),
            Int16 => f.write_str("Int16"),
            Int32 => f.write_str("Int32"),
            Int64 => f.write_str("Int64"),
            Int128 => f.write_str("Int128"),
            Int256 => f.write_str("Int256"),
            Float32 => f.write_str("Float32"),
            Float64 => f.write_str("Float64"),
            BFloat16 => f.write_str("BFloat16"),
            Bool => f.write_str("Bool"),
            Decimal { precision, scale } => write!(f, "Decimal({precision}, {scale})"),
            String => f.write_str("String"),
            FixedString(n) => write!(f, "FixedString({n})"),
            Uuid => f.write_str("UUID"),
            Ipv4 => f.write_str("IPv4"),
            Ipv6 => f.write_str("IPv6"),
            Date => f.write_str("Date"),
            Date32 => f.write_str("Date32"),
            DateTime(None) => f.write_str("DateTime"),
            DateTime(Some(tz)) => {
                f.write_str("DateTime(")?;
                write_quoted(f, tz)?;
                f.write_str(")")
            }
            DateTime64(p, None) => write!(f, "DateTime64({p})"),
            DateTime64(p, Some(tz)) => {
                write!(f, "DateTime64({p}, ")?;
                write_quoted(f, tz)?;
                f.write_str(")")
            }
            Time => f.write_str("Time"),
            Time64(p) => write!(f, "Time64({p})"),
            Enum8(m) => write_enum(f, "Enum8", m),
            Enum16(m) => write_enum(f, "Enum16", m),
            Interval(unit) => write!(f, "Interval{unit}"),
            Nothing => f.write_str("Nothing"),
            Nullable(t) => write!(f, "Nullable({t})"),
            Array(t) => write!(f, "Array({t})"),
            LowCardinality(t) => write!(f, "LowCardinality({t})"),
            Map(k, v) => write!(f, "Map({k}, {v})"),
            Tuple(elems) => {
                f.write_str("Tuple(")?;
                for (i, (n, t)) in elems.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if let Some(n) = n {
                        write_name(f, n)?;
                        f.write_str(" ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(")")
            }
            Nested(elems) => {
                f.write_str("Nested(")?;
                for (i, (n, t)) in elems.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_name(f, n)?;
                    write!(f, " {t}")?;
                }
                f.write_str(")")
            }
            SimpleAggregateFunction(func, t) => write!(f, "SimpleAggregateFunction({func}, {t})"),
            Point => f.write_str("Point"),
            Ring => f.write_str("Ring"),
            LineString => f.write_str("LineString"),
            MultiPoint => f.write_str("MultiPoint"),
            MultiLineString => f.write_str("MultiLineString"),
            Polygon => f.write_str("Polygon"),
            MultiPolygon => f.write_str("MultiPolygon"),
            Variant(elems) => {
                f.write_str("Variant(")?;
                for (i, t) in elems.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(")")
            }
            Dynamic { max_types: None } => f.write_str("Dynamic"),
            Dynamic { max_types: Some(n) } => write!(f, "Dynamic(max_types={n})"),
            Json(j) => {
                let mut args: Vec<std::string::String> = Vec::new();
                if let Some(n) = j.max_dynamic_types {
                    args.push(format!("max_dynamic_types={n}"));
                }
                if let Some(n) = j.max_dynamic_paths {
                    args.push(format!("max_dynamic_paths={n}"));
                }
                for (path, t) in &j.typed_paths {
                    // A path named like a keyword of the list is back-quoted, so that it reads back as a path.
                    let keyword =
                        ["SKIP", "max_dynamic_paths", "max_dynamic_types"].iter().any(|k| k.eq_ignore_ascii_case(path));
                    if keyword {
                        args.push(format!("`{path}` {t}"));
                    } else {
                        args.push(format!("{} {t}", Name(path)));
                    }
                }
                for path in &j.skip {
                    args.push(format!("SKIP {}", Name(path)));
                }
                for pattern in &j.skip_regexp {
                    args.push(format!("SKIP REGEXP {}", Quoted(pattern)));
                }
                if args.is_empty() { f.write_str("JSON") } else { write!(f, "JSON({})", args.join(", ")) }
            }
            QBit { element, dimension, stride: None } => write!(f, "QBit({element}, {dimension})"),
            QBit { element, dimension, stride: Some(s) } => write!(f, "QBit({element}, {dimension}, {s})"),
            Geometry => f.write_str("Geometry"),
            AggregateFunction { version, function, args } => {
                f.write_str("AggregateFunction(")?;
                if let Some(v) = version {
                    write!(f, "{v}, ")?;
                }
                f.write_str(function)?;
                for a in args {
                    write!(f, ", {a}")?;
                }
                f.write_str(")")
            }
            Opaque { name, args: None } => f.write_str(name),
            Opaque { name, args: Some(a) } => write!(f, "{name}({a})"),
        }
    }
}

/// The byte a backslash escape `\e` in a ClickHouse string literal stands for (`\n`, `\t`, …; any
/// other byte stands for itself).
pub(crate) fn escaped(e: u8) -> u8 {
    match e {
        b'n' => b'\n',
        b't' => b'\t',
        b'r' => b'\r',
        b'0' => 0,
        b'b' => 8,
        b'f' => 12,
        b'a' => 7,
        b'v' => 11,
        b'e' => 27,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(s: &str) -> String {
        TypeDesc::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).to_string()
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(round("Decimal32(3)"), "Decimal(9, 3)");
        assert_eq!(round("DateTime64(9, 'America/New_York')"), "DateTime64(9, 'America/New_York')");
        assert_eq!(round("Nullable(Nothing)"), "Nullable(Nothing)");
        assert_eq!(round("Tuple(a UInt8, `b c` String)"), "Tuple(a UInt8, `b c` String)");
        assert_eq!(round("Enum8('a\\'b' = 1, 'c' = -2)"), "Enum8('a\\'b' = 1, 'c' = -2)");
        assert_eq!(round("Map(String, Array(Nullable(UInt8)))"), "Map(String, Array(Nullable(UInt8)))");
        assert_eq!(
            round("AggregateFunction(quantiles(0.5, 0.9), UInt64)"),
            "AggregateFunction(quantiles(0.5, 0.9), UInt64)"
        );
        assert_eq!(round("SimpleAggregateFunction(sum, UInt64)"), "SimpleAggregateFunction(sum, UInt64)");
        assert_eq!(
            round("AggregateFunction(1, sumMap, Array(UInt8), Array(UInt8))"),
            "AggregateFunction(1, sumMap, Array(UInt8), Array(UInt8))"
        );
        assert_eq!(round("AggregateFunction(count)"), "AggregateFunction(count)");
        assert!(matches!(
            TypeDesc::parse("AggregateFunction(groupArray(10), Nullable(String))"),
            Ok(TypeDesc::AggregateFunction { version: None, ref function, ref args }) if function == "groupArray(10)" && args.len() == 1
        ));
        assert_eq!(round("IntervalSecond"), "IntervalSecond");
        // JSON, Dynamic and QBit as 26.9's toTypeName prints them.
        assert_eq!(
            round("JSON(max_dynamic_paths = 8, a.b UInt32, SKIP c)"),
            "JSON(max_dynamic_paths=8, `a.b` UInt32, SKIP c)"
        );
        assert_eq!(
            round("JSON(z String, a UInt8, SKIP b.c, max_dynamic_paths=0)"),
            "JSON(max_dynamic_paths=0, a UInt8, z String, SKIP `b.c`)"
        );
        assert_eq!(
            round(
                "JSON(max_dynamic_paths=3, max_dynamic_types = 5, a.b UInt32, SKIP c, SKIP REGEXP 'x.*', `q r` String)"
            ),
            "JSON(max_dynamic_types=5, max_dynamic_paths=3, `a.b` UInt32, `q r` String, SKIP c, SKIP REGEXP 'x.*')"
        );
        assert_eq!(round("JSON"), "JSON");
        assert_eq!(round("JSON(`skip` String, SKIP skip)"), "JSON(`skip` String, SKIP skip)");
        assert_eq!(round("Dynamic(max_types = 3)"), "Dynamic(max_types=3)");
        assert_eq!(round("Dynamic"), "Dynamic");
        assert_eq!(round("QBit(Float32, 8)"), "QBit(Float32, 8)");
        assert_eq!(round("Geometry"), "Geometry");
        assert!(TypeDesc::parse("QBit(String, 8)").is_err());
        assert_eq!(round("QBit(Int8, 16, 8)"), "QBit(Int8, 16, 8)");
        assert_eq!(round("QBit(Int8, 16, 16)"), "QBit(Int8, 16)");
    }

    #[test]
    fn errors_carry_position() {
        match TypeDesc::parse("Array(UInt8") {
            Err(Error::TypeSyntax { position, .. }) => assert_eq!(position, 11),
            other => panic!("{other:?}"),
        }
        assert!(TypeDesc::parse("FixedString(0)").is_err());
        assert!(TypeDesc::parse("DateTime64(10)").is_err());
        assert!(TypeDesc::parse("").is_err());
        let deep = "Array(".repeat(1000) + "UInt8" + &")".repeat(1000);
        assert!(TypeDesc::parse(&deep).is_err());
    }
}
