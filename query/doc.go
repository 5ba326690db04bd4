// Package query reads streams back: range reads by id, time and limit over
// the segments a manifest selects and the unflushed tail (range.go, through
// a Reader that keeps open segment readers between reads, segcache.go), and
// DuckDB SQL over the same data (sql.go, on top of query/sqlengine).
//
// It works on engine Snapshots, so a read sees every row below the
// snapshot's NextID exactly once, whether flushed or not. It may import
// base, engine, storage and internal packages; never server.
package query
