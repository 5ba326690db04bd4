// Package encode writes query output: events read from a stream and rows
// returned by SQL, as JSON, NDJSON, CSV or an Arrow IPC stream (SPEC 2, 4.2,
// 4.4). Input is always Arrow record batches (arrow-go v18
// arrow.RecordBatch); output is streamed to an io.Writer, one record at a
// time, so a response never has to be held in memory whole.
//
// # Formats
//
// Negotiate picks a Format from an Accept header. EventWriter writes events
// (records with the stored schema: _id, _ts, _event, _sub, _tenant, then the
// payload columns); RowWriter writes SQL rows (any schema).
//
// Events in JSON and NDJSON are objects
//
//	{"id": 3, "timestamp": 1650661388844, "event": "text/plain", "data": ...}
//
// where timestamp is _ts as epoch milliseconds. For an untyped row (the
// schema has a _data column and the row's _data is non-null) data is the
// body as a JSON string when it is valid UTF-8, else its standard base64
// with "encoding": "base64" added after it. For typed rows and topic rows
// data is an object of every column whose name does not start with '_', in
// schema order, nulls as null. "sub" is added when _sub is non-null and
// "tenant" when _tenant is non-null (after data/encoding). JSON output is an
// array of these objects; NDJSON is one object per line. CSV has the header
// id,timestamp,event,data with data as the string (base64 when not UTF-8)
// for untyped rows and as JSON text of the object for typed rows. Arrow
// output is the stored columns as they are.
//
// Rows in JSON are an array of objects keyed by column name (duplicate
// column names give duplicate keys), NDJSON one such object per line, CSV a
// header of column names then one line per row, Arrow the batches as they
// are.
//
// CSV follows encoding/csv's writer exactly (comma separator, '\n' line
// ends, a field is quoted when it contains a comma, quote, CR or LF, when it
// begins with a space, or when it is `\.`; quotes are doubled). A null is an
// empty field. Strings are written as they are, other values as their text
// below without JSON quotes (nested values as JSON text).
//
// # JSON value rules
//
// AppendJSONValue and the writers map every Arrow type the same way:
//   - null values and the null type: null;
//   - bool: true/false;
//   - int8..int64, uint8..uint64: the exact integer (no float conversion);
//   - float16/32/64: the shortest representation that round-trips, formatted
//     as encoding/json does (exponent form below 1e-6 and from 1e21); NaN and
//     ±Inf are null;
//   - decimal32/64/128/256: an exact JSON number with the type's scale
//     (123.45, -0.050, 1200 for a negative scale);
//   - utf8, large_utf8, utf8_view: a JSON string, escaped like encoding/json
//     without HTML escaping (", \, control characters, U+2028, U+2029);
//     invalid UTF-8 bytes become U+FFFD;
//   - binary, large_binary, binary_view, fixed_size_binary: standard base64
//     in a string;
//   - date32/date64: "YYYY-MM-DD";
//   - timestamp: RFC 3339 in UTC with as many fraction digits as the unit
//     ("2022-04-22T21:03:08.844Z" for ms, 6 for us, 9 for ns, none for s);
//     a timestamp without time zone is taken as UTC;
//   - time32/time64: "HH:MM:SS" plus ".fff", ".ffffff" or ".fffffffff" for
//     ms, us, ns;
//   - duration: the integer count of its unit;
//   - month_interval {"months":M}, day_time_interval
//     {"days":D,"milliseconds":M}, month_day_nano_interval
//     {"months":M,"days":D,"nanoseconds":N};
//   - list, large_list, fixed_size_list, list_view, large_list_view: arrays;
//   - struct: an object in field order;
//   - map: an array of {"key":K,"value":V} objects (keys may be any type);
//   - dictionary and run-end-encoded: the decoded value;
//   - dense and sparse unions: the chosen child's value;
//   - extension types: the value of their storage type.
//
// The event "timestamp" is the exception: epoch milliseconds as a number.
//
// # Performance
//
// Writers bind one append function per column once per record (no type
// switch per value, no reflection) and build output in a scratch buffer
// that is reused and handed to the io.Writer in chunks of about 64 KiB and
// at the end of each Write. Primitive values allocate nothing.
//
// # Concurrency
//
// An EventWriter, RowWriter or EventEncoder is used by one goroutine at a
// time. AppendJSONValue, NewValueAppender, Negotiate and Format methods are
// safe for concurrent use. Records passed to Write are only read during the
// call and are neither retained nor released.
//
// # Imports
//
// The standard library, arrow-go, ducktail/base and internal/jsonx. Nothing from the
// server, engine, query or storage packages.
package encode
