package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/engine/schema"
	"github.com/ducktail/ducktail/query"
	"github.com/ducktail/ducktail/query/sqlengine"
	"github.com/ducktail/ducktail/server"
	"github.com/ducktail/ducktail/server/access"
	"github.com/ducktail/ducktail/storage/vfs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML config file (default: the embedded default)")
	dataDir := fs.String("data", "", "data dir (overrides data_dir)")
	listen := fs.String("listen", "", "listen address (overrides listen)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{fmt.Sprintf("--log-level %q: %v", *logLevel, err)}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	return serve(ctx, cfg, log, stdout)
}

func serve(ctx context.Context, cfg *Config, log *slog.Logger, stdout io.Writer) error {
	start := time.Now()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	keys, _, err := tokenKeys(cfg, true)
	if err != nil {
		return err
	}
	admin, err := adminKey(cfg)
	if err != nil {
		return err
	}
	if cfg.Durability == "buffered" {
		log.Warn("durability: buffered: writes are acknowledged before fsync; a power loss can lose acknowledged events (a process crash cannot)")
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	store, segRoot, err := openStore(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	opts := cfg.engineOptions()
	opts.Logger = log
	opts.Registerer = reg
	opts.Store = store
	eng, err := engine.Open(ctx, opts)
	if err != nil {
		return err
	}
	closeEngine := func() error {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return eng.Close(cctx)
	}
	for _, s := range cfg.Streams {
		name, _ := base.ParseStreamName(s.Name)
		var st *engine.Stream
		if s.Schema != nil {
			payload, err := schema.FromFields(s.Schema.Fields)
			if err == nil {
				st, err = eng.CreateTopic(ctx, name, payload)
			}
			if err != nil {
				closeEngine()
				return fmt.Errorf("stream %s: %w", s.Name, err)
			}
		} else if st, err = eng.CreateEventStream(ctx, name); err != nil {
			closeEngine()
			return fmt.Errorf("stream %s: %w", s.Name, err)
		}
		if err := applySettings(ctx, eng, st, s); err != nil {
			closeEngine()
			return fmt.Errorf("stream %s: %w", s.Name, err)
		}
		retention, _ := parseRetention(s.Retention) // validated with the config
		st.SetRetention(retention)
		if l := s.RateLimit; l != nil {
			st.SetRateLimit(engine.RateLimit{EventsPerSecond: l.EventsPerSecond, BytesPerSecond: l.BytesPerSecond})
		}
	}
	// SQL may read the segments and nothing else of the data dir: the keys
	// live there too.
	db, err := sqlengine.Open(sqlengine.Options{
		DataDir: segRoot,
		TempDir: filepath.Join(cfg.DataDir, "tmp", "duckdb"),
		// DuckDB's own default is 80% of the machine: one query could take
		// what the buffers and the WAL need. It spills to TempDir past this.
		MemoryLimit: fmt.Sprintf("%dMiB", max(2<<30, 4*cfg.MemoryBudgetBytes)>>20),
		Logger:      log,
	})
	if err != nil {
		closeEngine()
		return fmt.Errorf("sql: %w", err)
	}
	acc, err := access.Open(vfs.OS{}, filepath.Join(cfg.DataDir, "access.json"))
	if err != nil {
		db.Close()
		closeEngine()
		return fmt.Errorf("access keys: %w", err)
	}
	for _, s := range cfg.Streams {
		if s.Public != "" {
			name, _ := base.ParseStreamName(s.Name)
			acc.SetPublic(name, s.Public)
		}
	}
	// API keys' queries run in scoped databases that SQL opens and closes.
	sqlq := query.NewSQL(eng, db)
	srv, err := server.New(server.Options{
		Engine:            eng,
		Access:            acc,
		SQL:               sqlq,
		Keys:              keys,
		AdminKey:          admin,
		MaxIngestBytes:    cfg.HTTPIngestion.MaxRequestBytes,
		SQLTimeout:        cfg.SQL.Timeout,
		MaxSQLResultBytes: cfg.SQL.MaxResultBytes,
		CORS: server.CORSOptions{
			AllowedOrigins:   cfg.HTTPIngestion.CORS.AllowedOrigins,
			MaxAgeSeconds:    cfg.HTTPIngestion.CORS.MaxAgeSeconds,
			AllowCredentials: cfg.HTTPIngestion.CORS.AllowCredentials,
		},
		Logger:   log,
		Registry: reg,
	})
	if err != nil {
		db.Close()
		closeEngine()
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		db.Close()
		closeEngine()
		return fmt.Errorf("listen: %w", err)
	}
	addr := "http://" + ln.Addr().String()
	where := "data dir " + cfg.DataDir
	if cfg.Storage.Kind == "s3" {
		where += ", segments in s3://" + cfg.Storage.S3.Bucket + "/" + cfg.Storage.S3.Prefix
	}
	fmt.Fprintf(stdout, "ducktail %s listening on %s (%s, durability %s)\n", version, addr, where, cfg.Durability)
	fmt.Fprintf(stdout, "admin key: in %s (send as Authorization: Bearer <key>)\n", adminKeyWhere(cfg))
	for _, s := range cfg.Streams {
		if s.Schema == nil {
			continue // Pipet streams take events, not ingest tokens
		}
		name, _ := base.ParseStreamName(s.Name)
		c, _ := server.MintClaims(engine.TopicID(name), "", 0, "720h", time.Now())
		fmt.Fprintf(stdout, "ingest token for %s (30 days): %s\n", name, keys.Mint(c))
	}
	if len(cfg.Streams) > 0 {
		fmt.Fprintf(stdout, "  POST %s/ingest/<token> with Content-Type: application/vnd.apache.arrow.stream\n", addr)
	}
	errc := make(chan error, 2)
	var tlsServer *http.Server
	if cfg.TLS.CertFile != "" {
		tlsAddr := cfg.TLS.Listen
		if tlsAddr == "" {
			host, _, _ := net.SplitHostPort(cfg.Listen)
			tlsAddr = net.JoinHostPort(host, "8443")
		}
		tln, err := net.Listen("tcp", tlsAddr)
		if err != nil {
			ln.Close()
			db.Close()
			closeEngine()
			return fmt.Errorf("tls.listen: %w", err)
		}
		// net/http serves TLS because it speaks HTTP/2 (fasthttp does
		// not), over the same handlers.
		tlsServer = &http.Server{Handler: srv, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
		go func() {
			if err := tlsServer.ServeTLS(tln, cfg.TLS.CertFile, cfg.TLS.KeyFile); err != http.ErrServerClosed {
				errc <- fmt.Errorf("tls: %w", err)
			}
		}()
		fmt.Fprintf(stdout, "TLS (HTTP/2 and HTTP/1.1) on https://%s\n", tln.Addr())
	}
	log.Info("started", "addr", addr, "streams", len(eng.Streams()), "took", time.Since(start))

	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
		log.Error("server stopped", "err", err)
	case <-ctx.Done():
		log.Info("shutting down: no new connections; finishing requests, flushing buffers")
	}
	stopStart := time.Now()
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	if serr := srv.Shutdown(sctx); serr != nil {
		log.Warn("shutdown", "err", serr)
	}
	if tlsServer != nil {
		if serr := tlsServer.Shutdown(sctx); serr != nil {
			log.Warn("tls shutdown", "err", serr)
		}
	}
	cancel()
	if cerr := closeEngine(); cerr != nil {
		err = cerr
	}
	sqlq.Close()
	db.Close()
	log.Info("stopped", "took", time.Since(stopStart))
	return err
}

func adminKeyWhere(c *Config) string {
	if os.Getenv("DUCKTAIL_ADMIN_KEY") != "" {
		return "$DUCKTAIL_ADMIN_KEY"
	}
	return filepath.Join(c.DataDir, "admin.key")
}
