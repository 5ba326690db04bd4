package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage"
)

func readAll(t *testing.T, st storage.Store, key string) []byte {
	t.Helper()
	obj, err := st.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(io.NewSectionReader(obj, 0, obj.Size()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// tmpFiles lists what is left in st's tmp/ directory.
func tmpFiles(t *testing.T, st *Store) []string {
	t.Helper()
	names, err := st.fsys.List(st.tmpDir)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// inProgressUploads lists the multipart uploads not completed nor aborted
// under st's prefix.
func inProgressUploads(t *testing.T, st *Store) []string {
	t.Helper()
	out, err := st.client.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{
		Bucket: aws.String(st.opts.Bucket), Prefix: aws.String(st.opts.Prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

func TestCreateCommitAbort(t *testing.T) {
	ctx := t.Context()
	st := newTestStore(t, nil)
	const key = "streams/demo/events/a.parquet"

	w, err := st.Create(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "hello "); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "world"); err != nil {
		t.Fatal(err)
	}
	// Not visible before Commit.
	if _, err := st.Open(ctx, key); !errors.Is(err, base.ErrNotFound) {
		t.Fatalf("open before commit: got %v, want ErrNotFound", err)
	}
	if keys, err := st.List(ctx, "streams/demo/events/"); err != nil || len(keys) != 0 {
		t.Fatalf("list before commit: %v, %v", keys, err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("abort after commit: %v", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("write after commit succeeded")
	}
	if err := w.Commit(); err == nil {
		t.Fatal("second commit succeeded")
	}
	// The spool became the cached copy: readable locally at once.
	if b, err := os.ReadFile(st.Path(key)); err != nil || string(b) != "hello world" {
		t.Fatalf("cached copy: %q, %v", b, err)
	}
	if got := readAll(t, st, key); string(got) != "hello world" {
		t.Fatalf("content %q", got)
	}
	if got := readAll(t, reopen(t, st), key); string(got) != "hello world" {
		t.Fatalf("content from a fresh cache %q", got)
	}

	// Committing over an existing key replaces it, in S3 and in the cache.
	w, err = st.Create(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "replaced")
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, st, key); string(got) != "replaced" {
		t.Fatalf("content after replace %q", got)
	}

	// Abort leaves nothing, not even the spool.
	w, err = st.Create(ctx, "streams/demo/events/b.parquet")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "discard me")
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err == nil {
		t.Fatal("commit after abort succeeded")
	}
	if got := rawKeys(t, st); !slices.Equal(got, []string{key}) {
		t.Fatalf("objects after abort: %v", got)
	}
	if got := tmpFiles(t, st); len(got) != 0 {
		t.Fatalf("tmp files left: %v", got)
	}
}

func TestPutIfAbsentRace(t *testing.T) {
	for _, tc := range []struct {
		name    string
		writers int
		size    int // bytes per writer; above PartSize the upload is multipart
	}{
		{"single-put", 8, 100},
		{"multipart", 3, 12 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			st := newTestStore(t, func(o *Options) { o.PartSize = minPartSize })
			const key = "streams/demo/events/_manifest/00000000000000000001.json"
			data := make([][]byte, tc.writers)
			for i := range data {
				data[i] = randomBytes(t, tc.size)
			}
			errs := make([]error, tc.writers)
			var wg sync.WaitGroup
			for i := range tc.writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = st.PutIfAbsent(ctx, key, data[i])
				}()
			}
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil:
					if winner >= 0 {
						t.Fatalf("writers %d and %d both won", winner, i)
					}
					winner = i
				case !errors.Is(err, storage.ErrExists) || !errors.Is(err, base.ErrConflict):
					t.Fatalf("writer %d: %v, want ErrExists", i, err)
				}
			}
			if winner < 0 {
				t.Fatal("no writer won")
			}
			// Read back through a fresh cache: what S3 holds, not what a
			// loser might have cached.
			if got := readAll(t, reopen(t, st), key); !bytes.Equal(got, data[winner]) {
				t.Fatalf("content is not the winner's (%d)", winner)
			}
			if got := readAll(t, st, key); !bytes.Equal(got, data[winner]) {
				t.Fatal("the store's cached copy is not the winner's")
			}
			if got := rawKeys(t, st); len(got) != 1 {
				t.Fatalf("objects: %v", got)
			}
			if got := inProgressUploads(t, st); len(got) != 0 {
				t.Fatalf("losers left multipart uploads: %v", got)
			}
			// A later put of the same key with other bytes loses too.
			if err := st.PutIfAbsent(ctx, key, []byte("late")); !errors.Is(err, storage.ErrExists) {
				t.Fatalf("late put: %v, want ErrExists", err)
			}
		})
	}
}

func TestPutIfAbsentOwnBytes(t *testing.T) {
	ctx := t.Context()
	st := newTestStore(t, nil)
	const key = "a/b"
	if err := st.PutIfAbsent(ctx, key, []byte("same")); err != nil {
		t.Fatal(err)
	}
	if err := st.PutIfAbsent(ctx, key, []byte("same")); err != nil {
		t.Fatalf("repeating the winning put: %v, want success", err)
	}
	if err := st.PutIfAbsent(ctx, key, []byte("sam")); !errors.Is(err, storage.ErrExists) {
		t.Fatalf("different bytes: %v, want ErrExists", err)
	}
}

func TestListDelete(t *testing.T) {
	ctx := t.Context()
	st := newTestStore(t, nil)
	keys := []string{
		"streams/demo/events/b.parquet",
		"streams/demo/events/a.parquet",
		"streams/demo/events/_manifest/00000000000000000001.json",
		"streams/demo/events/sub=x/a.parquet",
		"streams/demo/other/a.parquet",
	}
	for _, k := range keys {
		if err := st.PutIfAbsent(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	w, err := st.Create(ctx, "streams/demo/events/c.parquet") // uncommitted: not listed
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()

	f := func(prefix string, want ...string) {
		t.Helper()
		got, err := st.List(ctx, prefix)
		if err != nil {
			t.Fatalf("list %q: %v", prefix, err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("list %q = %v, want %v", prefix, got, want)
		}
	}
	// Direct children only: not _manifest/ nor sub=x/.
	f("streams/demo/events/",
		"streams/demo/events/a.parquet",
		"streams/demo/events/b.parquet")
	f("streams/demo/events/_manifest/", "streams/demo/events/_manifest/00000000000000000001.json")
	f("streams/demo/events/sub=x/", "streams/demo/events/sub=x/a.parquet")
	f("streams/demo/other/", "streams/demo/other/a.parquet")
	f("streams/nothing/")
	f("")

	if err := st.Delete(ctx, "streams/demo/events/a.parquet"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "streams/demo/events/a.parquet"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := os.Stat(st.Path("streams/demo/events/a.parquet")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("cached copy after delete: %v", err)
	}
	if _, err := st.Open(ctx, "streams/demo/events/a.parquet"); !errors.Is(err, base.ErrNotFound) {
		t.Fatalf("open deleted: %v", err)
	}
	if _, err := st.LocalPath(ctx, "streams/demo/events/a.parquet"); !errors.Is(err, base.ErrNotFound) {
		t.Fatalf("LocalPath of deleted: %v", err)
	}
	f("streams/demo/events/", "streams/demo/events/b.parquet")
	f("streams/demo/other/", "streams/demo/other/a.parquet")
}

func TestListPages(t *testing.T) {
	ctx := t.Context()
	st := newTestStore(t, nil)
	st.listPageSize = 2 // several pages, with "directories" among the keys
	var want []string
	for i := range 7 {
		key := "p/k" + strconv.Itoa(i)
		want = append(want, key)
		if err := st.PutIfAbsent(ctx, key, nil); err != nil {
			t.Fatal(err)
		}
		if err := st.PutIfAbsent(ctx, key+"-dir/x", nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.List(ctx, "p/")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("list = %v, want %v", got, want)
	}
}

func TestInvalidKeys(t *testing.T) {
	ctx := t.Context()
	st := newTestStore(t, nil)
	for _, key := range []string{"", "/abs", "a/", "a//b", "a/../b", "./a", "a\\b", "x.parquet.tmp0123456789abcdef"} {
		if err := st.PutIfAbsent(ctx, key, nil); !errors.Is(err, base.ErrInvalid) {
			t.Errorf("PutIfAbsent(%q) = %v, want ErrInvalid", key, err)
		}
		if _, err := st.Create(ctx, key); !errors.Is(err, base.ErrInvalid) {
			t.Errorf("Create(%q) = %v, want ErrInvalid", key, err)
		}
		if _, err := st.Open(ctx, key); !errors.Is(err, base.ErrInvalid) {
			t.Errorf("Open(%q) = %v, want ErrInvalid", key, err)
		}
		if err := st.Delete(ctx, key); !errors.Is(err, base.ErrInvalid) {
			t.Errorf("Delete(%q) = %v, want ErrInvalid", key, err)
		}
	}
	for _, prefix := range []string{"a", "/a/", "a/../", "a//"} {
		if _, err := st.List(ctx, prefix); !errors.Is(err, base.ErrInvalid) {
			t.Errorf("List(%q) = %v, want ErrInvalid", prefix, err)
		}
	}
}

func TestMultipartCommitAndRedownload(t *testing.T) {
	ctx := t.Context()
	st := newTestStore(t, func(o *Options) { o.PartSize = minPartSize })
	const key = "streams/demo/events/big.parquet"
	data := randomBytes(t, 12<<20) // 3 parts of at most 5 MiB
	w, err := st.Create(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	for p := data; len(p) > 0; p = p[min(len(p), 100_000):] {
		if _, err := w.Write(p[:min(len(p), 100_000)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	head, err := st.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket: aws.String(st.opts.Bucket), Key: aws.String(st.objectKey(key))})
	if err != nil {
		t.Fatal(err)
	}
	if etag := aws.ToString(head.ETag); !bytes.HasSuffix([]byte(etag), []byte(`-3"`)) {
		t.Fatalf("ETag %s is not that of a 3-part upload", etag)
	}
	if aws.ToInt64(head.ContentLength) != int64(len(data)) {
		t.Fatalf("size %d", aws.ToInt64(head.ContentLength))
	}
	if got := readAll(t, st, key); !bytes.Equal(got, data) {
		t.Fatal("cached copy differs")
	}

	// Wipe the cache: Open downloads again and reads the same bytes, and
	// concurrent Opens share that download.
	if err := os.RemoveAll(st.objDir); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([][]byte, 4)
	errs := make([]error, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			obj, err := st.Open(ctx, key)
			if err != nil {
				errs[i] = err
				return
			}
			defer obj.Close()
			got[i], errs[i] = io.ReadAll(io.NewSectionReader(obj, 0, obj.Size()))
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || !bytes.Equal(got[i], data) {
			t.Fatalf("open %d after wiping the cache: %v (equal %v)", i, errs[i], bytes.Equal(got[i], data))
		}
	}
	if got := tmpFiles(t, st); len(got) != 0 {
		t.Fatalf("tmp files left: %v", got)
	}
	if got := inProgressUploads(t, st); len(got) != 0 {
		t.Fatalf("uploads left: %v", got)
	}
}

func TestRestartOnEmptyDisk(t *testing.T) {
	ctx := t.Context()
	first := newTestStore(t, nil)
	want := map[string][]byte{
		"streams/demo/events/00-09.parquet":                       randomBytes(t, 1000),
		"streams/demo/events/10-19.parquet":                       randomBytes(t, 70_000),
		"streams/demo/events/_manifest/00000000000000000001.json": []byte(`{"version":1}`),
	}
	for k, v := range want {
		if filepath.Ext(k) == ".json" {
			if err := first.PutIfAbsent(ctx, k, v); err != nil {
				t.Fatal(err)
			}
			continue
		}
		w, err := first.Create(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(v)
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
	}

	second := reopen(t, first)
	if got, err := second.List(ctx, "streams/demo/events/"); err != nil ||
		!slices.Equal(got, []string{"streams/demo/events/00-09.parquet", "streams/demo/events/10-19.parquet"}) {
		t.Fatalf("list on an empty disk: %v, %v", got, err)
	}
	if got, err := second.List(ctx, "streams/demo/events/_manifest/"); err != nil || len(got) != 1 {
		t.Fatalf("list manifests on an empty disk: %v, %v", got, err)
	}
	for k, v := range want {
		if _, err := os.Stat(second.Path(k)); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s cached before use: %v", k, err)
		}
		p, err := second.LocalPath(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if p != second.Path(k) {
			t.Fatalf("LocalPath %s, Path %s", p, second.Path(k))
		}
		if b, err := os.ReadFile(p); err != nil || !bytes.Equal(b, v) {
			t.Fatalf("%s from LocalPath differs: %v", k, err)
		}
		if got := readAll(t, second, k); !bytes.Equal(got, v) {
			t.Fatalf("%s differs", k)
		}
	}
}

func TestNewCleansTmp(t *testing.T) {
	st := newTestStore(t, nil)
	left := filepath.Join(st.tmpDir, "spool-0123456789abcdef")
	if err := os.WriteFile(left, []byte("crashed"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := st.opts
	if _, err := New(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover spool: %v", err)
	}
}

func TestContextCancelled(t *testing.T) {
	st := newTestStore(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := st.PutIfAbsent(ctx, "a", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("PutIfAbsent: %v", err)
	}
	if _, err := st.List(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("List: %v", err)
	}
}
