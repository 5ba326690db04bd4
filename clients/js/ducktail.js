/**
 * A browser client for ducktail's Arrow ingestion API (`POST /ingest/{token}`).
 *
 * ```js
 * import { DucktailClient } from '@ducktail/client';
 * const client = new DucktailClient({ endpoint: 'https://events.example.com', token });
 * client.track({ event: 'click', value: 1.5 });   // buffered
 * await client.flush();                            // [{topic, rows, first_id, last_id}]
 * await client.close();                            // flush the rest, stop the timer
 * ```
 *
 * Rows are plain objects keyed by the topic's field names. They are buffered
 * and sent as one Arrow IPC stream per request, built with flechette using
 * the topic's exact types (fetched from `GET /ingest/{token}/schema` unless
 * given), split so that every body stays within the server's 128 KiB limit.
 * Requests are sent one at a time, in the order rows were tracked, so the
 * ids the server assigns follow that order.
 *
 * Failures: 429 and 503 (and 502/504 and network errors) are retried up to
 * `maxAttempts` times, waiting the server's `retry_after_ms` (else
 * `Retry-After`, else an exponential backoff); if they keep failing, the
 * rows go back to the head of the buffer for the next flush. Any other
 * answer (400 schema mismatch, 401, 403, 413, ...) is not retried: the rows
 * of that request are dropped and the error is reported. A retried request
 * that had in fact reached the server is stored twice: the ingest API has no
 * idempotency key.
 *
 * @module
 */
import { tableFromArrays, tableToIPC } from '@uwdata/flechette';
import { buildType, parseType, valueConverter } from './types.js';

export { parseType, valueConverter } from './types.js';

/** The content type of an Arrow IPC stream. */
export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';

/** The server's default limit on a request body (`http_ingestion.max_request_bytes`). */
export const MAX_BODY_BYTES = 128 * 1024;

/**
 * Browsers allow at most 64 KiB of keepalive fetch / sendBeacon bodies in
 * flight per page, so bodies sent while the page goes away are cut to this.
 */
export const KEEPALIVE_BODY_BYTES = 64 * 1024;

/** An error answered by the server, or a row that cannot be encoded. */
export class DucktailError extends Error {
  /**
   * @param {string} message
   * @param {object} [info]
   * @param {number} [info.status] HTTP status (0 for a network error or a local refusal).
   * @param {number|null} [info.retryAfterMs] The server's retry hint.
   * @param {boolean} [info.retryable] Whether the request may succeed if sent again.
   * @param {number} [info.rows] How many rows were in the request.
   * @param {boolean} [info.requeued] Whether those rows went back to the buffer.
   * @param {unknown} [info.cause]
   */
  constructor(message, { status = 0, retryAfterMs = null, retryable = false, rows = 0, requeued = false, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'DucktailError';
    this.status = status;
    this.retryAfterMs = retryAfterMs;
    this.retryable = retryable;
    this.rows = rows;
    this.requeued = requeued;
  }
}

/**
 * A topic schema compiled for encoding.
 * @typedef {object} CompiledField
 * @property {string} name
 * @property {string} typeName The ducktail type name.
 * @property {import('@uwdata/flechette').DataType} type
 * @property {boolean} nullable
 * @property {(v: any) => any} convert
 */

/**
 * Compile a topic schema: the JSON of `GET /ingest/{token}/schema`
 * (`{fields: [...]}`) or its fields array, each `{name, type, nullable}`
 * with a ducktail type name. `nullable` defaults to true as on the server.
 * @param {{fields: object[]} | object[]} schema
 * @returns {CompiledField[]}
 */
export function compileSchema(schema) {
  const fields = Array.isArray(schema) ? schema : schema?.fields;
  if (!Array.isArray(fields) || fields.length === 0) {
    throw new TypeError('schema: want {fields: [{name, type, nullable}, ...]} with at least one field');
  }
  return fields.map((f, i) => {
    if (typeof f?.name !== 'string' || f.name === '') throw new TypeError(`schema: fields[${i}] has no name`);
    const type = parseType(f.type);
    return { name: f.name, typeName: f.type, type, nullable: f.nullable !== false, convert: valueConverter(type) };
  });
}

/**
 * Encode rows as one Arrow IPC stream (one record batch) with exactly the
 * compiled schema's fields, in its order. A field missing from a row is
 * null. Throws a DucktailError naming the field for a key not in the
 * schema, a value that does not fit its type, or a null in a field that is
 * not nullable.
 * @param {CompiledField[]} fields
 * @param {object[]} rows
 * @returns {Uint8Array}
 */
export function encodeRows(fields, rows) {
  checkKeys(fields, rows);
  const fixes = [];
  const types = {};
  const columns = fields.map(f => {
    const values = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      let v;
      try {
        v = f.convert(rows[i][f.name]);
      } catch (err) {
        throw new DucktailError(`field "${f.name}": row ${i}: ${err.message}`, { rows: rows.length, cause: err });
      }
      if (v === null && !f.nullable) {
        throw new DucktailError(`field "${f.name}": row ${i}: the field is not nullable`, { rows: rows.length });
      }
      values[i] = v;
    }
    const [bt, fix] = buildType(f.type);
    types[f.name] = bt;
    fixes.push(fix);
    return [f.name, values];
  });
  const table = tableFromArrays(columns, { types });
  for (const fix of fixes) fix();
  return tableToIPC(table, { format: 'stream' });
}

/**
 * Check that one row encodes under fields; throws a DucktailError naming
 * the field otherwise.
 * @param {CompiledField[]} fields
 * @param {object} row
 */
export function checkRow(fields, row) {
  checkKeys(fields, [row]);
  for (const f of fields) {
    let v;
    try {
      v = f.convert(row[f.name]);
    } catch (err) {
      throw new DucktailError(`field "${f.name}": ${err.message}`, { rows: 1, cause: err });
    }
    if (v === null && !f.nullable) throw new DucktailError(`field "${f.name}": the field is not nullable`, { rows: 1 });
  }
}

function checkKeys(fields, rows) {
  const names = new Set(fields.map(f => f.name));
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (row === null || typeof row !== 'object') {
      throw new DucktailError(`row ${i}: want an object, got ${row === null ? 'null' : typeof row}`, { rows: rows.length });
    }
    for (const k of Object.keys(row)) {
      if (!names.has(k)) {
        throw new DucktailError(`field "${k}": not in the topic schema (row ${i})`, { rows: rows.length });
      }
    }
  }
}

/**
 * Encode rows as Arrow IPC streams of at most maxBytes each, in order.
 * Chunks are sized from the first encoding and halved while too large. A
 * single row that does not fit is a DucktailError with status 413: thrown,
 * or, with onOversize, passed to it and the row left out.
 * @param {CompiledField[]} fields
 * @param {object[]} rows
 * @param {number} [maxBytes]
 * @param {(err: DucktailError) => void} [onOversize]
 * @returns {{rows: object[], body: Uint8Array}[]}
 */
export function encodeChunks(fields, rows, maxBytes = MAX_BODY_BYTES, onOversize) {
  const out = [];
  let start = 0;
  let size = rows.length;
  while (start < rows.length) {
    const n = Math.min(size, rows.length - start);
    const slice = rows.slice(start, start + n);
    const body = encodeRows(fields, slice);
    if (body.byteLength <= maxBytes) {
      out.push({ rows: slice, body });
      start += n;
      continue;
    }
    if (n === 1) {
      const err = new DucktailError(`row ${start}: encodes to ${body.byteLength} bytes, over the ${maxBytes}-byte request limit`,
        { status: 413, rows: 1 });
      if (!onOversize) throw err;
      onOversize(err);
      start++;
      size = rows.length;
      continue;
    }
    // Guess from the bytes per row (with a margin), at least halving.
    size = Math.max(1, Math.min(n >> 1, Math.floor(n * maxBytes / body.byteLength * 0.9)));
  }
  return out;
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/**
 * Buffers rows and sends them to a ducktail topic as Arrow IPC batches.
 * Methods may be called from any async context; sends are serialized.
 */
export class DucktailClient {
  /**
   * @param {object} options
   * @param {string} options.endpoint Base URL of the server, e.g. `https://events.example.com`.
   * @param {string} options.token The 64-hex-character ingest token of the topic.
   * @param {{fields: object[]} | object[]} [options.schema] The topic schema
   *  (fields with ducktail type names); fetched from the server when absent.
   * @param {number} [options.batchSize=100] Rows buffered before a flush starts by itself.
   * @param {number} [options.flushIntervalMs=5000] Flush period; 0 for no timer.
   * @param {typeof globalThis.fetch} [options.fetch=globalThis.fetch]
   * @param {number} [options.maxBodyBytes=131072] Largest request body.
   * @param {number} [options.maxAttempts=5] Sends of one body before giving up (≥ 1).
   * @param {number} [options.retryBaseMs=200] First backoff when the server gives no hint.
   * @param {number} [options.maxRetryDelayMs=30000] Longest wait between attempts.
   * @param {number} [options.maxBufferRows=10000] Rows kept for a later flush
   *  after failures; the oldest beyond this are dropped and reported.
   * @param {boolean} [options.flushOnPageHide=true] In a browser, send the
   *  buffer with `keepalive` when the page is hidden or unloaded.
   * @param {(error: Error) => void} [options.onError] Errors of flushes
   *  started by track(), the timer or page hiding (default: console.error).
   * @param {(error: DucktailError, attempt: number, delayMs: number) => void} [options.onRetry]
   *  Called before each wait for another attempt.
   * @param {(url: string, data: Blob) => boolean} [options.sendBeacon]
   *  Defaults to navigator.sendBeacon when there is one.
   */
  constructor({
    endpoint, token, schema, batchSize = 100, flushIntervalMs = 5000,
    fetch = globalThis.fetch, maxBodyBytes = MAX_BODY_BYTES, maxAttempts = 5,
    retryBaseMs = 200, maxRetryDelayMs = 30000, maxBufferRows = 10000,
    flushOnPageHide = true, onError, onRetry, sendBeacon
  } = {}) {
    if (!endpoint) throw new TypeError('DucktailClient: endpoint is required');
    if (!/^[0-9a-fA-F]{64}$/.test(token ?? '')) throw new TypeError('DucktailClient: token must be 64 hex characters');
    if (typeof fetch !== 'function') throw new TypeError('DucktailClient: no fetch function');
    this.endpoint = String(endpoint).replace(/\/+$/, '');
    this.token = token;
    this.batchSize = Math.max(1, batchSize);
    this.maxBodyBytes = maxBodyBytes;
    this.maxAttempts = Math.max(1, maxAttempts);
    this.retryBaseMs = retryBaseMs;
    this.maxRetryDelayMs = maxRetryDelayMs;
    this.maxBufferRows = maxBufferRows;
    this.onError = onError ?? (err => console.error('ducktail:', err));
    this.onRetry = onRetry ?? null;
    this._fetch = (url, init) => fetch(url, init); // a plain call: window.fetch refuses another `this`
    this._beacon = sendBeacon ?? (typeof navigator !== 'undefined' && typeof navigator.sendBeacon === 'function'
      ? navigator.sendBeacon.bind(navigator) : null);
    /** @type {CompiledField[] | null} */
    this._fields = schema ? compileSchema(schema) : null;
    this._buffer = [];
    this._unchecked = new WeakSet(); // rows tracked before the schema was known
    this._queued = false; // a background flush is queued and has not started
    this._chain = Promise.resolve();
    this._closed = false;
    this._timer = flushIntervalMs > 0 ? setInterval(() => this._background(), flushIntervalMs) : null;
    this._onHide = null;
    if (flushOnPageHide && typeof document !== 'undefined' && typeof addEventListener === 'function') {
      this._onHide = () => {
        if (document.visibilityState === 'hidden') this._background({ keepalive: true });
      };
      addEventListener('visibilitychange', this._onHide);
      addEventListener('pagehide', this._onHide);
    }
  }

  /** The ingest URL. */
  get url() { return `${this.endpoint}/ingest/${this.token}`; }

  /** Rows tracked and not yet acknowledged or dropped. */
  get pending() { return this._buffer.length; }

  /**
   * Buffer one row (an object keyed by field name). Once batchSize rows are
   * buffered a flush starts; its errors go to onError. Once the schema is
   * known a row is checked here: a key that is not a field, a value that
   * does not fit its field's type or a null in a field that is not nullable
   * throws a DucktailError naming the field, and the row is not buffered.
   * Rows tracked before are checked at the next flush, which drops bad
   * ones and rejects with the first such error after sending the rest.
   * @param {object} row
   */
  track(row) {
    if (this._closed) throw new DucktailError('track after close()');
    if (row === null || typeof row !== 'object') throw new DucktailError(`track: want an object, got ${row === null ? 'null' : typeof row}`);
    if (this._fields) checkRow(this._fields, row);
    else this._unchecked.add(row);
    this._buffer.push(row);
    if (this._buffer.length >= this.batchSize) this._background();
  }

  /**
   * Send every buffered row. Resolves to the acks of the requests made
   * (`{topic, rows, first_id, last_id}`, or `{beacon: true}` for a body
   * handed to sendBeacon, whose answer cannot be read), in order. On the
   * first failure it rejects with a DucktailError: rows of a retryable
   * failure and of the requests not yet made stay buffered for the next
   * flush; rows of a refused request (400, 401, ...) are dropped.
   * @param {{keepalive?: boolean}} [options] keepalive: send as the page
   *  goes away (bodies cut to 64 KiB, sendBeacon as a fallback).
   * @returns {Promise<object[]>}
   */
  flush(options = {}) {
    const run = this._chain.then(() => this._flushNow(options));
    this._chain = run.catch(() => {});
    return run;
  }

  /**
   * Stop the timer and page listeners, then flush the rest with keepalive.
   * Resolves once every send has finished, with the acks of the last flush;
   * no timer is left behind. Later calls resolve to []. During page unload
   * this is best effort: requests go one at a time, and the browser may end
   * the page before the last ones leave.
   * @returns {Promise<object[]>}
   */
  async close() {
    if (this._closed) {
      await this._chain;
      return [];
    }
    this._closed = true;
    if (this._timer !== null) clearInterval(this._timer);
    this._timer = null;
    if (this._onHide) {
      removeEventListener('visibilitychange', this._onHide);
      removeEventListener('pagehide', this._onHide);
      this._onHide = null;
    }
    return this.flush({ keepalive: true });
  }

  /** Start a flush whose errors go to onError; at most one ordinary one waits at a time. */
  _background(options) {
    if (this._buffer.length === 0) return;
    if (!options?.keepalive) {
      if (this._queued) return;
      this._queued = true;
    }
    this.flush(options).catch(err => this.onError(err));
  }

  async _schema() {
    if (this._fields) return this._fields;
    const res = await this._fetch(`${this.url}/schema`, { headers: { Accept: 'application/json' } });
    const body = await readJSON(res);
    if (!res.ok) throw httpError(res, body, 0);
    this._fields = compileSchema(body);
    return this._fields;
  }

  async _flushNow({ keepalive = false } = {}) {
    this._queued = false;
    if (this._buffer.length === 0) return [];
    let rows = this._buffer;
    this._buffer = [];
    let fields;
    try {
      fields = await this._schema();
    } catch (err) {
      const e = err instanceof DucktailError ? err : new DucktailError(`schema: ${err.message}`, { retryable: true, cause: err });
      e.rows = rows.length;
      if (e.retryable) {
        this._requeue(rows);
        e.requeued = true;
      }
      throw e;
    }
    // Rows tracked before the schema was known are checked now; bad ones
    // are dropped (and reported after the good ones are sent).
    let refused = null;
    if (rows.some(r => this._unchecked.has(r))) {
      rows = rows.filter(row => {
        if (!this._unchecked.has(row)) return true;
        try {
          checkRow(fields, row);
          return true;
        } catch (err) {
          refused ??= err;
          return false;
        }
      });
    }
    const limit = keepalive ? Math.min(this.maxBodyBytes, KEEPALIVE_BODY_BYTES) : this.maxBodyBytes;
    const chunks = encodeChunks(fields, rows, limit, err => { refused ??= err; });
    const acks = [];
    for (let i = 0; i < chunks.length; i++) {
      try {
        acks.push(await this._send(chunks[i].body, keepalive));
      } catch (err) {
        err.rows = chunks[i].rows.length;
        if (err.retryable) {
          this._requeue(chunks.slice(i).flatMap(c => c.rows));
          err.requeued = true;
        } else {
          // Refused for good: drop this request's rows, keep the later ones.
          this._requeue(chunks.slice(i + 1).flatMap(c => c.rows));
        }
        throw err;
      }
    }
    if (refused) throw refused;
    return acks;
  }

  /** Put rows back at the head of the buffer, within maxBufferRows. */
  _requeue(rows) {
    this._buffer = rows.concat(this._buffer);
    const over = this._buffer.length - this.maxBufferRows;
    if (over > 0) {
      this._buffer.splice(0, over);
      this.onError(new DucktailError(`dropped the ${over} oldest unsent rows: more than maxBufferRows (${this.maxBufferRows}) pending`));
    }
  }

  /** POST one body, retrying as documented; resolves to the ack. */
  async _send(body, keepalive) {
    let lastErr;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      let res;
      try {
        res = await this._fetch(this.url, {
          method: 'POST',
          headers: { 'Content-Type': ARROW_STREAM },
          body,
          keepalive
        });
      } catch (cause) {
        if (keepalive && this._beacon && this._tryBeacon(body)) {
          return { beacon: true };
        }
        lastErr = new DucktailError(`POST /ingest: network error: ${cause?.message ?? cause}`, { retryable: true, cause });
      }
      if (res) {
        const answer = await readJSON(res);
        if (res.ok) return answer;
        lastErr = httpError(res, answer, attempt);
        if (!lastErr.retryable) throw lastErr;
      }
      if (attempt < this.maxAttempts) {
        const ms = this._delay(lastErr, attempt);
        this.onRetry?.(lastErr, attempt, ms);
        await sleep(ms);
      }
    }
    throw lastErr;
  }

  _tryBeacon(body) {
    try {
      return this._beacon(this.url, new Blob([body], { type: ARROW_STREAM }));
    } catch {
      return false;
    }
  }

  /** The wait before attempt+1: the server's hint, else exponential backoff with jitter. */
  _delay(err, attempt) {
    const hint = err?.retryAfterMs;
    const ms = hint != null && hint >= 0
      ? hint
      : this.retryBaseMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
    return Math.min(ms, this.maxRetryDelayMs);
  }
}

async function readJSON(res) {
  let text = '';
  try {
    text = await res.text();
    return text ? JSON.parse(text) : null;
  } catch {
    return { error: text || `HTTP ${res.status}` };
  }
}

const retryableStatus = new Set([429, 502, 503, 504]);

function httpError(res, body, attempt) {
  let hint = body && Number.isFinite(body.retry_after_ms) ? body.retry_after_ms : null;
  if (hint === null) {
    const ms = Number(res.headers?.get?.('X-Retry-After-Ms'));
    const s = Number(res.headers?.get?.('Retry-After'));
    if (res.headers?.get?.('X-Retry-After-Ms') && Number.isFinite(ms)) hint = ms;
    else if (res.headers?.get?.('Retry-After') && Number.isFinite(s)) hint = s * 1000;
  }
  const msg = body?.error ?? `HTTP ${res.status}`;
  return new DucktailError(`ducktail answered ${res.status}${attempt > 1 ? ` (attempt ${attempt})` : ''}: ${msg}`, {
    status: res.status, retryAfterMs: hint, retryable: retryableStatus.has(res.status)
  });
}
