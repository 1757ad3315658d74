//! `AggregateFunction(f, T…)`: intermediate aggregation states, passed through unchanged (read from one
//! table, inserted into another, merged there by the server) — never interpreted.
//!
//! Native writes the states one after another with no length and no prefix, so finding where a row's
//! state ends means knowing the function's state layout. Each supported function's layout is a small
//! program of [`Op`]s run by a resumable machine that consumes exactly the state's bytes as chunks
//! arrive (never more, never allocating from a length before its bytes are there); a row's value is its
//! state's bytes (a [`Value::String`]), and the builder checks each state it is given by running the
//! same program over it. Layouts, from ClickHouse's sources (checked against 26.9's bytes and by
//! round trips that the server merges):
//!
//! | function | state | source |
//! |---|---|---|
//! | `count` | LEB128 count | `AggregateFunctionCount.h` |
//! | `sum` | the sum in its result type (64-bit for narrower numbers, Decimal128/256 for decimals) | `AggregateFunctionSum.h` |
//! | `min`, `max`, `any`, `anyLast` | numbers: a has-value byte, then the value; strings: an `Int32` size (with the trailing NUL; -1 for none), then the bytes | `SingleValueData.h` |
//! | `argMin`, `argMax` | the result's then the value's single-value state | `AggregateFunctionArgMinMax.h` |
//! | `avg` | the numerator (as `sum`'s) then a LEB128 count | `AggregateFunctionAvg.h` |
//! | `uniq` | a skip-degree byte, a LEB128 count, that many `UInt32` hashes | `UniquesHashSet.h` |
//! | `uniqExact` | a LEB128 count, that many keys (a number as itself; strings and several arguments as 128-bit hashes) | `AggregateFunctionUniq.h` |
//! | `groupArray`, `groupArray(N)`, `groupUniqArray` | a LEB128 count, that many elements (numbers as themselves, strings length-prefixed) | `AggregateFunctionGroupArray.cpp`, `AggregateFunctionGroupUniqArray.h` |
//! | `groupArrayLast(N)` | as `groupArray`, then a `UInt64` count of all values seen | `AggregateFunctionGroupArray.cpp` |
//! | `quantile`, `quantiles`, `median` (and their parameters) | reservoir: `UInt64` sample size, `UInt64` count, the generator's state as a string, `min(count, sample size)` values | `ReservoirSampler.h` |
//! | `quantileExact`, `quantilesExact`, `medianExact` | a LEB128 count, that many values | `QuantileExact.h` |
//! | `sumWithOverflow` | the sum in the argument's own type | `AggregateFunctionSum.h` |
//! | `sumKahan` | the `Float64` sum and its compensation | `AggregateFunctionSum.h` |
//! | `sumCount` | as `avg` | `AggregateFunctionSumCount.h` |
//! | `anyHeavy` | a single-value state, then a `UInt64` counter | `AggregateFunctionAnyHeavy.cpp` |
//!
//! A `Nullable` argument adds a has-value byte before the state (the Null combinator,
//! `AggregateFunctionNull.h`), except for the functions that read NULLs themselves (`count`,
//! `groupArray`, `groupArrayLast`, `groupUniqArray`, `sumCount`: elements are then of the inner type).
//! The `If` combinator keeps the state of the function it wraps. Any other function is refused with an
//! error naming it.

use crate::error::Result;
use crate::native::buffer::AlignedBuf;
use crate::native::column::{Column, ColumnDecoder, ColumnView, Offsets, Sealed};
use crate::native::encoder::{ColumnEncoder, ValueBuilder};
use crate::native::input::Input;
use crate::types::TypeDesc;
use crate::value::Value;
use std::borrow::Cow;

/// One step of a state layout. Bodies follow their op in the program (`len` ops).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Op {
    /// `n` bytes.
    Fixed(u32),
    /// A LEB128 integer.
    VarUInt,
    /// A LEB128 length and that many bytes.
    Str,
    /// A little-endian `Int32` size, then that many bytes when positive.
    SizedString,
    /// A byte; when non-zero, the next `len` ops.
    Flag(u32),
    /// The Null combinator's byte, read as `Flag`. Its state of no rows at all is this byte, then (when
    /// it is 1) the wrapped function's empty state: 0 for functions whose result is nullable, 1 for
    /// those whose result is not (`uniq`, `uniqExact`, the arrays of `quantiles` and
    /// `quantilesExact`), as 26.9 writes them.
    NullFlag(u32, u8),
    /// A LEB128 count, then the next `len` ops that many times.
    Count(u32),
    /// A LEB128 count, then that many items of `n` bytes.
    CountFixed(u32),
    /// `UInt64` sample size, `UInt64` count, a string, then `min(count, sample size)` items of `n` bytes.
    Reservoir(u32),
}

/// The state layout of `function(params)(args)`, or an error naming what is not supported.
pub(crate) fn layout(function: &str, args: &[TypeDesc]) -> std::result::Result<Vec<Op>, String> {
    let name = function.split('(').next().unwrap_or(function).trim();
    let unsupported = || {
        format!(
            "AggregateFunction({function}, …) states cannot be read: only count, sum, sumWithOverflow, sumKahan, \
             sumCount, min, max, any, anyLast, anyHeavy, argMin, argMax, avg, uniq, uniqExact, groupArray, \
             groupArrayLast, groupUniqArray, quantile(s), median, quantile(s)Exact and medianExact (over numbers \
             or strings as listed in the docs, with their If and Nullable forms) have known layouts here"
        )
    };
    // -If: the wrapped function's state; its last argument is the condition.
    if let Some(base) = name.strip_suffix("If").filter(|b| !b.is_empty()) {
        if args.is_empty() {
            return Err(unsupported());
        }
        let params = &function[name.len()..];
        return layout(&format!("{base}{params}"), &args[..args.len() - 1]);
    }
    let nullable = args.iter().any(|a| matches!(a, TypeDesc::Nullable(_)));
    let plain: Vec<TypeDesc> = args
        .iter()
        .map(|a| match a {
            TypeDesc::Nullable(inner) => inner.as_ref().clone(),
            a => a.clone(),
        })
        .collect();
    let size = |t: &TypeDesc| -> Option<u32> {
        match t {
            TypeDesc::LowCardinality(inner) => inner.fixed_size(),
            t => t.fixed_size(),
        }
        .filter(|&s| s > 0)
        .map(|s| s as u32)
    };
    let is_string = |t: &TypeDesc| {
        matches!(t, TypeDesc::String) || matches!(t, TypeDesc::LowCardinality(i) if **i == TypeDesc::String)
    };
    let single = |t: &TypeDesc| -> Option<Vec<Op>> {
        if is_string(t) { Some(vec![Op::SizedString]) } else { size(t).map(|s| vec![Op::Flag(1), Op::Fixed(s)]) }
    };
    let one = plain.first();
    let state: Vec<Op> = match (name, plain.len()) {
        ("count", _) => return Ok(vec![Op::VarUInt]),
        ("sum", 1) => vec![Op::Fixed(sum_size(&plain[0]).ok_or_else(unsupported)?)],
        ("avg", 1) => vec![Op::Fixed(sum_size(&plain[0]).ok_or_else(unsupported)?), Op::VarUInt],
        ("min" | "max" | "any" | "anyLast", 1) => single(&plain[0]).ok_or_else(unsupported)?,
        ("argMin" | "argMax", 2) => {
            let mut ops = single(&plain[0]).ok_or_else(unsupported)?;
            ops.extend(single(&plain[1]).ok_or_else(unsupported)?);
            ops
        }
        ("uniq", n) if n > 0 => vec![Op::Fixed(1), Op::CountFixed(4)],
        ("uniqExact", 1) if !is_string(&plain[0]) => vec![Op::CountFixed(size(&plain[0]).ok_or_else(unsupported)?)],
        ("uniqExact", n) if n > 0 => vec![Op::CountFixed(16)],
        ("sumWithOverflow", 1) if numeric(&plain[0]) => vec![Op::Fixed(size(&plain[0]).ok_or_else(unsupported)?)],
        ("sumKahan", 1) if numeric(&plain[0]) => vec![Op::Fixed(16)],
        ("sumCount", 1) => vec![Op::Fixed(sum_size(&plain[0]).ok_or_else(unsupported)?), Op::VarUInt],
        ("anyHeavy", 1) => {
            let mut ops = single(&plain[0]).ok_or_else(unsupported)?;
            ops.push(Op::Fixed(8));
            ops
        }
        ("groupArray" | "groupUniqArray", 1) if is_string(&plain[0]) => vec![Op::Count(1), Op::Str],
        ("groupArray" | "groupUniqArray", 1) => vec![Op::CountFixed(size(&plain[0]).ok_or_else(unsupported)?)],
        ("groupArrayLast", 1) if is_string(&plain[0]) => vec![Op::Count(1), Op::Str, Op::Fixed(8)],
        ("groupArrayLast", 1) => vec![Op::CountFixed(size(&plain[0]).ok_or_else(unsupported)?), Op::Fixed(8)],
        ("quantile" | "quantiles" | "median", 1) if numeric(one.ok_or_else(unsupported)?) => {
            vec![Op::Reservoir(size(&plain[0]).ok_or_else(unsupported)?)]
        }
        ("quantileExact" | "quantilesExact" | "medianExact", 1) if numeric(&plain[0]) => {
            vec![Op::CountFixed(size(&plain[0]).ok_or_else(unsupported)?)]
        }
        _ => return Err(unsupported()),
    };
    // Functions that read NULLs themselves keep their own state; every other one is wrapped by the
    // Null combinator, which puts a has-value byte first (as 26.9 writes them).
    let null_aware = matches!(name, "groupArray" | "groupUniqArray" | "groupArrayLast" | "sumCount");
    Ok(if nullable && !null_aware {
        let empty = u8::from(matches!(name, "uniq" | "uniqExact" | "quantiles" | "quantilesExact"));
        let mut ops = vec![Op::NullFlag(state.len() as u32, empty)];
        ops.extend(state);
        ops
    } else {
        state
    })
}

fn numeric(t: &TypeDesc) -> bool {
    use TypeDesc as T;
    matches!(
        t,
        T::UInt8
            | T::UInt16
            | T::UInt32
            | T::UInt64
            | T::Int8
            | T::Int16
            | T::Int32
            | T::Int64
            | T::Float32
            | T::Float64
            | T::Decimal { .. }
            | T::Date
            | T::Date32
            | T::DateTime(_)
            | T::DateTime64(..)
    )
}

/// Bytes of `sum`'s (and `avg`'s numerator's) type over `t`.
fn sum_size(t: &TypeDesc) -> Option<u32> {
    use TypeDesc as T;
    Some(match t {
        T::UInt8 | T::UInt16 | T::UInt32 | T::UInt64 | T::Int8 | T::Int16 | T::Int32 | T::Int64 => 8,
        T::Float32 | T::Float64 | T::Bool => 8,
        T::UInt128 | T::Int128 => 16,
        T::UInt256 | T::Int256 => 32,
        T::Decimal { precision, .. } if *precision > 38 => 32,
        T::Decimal { .. } => 16,
        _ => return None,
    })
}

/// A frame of the machine: ops `pc..end` of the program, the current op's phase, a loop count.
#[derive(Clone, Copy, Debug)]
struct Frame {
    pc: usize,
    end: usize,
    phase: u8,
    left: u64,
    sample: u64,
}

/// What the machine is reading.
#[derive(Clone, Copy, Debug)]
enum Want {
    Nothing,
    Bytes(u64),
    VarUInt { value: u64, shift: u32 },
}

/// Runs a state program over bytes as they arrive, appending them to the row data.
#[derive(Debug)]
struct Machine {
    stack: Vec<Frame>,
    want: Want,
    /// The last integer read (a LEB128 value, or up to 8 little-endian bytes).
    last: u64,
    /// Where the bytes of the current fixed read started, to decode it.
    read_start: usize,
}

/// Where a state could not be read.
type StateError = String;

impl Machine {
    fn new() -> Self {
        Machine { stack: Vec::new(), want: Want::Nothing, last: 0, read_start: 0 }
    }

    fn begin(&mut self, program: &[Op]) {
        self.stack.clear();
        self.stack.push(Frame { pc: 0, end: program.len(), phase: 0, left: 0, sample: 0 });
        self.want = Want::Nothing;
    }

    /// Continues the current state with bytes from `src`, appending what it consumes to `data`.
    /// Returns how many bytes it consumed and whether the state is complete.
    fn run(
        &mut self,
        program: &[Op],
        src: &[u8],
        data: &mut dyn Sink,
    ) -> std::result::Result<(usize, bool), StateError> {
        let mut used = 0;
        loop {
            // Finish the pending read.
            match self.want {
                Want::Nothing => {}
                Want::Bytes(n) => {
                    let take = (n.min((src.len() - used) as u64)) as usize;
                    data.put(&src[used..used + take])?;
                    used += take;
                    let left = n - take as u64;
                    if left > 0 {
                        self.want = Want::Bytes(left);
                        return Ok((used, false));
                    }
                    let bytes = data.tail(self.read_start);
                    if bytes.len() <= 8 {
                        let mut b = [0u8; 8];
                        b[..bytes.len()].copy_from_slice(bytes);
                        self.last = u64::from_le_bytes(b);
                    }
                    self.want = Want::Nothing;
                }
                Want::VarUInt { mut value, mut shift } => loop {
                    let Some(&b) = src.get(used) else {
                        self.want = Want::VarUInt { value, shift };
                        return Ok((used, false));
                    };
                    used += 1;
                    data.put(&[b])?;
                    if shift >= 64 || (shift == 63 && b > 1) {
                        return Err("variable-length integer longer than 64 bits".into());
                    }
                    value |= u64::from(b & 0x7f) << shift;
                    shift += 7;
                    if b & 0x80 == 0 {
                        self.last = value;
                        self.want = Want::Nothing;
                        break;
                    }
                },
            }
            // Advance the program.
            let Some(frame) = self.stack.last_mut() else { return Ok((used, true)) };
            if frame.pc >= frame.end {
                self.stack.pop();
                continue;
            }
            let op = program[frame.pc];
            let phase = frame.phase;
            frame.phase += 1;
            // What the op asks for next: bytes to read, an integer, or a body to run.
            let mut read: Option<u64> = None;
            let mut body: Option<(usize, usize)> = None;
            match (op, phase) {
                (Op::Fixed(n), 0) => read = Some(u64::from(n)),
                (Op::VarUInt, 0) | (Op::Str, 0) | (Op::Count(_), 0) | (Op::CountFixed(_), 0) => {
                    self.want = Want::VarUInt { value: 0, shift: 0 };
                }
                (Op::Str, 1) => read = Some(self.last),
                (Op::SizedString, 0) => read = Some(4),
                (Op::SizedString, 1) => {
                    let size = self.last as u32 as i32;
                    if size < -1 {
                        return Err(format!("string state of size {size}"));
                    }
                    read = Some(size.max(0) as u64);
                }
                (Op::Flag(_) | Op::NullFlag(..), 0) => read = Some(1),
                (Op::Flag(len) | Op::NullFlag(len, _), 1) => {
                    if self.last & 0xff != 0 {
                        body = Some((frame.pc + 1, len as usize));
                    }
                }
                (Op::Count(_), 1) => frame.left = self.last,
                (Op::Count(len), _) if frame.left > 0 => {
                    frame.left -= 1;
                    frame.phase = 2;
                    body = Some((frame.pc + 1, len as usize));
                }
                (Op::CountFixed(n), 1) => {
                    read = Some(self.last.checked_mul(u64::from(n)).ok_or("state item count overflows")?);
                }
                (Op::Reservoir(_), 0) => read = Some(8),
                (Op::Reservoir(_), 1) => {
                    frame.sample = self.last;
                    read = Some(8);
                }
                (Op::Reservoir(_), 2) => {
                    frame.left = self.last.min(frame.sample);
                    self.want = Want::VarUInt { value: 0, shift: 0 };
                }
                (Op::Reservoir(_), 3) => read = Some(self.last),
                (Op::Reservoir(n), 4) => {
                    read = Some(frame.left.checked_mul(u64::from(n)).ok_or("state item count overflows")?);
                }
                (op, _) => {
                    // The op is done: skip it and its body.
                    let skip = match op {
                        Op::Flag(len) | Op::NullFlag(len, _) | Op::Count(len) => len as usize,
                        _ => 0,
                    };
                    frame.pc += 1 + skip;
                    frame.phase = 0;
                }
            }
            if let Some(n) = read {
                self.read_start = data.len();
                self.want = Want::Bytes(n);
            }
            if let Some((start, len)) = body {
                self.stack.push(Frame { pc: start, end: start + len, phase: 0, left: 0, sample: 0 });
            }
        }
    }
}

/// Where the machine puts the bytes it consumes.
trait Sink {
    fn put(&mut self, bytes: &[u8]) -> std::result::Result<(), StateError>;
    fn len(&self) -> usize;
    fn tail(&self, from: usize) -> &[u8];
}

impl Sink for AlignedBuf {
    fn put(&mut self, bytes: &[u8]) -> std::result::Result<(), StateError> {
        self.extend_from_slice(bytes).map_err(|e| e.to_string())
    }
    fn len(&self) -> usize {
        AlignedBuf::len(self)
    }
    fn tail(&self, from: usize) -> &[u8] {
        &self.as_bytes()[from..]
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) -> std::result::Result<(), StateError> {
        self.extend_from_slice(bytes);
        Ok(())
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn tail(&self, from: usize) -> &[u8] {
        &self[from..]
    }
}

/// A decoded AggregateFunction column: each row's state bytes.
pub struct AggregateColumn {
    program: Vec<Op>,
    expected: usize,
    done: usize,
    in_row: bool,
    machine: Machine,
    offsets: AlignedBuf,
    data: AlignedBuf,
}

impl AggregateColumn {
    /// A column of states laid out by `program`.
    pub(crate) fn new(program: Vec<Op>) -> Self {
        AggregateColumn {
            program,
            expected: 0,
            done: 0,
            in_row: false,
            machine: Machine::new(),
            offsets: AlignedBuf::new(),
            data: AlignedBuf::new(),
        }
    }
}

impl Sealed for AggregateColumn {}

impl Column for AggregateColumn {
    fn rows(&self) -> usize {
        self.done
    }

    fn view(&self) -> ColumnView<'_> {
        ColumnView::String { offsets: Offsets::trusted(self.offsets.typed()), data: self.data.as_bytes() }
    }

    fn value(&self, row: usize) -> Value<'_> {
        if row >= self.done {
            return Value::Null;
        }
        let r = Offsets::trusted(self.offsets.typed()).range(row);
        Value::String(Cow::Borrowed(&self.data.as_bytes()[r]))
    }
}

impl ColumnDecoder for AggregateColumn {
    fn start(&mut self, rows: usize) {
        self.expected = rows;
        self.done = 0;
        self.in_row = false;
        self.offsets.clear();
        self.data.clear();
    }

    fn decode(&mut self, input: &mut Input<'_>) -> Result<bool> {
        while self.done < self.expected {
            if !self.in_row {
                self.machine.begin(&self.program);
                self.in_row = true;
            }
            let (used, complete) = self
                .machine
                .run(&self.program, input.remaining(), &mut self.data)
                .map_err(|e| input.error(format!("aggregate state of row {}: {e}", self.done)))?;
            input.take(used);
            if !complete {
                return Ok(false);
            }
            self.in_row = false;
            self.offsets.push(self.data.len() as u64)?;
            self.done += 1;
        }
        Ok(true)
    }

    fn stored_bytes(&self) -> usize {
        self.offsets.len() + self.data.len()
    }
}

/// Builder of an AggregateFunction column from states (`Value::String` bytes as read from such a
/// column), each checked to be exactly one state of the type's layout.
pub struct AggregateValues {
    type_name: String,
    program: Vec<Op>,
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl AggregateValues {
    /// A builder for the type named `type_name` with this state layout.
    pub(crate) fn new(type_name: String, program: Vec<Op>) -> Self {
        AggregateValues { type_name, program, data: Vec::new(), ends: Vec::new() }
    }
}

impl ColumnEncoder for AggregateValues {
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.type_name)
    }
    fn rows(&self) -> usize {
        self.ends.len()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.data);
    }
    fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }
}

impl ValueBuilder for AggregateValues {
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        let (Value::String(state) | Value::FixedString(state)) = v.unwrap_typed() else {
            return Err(format!("an {} takes a state's bytes as read from such a column, got {v:?}", self.type_name));
        };
        let mut machine = Machine::new();
        machine.begin(&self.program);
        let (used, complete) = machine.run(&self.program, state, &mut Vec::new())?;
        if !complete || used != state.len() {
            return Err(format!(
                "these {} bytes are not one state of {} ({})",
                state.len(),
                self.type_name,
                if complete { "bytes left over" } else { "cut short" }
            ));
        }
        self.data.extend_from_slice(state);
        self.ends.push(self.data.len());
        Ok(())
    }
    fn push_default(&mut self) {
        // The empty state: zero counts and flags, as the server writes it for no rows (checked against
        // 26.9 for every supported function in tests/insert_roundtrip.rs).
        let mut empty = Vec::new();
        let mut i = 0;
        while i < self.program.len() {
            match self.program[i] {
                Op::Fixed(n) => empty.extend(std::iter::repeat_n(0, n as usize)),
                Op::VarUInt | Op::Str | Op::CountFixed(_) => empty.push(0),
                Op::SizedString => empty.extend_from_slice(&(-1i32).to_le_bytes()),
                Op::Flag(len) => {
                    empty.push(0);
                    i += len as usize;
                }
                // The wrapped function's empty state follows when the byte is 1.
                Op::NullFlag(_, 1) => empty.push(1),
                Op::NullFlag(len, byte) => {
                    empty.push(byte);
                    i += len as usize;
                }
                Op::Count(len) => {
                    empty.push(0);
                    i += len as usize;
                }
                Op::Reservoir(_) => {
                    empty.extend_from_slice(&8192u64.to_le_bytes());
                    empty.extend_from_slice(&0u64.to_le_bytes());
                    // The sampler's generator state as 26.9 writes it for no rows.
                    let rng = b"6364136223846793005 0 123459";
                    empty.push(rng.len() as u8);
                    empty.extend_from_slice(rng);
                }
            }
            i += 1;
        }
        self.data.extend_from_slice(&empty);
        self.ends.push(self.data.len());
    }
    fn truncate(&mut self, rows: usize) {
        self.ends.truncate(rows);
        self.data.truncate(self.ends.last().copied().unwrap_or(0));
    }
}
