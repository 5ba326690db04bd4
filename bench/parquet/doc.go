// Package parquetbench holds the benchmark that chose the Parquet library
// for segments (SPEC 8): the real flush of the demo topic's stored schema,
// 1,000,000 rows held as Arrow record batches of 10k rows, written with
// zstd and 128k-row row groups by arrow-go's pqarrow and by parquet-go with
// a schema built at run time. Figures and the decision are in RESULTS.md.
//
// It has no code outside its tests. Imports: arrow-go, parquet-go and
// storage/segment (for the stored schema and its test data).
package parquetbench
