//! Values across the language line.
//!
//! Python → [`Value`] (parameters, insert data): by the Python type, the way the Python driver takes
//! them — the Rust client then converts each value for its column (or renders it as a literal), with
//! the same checks as for Rust callers. [`Value`] → Python (results): by the column's type, as the
//! Python driver returns them: `int`, `float`, `str` (`bytes` for FixedString and for strings that
//! are not UTF-8), `decimal.Decimal`, `datetime.date`, `datetime.datetime` (aware in the column's
//! zone; a column without one is in the server's zone: naive when that is UTC, else aware),
//! `uuid.UUID`, `ipaddress` addresses, `list` / `tuple` / `dict`, `None`. Types without a closer
//! Python counterpart come as the server's text (`JSON` as parsed JSON).

use clickhouse_connect::Value;
use clickhouse_connect::types::TypeDesc;
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDate, PyDateTime, PyDelta, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use std::borrow::Cow;

/// A class of the Python standard library, imported once.
fn class<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    module: &str,
    name: &str,
) -> PyResult<Bound<'py, PyAny>> {
    cell.get_or_try_init(py, || py.import(module)?.getattr(name).map(Bound::unbind)).map(|c| c.bind(py).clone())
}

static DECIMAL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static UUID: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static IPV4: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static IPV6: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static ZONEINFO: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A Python value as a [`Value`] for a parameter or an insert.
pub fn to_value(v: &Bound<'_, PyAny>) -> PyResult<Value<'static>> {
    let py = v.py();
    if v.is_none() {
        return Ok(Value::Null);
    }
    if v.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(v.extract()?));
    }
    if v.is_instance_of::<PyInt>() {
        if let Ok(i) = v.extract::<i64>() {
            return Ok(Value::Int64(i));
        }
        if let Ok(u) = v.extract::<u64>() {
            return Ok(Value::UInt64(u));
        }
        if let Ok(i) = v.extract::<i128>() {
            return Ok(Value::Int128(i));
        }
        if let Ok(u) = v.extract::<u128>() {
            return Ok(Value::UInt128(u));
        }
        // Wider: as text, which the client converts for a 256-bit column.
        return Ok(Value::String(Cow::Owned(v.str()?.to_string().into_bytes())));
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(Value::Float64(v.extract()?));
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(Value::String(Cow::Owned(s.to_str()?.as_bytes().to_vec())));
    }
    if let Ok(b) = v.cast::<PyBytes>() {
        return Ok(Value::String(Cow::Owned(b.as_bytes().to_vec())));
    }
    if let Ok(b) = v.cast::<pyo3::types::PyByteArray>() {
        return Ok(Value::String(Cow::Owned(b.to_vec())));
    }
    if let Ok(dt) = v.cast::<PyDateTime>() {
        return datetime_value(dt);
    }
    if v.is_instance_of::<PyDate>() {
        let ordinal: i64 = v.call_method0("toordinal")?.extract()?;
        return Ok(Value::Date32((ordinal - UNIX_ORDINAL) as i32));
    }
    if v.is_instance(&class(py, &DECIMAL, "decimal", "Decimal")?)? {
        return decimal_value(v);
    }
    if v.is_instance(&class(py, &UUID, "uuid", "UUID")?)? {
        return Ok(Value::Uuid(v.getattr("int")?.extract()?));
    }
    if v.is_instance(&class(py, &IPV4, "ipaddress", "IPv4Address")?)? {
        let n: u32 = v.call_method0("__int__")?.extract()?;
        return Ok(Value::Ipv4(std::net::Ipv4Addr::from(n)));
    }
    if v.is_instance(&class(py, &IPV6, "ipaddress", "IPv6Address")?)? {
        let n: u128 = v.call_method0("__int__")?.extract()?;
        return Ok(Value::Ipv6(std::net::Ipv6Addr::from(n)));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut pairs = Vec::with_capacity(d.len());
        for (k, x) in d.iter() {
            pairs.push((to_value(&k)?, to_value(&x)?));
        }
        return Ok(Value::Map(pairs));
    }
    if let Ok(t) = v.cast::<PyTuple>() {
        return Ok(Value::Tuple(t.iter().map(|x| to_value(&x)).collect::<PyResult<_>>()?));
    }
    if let Ok(l) = v.cast::<PyList>() {
        return Ok(Value::Array(l.iter().map(|x| to_value(&x)).collect::<PyResult<_>>()?));
    }
    if v.hasattr("item")? && v.hasattr("dtype")? {
        // A numpy scalar.
        return to_value(&v.call_method0("item")?);
    }
    if let Ok(it) = v.try_iter() {
        // Sets and other iterables: an array.
        return Ok(Value::Array(it.map(|x| to_value(&x?)).collect::<PyResult<_>>()?));
    }
    Err(PyTypeError::new_err(format!("cannot send a value of Python type {} to ClickHouse", v.get_type().name()?)))
}

/// `date(1970, 1, 1).toordinal()`.
const UNIX_ORDINAL: i64 = 719_163;

/// A naive datetime is the wall-clock time it shows (read in the column's or the server's zone, as
/// the Python driver sends it); an aware one is its instant.
fn datetime_value(dt: &Bound<'_, PyDateTime>) -> PyResult<Value<'static>> {
    let tz = dt.getattr("tzinfo")?;
    if tz.is_none() {
        let text: String = dt.call_method1("isoformat", (" ",))?.extract()?;
        return Ok(Value::String(Cow::Owned(text.into_bytes())));
    }
    let ts: f64 = dt.call_method0("timestamp")?.extract()?;
    let micros: i64 = dt.getattr("microsecond")?.extract()?;
    if micros == 0 {
        let secs = ts.round() as i64;
        if let Ok(s) = u32::try_from(secs) {
            return Ok(Value::DateTime(s));
        }
        return Ok(Value::DateTime64 { ticks: secs, precision: 0 });
    }
    let ticks = ts.floor() as i64 * 1_000_000 + micros;
    Ok(Value::DateTime64 { ticks, precision: 6 })
}

/// `decimal.Decimal` as an unscaled integer and a scale (exactly; NaN and infinities refused).
fn decimal_value(v: &Bound<'_, PyAny>) -> PyResult<Value<'static>> {
    let text: String = v.call_method1("__format__", ("f",))?.extract()?;
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text.as_str()),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(PyTypeError::new_err(format!("cannot send Decimal {text} to ClickHouse")));
    }
    let scale = u8::try_from(frac.len()).map_err(|_| PyTypeError::new_err("Decimal with more than 255 decimals"))?;
    match format!("{int}{frac}").parse::<i128>() {
        Ok(raw) if scale <= 76 => Ok(Value::Decimal { raw: if neg { -raw } else { raw }, scale }),
        // Wider than 128 bits: as text, which the client converts for the column.
        _ => Ok(Value::String(Cow::Owned(text.into_bytes()))),
    }
}

/// What result values are converted with.
pub struct Ctx<'a> {
    /// The zone of `DateTime` values whose column names none.
    pub server_tz: &'a str,
    /// A Python codec for `String` values (the driver's `encoding`); else text when UTF-8, bytes when not.
    pub encoding: Option<&'a str>,
}

/// A result value as the Python driver returns it, for a column of type `t`.
pub fn to_py<'py>(py: Python<'py>, v: &Value<'_>, t: &TypeDesc, cx: &Ctx<'_>) -> PyResult<Bound<'py, PyAny>> {
    let t = match t {
        TypeDesc::Nullable(inner) | TypeDesc::LowCardinality(inner) | TypeDesc::SimpleAggregateFunction(_, inner) => {
            return to_py(py, v, inner, cx);
        }
        t => t,
    };
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::UInt8(x) => x.into_pyobject(py)?.into_any(),
        Value::UInt16(x) => x.into_pyobject(py)?.into_any(),
        Value::UInt32(x) => x.into_pyobject(py)?.into_any(),
        Value::UInt64(x) => x.into_pyobject(py)?.into_any(),
        Value::UInt128(x) => x.into_pyobject(py)?.into_any(),
        Value::Int8(x) => x.into_pyobject(py)?.into_any(),
        Value::Int16(x) => x.into_pyobject(py)?.into_any(),
        Value::Int32(x) => x.into_pyobject(py)?.into_any(),
        Value::Int64(x) => x.into_pyobject(py)?.into_any(),
        Value::Int128(x) => x.into_pyobject(py)?.into_any(),
        Value::UInt256(limbs) | Value::Int256(limbs) => {
            let signed = matches!(v, Value::Int256(_));
            let text = clickhouse_connect::format::text::wide_to_decimal(limbs, signed);
            py.get_type::<PyInt>().call1((text,))?
        }
        Value::Float32(x) => PyFloat::new(py, f64::from(*x)).into_any(),
        Value::Float64(x) => PyFloat::new(py, *x).into_any(),
        Value::BFloat16(bits) => PyFloat::new(py, f64::from(f32::from_bits(u32::from(*bits) << 16))).into_any(),
        Value::Decimal { raw, scale } => decimal(py, &raw.unsigned_abs().to_string(), *raw < 0, *scale)?,
        Value::Decimal256 { raw, scale } => {
            let text = clickhouse_connect::format::text::wide_to_decimal(raw, true);
            let (neg, digits) = match text.strip_prefix('-') {
                Some(d) => (true, d.to_string()),
                None => (false, text),
            };
            decimal(py, &digits, neg, *scale)?
        }
        Value::String(b) => match (t, cx.encoding, std::str::from_utf8(b)) {
            (TypeDesc::FixedString(_), _, _) => PyBytes::new(py, b).into_any(),
            // Python's own codec, exactly as `bytes.decode` reads these bytes.
            (_, Some(encoding), _) => PyBytes::new(py, b).call_method1("decode", (encoding,))?,
            (_, None, Err(_)) => PyBytes::new(py, b).into_any(),
            (_, None, Ok(s)) => PyString::new(py, s).into_any(),
        },
        Value::FixedString(b) => PyBytes::new(py, b).into_any(),
        Value::Uuid(n) => {
            let kwargs = PyDict::new(py);
            kwargs.set_item("int", *n)?;
            class(py, &UUID, "uuid", "UUID")?.call((), Some(&kwargs))?
        }
        Value::Ipv4(a) => class(py, &IPV4, "ipaddress", "IPv4Address")?.call1((u32::from(*a),))?,
        Value::Ipv6(a) => class(py, &IPV6, "ipaddress", "IPv6Address")?.call1((u128::from(*a),))?,
        Value::Date(days) => date(py, i64::from(*days))?,
        Value::Date32(days) => date(py, i64::from(*days))?,
        Value::DateTime(secs) => {
            let zone = match t {
                TypeDesc::DateTime(z) => z.as_deref(),
                _ => None,
            };
            datetime(py, i64::from(*secs), 0, zone, cx.server_tz)?
        }
        Value::DateTime64 { ticks, precision } => {
            let zone = match t {
                TypeDesc::DateTime64(_, z) => z.as_deref(),
                _ => None,
            };
            let unit = 10i64.pow(u32::from(*precision));
            let (secs, frac) = (ticks.div_euclid(unit), ticks.rem_euclid(unit));
            let micros = if *precision >= 6 {
                frac / 10i64.pow(u32::from(*precision) - 6)
            } else {
                frac * 10i64.pow(6 - u32::from(*precision))
            };
            datetime(py, secs, micros as u32, zone, cx.server_tz)?
        }
        Value::Time(secs) => PyDelta::new(py, 0, *secs, 0, true)?.into_any(),
        Value::Time64 { ticks, precision } => {
            // Whole seconds and the fraction apart, so no product overflows; days beyond
            // what `timedelta` holds are an OverflowError, never a wrapped value.
            let unit = 10i64.pow(u32::from(*precision).min(18));
            let (secs, frac) = (ticks.div_euclid(unit), ticks.rem_euclid(unit));
            let micros = if *precision >= 6 {
                frac / 10i64.pow(u32::from(*precision) - 6)
            } else {
                frac * 10i64.pow(6 - u32::from(*precision))
            };
            let days = i32::try_from(secs.div_euclid(86_400)).map_err(|_| {
                PyOverflowError::new_err(format!("Time64 value {ticks} (precision {precision}) is beyond timedelta"))
            })?;
            PyDelta::new(py, days, secs.rem_euclid(86_400) as i32, micros as i32, true)?.into_any()
        }
        Value::Enum8(n) => enum_name(py, t, i64::from(*n))?,
        Value::Enum16(n) => enum_name(py, t, i64::from(*n))?,
        Value::Interval(n) => n.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let inner = match t {
                TypeDesc::Array(inner) => inner.as_ref(),
                _ => return text(py, v, t, cx.server_tz),
            };
            let list = PyList::empty(py);
            for x in items {
                list.append(to_py(py, x, inner, cx)?)?;
            }
            list.into_any()
        }
        Value::Tuple(items) => match t {
            TypeDesc::Tuple(elems) if elems.len() == items.len() => {
                let values: Vec<Bound<'py, PyAny>> =
                    items.iter().zip(elems).map(|(x, (_, et))| to_py(py, x, et, cx)).collect::<PyResult<_>>()?;
                PyTuple::new(py, values)?.into_any()
            }
            _ => text(py, v, t, cx.server_tz)?,
        },
        Value::Map(pairs) => match t {
            TypeDesc::Map(kt, vt) => {
                let d = PyDict::new(py);
                for (k, x) in pairs {
                    d.set_item(to_py(py, k, kt, cx)?, to_py(py, x, vt, cx)?)?;
                }
                d.into_any()
            }
            _ => text(py, v, t, cx.server_tz)?,
        },
        Value::Variant { discriminator, value } => match t {
            TypeDesc::Variant(alts) => match alts.get(usize::from(*discriminator)) {
                Some(at) => to_py(py, value, at, cx)?,
                None => text(py, v, t, cx.server_tz)?,
            },
            _ => text(py, v, t, cx.server_tz)?,
        },
        Value::Dynamic { ty, value } => to_py(py, value, ty, cx)?,
        Value::Json(_) => {
            let text = render(v, t, cx.server_tz);
            class(py, &JSON_LOADS, "json", "loads")?.call1((text,))?
        }
        _ => text(py, v, t, cx.server_tz)?,
    })
}

/// The value as the server renders it in TabSeparated (unescaped), as a `str`.
fn text<'py>(py: Python<'py>, v: &Value<'_>, t: &TypeDesc, server_tz: &str) -> PyResult<Bound<'py, PyAny>> {
    Ok(PyString::new(py, &render(v, t, server_tz)).into_any())
}

fn render(v: &Value<'_>, t: &TypeDesc, server_tz: &str) -> String {
    let mut r = clickhouse_connect::format::TextRenderer::new(server_tz);
    let mut out = Vec::new();
    r.write_tsv(&mut out, v, t);
    let mut plain = Vec::new();
    let _ = clickhouse_connect::format::parse::unescape(&out, &mut plain);
    String::from_utf8_lossy(&plain).into_owned()
}

fn decimal<'py>(py: Python<'py>, digits: &str, neg: bool, scale: u8) -> PyResult<Bound<'py, PyAny>> {
    let scale = usize::from(scale);
    let padded = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
    } else {
        digits.to_string()
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    let text = if scale == 0 {
        format!("{}{int}", if neg { "-" } else { "" })
    } else {
        format!("{}{int}.{frac}", if neg { "-" } else { "" })
    };
    class(py, &DECIMAL, "decimal", "Decimal")?.call1((text,))
}

fn date<'py>(py: Python<'py>, days: i64) -> PyResult<Bound<'py, PyAny>> {
    let (year, month, day) = clickhouse_connect::format::text::civil_from_days(days);
    let year =
        i32::try_from(year).map_err(|_| PyTypeError::new_err(format!("year {year} is out of Python's range")))?;
    Ok(PyDate::new(py, year, month as u8, day as u8)?.into_any())
}

/// An instant as a `datetime`: aware in `zone` (the column's), else in the server's zone — naive
/// when that is UTC.
fn datetime<'py>(
    py: Python<'py>,
    secs: i64,
    micros: u32,
    zone: Option<&str>,
    server_tz: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let name = zone.unwrap_or(server_tz);
    let utc = class(py, &UTC, "datetime", "timezone")?.getattr("utc")?;
    let naive_utc =
        zone.is_none() && matches!(server_tz, "UTC" | "Etc/UTC" | "GMT" | "Etc/GMT" | "Universal" | "Zulu" | "");
    let (days, in_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = clickhouse_connect::format::text::civil_from_days(days);
    let year =
        i32::try_from(year).map_err(|_| PyTypeError::new_err(format!("year {year} is out of Python's range")))?;
    let dt = PyDateTime::new(
        py,
        year,
        month as u8,
        day as u8,
        (in_day / 3600) as u8,
        (in_day / 60 % 60) as u8,
        (in_day % 60) as u8,
        micros,
        if naive_utc { None } else { Some(utc.cast::<pyo3::types::PyTzInfo>()?) },
    )?;
    if naive_utc {
        return Ok(dt.into_any());
    }
    let tz = class(py, &ZONEINFO, "zoneinfo", "ZoneInfo")?.call1((name,))?;
    dt.call_method1("astimezone", (tz,))
}

fn enum_name<'py>(py: Python<'py>, t: &TypeDesc, n: i64) -> PyResult<Bound<'py, PyAny>> {
    let name = match t {
        TypeDesc::Enum8(items) => items.iter().find(|(_, v)| i64::from(*v) == n).map(|(s, _)| s.as_str()),
        TypeDesc::Enum16(items) => items.iter().find(|(_, v)| i64::from(*v) == n).map(|(s, _)| s.as_str()),
        _ => None,
    };
    Ok(match name {
        Some(s) => PyString::new(py, s).into_any(),
        None => n.into_pyobject(py)?.into_any(),
    })
}
