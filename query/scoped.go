package query

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/query/sqlengine"
)

// Scope is what an API key may read through SQL (SPEC 4.4): the streams of
// one account, or, when Stream is set, one stream.
type Scope struct {
	Account string
	Stream  string
}

func (sc Scope) String() string {
	if sc.Stream == "" {
		return sc.Account + "/*"
	}
	return sc.Account + "/" + sc.Stream
}

// visible reports whether the scope may read stream n.
func (sc Scope) visible(n base.StreamName) bool {
	return n.Account == sc.Account && (sc.Stream == "" || n.Name == sc.Stream)
}

// dir is the scope's segment directory below the segment root: segments
// live at {root}/{account}/{stream}/ (SPEC 3).
func (sc Scope) dir(root string) string {
	if sc.Stream == "" {
		return filepath.Join(root, sc.Account)
	}
	return filepath.Join(root, sc.Account, sc.Stream)
}

// DefaultMaxScoped is how many scoped databases SQL keeps open.
const DefaultMaxScoped = 8

// scopedDB is one scope's database and who is using it.
type scopedDB struct {
	db      *sqlengine.Engine
	refs    int    // results not yet released, plus queries being set up
	used    uint64 // SQL.tick at the last acquire, for least-recently-used eviction
	evicted bool   // out of SQL.scoped: closed when refs drops to 0
}

// scopes holds the open scoped databases. A scoped database is a separate
// DuckDB instance holding only its scope's views and allowed to read only
// its scope's segment directory, so nothing a query does in it can reach
// other accounts' data. Opening one costs about 60 ms (measured), so they
// are kept, at most max, the least recently used closed first.
type scopes struct {
	base *sqlengine.Engine

	openMu sync.Mutex // serializes opening, so one scope is opened once
	mu     sync.Mutex // guards the fields below
	dbs    map[Scope]*scopedDB
	tick   uint64
	seq    int // names each database's temp directory
	max    int
	closed bool
}

// acquire returns the scope's database, opening it if needed; the caller
// must call release with it.
func (s *scopes) acquire(sc Scope) (*scopedDB, error) {
	if d, err := s.lookup(sc); d != nil || err != nil {
		return d, err
	}
	s.openMu.Lock()
	defer s.openMu.Unlock()
	if d, err := s.lookup(sc); d != nil || err != nil {
		return d, err
	}
	opts := s.base.Options()
	opts.AllowedDirs = []string{sc.dir(opts.DataDir)}
	s.mu.Lock()
	s.seq++
	// Each DuckDB instance needs its own spill directory.
	opts.TempDir = filepath.Join(opts.TempDir, "scoped", strconv.Itoa(s.seq))
	s.mu.Unlock()
	db, err := sqlengine.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("sql: cannot open the database for %s: %w", sc, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		db.Close()
		return nil, base.Errorf(base.ErrClosed, "sql is closed")
	}
	if s.dbs == nil {
		s.dbs = make(map[Scope]*scopedDB)
	}
	s.tick++
	d := &scopedDB{db: db, refs: 1, used: s.tick}
	s.dbs[sc] = d
	s.evictLocked()
	return d, nil
}

// lookup returns the scope's open database with a reference taken, or nil.
func (s *scopes) lookup(sc Scope) (*scopedDB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, base.Errorf(base.ErrClosed, "sql is closed")
	}
	d := s.dbs[sc]
	if d == nil {
		return nil, nil
	}
	s.tick++
	d.refs++
	d.used = s.tick
	return d, nil
}

// evictLocked drops least recently used databases over the limit; each is
// closed once its last result is released. REQUIRES: s.mu held.
func (s *scopes) evictLocked() {
	max := s.max
	if max <= 0 {
		max = DefaultMaxScoped
	}
	for len(s.dbs) > max {
		var oldest Scope
		var od *scopedDB
		for sc, d := range s.dbs {
			if od == nil || d.used < od.used {
				oldest, od = sc, d
			}
		}
		delete(s.dbs, oldest)
		od.evicted = true
		if od.refs == 0 {
			od.db.Close()
		}
	}
}

// release gives back a reference from acquire.
func (s *scopes) release(d *scopedDB) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d.refs--
	if d.refs == 0 && d.evicted {
		d.db.Close()
	}
}

// close closes every scoped database; those in use close when released.
func (s *scopes) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for sc, d := range s.dbs {
		delete(s.dbs, sc)
		d.evicted = true
		if d.refs == 0 {
			d.db.Close()
		}
	}
}

// open returns how many scoped databases are open (for tests).
func (s *scopes) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.dbs)
}

// checkFiles refuses a view whose segments lie outside the scope's
// directory: the database could not read them anyway, and a clear error
// beats DuckDB's permission message.
func checkFiles(sc Scope, dir string, files []string) error {
	prefix := strings.TrimSuffix(dir, string(filepath.Separator)) + string(filepath.Separator)
	for _, f := range files {
		if !strings.HasPrefix(f, prefix) {
			return fmt.Errorf("sql: segment %s of scope %s is outside %s", f, sc, dir)
		}
	}
	return nil
}
