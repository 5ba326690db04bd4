// Package jtdarrow maps JSON Type Definitions (RFC 8927, package engine/jtd)
// to Arrow columns: which Arrow type stores each property of an event type
// (Columns), how a validated JSON instance becomes one row of those columns
// (Builder), and how a stored row becomes the JSON object again (Renderer).
// The mapping is documented for users in docs/types.md:
//
//	boolean            bool
//	string             utf8
//	timestamp          timestamp[ms, UTC] (RFC 3339 parsed, sub-ms truncated, years 0000-9999)
//	float32, float64   float32, float64
//	int8 .. uint32     the same integer type
//	enum               dictionary<int32, utf8> as a top-level column, utf8 nested
//	elements           list<mapped>
//	values             map<utf8, mapped>
//	properties         struct<mapped fields> (CheckNames: names DuckDB tells apart)
//	ref                the definition's mapping
//	discriminator, {}  utf8 holding the JSON text
//	recursive ref      utf8 holding the JSON text
//
// Every column and nested field is nullable: rows of other types, and
// optional properties left out, are null.
//
// Concurrency: a Column list and its Mappings are immutable once built and
// safe for concurrent use; a Builder or Renderer belongs to one goroutine.
//
// Imports: arrow-go, engine/jtd, internal/jsonx and base.
package jtdarrow
