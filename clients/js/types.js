/**
 * Ducktail type names → flechette data types, and the value conversions
 * that make JavaScript values fit them exactly.
 *
 * The grammar is the one the server writes in `GET /ingest/{token}/schema`
 * and reads in `POST /_/topics` (README "CLI and config"): `int8`..`int64`,
 * `uint8`..`uint64`, `float16/32/64`, `bool`, `utf8`, `large_utf8`, `binary`,
 * `large_binary`, `fixed_size_binary[n]`, `date32`, `date64`, `time32[s|ms]`,
 * `time64[us|ns]`, `timestamp[unit(, tz=Zone)]`, `decimal128(p, s)`,
 * `decimal256(p, s)`, `list<T>`, `large_list<T>`, `fixed_size_list<T>[n]`,
 * `map<K, V>`, `struct<a: T, b: T not null>`,
 * `dictionary<values=T, indices=I(, ordered)>`.
 *
 * @module
 */
import {
  TimeUnit, binary, bool, dateDay, dateMillisecond, decimal, dictionary,
  field, fixedSizeBinary, fixedSizeList, float16, float32, float64, int16,
  int32, int64, int8, largeBinary, largeList, largeUtf8, list, map, struct,
  time, timestamp, uint16, uint32, uint64, uint8, utf8, Type
} from '@uwdata/flechette';

const primitives = {
  bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64,
  float16, float32, float64, utf8, string: utf8, large_utf8: largeUtf8,
  large_string: largeUtf8, binary, large_binary: largeBinary,
  date32: dateDay, date64: dateMillisecond
};

const units = { s: TimeUnit.SECOND, ms: TimeUnit.MILLISECOND, us: TimeUnit.MICROSECOND, ns: TimeUnit.NANOSECOND };

/**
 * Parse a ducktail type name into a flechette data type.
 * @param {string} name A type name such as `timestamp[ms, tz=UTC]` or `list<int64>`.
 * @returns {import('@uwdata/flechette').DataType}
 * @throws {SyntaxError} naming the position of the problem, or for a type
 *  this client cannot build (unions, intervals, views, run-end encoding).
 */
export function parseType(name) {
  const p = new Parser(String(name));
  const t = p.type();
  p.space();
  if (p.pos < p.s.length) p.fail(`unexpected ${p.found()} after the type`);
  return t;
}

class Parser {
  constructor(s) { this.s = s; this.pos = 0; this.depth = 0; }

  fail(msg) { throw new SyntaxError(`type "${this.s}": ${msg} (at offset ${this.pos})`); }
  found() { return this.pos < this.s.length ? JSON.stringify(this.s[this.pos]) : 'end of input'; }
  space() { while (this.pos < this.s.length && ' \t\r\n'.includes(this.s[this.pos])) this.pos++; }

  accept(c) {
    this.space();
    if (this.s[this.pos] === c) { this.pos++; return true; }
    return false;
  }

  expect(c) { if (!this.accept(c)) this.fail(`want "${c}", found ${this.found()}`); }

  word() {
    this.space();
    const m = /^[A-Za-z0-9_]+/.exec(this.s.slice(this.pos));
    if (!m) return '';
    this.pos += m[0].length;
    return m[0];
  }

  expectWord(w) {
    const at = this.pos;
    const got = this.word();
    if (got !== w) { this.pos = at; this.fail(`want "${w}", found ${got ? JSON.stringify(got) : this.found()}`); }
  }

  int(what) {
    this.space();
    const m = /^-?[0-9]+/.exec(this.s.slice(this.pos));
    if (!m) this.fail(`want ${what} (a number), found ${this.found()}`);
    this.pos += m[0].length;
    return Number(m[0]);
  }

  /** A quoted Go/JSON string, or a bare run of name characters. */
  name(extra = '') {
    this.space();
    if (this.s[this.pos] === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(this.s.slice(this.pos));
      if (!m) this.fail('unterminated quoted name');
      this.pos += m[0].length;
      try { return JSON.parse(m[0]); } catch { this.fail(`bad quoted name ${m[0]}`); }
    }
    const re = new RegExp(`^[\\p{L}\\p{N}_\\-.$${extra}]+`, 'u');
    const m = re.exec(this.s.slice(this.pos));
    if (!m) this.fail(`want a name, found ${this.found()}`);
    this.pos += m[0].length;
    return m[0];
  }

  /** `T` or `T not null`, as a field. */
  child(fieldName) {
    const t = this.type();
    const at = this.pos;
    if (this.word() === 'not') {
      this.expectWord('null');
      return field(fieldName, t, false);
    }
    this.pos = at;
    return field(fieldName, t, true);
  }

  unit(allowed) {
    this.expect('[');
    const u = this.word();
    if (!allowed.includes(u)) this.fail(`unknown time unit "${u}" (want ${allowed.join(', ')})`);
    return units[u];
  }

  type() {
    if (++this.depth > 32) this.fail('type is nested more than 32 deep');
    try {
      const at = this.pos;
      const w = this.word();
      if (!w) this.fail(`want a type name, found ${this.found()}`);
      if (Object.hasOwn(primitives, w)) return primitives[w]();
      switch (w) {
        case 'timestamp': {
          const unit = this.unit(['s', 'ms', 'us', 'ns']);
          let tz = null;
          if (this.accept(',')) {
            this.expectWord('tz');
            this.expect('=');
            tz = this.name('/+:');
          }
          this.expect(']');
          return timestamp(unit, tz);
        }
        case 'time32': { const u = this.unit(['s', 'ms']); this.expect(']'); return time(u); }
        case 'time64': { const u = this.unit(['us', 'ns']); this.expect(']'); return time(u); }
        case 'decimal': case 'decimal32': case 'decimal64': case 'decimal128': case 'decimal256': {
          this.expect('(');
          const p = this.int('precision');
          this.expect(',');
          const s = this.int('scale');
          this.expect(')');
          const bits = { decimal32: 32, decimal64: 64, decimal256: 256 }[w] ?? 128;
          return decimal(p, s, bits);
        }
        case 'fixed_size_binary': {
          this.expect('[');
          const n = this.int('byte width');
          this.expect(']');
          return fixedSizeBinary(n);
        }
        case 'list': case 'large_list': case 'fixed_size_list': {
          this.expect('<');
          const item = this.child('item');
          this.expect('>');
          if (w === 'list') return list(item);
          if (w === 'large_list') return largeList(item);
          this.expect('[');
          const n = this.int('list size');
          this.expect(']');
          return fixedSizeList(item, n);
        }
        case 'map': {
          this.expect('<');
          const k = this.type();
          this.expect(',');
          const v = this.child('value');
          let sorted = false;
          if (this.accept(',')) { this.expectWord('keys_sorted'); sorted = true; }
          this.expect('>');
          return map(field('key', k, false), v, sorted);
        }
        case 'struct': {
          this.expect('<');
          const fields = [];
          do {
            const n = this.name();
            this.expect(':');
            fields.push(this.child(n));
          } while (this.accept(','));
          this.expect('>');
          return struct(fields);
        }
        case 'dictionary': {
          this.expect('<');
          let values = null, indices = int32(), ordered = false;
          do {
            const k = this.word();
            if (k === 'values') { this.expect('='); values = this.type(); }
            else if (k === 'indices') { this.expect('='); indices = this.type(); }
            else if (k === 'ordered') ordered = true;
            else this.fail(`want values=, indices= or ordered in dictionary<>, found ${k ? JSON.stringify(k) : this.found()}`);
          } while (this.accept(','));
          this.expect('>');
          if (!values) this.fail('dictionary<> needs values=');
          return dictionary(values, indices, ordered);
        }
      }
      this.pos = at;
      this.fail(`type "${w}" is not supported by this client`);
    } finally {
      this.depth--;
    }
  }
}

// ---- values -------------------------------------------------------------

const int64Min = -(2n ** 63n), int64Max = 2n ** 63n - 1n, uint64Max = 2n ** 64n - 1n;
const textEncoder = new TextEncoder();

/**
 * Return a function converting one JavaScript value into what flechette
 * builds for type exactly, or throwing a TypeError/RangeError. null and
 * undefined become null. Timestamps come out as BigInt counts of the type's
 * unit: build them with {@link buildType}.
 *
 * Accepted inputs: integers as numbers (safe integers only for 64-bit
 * types), bigints or decimal strings; floats as numbers or bigints;
 * timestamps and dates as Date, epoch milliseconds (number, fractional
 * allowed for us/ns), ISO strings, or (timestamps) a bigint count of the
 * field's unit; binary as Uint8Array, ArrayBuffer, another ArrayBufferView
 * or a string (UTF-8); decimals as numbers, decimal strings or bigints
 * already scaled; lists as arrays; structs as objects; maps as Map, arrays of
 * [key, value] pairs or plain objects.
 * @param {import('@uwdata/flechette').DataType} type
 * @returns {(value: any) => any}
 */
export function valueConverter(type) {
  const conv = converter(type);
  return v => (v == null ? null : conv(v));
}

function converter(type) {
  switch (type.typeId) {
    case Type.Int: {
      const { bitWidth, signed } = type;
      if (bitWidth === 64) {
        const lo = signed ? int64Min : 0n, hi = signed ? int64Max : uint64Max;
        return v => checkRange(toBigIntExact(v), lo, hi);
      }
      const lo = signed ? -(2 ** (bitWidth - 1)) : 0;
      const hi = signed ? 2 ** (bitWidth - 1) - 1 : 2 ** bitWidth - 1;
      return v => {
        const n = typeof v === 'bigint' ? Number(v) : typeof v === 'string' ? Number(v.trim()) : v;
        if (typeof n !== 'number' || !Number.isInteger(n)) throw new TypeError(`want an integer, got ${describe(v)}`);
        if (n < lo || n > hi) throw new RangeError(`${v} is out of range [${lo}, ${hi}]`);
        return n;
      };
    }
    case Type.Float:
      return v => {
        if (typeof v === 'number') return v;
        if (typeof v === 'bigint') return Number(v);
        throw new TypeError(`want a number, got ${describe(v)}`);
      };
    case Type.Bool:
      return v => {
        if (typeof v !== 'boolean') throw new TypeError(`want a boolean, got ${describe(v)}`);
        return v;
      };
    case Type.Utf8: case Type.LargeUtf8:
      return v => {
        if (typeof v === 'string') return v;
        if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
        throw new TypeError(`want a string, got ${describe(v)}`);
      };
    case Type.Binary: case Type.LargeBinary:
      return toBytes;
    case Type.FixedSizeBinary:
      return v => {
        const b = toBytes(v);
        if (b.length !== type.stride) throw new RangeError(`want ${type.stride} bytes, got ${b.length}`);
        return b;
      };
    case Type.Date:
      return v => toEpochMs(v, false);
    case Type.Timestamp: {
      const perMs = [null, 1n, 1000n, 1000000n][type.unit];
      return v => {
        if (typeof v === 'bigint') return checkRange(v, int64Min, int64Max);
        if (type.unit === TimeUnit.SECOND) return BigInt(Math.floor(toEpochMs(v, false) / 1000));
        const ms = toEpochMs(v, true);
        if (type.unit === TimeUnit.MILLISECOND) return BigInt(Math.floor(ms));
        // whole milliseconds exactly, the fraction to the microsecond
        const whole = Math.floor(ms);
        return BigInt(whole) * perMs + BigInt(Math.round((ms - whole) * 1000)) * (perMs / 1000n);
      };
    }
    case Type.Time:
      return type.bitWidth === 64
        ? v => checkRange(toBigIntExact(v), int64Min, int64Max)
        : v => {
          const n = typeof v === 'bigint' ? Number(v) : v;
          if (!Number.isInteger(n)) throw new TypeError(`want an integer time of day, got ${describe(v)}`);
          return n;
        };
    case Type.Decimal:
      return v => toScaledDecimal(v, type.scale, type.bitWidth);
    case Type.List: case Type.LargeList: case Type.FixedSizeList: {
      const item = valueConverter(type.children[0].type);
      return v => {
        if (!Array.isArray(v) && !ArrayBuffer.isView(v)) throw new TypeError(`want an array, got ${describe(v)}`);
        if (type.typeId === Type.FixedSizeList && v.length !== type.stride) {
          throw new RangeError(`want ${type.stride} items, got ${v.length}`);
        }
        return Array.from(v, item);
      };
    }
    case Type.Struct: {
      const kids = type.children.map(f => [f.name, valueConverter(f.type)]);
      return v => {
        if (typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`want an object, got ${describe(v)}`);
        const out = {};
        for (const [name, conv] of kids) out[name] = conv(v[name]);
        return out;
      };
    }
    case Type.Map: {
      const [kf, vf] = type.children[0].type.children;
      const kc = valueConverter(kf.type), vc = valueConverter(vf.type);
      return v => {
        const entries = v instanceof Map ? [...v] : Array.isArray(v) ? v : Object.entries(v);
        return entries.map(([k, x]) => {
          if (k == null) throw new TypeError('map keys cannot be null');
          return [kc(k), vc(x)];
        });
      };
    }
    case Type.Dictionary:
      return converter(type.dictionary);
  }
  throw new TypeError(`type id ${type.typeId} is not supported by this client`);
}

function describe(v) {
  if (v === null) return 'null';
  if (typeof v === 'object') return v.constructor?.name ?? 'object';
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return `${typeof v} ${s.length > 40 ? s.slice(0, 40) + '…' : s}`;
}

function checkRange(b, lo, hi) {
  if (b < lo || b > hi) throw new RangeError(`${b} is out of range [${lo}, ${hi}]`);
  return b;
}

function toBigIntExact(v) {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) {
      throw new RangeError(`${v} is not a safe integer: pass a BigInt or a decimal string for 64-bit values`);
    }
    return BigInt(v);
  }
  if (typeof v === 'string' && /^\s*[-+]?[0-9]+\s*$/.test(v)) return BigInt(v.trim());
  throw new TypeError(`want an integer (number, bigint or decimal string), got ${describe(v)}`);
}

function toBytes(v) {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'string') return textEncoder.encode(v);
  throw new TypeError(`want bytes (Uint8Array, ArrayBuffer or string), got ${describe(v)}`);
}

function toEpochMs(v, fractional) {
  let ms;
  if (v instanceof Date) ms = v.getTime();
  else if (typeof v === 'number') ms = v;
  else if (typeof v === 'string') ms = Date.parse(v);
  else throw new TypeError(`want a Date, epoch milliseconds or an ISO string, got ${describe(v)}`);
  if (!Number.isFinite(ms)) throw new RangeError(`not a valid time: ${describe(v)}`);
  return fractional ? ms : Math.floor(ms);
}

function toScaledDecimal(v, scale, bitWidth) {
  let b;
  if (typeof v === 'bigint') b = v;
  else {
    const s = typeof v === 'number' ? decimalString(v, scale) : String(v).trim();
    const m = /^([-+]?)([0-9]*)(?:\.([0-9]*))?$/.exec(s);
    if (!m || (m[2] === '' && !m[3])) throw new TypeError(`want a decimal number, got ${describe(v)}`);
    const frac = (m[3] ?? '');
    if (frac.length > scale && /[1-9]/.test(frac.slice(scale))) {
      throw new RangeError(`${s} has more than ${scale} fraction digits`);
    }
    b = BigInt((m[2] || '0') + frac.slice(0, scale).padEnd(scale, '0'));
    if (m[1] === '-') b = -b;
  }
  const lim = 2n ** BigInt(bitWidth - 1);
  if (b < -lim || b >= lim) throw new RangeError(`${v} does not fit decimal${bitWidth}`);
  return bitWidth === 32 ? Number(b) : b;
}

function decimalString(n, scale) {
  if (!Number.isFinite(n)) throw new RangeError(`${n} is not a decimal`);
  return scale <= 100 ? n.toFixed(scale) : String(n);
}

// ---- build types --------------------------------------------------------

/**
 * Return the type to hand flechette's builders for type, and a function
 * that turns that type into type again after the columns are built.
 *
 * flechette's timestamp builder takes epoch milliseconds and multiplies
 * them by 1e3 or 1e6 for us/ns, in floating point; ns and large us values
 * lose digits that way. valueConverter already produces exact BigInt counts
 * of the unit, so columns are built with a private copy of the type whose
 * timestamps say milliseconds (which flechette stores unchanged), and the
 * copy's units are set back before encoding. Batches refer to the copy, so
 * the encoded schema carries the real units.
 * @param {import('@uwdata/flechette').DataType} type
 * @returns {[import('@uwdata/flechette').DataType, () => void]}
 */
export function buildType(type) {
  if (!hasFineTimestamp(type)) return [type, () => {}];
  const fixes = [];
  const copy = cloneType(type, fixes);
  return [copy, () => { for (const [t, unit] of fixes) t.unit = unit; }];
}

function hasFineTimestamp(t) {
  if (t.typeId === Type.Timestamp) return t.unit !== TimeUnit.MILLISECOND;
  if (t.typeId === Type.Dictionary) return hasFineTimestamp(t.dictionary);
  return (t.children ?? []).some(f => hasFineTimestamp(f.type));
}

function cloneType(t, fixes) {
  const c = { ...t };
  if (t.typeId === Type.Timestamp && t.unit !== TimeUnit.MILLISECOND) {
    fixes.push([c, t.unit]);
    c.unit = TimeUnit.MILLISECOND;
  }
  if (t.children) c.children = t.children.map(f => ({ ...f, type: cloneType(f.type, fixes) }));
  if (t.typeId === Type.Dictionary) c.dictionary = cloneType(t.dictionary, fixes);
  return c;
}
