package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/query"
	"github.com/ducktail/ducktail/query/sqlengine"
	"github.com/ducktail/ducktail/server/encode"
)

func cmdSQL(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sql", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", "", "data dir (default ./data, or the config's data_dir)")
	configPath := fs.String("config", "", "config file, for data_dir and storage (S3)")
	format := fs.String("format", "table", "table, json, ndjson or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{`want exactly one argument, the query: ducktail sql "select ..."`}
	}
	var f encode.Format
	switch *format {
	case "table", "csv":
		f = encode.CSV
	case "json":
		f = encode.JSON
	case "ndjson":
		f = encode.NDJSON
	default:
		return usageError{fmt.Sprintf("--format %q: want table, json, ndjson or csv", *format)}
	}
	cfg, err := toolConfig(*configPath, *dataDir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.DataDir); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	cfg.DataDir = abs
	store, segRoot, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	eng, err := engine.Open(ctx, engine.Options{DataDir: cfg.DataDir, Store: store, ReadOnly: true})
	if err != nil {
		return err
	}
	defer eng.Close(ctx)
	tmp, err := os.MkdirTemp("", "ducktail-sql-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	db, err := sqlengine.Open(sqlengine.Options{DataDir: segRoot, TempDir: tmp})
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := query.NewSQL(eng, db).Query(ctx, fs.Arg(0), nil)
	if err != nil {
		return err
	}
	defer res.Release()
	var out bytes.Buffer
	rw, err := encode.NewRowWriter(&out, f, res.Schema)
	if err != nil {
		return err
	}
	for res.Reader.Next() {
		if err := rw.Write(res.Reader.RecordBatch()); err != nil {
			return err
		}
	}
	if err := res.Reader.Err(); err != nil {
		return err
	}
	if err := rw.Close(); err != nil {
		return err
	}
	if *format != "table" {
		if b := out.Bytes(); len(b) > 0 && b[len(b)-1] != '\n' {
			out.WriteByte('\n')
		}
		_, err := stdout.Write(out.Bytes())
		return err
	}
	return writeTable(stdout, out.Bytes())
}

// writeTable renders CSV as aligned columns.
func writeTable(w io.Writer, csvText []byte) error {
	rows, err := csv.NewReader(bytes.NewReader(csvText)).ReadAll()
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	line := func(r []string) {
		for i, c := range r {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)))
		}
		b.WriteString("\n")
	}
	line(rows[0])
	for i := range width {
		if i > 0 {
			b.WriteString("-+-")
		}
		b.WriteString(strings.Repeat("-", width[i]))
	}
	b.WriteString("\n")
	for _, r := range rows[1:] {
		line(r)
	}
	fmt.Fprintf(&b, "(%d rows)\n", len(rows)-1)
	_, err = io.WriteString(w, b.String())
	return err
}
