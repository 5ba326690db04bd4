package main

import (
	"context"

	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/server"
)

// settings returns the stream's settings with the config entry applied
// over cur (the catalog's): factory: true makes a factory (a config without
// it leaves the catalog's flag alone, so a factory declared through the
// admin API stays one), account_rights and a blocklist, when given,
// replace the catalog's.
func (s StreamConfig) settings(cur engine.Settings) (engine.Settings, error) {
	factory := cur.Factory || s.Factory
	rights := cur.AccountRights
	if s.AccountRights != "" {
		rights = s.AccountRights
	}
	bl := cur.Blocklist
	if s.Blocklist != nil {
		bl = engine.Blocklist{Referers: s.Blocklist.Referers, Arguments: s.Blocklist.Arguments}
	}
	return server.StreamSettings(factory, rights, bl)
}

// applySettings saves the config's settings of st, if they change anything.
func applySettings(ctx context.Context, eng *engine.Engine, st *engine.Stream, s StreamConfig) error {
	if !s.Factory && s.AccountRights == "" && s.Blocklist == nil {
		return nil
	}
	set, err := s.settings(*st.Settings())
	if err != nil {
		return err
	}
	_, _, err = eng.SetSettings(ctx, st.Name(), set)
	return err
}
