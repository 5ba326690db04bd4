package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/server"
)

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
