package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/engine/schema"
	"github.com/ducktail/ducktail/server/access"
	"go.yaml.in/yaml/v3"
)

// Config is the YAML config of SPEC 6. Every key is optional; zero values
// take the defaults of setDefaults.
type Config struct {
	Listen             string        `yaml:"listen"`
	DataDir            string        `yaml:"data_dir"`
	SecretFile         string        `yaml:"secret_file"`
	PreviousSecretFile string        `yaml:"previous_secret_file"`
	SecretGrace        time.Duration `yaml:"secret_grace"`
	Durability         string        `yaml:"durability"`
	TLS                struct {
		CertFile string `yaml:"cert_file"`
		KeyFile  string `yaml:"key_file"`
		Listen   string `yaml:"listen"`
	} `yaml:"tls"`
	Storage struct {
		Kind string `yaml:"kind"`
		S3   struct {
			Bucket    string `yaml:"bucket"`
			Prefix    string `yaml:"prefix"`
			Endpoint  string `yaml:"endpoint"`
			Region    string `yaml:"region"`
			PathStyle bool   `yaml:"path_style"`
		} `yaml:"s3"`
	} `yaml:"storage"`
	Flush struct {
		MaxRows  int64         `yaml:"max_rows"`
		MaxBytes int64         `yaml:"max_bytes"`
		MaxAge   time.Duration `yaml:"max_age"`
	} `yaml:"flush"`
	// SQL bounds each /sql query (not the offline ducktail sql).
	SQL struct {
		Timeout        time.Duration `yaml:"timeout"`
		MaxResultBytes int64         `yaml:"max_result_bytes"`
	} `yaml:"sql"`
	MemoryBudgetBytes int64 `yaml:"memory_budget_bytes"`
	MaxSubstreams     int   `yaml:"max_substreams"`
	HTTPIngestion     struct {
		MaxRequestBytes int `yaml:"max_request_bytes"`
		CORS            struct {
			AllowedOrigins   []string `yaml:"allowed_origins"`
			MaxAgeSeconds    int      `yaml:"max_age_seconds"`
			AllowCredentials bool     `yaml:"allow_credentials"`
		} `yaml:"cors"`
	} `yaml:"http_ingestion"`
	Accounts []struct {
		Name string `yaml:"name"`
	} `yaml:"accounts"`
	Streams []StreamConfig `yaml:"streams"`
}

// StreamConfig is one entry of streams:.
type StreamConfig struct {
	Name      string `yaml:"name"`
	Factory   bool   `yaml:"factory"`
	Public    string `yaml:"public"`
	RateLimit *struct {
		EventsPerSecond float64 `yaml:"events_per_second"`
		BytesPerSecond  float64 `yaml:"bytes_per_second"`
	} `yaml:"rate_limit"`
	Retention string `yaml:"retention"`
	// AccountRights and Blocklist are factory and blocklist settings
	// (docs/substreams.md); the admin API sets the same.
	AccountRights string `yaml:"account_rights"`
	Blocklist     *struct {
		Referers  []string `yaml:"referers"`
		Arguments []string `yaml:"arguments"`
	} `yaml:"blocklist"`
	Schema *struct {
		Fields []schema.Field `yaml:"fields"`
	} `yaml:"schema"`
}

// defaultConfig is the embedded default of SPEC 5: local storage under
// ./data and the demo topic. Browsers may call it from any origin: its
// tokens are what guards it.
const defaultConfig = `
listen: 127.0.0.1:8080
data_dir: ./data
http_ingestion:
  cors:
    allowed_origins: ["*"]
    max_age_seconds: 3600
streams:
  - name: demo/events
    schema:
      fields:
        - {name: timestamp, type: int64}
        - {name: event, type: utf8}
        - {name: value, type: float64}
`

// loadConfig reads a config file, or the embedded default when path is "".
func loadConfig(path string) (*Config, error) {
	data := []byte(defaultConfig)
	name := "the embedded default config"
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		name = path
	}
	c, err := parseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	return c, nil
}

// toolConfig is the config of a command beside the server (token, sql):
// the file at path if given, else the defaults, with dataDir overriding
// data_dir when set.
func toolConfig(path, dataDir string) (*Config, error) {
	cfg := &Config{}
	if path != "" {
		var err error
		if cfg, err = loadConfig(path); err != nil {
			return nil, err
		}
	} else {
		cfg.setDefaults()
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	return cfg, nil
}

var unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found in type (\S+)`)

func parseConfig(data []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		msg := err.Error()
		var lines []string
		for _, m := range unknownField.FindAllStringSubmatch(msg, -1) {
			lines = append(lines, fmt.Sprintf("line %s: unknown key %q", m[1], m[2]))
		}
		if len(lines) > 0 {
			return nil, errors.New(strings.Join(lines, "; "))
		}
		return nil, errors.New(strings.TrimPrefix(msg, "yaml: "))
	}
	c.setDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.Durability == "" {
		c.Durability = "sync"
	}
	if c.Storage.Kind == "" {
		c.Storage.Kind = "local"
	}
	if c.HTTPIngestion.MaxRequestBytes == 0 {
		c.HTTPIngestion.MaxRequestBytes = 128 << 10
	}
	if c.SecretGrace == 0 {
		c.SecretGrace = 24 * time.Hour
	}
}

// validate reports every problem at once, each naming its key.
func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch c.Durability {
	case "sync", "buffered":
	default:
		bad("durability: %q is not sync or buffered", c.Durability)
	}
	switch c.Storage.Kind {
	case "local":
	case "s3":
		if c.Storage.S3.Bucket == "" {
			bad("storage.s3.bucket: must be set when storage.kind is s3")
		}
	default:
		bad("storage.kind: %q is not local or s3", c.Storage.Kind)
	}
	if c.TLS.CertFile != "" || c.TLS.KeyFile != "" {
		if c.TLS.CertFile == "" || c.TLS.KeyFile == "" {
			bad("tls: cert_file and key_file go together")
		}
	}
	if c.HTTPIngestion.MaxRequestBytes < 1024 {
		bad("http_ingestion.max_request_bytes: %d is below 1024", c.HTTPIngestion.MaxRequestBytes)
	}
	if c.Flush.MaxRows < 0 || c.Flush.MaxBytes < 0 || c.Flush.MaxAge < 0 {
		bad("flush: limits must not be negative")
	}
	if c.SQL.Timeout < 0 || c.SQL.MaxResultBytes < 0 {
		bad("sql: limits must not be negative")
	}
	seen := map[string]bool{}
	for i, s := range c.Streams {
		if _, err := base.ParseStreamName(s.Name); err != nil {
			bad("streams[%d].name: %v", i, err)
			continue
		}
		if seen[s.Name] {
			bad("streams[%d].name: %s is listed twice", i, s.Name)
		}
		seen[s.Name] = true
		if s.Schema != nil {
			if _, err := schema.FromFields(s.Schema.Fields); err != nil {
				bad("streams[%d].schema (%s): %v", i, s.Name, err)
			}
		}
		if err := access.ParsePublic(s.Public); err != nil {
			bad("streams[%d].public (%s): %v", i, s.Name, err)
		}
		if l := s.RateLimit; l != nil && (l.EventsPerSecond < 0 || l.BytesPerSecond < 0) {
			bad("streams[%d].rate_limit (%s): rates must not be negative", i, s.Name)
		}
		if _, err := parseRetention(s.Retention); err != nil {
			bad("streams[%d].retention (%s): %v", i, s.Name, err)
		}
		if _, err := s.settings(engine.Settings{}); err != nil {
			bad("streams[%d] (%s): %v", i, s.Name, err)
		}
	}
	return errors.Join(errs...)
}

// engineOptions maps the config to engine options.
func (c *Config) engineOptions() engine.Options {
	o := engine.Options{
		DataDir:       c.DataDir,
		Flush:         engine.FlushOptions{MaxRows: c.Flush.MaxRows, MaxBytes: c.Flush.MaxBytes, MaxAge: c.Flush.MaxAge},
		MemoryBudget:  c.MemoryBudgetBytes,
		MaxSubstreams: c.MaxSubstreams,
	}
	if c.Durability == "buffered" {
		o.Durability = engine.DurabilityBuffered
	}
	return o
}

// parseRetention parses a retention such as "30d", "12h" or "90m"; "" is 0,
// keep forever.
func parseRetention(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q: want a positive duration such as 30d or 12h", v)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a positive duration such as 30d or 12h", v)
	}
	return d, nil
}
