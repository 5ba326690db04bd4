package manifest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage"
)

// dir is the "directory" of a stream's manifest versions, under its prefix.
const dir = "_manifest/"

// Key returns the object key of manifest version v of the stream whose
// prefix is prefix ("streams/demo/events/").
func Key(prefix string, v uint64) string {
	return prefix + dir + fmt.Sprintf("%020d", v) + ".json"
}

// versions returns the manifest versions stored under prefix, ascending.
// Keys that are not manifest versions are ignored.
func versions(ctx context.Context, st storage.Store, prefix string) ([]uint64, error) {
	keys, err := st.List(ctx, prefix+dir)
	if err != nil {
		return nil, fmt.Errorf("manifest: cannot list %s%s: %w", prefix, dir, err)
	}
	var vs []uint64
	for _, k := range keys {
		name := strings.TrimPrefix(k, prefix+dir)
		num, ok := strings.CutSuffix(name, ".json")
		if !ok || len(num) != 20 {
			continue
		}
		v, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			continue
		}
		vs = append(vs, v) // List is sorted and the names are zero-padded
	}
	return vs, nil
}

// loadAttempts bounds how often Load retries when the newest version it
// listed was deleted before it could read it (by a concurrent Commit's
// clean-up of versions it had already superseded).
const loadAttempts = 3

// Load reads the newest manifest under prefix. No manifest yet gives an
// empty Manifest with Version 0. A newest version that does not decode or
// validate is an error wrapping base.ErrCorrupt: it is not skipped.
func Load(ctx context.Context, st storage.Store, prefix string) (*Manifest, error) {
	for attempt := 1; ; attempt++ {
		vs, err := versions(ctx, st, prefix)
		if err != nil {
			return nil, err
		}
		if len(vs) == 0 {
			return &Manifest{}, nil
		}
		m, err := read(ctx, st, prefix, vs[len(vs)-1])
		if errors.Is(err, base.ErrNotFound) && attempt < loadAttempts {
			continue
		}
		return m, err
	}
}

// read reads and checks version v.
func read(ctx context.Context, st storage.Store, prefix string, v uint64) (*Manifest, error) {
	key := Key(prefix, v)
	obj, err := st.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("manifest: cannot open %s: %w", key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(io.NewSectionReader(obj, 0, obj.Size()))
	if err != nil {
		return nil, fmt.Errorf("manifest: cannot read %s: %w", key, err)
	}
	m, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("manifest: %s: %w", key, err)
	}
	if m.Version != v {
		return nil, base.Errorf(base.ErrCorrupt, "manifest: %s holds version %d", key, m.Version)
	}
	return m, nil
}

// keep is how many versions before the newest Commit leaves in place, so
// that a reader that listed them a moment ago can still read them.
const keep = 2

// Commit writes m as version m.Version+1 under prefix and returns that
// version (sharing m.Segments); m itself is not modified. If the version exists (another writer
// committed first) it returns an error wrapping storage.ErrExists: reload
// and retry. An invalid m is an error wrapping base.ErrCorrupt and writes
// nothing. After the commit, versions older than the new one minus 2 are
// deleted; failures there are ignored (the next commit retries).
func Commit(ctx context.Context, st storage.Store, prefix string, m *Manifest) (*Manifest, error) {
	next := *m
	next.Version = m.Version + 1
	if err := next.Validate(); err != nil {
		return nil, err
	}
	data, err := next.Encode()
	if err != nil {
		return nil, err
	}
	if err := st.PutIfAbsent(ctx, Key(prefix, next.Version), data); err != nil {
		return nil, fmt.Errorf("manifest: cannot commit version %d of %s: %w", next.Version, prefix, err)
	}
	if next.Version > keep+1 {
		vs, err := versions(ctx, st, prefix)
		if err == nil {
			for _, v := range vs {
				if v >= next.Version-keep {
					break
				}
				if err := st.Delete(ctx, Key(prefix, v)); err != nil {
					break
				}
			}
		}
	}
	return &next, nil
}
