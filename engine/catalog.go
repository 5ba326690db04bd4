package engine

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"github.com/ducktail/ducktail/storage"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"time"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine/schema"
	"github.com/ducktail/ducktail/storage/vfs"
	"lukechampine.com/blake3"
)

// catalogFile is the on-disk catalog: every stream the engine knows, with
// the schema it was created with. It is rewritten atomically on each change
// and read once at Open, before the WAL is replayed.
type catalogFile struct {
	Streams []streamDef `json:"streams"`
}

type streamDef struct {
	Name    string         `json:"name"`           // account/name
	Kind    string         `json:"kind,omitempty"` // "" a topic (Fields is its schema), "events" untyped events
	TopicID uint32         `json:"topic_id"`
	Fields  []schema.Field `json:"fields"`
	Created time.Time      `json:"created"`
	// Settings are the admin API's and the config's: factory, blocklists.
	Settings *Settings `json:"settings,omitempty"`
	// Types are the event types with a JSON Type Definition, in order of
	// first definition; Columns their columns (they never go away, since
	// segments have them), in order of first appearance.
	Types   []typeDef      `json:"types,omitempty"`
	Columns []schema.Field `json:"columns,omitempty"`
}

const catalogName = "catalog.json"

// catalogKey is the catalog's object key in a remote store: there it is a
// copy, so that a node restarted on an empty disk knows its streams.
const catalogKey = "catalog.json"

// loadRemoteCatalog reads the catalog's copy from a remote store; none yet is
// an empty catalog.
func loadRemoteCatalog(ctx context.Context, st storage.Store) (catalogFile, bool, error) {
	var c catalogFile
	obj, err := st.Open(ctx, catalogKey)
	if errors.Is(err, base.ErrNotFound) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	defer obj.Close()
	if err := json.NewDecoder(io.NewSectionReader(obj, 0, obj.Size())).Decode(&c); err != nil {
		return c, false, base.Errorf(base.ErrCorrupt, "engine: remote %s: %w", catalogKey, err)
	}
	return c, true, nil
}

// saveRemoteCatalog writes the catalog's copy to a remote store.
func saveRemoteCatalog(ctx context.Context, st storage.Store, c catalogFile) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	w, err := st.Create(ctx, catalogKey)
	if err != nil {
		return err
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		w.Abort()
		return err
	}
	return w.Commit()
}

func loadCatalog(fsys vfs.FS, dir string) (catalogFile, error) {
	var c catalogFile
	f, err := fsys.Open(filepath.Join(dir, catalogName))
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	defer f.Close()
	if err := json.NewDecoder(f).Decode(&c); err != nil {
		return c, base.Errorf(base.ErrCorrupt, "engine: %s: %w", catalogName, err)
	}
	return c, nil
}

func saveCatalog(fsys vfs.FS, dir string, c catalogFile) error {
	sort.Slice(c.Streams, func(i, j int) bool { return c.Streams[i].Name < c.Streams[j].Name })
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, catalogName), append(data, '\n'))
}

// TopicID is the stable 32-bit id of a topic, used inside ingest tokens: the
// first four bytes (big-endian) of the BLAKE3 hash of "account/name". Being a
// function of the name, a token keeps naming the same topic across data dirs
// that were created from the same config.
func TopicID(name base.StreamName) uint32 {
	sum := blake3.Sum256([]byte(name.String()))
	return binary.BigEndian.Uint32(sum[:4])
}

// CatalogHasTopic reports whether the catalog in dataDir lists name as a
// topic. It reads the file only, so it works beside a running server; no
// catalog yet is no topic.
func CatalogHasTopic(dataDir string, name base.StreamName) (bool, error) {
	c, err := loadCatalog(vfs.OS{}, dataDir)
	if err != nil {
		return false, err
	}
	for _, d := range c.Streams {
		if d.Name == name.String() && d.Kind == "" {
			return true, nil
		}
	}
	return false, nil
}
