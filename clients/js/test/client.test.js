// Unit tests of the ducktail browser client, with a fake fetch.
// Run: node --test (from clients/js).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Type, TimeUnit, tableFromIPC } from '@uwdata/flechette';
import {
  DucktailClient, DucktailError, KEEPALIVE_BODY_BYTES, MAX_BODY_BYTES,
  compileSchema, encodeChunks, encodeRows, parseType
} from '../ducktail.js';

const TOKEN = 'ab'.repeat(32);
const ENDPOINT = 'http://ducktail.test';

// ---- type mapping --------------------------------------------------------

describe('parseType', () => {
  const cases = [
    ['int8', { typeId: Type.Int, bitWidth: 8, signed: true }],
    ['int16', { typeId: Type.Int, bitWidth: 16, signed: true }],
    ['int32', { typeId: Type.Int, bitWidth: 32, signed: true }],
    ['int64', { typeId: Type.Int, bitWidth: 64, signed: true }],
    ['uint8', { typeId: Type.Int, bitWidth: 8, signed: false }],
    ['uint16', { typeId: Type.Int, bitWidth: 16, signed: false }],
    ['uint32', { typeId: Type.Int, bitWidth: 32, signed: false }],
    ['uint64', { typeId: Type.Int, bitWidth: 64, signed: false }],
    ['float16', { typeId: Type.Float, precision: 0 }],
    ['float32', { typeId: Type.Float, precision: 1 }],
    ['float64', { typeId: Type.Float, precision: 2 }],
    ['bool', { typeId: Type.Bool }],
    ['utf8', { typeId: Type.Utf8 }],
    ['large_utf8', { typeId: Type.LargeUtf8 }],
    ['binary', { typeId: Type.Binary }],
    ['large_binary', { typeId: Type.LargeBinary }],
    ['fixed_size_binary[16]', { typeId: Type.FixedSizeBinary, stride: 16 }],
    ['date32', { typeId: Type.Date, unit: 0 }],
    ['time32[ms]', { typeId: Type.Time, unit: TimeUnit.MILLISECOND, bitWidth: 32 }],
    ['time64[ns]', { typeId: Type.Time, unit: TimeUnit.NANOSECOND, bitWidth: 64 }],
    ['timestamp[ms]', { typeId: Type.Timestamp, unit: TimeUnit.MILLISECOND, timezone: null }],
    ['timestamp[us, tz=UTC]', { typeId: Type.Timestamp, unit: TimeUnit.MICROSECOND, timezone: 'UTC' }],
    ['timestamp[ns, tz=America/New_York]', { typeId: Type.Timestamp, unit: TimeUnit.NANOSECOND, timezone: 'America/New_York' }],
    ['timestamp[ms, tz=+07:30]', { typeId: Type.Timestamp, unit: TimeUnit.MILLISECOND, timezone: '+07:30' }],
    ['decimal128(10, 2)', { typeId: Type.Decimal, precision: 10, scale: 2, bitWidth: 128 }],
    ['decimal256(40, 0)', { typeId: Type.Decimal, precision: 40, scale: 0, bitWidth: 256 }],
  ];
  for (const [name, want] of cases) {
    it(name, () => {
      const t = parseType(name);
      for (const [k, v] of Object.entries(want)) assert.equal(t[k], v, `${name}.${k}`);
    });
  }

  it('nested types', () => {
    const l = parseType('list<int64>');
    assert.equal(l.typeId, Type.List);
    assert.equal(l.children[0].type.bitWidth, 64);
    assert.equal(l.children[0].nullable, true);
    const nn = parseType('large_list<utf8 not null>');
    assert.equal(nn.typeId, Type.LargeList);
    assert.equal(nn.children[0].nullable, false);
    const fl = parseType('fixed_size_list<float32 not null>[3]');
    assert.equal(fl.typeId, Type.FixedSizeList);
    assert.equal(fl.stride, 3);
    const m = parseType('map<utf8, list<int32>>');
    assert.equal(m.typeId, Type.Map);
    const [k, v] = m.children[0].type.children;
    assert.equal(k.type.typeId, Type.Utf8);
    assert.equal(k.nullable, false);
    assert.equal(v.type.typeId, Type.List);
    const s = parseType('struct<a: int32, "b c": utf8 not null>');
    assert.deepEqual(s.children.map(f => [f.name, f.type.typeId, f.nullable]),
      [['a', Type.Int, true], ['b c', Type.Utf8, false]]);
    const d = parseType('dictionary<values=utf8, indices=int16, ordered>');
    assert.equal(d.typeId, Type.Dictionary);
    assert.equal(d.dictionary.typeId, Type.Utf8);
    assert.equal(d.indices.bitWidth, 16);
    assert.equal(d.ordered, true);
    const d2 = parseType('dictionary<indices=int8, values=binary>');
    assert.equal(d2.dictionary.typeId, Type.Binary);
  });

  for (const bad of ['', 'int', 'list<int64', 'timestamp[h]', 'int64 x', 'dense_union<a: int8>', 'utf8_view',
    'dictionary<indices=int32>', 'struct<a int8>']) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseType(bad), SyntaxError));
  }
});

// ---- encoding ------------------------------------------------------------

/** Raw column values of a decoded single-batch table (bigints for 64-bit). */
function decode(bytes) {
  return tableFromIPC(bytes, { useBigInt: true, useDate: false });
}

describe('encodeRows', () => {
  const fields = compileSchema({
    fields: [
      { name: 'i64', type: 'int64' },
      { name: 'u64', type: 'uint64' },
      { name: 'i8', type: 'int8' },
      { name: 'ts_ns', type: 'timestamp[ns]' },
      { name: 'ts_us', type: 'timestamp[us, tz=UTC]' },
      { name: 'ts_ms', type: 'timestamp[ms]' },
      { name: 'day', type: 'date32' },
      { name: 'tags', type: 'list<timestamp[ns]>' },
      { name: 'dict', type: 'dictionary<values=utf8, indices=int32>' },
      { name: 'bin', type: 'binary' },
      { name: 'dec', type: 'decimal128(10, 2)' },
      { name: 'req', type: 'utf8', nullable: false },
    ]
  });

  it('keeps 64-bit integers and fine timestamps exact', () => {
    const rows = [
      { i64: 2n ** 63n - 1n, u64: 2n ** 64n - 1n, i8: -128, ts_ns: 1700000000123456789n, ts_us: 1700000000123.456,
        ts_ms: new Date(1700000000123), day: '2024-02-29', tags: [1n, 2n], dict: 'a', bin: 'é', dec: '0.29', req: '' },
      { i64: '-9007199254740993', u64: 0, i8: 127, ts_ns: new Date(1), ts_us: 1n, ts_ms: 5, day: 0, tags: [], dict: 'a',
        bin: new Uint8Array([0, 255]), dec: 0.29, req: 'x' },
      { req: 'z' },
    ];
    const t = decode(encodeRows(fields, rows));
    assert.deepEqual(t.schema.fields.map(f => f.name), fields.map(f => f.name));
    assert.equal(t.schema.fields[3].type.unit, TimeUnit.NANOSECOND);
    assert.equal(t.schema.fields[4].type.unit, TimeUnit.MICROSECOND);
    assert.equal(t.schema.fields[4].type.timezone, 'UTC');
    assert.equal(t.schema.fields[7].type.children[0].type.unit, TimeUnit.NANOSECOND);
    const raw = name => Array.from(t.getChild(name).data[0].values);
    assert.deepEqual(t.getChild('i64').toArray(), [2n ** 63n - 1n, -9007199254740993n, null]);
    assert.deepEqual(t.getChild('u64').toArray(), [2n ** 64n - 1n, 0n, null]);
    assert.deepEqual(t.getChild('i8').toArray(), [-128, 127, null]);
    assert.deepEqual(raw('ts_ns').slice(0, 2), [1700000000123456789n, 1000000n]);
    assert.deepEqual(raw('ts_us').slice(0, 2), [1700000000123456n, 1n]);
    assert.deepEqual(raw('ts_ms').slice(0, 2), [1700000000123n, 5n]);
    assert.deepEqual(raw('day').slice(0, 2), [19782, 0]);
    assert.deepEqual(Array.from(t.getChild('tags').data[0].children[0].values), [1n, 2n]);
    assert.equal(t.getChild('dict').type.typeId, Type.Dictionary);
    assert.deepEqual(t.getChild('dict').toArray(), ['a', 'a', null]);
    assert.deepEqual(Array.from(t.getChild('bin').at(0)), [0xc3, 0xa9]);
    assert.deepEqual(raw('dec').slice(0, 4), [29n, 0n, 29n, 0n]); // 128-bit: two uint64 words per value
    assert.deepEqual(t.getChild('req').toArray(), ['', 'x', 'z']);
  });

  const refusals = [
    [{ req: 'a', nope: 1 }, /field "nope": not in the topic schema/],
    [{ req: null }, /field "req".*not nullable/],
    [{ req: 'a', i64: 2 ** 53 }, /field "i64".*not a safe integer/],
    [{ req: 'a', i64: 2n ** 63n }, /field "i64".*out of range/],
    [{ req: 'a', i8: 128 }, /field "i8".*out of range/],
    [{ req: 'a', i8: 1.5 }, /field "i8".*want an integer/],
    [{ req: 'a', ts_ms: 'yesterday' }, /field "ts_ms".*not a valid time/],
    [{ req: 'a', dec: '0.295' }, /field "dec".*fraction digits/],
    [{ req: 'a', tags: 'x' }, /field "tags".*want an array/],
    [{ req: {} }, /field "req".*want a string/],
  ];
  for (const [row, re] of refusals) {
    it(`refuses ${JSON.stringify(row, (k, v) => typeof v === 'bigint' ? `${v}n` : v)}`, () => {
      assert.throws(() => encodeRows(fields, [row]), err => err instanceof DucktailError && re.test(err.message));
    });
  }
});

describe('encodeChunks', () => {
  const fields = compileSchema([{ name: 'n', type: 'int64' }, { name: 's', type: 'utf8' }]);

  it('splits under the limit and keeps row order', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ n: i, s: 'x'.repeat(200 + (i % 700)) }));
    const chunks = encodeChunks(fields, rows);
    assert.ok(chunks.length >= 5, `only ${chunks.length} chunks for ~550 KB`);
    let next = 0;
    for (const c of chunks) {
      assert.ok(c.body.byteLength <= MAX_BODY_BYTES, `body of ${c.body.byteLength} bytes`);
      const t = decode(c.body);
      assert.equal(t.numRows, c.rows.length);
      for (const n of t.getChild('n')) assert.equal(n, BigInt(next++));
    }
    assert.equal(next, rows.length);
  });

  it('fits one row per body when rows are large', () => {
    const rows = Array.from({ length: 3 }, (_, i) => ({ n: i, s: 'y'.repeat(100 * 1024) }));
    const chunks = encodeChunks(fields, rows);
    assert.deepEqual(chunks.map(c => c.rows.length), [1, 1, 1]);
  });

  it('refuses or skips a row over the limit', () => {
    const rows = [{ n: 0, s: 'a' }, { n: 1, s: 'z'.repeat(MAX_BODY_BYTES) }, { n: 2, s: 'b' }];
    assert.throws(() => encodeChunks(fields, rows), err => err.status === 413);
    const skipped = [];
    const chunks = encodeChunks(fields, rows, MAX_BODY_BYTES, err => skipped.push(err));
    assert.equal(skipped.length, 1);
    assert.deepEqual(chunks.flatMap(c => c.rows.map(r => r.n)), [0, 2]);
  });
});

// ---- the client with a fake fetch -----------------------------------------

const SCHEMA = { name: 'acct/s', topic_id: 1, fields: [{ name: 'n', type: 'int64', nullable: false }, { name: 's', type: 'utf8', nullable: true }] };

function jsonResponse(status, body, headers = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

/**
 * A fake server: answers the schema GET, and each POST with the next
 * scripted answer (a function of the request, or a status to build an
 * error from); once the script is used up, 200 acks with dense ids.
 */
function fakeServer(script = []) {
  const calls = [];
  let nextID = 0;
  const fetch = async (url, init = {}) => {
    const call = { url, method: init.method ?? 'GET', init, rows: null };
    calls.push(call);
    if (call.method === 'GET') {
      assert.equal(url, `${ENDPOINT}/ingest/${TOKEN}/schema`);
      return jsonResponse(200, SCHEMA);
    }
    assert.equal(url, `${ENDPOINT}/ingest/${TOKEN}`);
    assert.equal(init.headers['Content-Type'], 'application/vnd.apache.arrow.stream');
    const t = decode(init.body);
    call.rows = t.toArray().map(r => Number(r.n));
    call.bytes = init.body.byteLength;
    const step = script.shift();
    if (typeof step === 'function') return step(call);
    if (step instanceof Error) throw step;
    if (typeof step === 'number') return jsonResponse(step, { error: `status ${step}` });
    const ack = { topic: 'acct/s', rows: t.numRows, first_id: nextID, last_id: nextID + t.numRows - 1 };
    nextID += t.numRows;
    return jsonResponse(200, ack);
  };
  return { fetch, calls, posts: () => calls.filter(c => c.method === 'POST') };
}

function newClient(server, opts = {}) {
  const errors = [], retries = [];
  const client = new DucktailClient({
    endpoint: ENDPOINT + '/', token: TOKEN, fetch: server.fetch, flushIntervalMs: 0,
    onError: e => errors.push(e), onRetry: (e, attempt, ms) => retries.push({ status: e.status, attempt, ms }),
    retryBaseMs: 1, ...opts
  });
  return { client, errors, retries };
}

const rowsN = (from, n, s = 'v') => Array.from({ length: n }, (_, i) => ({ n: from + i, s }));

describe('DucktailClient', () => {
  it('fetches the schema, then sends rows in order with dense acks', async () => {
    const server = fakeServer();
    const { client, errors } = newClient(server, { batchSize: 1000 });
    rowsN(0, 5).forEach(r => client.track(r));
    const acks = await client.flush();
    assert.deepEqual(acks, [{ topic: 'acct/s', rows: 5, first_id: 0, last_id: 4 }]);
    assert.equal(server.calls[0].method, 'GET');
    assert.deepEqual(server.posts()[0].rows, [0, 1, 2, 3, 4]);
    assert.equal(client.pending, 0);
    // Now the schema is known: a bad row is refused by track itself.
    assert.throws(() => client.track({ n: 1, bogus: true }), /field "bogus": not in the topic schema/);
    assert.throws(() => client.track({ s: 'no n' }), /field "n".*not nullable/);
    assert.equal(client.pending, 0);
    await client.close();
    assert.deepEqual(errors, []);
  });

  it('flushes by itself at batchSize, serialized', async () => {
    const server = fakeServer();
    const { client, errors } = newClient(server, { batchSize: 3, schema: SCHEMA });
    rowsN(0, 7).forEach(r => client.track(r));
    // The flush started at the 3rd row runs after this synchronous loop and
    // takes all 7; the one at the 6th row is not queued twice.
    await client._chain;
    assert.deepEqual(server.posts().map(p => p.rows), [[0, 1, 2, 3, 4, 5, 6]]);
    assert.equal(client.pending, 0);
    client.track({ n: 7 });
    client.track({ n: 8 });
    await client.flush();
    client.track({ n: 9 });
    await client.close();
    assert.deepEqual(server.posts().map(p => p.rows), [[0, 1, 2, 3, 4, 5, 6], [7, 8], [9]]);
    await client.close();
    assert.deepEqual(errors, []);
  });

  it('splits large buffers into bodies of at most 128 KiB', async () => {
    const server = fakeServer();
    const { client } = newClient(server, { batchSize: 1e6, schema: SCHEMA });
    rowsN(0, 600, 'x'.repeat(1000)).forEach(r => client.track(r));
    const acks = await client.flush();
    const posts = server.posts();
    assert.ok(posts.length >= 5, `${posts.length} posts`);
    for (const p of posts) assert.ok(p.bytes <= MAX_BODY_BYTES, `${p.bytes} bytes`);
    assert.deepEqual(posts.flatMap(p => p.rows), rowsN(0, 600).map(r => r.n));
    assert.equal(acks.at(-1).last_id, 599);
    await client.close();
  });

  const retryCases = [
    ['429 with retry_after_ms', () => jsonResponse(429, { error: 'slow down', retry_after_ms: 7 }, { 'Retry-After': '1' }), 429, 7],
    ['503 with retry_after_ms', () => jsonResponse(503, { error: 'over capacity', retry_after_ms: 3 }), 503, 3],
    ['503 with only X-Retry-After-Ms', () => new Response('busy', { status: 503, headers: { 'X-Retry-After-Ms': '4' } }), 503, 4],
    ['429 with only Retry-After', () => new Response('', { status: 429, headers: { 'Retry-After': '0' } }), 429, 0],
  ];
  for (const [name, answer, status, ms] of retryCases) {
    it(`retries ${name}, waiting as told`, async () => {
      const server = fakeServer([answer, answer]);
      const { client, retries } = newClient(server, { schema: SCHEMA });
      rowsN(0, 2).forEach(r => client.track(r));
      const acks = await client.flush();
      assert.equal(server.posts().length, 3);
      assert.deepEqual(server.posts().map(p => p.rows), [[0, 1], [0, 1], [0, 1]]);
      assert.deepEqual(retries, [{ status, attempt: 1, ms }, { status, attempt: 2, ms }]);
      assert.equal(acks[0].rows, 2);
      await client.close();
    });
  }

  it('caps the wait at maxRetryDelayMs', async () => {
    const server = fakeServer([() => jsonResponse(503, { error: 'x', retry_after_ms: 60_000 })]);
    const { client, retries } = newClient(server, { schema: SCHEMA, maxRetryDelayMs: 2 });
    client.track({ n: 1 });
    await client.flush();
    assert.deepEqual(retries, [{ status: 503, attempt: 1, ms: 2 }]);
    await client.close();
  });

  it('retries network errors with backoff', async () => {
    const server = fakeServer([new TypeError('fetch failed'), new TypeError('fetch failed')]);
    const { client, retries } = newClient(server, { schema: SCHEMA, retryBaseMs: 2 });
    client.track({ n: 1 });
    const acks = await client.flush();
    assert.equal(acks[0].rows, 1);
    assert.deepEqual(retries.map(r => r.status), [0, 0]);
    assert.ok(retries[0].ms >= 1 && retries[0].ms <= 2 && retries[1].ms >= 2 && retries[1].ms <= 4, JSON.stringify(retries));
    await client.close();
  });

  it('gives up after maxAttempts and keeps the rows for the next flush', async () => {
    const server = fakeServer([503, 503, 503]);
    const { client } = newClient(server, { schema: SCHEMA, maxAttempts: 3 });
    rowsN(0, 3).forEach(r => client.track(r));
    await assert.rejects(client.flush(), err => err.status === 503 && err.retryable && err.requeued && err.rows === 3);
    assert.equal(server.posts().length, 3);
    assert.equal(client.pending, 3);
    client.track({ n: 3 });
    const acks = await client.flush();
    assert.deepEqual(server.posts().at(-1).rows, [0, 1, 2, 3]);
    assert.equal(acks[0].rows, 4);
    await client.close();
  });

  for (const status of [400, 401, 403, 404, 413, 415, 500]) {
    it(`does not retry ${status}, drops that request's rows`, async () => {
      const server = fakeServer([() => jsonResponse(status, { error: `field "x": nope ${status}` })]);
      const { client, retries } = newClient(server, { schema: SCHEMA });
      rowsN(0, 2).forEach(r => client.track(r));
      await assert.rejects(client.flush(), err => err instanceof DucktailError && err.status === status &&
        !err.retryable && err.message.includes(`nope ${status}`));
      assert.equal(server.posts().length, 1);
      assert.deepEqual(retries, []);
      assert.equal(client.pending, 0);
      await client.close();
    });
  }

  it('after a refused request, still sends the later ones next time', async () => {
    const server = fakeServer([400]);
    const { client } = newClient(server, { schema: SCHEMA, batchSize: 1e6 });
    rowsN(0, 300, 'x'.repeat(1000)).forEach(r => client.track(r));
    await assert.rejects(client.flush(), err => err.status === 400);
    const first = server.posts()[0].rows;
    assert.equal(client.pending, 300 - first.length);
    await client.flush();
    assert.deepEqual(server.posts().slice(1).flatMap(p => p.rows), rowsN(first.length, 300 - first.length).map(r => r.n));
    await client.close();
  });

  it('checks rows tracked before the schema was known at flush', async () => {
    const server = fakeServer();
    const { client } = newClient(server);
    client.track({ n: 0 });
    client.track({ n: 1, extra: 'x' });
    client.track({ n: 2 });
    await assert.rejects(client.flush(), /field "extra": not in the topic schema/);
    assert.deepEqual(server.posts().map(p => p.rows), [[0, 2]]);
    await client.close();
  });

  it('close() sends the rest with keepalive in bodies of at most 64 KiB, and stops', async () => {
    const server = fakeServer();
    const { client } = newClient(server, { schema: SCHEMA, batchSize: 1e6 });
    rowsN(0, 200, 'x'.repeat(1000)).forEach(r => client.track(r));
    await client.close();
    const posts = server.posts();
    assert.ok(posts.length >= 4);
    for (const p of posts) {
      assert.equal(p.init.keepalive, true);
      assert.ok(p.bytes <= KEEPALIVE_BODY_BYTES, `${p.bytes} bytes`);
    }
    assert.equal(posts.flatMap(p => p.rows).length, 200);
    assert.throws(() => client.track({ n: 1 }), /after close/);
    assert.deepEqual(await client.close(), []);
  });

  it('close() falls back to sendBeacon when a keepalive fetch fails', async () => {
    const beacons = [];
    const server = fakeServer([new TypeError('keepalive quota')]);
    const { client } = newClient(server, {
      schema: SCHEMA,
      sendBeacon: (url, blob) => { beacons.push({ url, blob }); return true; }
    });
    client.track({ n: 1 });
    assert.deepEqual(await client.close(), [{ beacon: true }]);
    assert.equal(beacons.length, 1);
    assert.equal(beacons[0].url, `${ENDPOINT}/ingest/${TOKEN}`);
    assert.equal(beacons[0].blob.type, 'application/vnd.apache.arrow.stream');
    const t = decode(new Uint8Array(await beacons[0].blob.arrayBuffer()));
    assert.deepEqual(Array.from(t.getChild('n').toArray()), [1n]);
  });

  it('flushes on its interval and leaves no timer after close()', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const server = fakeServer();
    const { client } = newClient(server, { schema: SCHEMA, flushIntervalMs: 1000, batchSize: 1e6 });
    client.track({ n: 0 });
    t.mock.timers.tick(999);
    await new Promise(resolve => setImmediate(resolve));
    assert.equal(server.posts().length, 0);
    t.mock.timers.tick(1);
    await client._chain;
    assert.deepEqual(server.posts().map(p => p.rows), [[0]]);
    client.track({ n: 1 });
    await client.close();
    assert.equal(server.posts().length, 2);
    t.mock.timers.tick(10_000);
    await client._chain;
    assert.equal(server.posts().length, 2);
  });

  it('validates its options', () => {
    assert.throws(() => new DucktailClient({ endpoint: ENDPOINT, token: 'short', fetch: async () => {} }), /64 hex/);
    assert.throws(() => new DucktailClient({ token: TOKEN, fetch: async () => {} }), /endpoint/);
    assert.throws(() => new DucktailClient({ endpoint: ENDPOINT, token: TOKEN, fetch: null }), /fetch/);
  });
});
