package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/server"
)

// topicKnown refuses a token for a topic that neither the data dir's
// catalog nor the config (the embedded default without --config) declares:
// the token would only ever get 404, as POST /_/tokens answers at once.
func topicKnown(cfg *Config, configPath string, name base.StreamName) error {
	streams := cfg.Streams
	if configPath == "" {
		def, err := loadConfig("")
		if err != nil {
			return err
		}
		streams = def.Streams
	}
	for _, s := range streams {
		if s.Name == name.String() && s.Schema != nil {
			return nil
		}
	}
	ok, err := engine.CatalogHasTopic(cfg.DataDir, name)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("no topic %s in %s nor in the config: create it first (POST /_/topics, or streams: in the config)",
			name, filepath.Join(cfg.DataDir, "catalog.json"))
	}
	return nil
}

func cmdToken(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	topic := fs.String("topic", "", "the topic, ACCOUNT/STREAM (required)")
	domain := fs.String("domain", "", "bind the token to this domain and its subdomains")
	tenant := fs.Uint("tenant", 0, "tenant id stored in each row's _tenant (0: none)")
	ttl := fs.String("ttl", "24h", `lifetime, e.g. 1h, 720h; "0" never expires`)
	dataDir := fs.String("data", "", "data dir holding secret.key (default ./data)")
	configPath := fs.String("config", "", "config file naming data_dir / secret_file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *topic == "" {
		return usageError{"--topic ACCOUNT/STREAM is required"}
	}
	name, err := base.ParseStreamName(*topic)
	if err != nil {
		return err
	}
	if *tenant > 1<<32-1 {
		return usageError{fmt.Sprintf("--tenant %d does not fit in 32 bits", *tenant)}
	}
	cfg, err := toolConfig(*configPath, *dataDir)
	if err != nil {
		return err
	}
	if err := topicKnown(cfg, *configPath, name); err != nil {
		return err
	}
	keys, _, err := tokenKeys(cfg, false)
	if err != nil {
		return err
	}
	c, err := server.MintClaims(engine.TopicID(name), *domain, uint32(*tenant), *ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, keys.Mint(c))
	return nil
}
