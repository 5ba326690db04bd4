#!/usr/bin/env node
// Sends Arrow batches built with flechette to a running ducktail server, for
// the Go end-to-end test cmd/ducktail/e2e_flechette_test.go.
//
//   node ingest.mjs <baseURL> <token> <mode>
//
// The token's topic must have the fields of TOPIC_FIELDS below (the Go test
// creates it). Modes:
//   direct  several tables built with flechette's tableFromArrays and
//           posted as they are: 64-bit integers beyond 2^53, non-ASCII and
//           empty strings, NaN and ±Infinity, nulls in every nullable column,
//           a dictionary-encoded column for a utf8 field, columns in another
//           order than the topic's, missing nullable columns, a stream of
//           several record batches;
//   client  rows tracked with DucktailClient (schema fetched from the
//           server, bodies split under 128 KiB, close() sends the rest);
//   extra   one table with a field the topic does not have; prints the refusal.
//
// Output, one JSON object per line on stdout:
//   {"ack": {topic, rows, first_id, last_id}, "table": name}   per 200 answer
//   {"refusal": {"status": N, "body": {...}}}                  (mode extra)
//   {"summary": {"mode", "fields", "rows"}}                    last line
// "rows" holds every row sent, in order, decoded from the very bytes that
// were posted, each an object of every topic field (null when the column was
// absent) in a canonical JSON form: integers and timestamps (counts of the
// type's unit) as decimal strings, floats as numbers or "NaN", "Infinity",
// "-Infinity", binary as base64, date32 as a day count, lists as arrays,
// dictionaries as their string. Exit status 1 on any failure, with the
// reason on stderr.
import {
  bool, binary, dateDay, dictionary, float32, float64, int16, int32, int64, int8, list,
  tableFromArrays, tableFromIPC, tableToIPC, timestamp, TimeUnit, uint16, uint32, uint64,
  uint8, utf8, Type, field
} from '@uwdata/flechette';
import { DucktailClient } from '../ducktail.js';

/** The topic's fields, as the Go test declares them, with flechette types. */
const TOPIC_FIELDS = {
  seq: int64(), // not null in the topic
  i8: int8(), i16: int16(), i32: int32(), i64: int64(),
  u8: uint8(), u16: uint16(), u32: uint32(), u64: uint64(),
  f32: float32(), f64: float64(), flag: bool(),
  name: utf8(), note: utf8(), blob: binary(),
  at: timestamp(TimeUnit.MILLISECOND), at_us: timestamp(TimeUnit.MICROSECOND, 'UTC'),
  at_ns: timestamp(TimeUnit.NANOSECOND), day: dateDay(),
  nums: list(field('item', int64())), words: list(field('item', utf8())),
  kind: dictionary(utf8(), int32()),
};

const ARROW = 'application/vnd.apache.arrow.stream';
const [baseURL, token, mode] = process.argv.slice(2);
if (!baseURL && process.env.NODE_TEST_CONTEXT) {
  // `node --test` runs every file under test/: this one is not a test by itself.
  const { test } = await import('node:test');
  test('ingest.mjs (a script that the Go test TestFlechetteIngest runs against a server)', { skip: 'needs a server' });
} else if (!baseURL || !token || !['direct', 'client', 'extra'].includes(mode)) {
  console.error('usage: node ingest.mjs <baseURL> <token> direct|client|extra');
  process.exit(2);
}
const ingestURL = `${(baseURL ?? '').replace(/\/+$/, '')}/ingest/${token}`;
const out = obj => process.stdout.write(JSON.stringify(obj) + '\n');
const fail = msg => { throw new Error(msg); };

// ---- canonical values, decoded from the posted bytes ----------------------

function canonical(type, batch, i) {
  const v = batch.at(i);
  if (v === null || v === undefined) return null;
  switch (type.typeId) {
    case Type.Int: return String(v);
    case Type.Float:
      return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v;
    case Type.Timestamp: return String(batch.values[i]); // the raw count of the unit
    case Type.Date: return v / 864e5;
    case Type.Binary: return Buffer.from(v).toString('base64');
    case Type.List: {
      const child = type.children[0].type;
      return Array.from(v, x => x === null ? null : child.typeId === Type.Int ? String(x) : x);
    }
    default: return v; // bool, utf8, dictionary (decoded)
  }
}

/** Every row of an IPC stream, as canonical objects over all topic fields. */
function decodeRows(bytes) {
  const t = tableFromIPC(bytes, { useBigInt: true, useDate: false });
  const rows = Array.from({ length: t.numRows }, () => Object.fromEntries(Object.keys(TOPIC_FIELDS).map(k => [k, null])));
  for (const f of t.schema.fields) {
    const col = t.getChild(f.name);
    let r = 0;
    for (const batch of col.data) {
      for (let i = 0; i < batch.length; i++) rows[r++][f.name] = canonical(f.type, batch, i);
    }
  }
  return rows;
}

async function post(bytes) {
  const res = await fetch(ingestURL, { method: 'POST', headers: { 'Content-Type': ARROW }, body: bytes });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = { raw: text }; }
  return { status: res.status, body };
}

// ---- direct: tables built with flechette ------------------------------------

const BIG = 2n ** 53n + 1n;
const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

function directTables() {
  const tables = [];
  // 1. every column, topic order, extreme and unusual values.
  tables.push(['extremes', [
    ['seq', [0n, 1n, 2n, 3n]],
    ['i8', [-128, 127, 0, -1]],
    ['i16', [-32768, 32767, 0, 1]],
    ['i32', [-(2 ** 31), 2 ** 31 - 1, 0, 42]],
    ['i64', [BIG, -BIG, -(2n ** 63n), 2n ** 63n - 1n]],
    ['u8', [0, 255, 1, 128]],
    ['u16', [0, 65535, 1, 2]],
    ['u32', [0, 2 ** 32 - 1, 1, 3]],
    ['u64', [0n, 2n ** 64n - 1n, BIG, 2n ** 63n]],
    ['f32', [Math.fround(0.1), Math.fround(-3.4e38), Math.fround(1e-40), 0]],
    ['f64', [0.1, -1.5e300, 5e-324, 123456789.123456789]],
    ['flag', [true, false, true, false]],
    ['name', ['ascii', 'héllo wörld', '日本語テキスト', '']],
    ['note', ['', '🦆 duck, "quotes", \\ backslash', 'tab\tnew\nline\u0000nul', 'ñ']],
    ['blob', [new Uint8Array([0, 1, 2, 255]), new Uint8Array(0), new TextEncoder().encode('bytes'), new Uint8Array([0x80])]],
    ['at', [T0, 0, -1000, 4102444800000]],
    ['at_us', [T0, 1, -1, 4102444800000]],
    ['at_ns', [T0, 1, -1, 1700000000000]],
    ['day', [T0, 0, -864e5, Date.UTC(2024, 1, 29)]],
    ['nums', [[1n, BIG, -BIG], [], [0n], [2n ** 63n - 1n]]],
    ['words', [['a', 'ß', ''], [], ['x'], ['日本']]],
    ['kind', ['click', 'view', 'click', '']],
  ]]);
  // 2. columns in reverse order, name dictionary-encoded, several record
  //    batches in one stream, some nullable columns missing.
  const n2 = 7;
  const seq = Array.from({ length: n2 }, (_, i) => BigInt(4 + i));
  tables.push(['reordered-dict-batches', [
    ['kind', seq.map((_, i) => ['a', 'b', 'c'][i % 3])],
    ['words', seq.map((_, i) => Array.from({ length: i % 3 }, (_, j) => `w${i}.${j}`))],
    ['day', seq.map((_, i) => T0 + i * 864e5)],
    ['at', seq.map((_, i) => T0 + i)],
    ['note', seq.map((_, i) => 'é'.repeat(i))],
    ['name', seq.map((_, i) => ['dict-α', 'dict-β', '', 'dict-α'][i % 4])],
    ['f64', seq.map((_, i) => i / 3)],
    ['i64', seq.map((_, i) => BIG * BigInt(i) - 7n)],
    ['seq', seq],
  ], { types: { name: dictionary(utf8(), int32()) }, maxBatchRows: 3 }]);
  // 3. nulls in every nullable column; NaN and infinities.
  const n3 = 5;
  const nulls = (vals) => vals; // readability
  tables.push(['nulls-nan', [
    ['seq', [11n, 12n, 13n, 14n, 15n]],
    ['i8', nulls([null, 1, null, null, 2])],
    ['i16', [null, null, 3, null, null]],
    ['i32', [null, 4, null, null, null]],
    ['i64', [null, null, null, BIG, null]],
    ['u8', [null, null, null, 5, null]],
    ['u16', [6, null, null, null, null]],
    ['u32', [null, null, 7, null, null]],
    ['u64', [null, 2n ** 64n - 1n, null, null, null]],
    ['f32', [NaN, null, Infinity, -Infinity, null]],
    ['f64', [NaN, Infinity, null, -Infinity, 0.5]],
    ['flag', [null, true, null, null, false]],
    ['name', [null, '', null, 'x', null]],
    ['note', ['', null, null, null, 'é']],
    ['blob', [null, null, new Uint8Array([9]), null, null]],
    ['at', [null, T0, null, null, null]],
    ['at_us', [null, null, null, null, T0]],
    ['at_ns', [null, null, T0, null, null]],
    ['day', [null, null, null, T0, null]],
    ['nums', [null, [null, 1n], null, null, []]],
    ['words', [null, null, [null, 'z'], null, null]],
    ['kind', [null, 'k', null, null, 'k']],
  ].map(([k, v]) => { if (v.length !== n3) fail(`table nulls-nan: ${k} has ${v.length} values`); return [k, v]; })]);
  // 4. only the required column: every other field is filled with nulls.
  tables.push(['only-seq', [['seq', [16n, 17n]]]]);
  // 5. a bigger table (~100 KB), a dictionary name with int8 indices.
  const n5 = 600;
  tables.push(['bulk', [
    ['seq', Array.from({ length: n5 }, (_, i) => BigInt(18 + i))],
    ['i64', Array.from({ length: n5 }, (_, i) => BigInt(i) * 1000003n - 2n ** 62n)],
    ['f64', Array.from({ length: n5 }, (_, i) => Math.sin(i) * 1e10)],
    ['name', Array.from({ length: n5 }, (_, i) => `user-${i % 17}`)],
    ['note', Array.from({ length: n5 }, (_, i) => `row ${i} `.repeat(15))],
    ['at', Array.from({ length: n5 }, (_, i) => T0 + i * 1000)],
    ['kind', Array.from({ length: n5 }, (_, i) => (i % 5 ? 'view' : 'click'))],
  ], { types: { name: dictionary(utf8(), int8()) } }]);
  return tables;
}

async function runDirect() {
  const sent = [];
  for (const [name, columns, opts = {}] of directTables()) {
    const types = {};
    for (const [k] of columns) types[k] = opts.types?.[k] ?? TOPIC_FIELDS[k];
    const table = tableFromArrays(columns, { types, maxBatchRows: opts.maxBatchRows });
    const bytes = tableToIPC(table, { format: 'stream' });
    if (bytes.byteLength > 128 * 1024) fail(`table ${name}: ${bytes.byteLength} bytes, over the 128 KiB limit`);
    const rows = decodeRows(bytes);
    const { status, body } = await post(bytes);
    if (status !== 200) {
      fail(`table ${name} (${bytes.byteLength} bytes, ${rows.length} rows): status ${status}: ${JSON.stringify(body)}\n` +
        `IPC head: ${Buffer.from(bytes.subarray(0, 256)).toString('hex')}`);
    }
    if (body.rows !== rows.length) fail(`table ${name}: ack ${JSON.stringify(body)} for ${rows.length} rows`);
    out({ ack: body, table: name });
    sent.push(...rows);
  }
  return sent;
}

// ---- client: DucktailClient ------------------------------------------------

/** Rows as an application would track them, with their expected canonical form. */
function clientRows() {
  const rows = [];
  for (let i = 0; i < 400; i++) {
    const row = { seq: 1000 + i };
    const want = { seq: String(1000 + i) };
    const set = (k, v, w) => { if (v !== undefined) row[k] = v; want[k] = w; };
    set('i8', i % 7 ? (i % 256) - 128 : null, i % 7 ? String((i % 256) - 128) : null);
    set('i64', i % 2 ? BIG + BigInt(i) : String(-i), i % 2 ? String(BIG + BigInt(i)) : String(-i));
    set('u64', i % 3 ? `${2n ** 64n - 1n - BigInt(i)}` : undefined, i % 3 ? String(2n ** 64n - 1n - BigInt(i)) : null);
    set('f32', i / 4, Math.fround(i / 4));
    set('f64', i % 11 ? i * 0.1 : NaN, i % 11 ? i * 0.1 : 'NaN');
    set('flag', i % 5 === 0 ? undefined : i % 2 === 0, i % 5 === 0 ? null : i % 2 === 0);
    set('name', i % 4 ? `name-${i % 9}-ü` : '', i % 4 ? `name-${i % 9}-ü` : '');
    // ~1 KB per row, so that 400 rows need several 128 KiB bodies.
    set('note', `${i}:` + 'ß'.repeat(500), `${i}:` + 'ß'.repeat(500));
    set('blob', i % 6 ? new Uint8Array([i & 255, 0, 255]) : null,
      i % 6 ? Buffer.from([i & 255, 0, 255]).toString('base64') : null);
    set('at', new Date(T0 + i), String(T0 + i));
    set('at_us', T0 + i + 0.25, String(BigInt(T0 + i) * 1000n + 250n)); // fractional ms
    set('at_ns', 1700000000000000000n + BigInt(i), String(1700000000000000000n + BigInt(i))); // exact bigint
    set('day', '2024-02-29', 19782);
    set('nums', [BigInt(i), i, `${-i}`], [String(i), String(i), String(-i)]);
    set('words', i % 8 ? ['α', `${i}`] : undefined, i % 8 ? ['α', `${i}`] : null);
    set('kind', ['click', 'view', null][i % 3], ['click', 'view', null][i % 3]);
    rows.push([row, Object.fromEntries(Object.keys(TOPIC_FIELDS).map(k => [k, want[k] ?? null]))]);
  }
  return rows;
}

async function runClient() {
  const bodies = [];
  const recordingFetch = async (url, init = {}) => {
    const res = await fetch(url, init);
    if (init.method === 'POST') {
      const copy = res.clone();
      const ack = await copy.json().catch(() => null);
      bodies.push({ bytes: init.body, status: res.status, ack, keepalive: !!init.keepalive });
    }
    return res;
  };
  const errors = [];
  const client = new DucktailClient({
    endpoint: baseURL, token, fetch: recordingFetch, batchSize: 150, onError: e => errors.push(e)
  });
  const rows = clientRows();
  // Most rows go out through flushes that track() starts at batchSize; the
  // last 50 through close(), with keepalive.
  for (const [row] of rows.slice(0, -50)) client.track(row);
  await client.flush();
  for (const [row] of rows.slice(-50)) client.track(row);
  const closeAcks = await client.close();
  if (errors.length) fail(`client errors: ${errors.map(e => e.message).join('; ')}`);
  const sent = [];
  for (const b of bodies) {
    if (b.status !== 200) fail(`client POST answered ${b.status}: ${JSON.stringify(b.ack)}`);
    if (b.bytes.byteLength > 128 * 1024) fail(`client sent a body of ${b.bytes.byteLength} bytes`);
    out({ ack: b.ack, table: `client${b.keepalive ? '-keepalive' : ''}`, bytes: b.bytes.byteLength });
    sent.push(...decodeRows(b.bytes));
  }
  const kept = bodies.filter(b => b.keepalive).map(b => b.ack);
  if (kept.length === 0 || JSON.stringify(kept) !== JSON.stringify(closeAcks)) {
    fail(`client: close() resolved to ${JSON.stringify(closeAcks)}, its keepalive requests were answered ${JSON.stringify(kept)}`);
  }
  if (bodies.length < 4) fail(`client: ${bodies.length} bodies for ~400 KB of rows: not split`);
  // The bytes hold exactly what the application tracked.
  if (sent.length !== rows.length) fail(`client: ${sent.length} rows sent, ${rows.length} tracked`);
  for (let i = 0; i < rows.length; i++) {
    const got = JSON.stringify(sent[i]), want = JSON.stringify(rows[i][1]);
    if (got !== want) fail(`client row ${i}: encoded ${got}, tracked ${want}`);
  }
  return sent;
}

// ---- extra: a field the topic does not have ----------------------------------

async function runExtra() {
  const table = tableFromArrays([['seq', [1n]], ['surprise', ['x']]], { types: { seq: int64(), surprise: utf8() } });
  const { status, body } = await post(tableToIPC(table, { format: 'stream' }));
  out({ refusal: { status, body } });
  return [];
}

if (baseURL) try {
  const rows = await { direct: runDirect, client: runClient, extra: runExtra }[mode]();
  out({ summary: { mode, fields: Object.keys(TOPIC_FIELDS), rows } });
} catch (err) {
  console.error(`ingest.mjs ${mode}: ${err.stack ?? err}`);
  process.exit(1);
}
