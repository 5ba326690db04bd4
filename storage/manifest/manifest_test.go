package manifest_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage"
	"github.com/ducktail/ducktail/storage/manifest"
	"github.com/ducktail/ducktail/storage/storetest"
)

// seg returns a segment of ids [first, last] with ts [minTS, maxTS].
func seg(first, last, minTS, maxTS int64) manifest.Segment {
	return manifest.Segment{
		Key:     "streams/demo/events/x.parquet",
		FirstID: first, LastID: last, MinTS: minTS, MaxTS: maxTS,
		Rows: last - first + 1, Bytes: 100, CRC32C: 0xdeadbeef,
	}
}

// three contiguous segments: ids 0-9 ts 100-200, 10-19 ts 200-300, 20-29 ts 400-500.
func three() *manifest.Manifest {
	return &manifest.Manifest{Version: 3, Stream: "demo/events", Segments: []manifest.Segment{
		seg(0, 9, 100, 200), seg(10, 19, 200, 300), seg(20, 29, 400, 500),
	}}
}

func TestEncodeDecode(t *testing.T) {
	for _, m := range []*manifest.Manifest{
		{Version: 1, Stream: "demo/events", Segments: []manifest.Segment{}},
		three(),
	} {
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := manifest.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip: got %+v, want %+v", got, m)
		}
	}
	b, _ := (&manifest.Manifest{Version: 1}).Encode()
	if string(b) != `{"version":1,"stream":"","segments":[]}`+"\n" {
		t.Fatalf("empty manifest encodes as %s", b)
	}
	for _, bad := range []string{``, `{`, `{"version":"x"}`, `{"segments":[{"key":"k","first_id":5,"last_id":4}]}`} {
		if _, err := manifest.Decode([]byte(bad)); !errors.Is(err, base.ErrCorrupt) {
			t.Errorf("Decode(%q) = %v, want ErrCorrupt", bad, err)
		}
	}
}

func TestNextID(t *testing.T) {
	if got := (&manifest.Manifest{}).NextID(); got != 0 {
		t.Fatalf("empty: %d", got)
	}
	if got := three().NextID(); got != 30 {
		t.Fatalf("three: %d", got)
	}
}

func TestSelect(t *testing.T) {
	const (
		minI = math.MinInt64
		maxI = math.MaxInt64
	)
	m := three()
	f := func(from, to, since, until int64, want ...int64) {
		t.Helper()
		var got []int64
		for _, s := range m.Select(from, to, since, until) {
			got = append(got, s.FirstID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Select(%d, %d, %d, %d) = %v, want %v", from, to, since, until, got, want)
		}
	}
	f(minI, maxI, minI, maxI, 0, 10, 20)
	f(0, 10, minI, maxI, 0)
	f(9, 10, minI, maxI, 0)
	f(9, 11, minI, maxI, 0, 10)
	f(10, 11, minI, maxI, 10)
	f(29, maxI, minI, maxI, 20)
	f(30, maxI, minI, maxI)
	f(minI, 0, minI, maxI)
	f(5, 5, minI, maxI)
	f(7, 3, minI, maxI)
	// ts pruning: segments 0 and 1 share ts 200.
	f(minI, maxI, 200, 201, 0, 10)
	f(minI, maxI, 201, 400, 10)
	f(minI, maxI, 301, 400)
	f(minI, maxI, 300, 401, 10, 20)
	f(minI, maxI, 501, maxI)
	f(minI, maxI, minI, 100)
	f(minI, maxI, minI, 101, 0)
	// ids and ts together.
	f(0, 15, 250, maxI, 10)
	f(25, maxI, minI, 300)
	f(minI, maxI, 300, 300)
	if got := (&manifest.Manifest{}).Select(minI, maxI, minI, maxI); len(got) != 0 {
		t.Errorf("empty manifest selects %v", got)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		segs []manifest.Segment
		ok   bool
	}{
		{"empty", nil, true},
		{"three", three().Segments, true},
		{"gap", []manifest.Segment{seg(0, 9, 0, 1), seg(11, 19, 1, 2)}, false},
		{"overlap", []manifest.Segment{seg(0, 9, 0, 1), seg(9, 19, 1, 2)}, false},
		{"unsorted", []manifest.Segment{seg(10, 19, 0, 1), seg(0, 9, 1, 2)}, false},
		{"empty segment", []manifest.Segment{seg(0, -1, 0, 1)}, false},
		{"ts backwards", []manifest.Segment{seg(0, 9, 5, 6), seg(10, 19, 1, 2)}, false},
		{"ts range reversed", []manifest.Segment{seg(0, 9, 6, 5)}, false},
		{"rows mismatch", []manifest.Segment{func() manifest.Segment { s := seg(0, 9, 0, 1); s.Rows = 3; return s }()}, false},
		{"no key", []manifest.Segment{func() manifest.Segment { s := seg(0, 9, 0, 1); s.Key = ""; return s }()}, false},
		{"negative id", []manifest.Segment{seg(-5, 9, 0, 1)}, false},
	} {
		err := (&manifest.Manifest{Segments: tc.segs}).Validate()
		if tc.ok && err != nil || !tc.ok && !errors.Is(err, base.ErrCorrupt) {
			t.Errorf("%s: Validate() = %v, ok %v", tc.name, err, tc.ok)
		}
	}
}

func newStore(t *testing.T) *storage.Local {
	t.Helper()
	st, err := storage.NewLocal(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

const prefix = "streams/demo/events/"

func TestKey(t *testing.T) {
	if got := manifest.Key(prefix, 42); got != "streams/demo/events/_manifest/00000000000000000042.json" {
		t.Fatal(got)
	}
}

func TestLoadCommit(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	m, err := manifest.Load(ctx, st, prefix)
	if err != nil || m.Version != 0 || len(m.Segments) != 0 || m.NextID() != 0 {
		t.Fatalf("load of empty prefix: %+v, %v", m, err)
	}
	m.Stream = "demo/events"
	m.Segments = []manifest.Segment{seg(0, 9, 100, 200)}
	m1, err := manifest.Commit(ctx, st, prefix, m)
	if err != nil || m1.Version != 1 || m.Version != 0 {
		t.Fatalf("first commit: %+v, %v (input now version %d)", m1, err, m.Version)
	}
	m2 := *m1
	m2.Segments = append(slices.Clone(m1.Segments), seg(10, 19, 200, 300))
	got2, err := manifest.Commit(ctx, st, prefix, &m2)
	if err != nil || got2.Version != 2 {
		t.Fatalf("second commit: %+v, %v", got2, err)
	}
	loaded, err := manifest.Load(ctx, st, prefix)
	if err != nil || !reflect.DeepEqual(loaded, got2) {
		t.Fatalf("load: %+v, %v, want %+v", loaded, err, got2)
	}
	// Committing from a stale version loses.
	if _, err := manifest.Commit(ctx, st, prefix, m1); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("stale commit: %v, want ErrExists", err)
	}
	// An invalid manifest writes nothing.
	bad := *got2
	bad.Segments = []manifest.Segment{seg(5, 1, 0, 0)}
	if _, err := manifest.Commit(ctx, st, prefix, &bad); !errors.Is(err, base.ErrCorrupt) {
		t.Fatalf("invalid commit: %v", err)
	}
	if keys, _ := st.List(ctx, prefix+"_manifest/"); len(keys) != 2 {
		t.Fatalf("keys after invalid commit: %v", keys)
	}
}

func TestConcurrentCommit(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	base0, err := manifest.Commit(ctx, st, prefix, &manifest.Manifest{Stream: "demo/events"})
	if err != nil {
		t.Fatal(err)
	}
	winner := storetest.Winner(t, storetest.Race(8, func(i int) error {
		m := *base0
		m.Segments = []manifest.Segment{seg(0, int64(i), 0, 0)}
		_, err := manifest.Commit(ctx, st, prefix, &m)
		return err
	}))
	m, err := manifest.Load(ctx, st, prefix)
	if err != nil || m.Version != 2 || m.NextID() != int64(winner)+1 {
		t.Fatalf("load after race: %+v, %v (winner %d)", m, err, winner)
	}
}

func TestCommitCleansOldVersions(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	m := &manifest.Manifest{Stream: "demo/events"}
	for i := range 6 {
		next := *m
		next.Segments = append(slices.Clone(m.Segments), seg(int64(i*10), int64(i*10+9), 0, 0))
		var err error
		if m, err = manifest.Commit(ctx, st, prefix, &next); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := st.List(ctx, prefix+"_manifest/")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{manifest.Key(prefix, 4), manifest.Key(prefix, 5), manifest.Key(prefix, 6)}
	if !slices.Equal(keys, want) {
		t.Fatalf("versions left %v, want %v", keys, want)
	}
}

func TestLoadCorrupt(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		data string
	}{
		{"truncated", `{"version":2,"segm`},
		{"invalid", `{"version":2,"segments":[{"key":"k","first_id":3,"last_id":1}]}`},
		{"wrong version", `{"version":7,"segments":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(t)
			if _, err := manifest.Commit(ctx, st, prefix, &manifest.Manifest{}); err != nil {
				t.Fatal(err)
			}
			if err := st.PutIfAbsent(ctx, manifest.Key(prefix, 2), []byte(tc.data)); err != nil {
				t.Fatal(err)
			}
			if _, err := manifest.Load(ctx, st, prefix); !errors.Is(err, base.ErrCorrupt) {
				t.Fatalf("load: %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestTrim: retention removes a prefix of segments; ids and timestamps stay
// monotonic even when no segment is left.
func TestTrim(t *testing.T) {
	type Manifest = manifest.Manifest
	type Segment = manifest.Segment
	m := &Manifest{Stream: "a/b", Segments: []Segment{
		{Key: "k0", FirstID: 0, LastID: 9, MinTS: 100, MaxTS: 200, Rows: 10, Bytes: 1},
		{Key: "k1", FirstID: 10, LastID: 19, MinTS: 200, MaxTS: 300, Rows: 10, Bytes: 1},
	}}
	one := m.Trim(1)
	if one.Trimmed != 10 || one.TrimmedTS != 200 || len(one.Segments) != 1 || one.NextID() != 20 || one.LastTS() != 300 {
		t.Fatalf("Trim(1) = %+v", one)
	}
	if err := one.Validate(); err != nil {
		t.Fatal(err)
	}
	all := one.Trim(1)
	if all.Trimmed != 20 || all.NextID() != 20 || all.LastTS() != 300 || len(all.Segments) != 0 {
		t.Fatalf("Trim of everything = %+v", all)
	}
	data, err := all.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := manifest.Decode(data)
	if err != nil || back.NextID() != 20 || back.LastTS() != 300 {
		t.Fatalf("decoded %+v, %v", back, err)
	}
	bad := *one
	bad.Trimmed = 5
	if err := bad.Validate(); err == nil {
		t.Fatal("a first segment that does not start at the trim point validated")
	}
	if len(m.Segments) != 2 {
		t.Fatal("Trim changed its receiver")
	}
}
