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
	"github.com/ducktail/ducktail/storage/storetest"
)

// readAll returns the whole object at key.
func readAll(t *testing.T, st storage.Store, key string) []byte {
	t.Helper()
	return storetest.ReadAll(t, st, key)
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
// under st's prefix. It does not use t.Context(), so that cleanups can call it.
func inProgressUploads(t *testing.T, st *Store) []string {
	t.Helper()
	out, err := st.client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{
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

// TestStore runs the Store contract's suite on the S3 store, checking after
// every subtest that no spool file nor multipart upload is left.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storage.Store {
		st := newTestStore(t, nil)
		t.Cleanup(func() {
			if got := tmpFiles(t, st); len(got) != 0 {
				t.Errorf("tmp files left: %v", got)
			}
			if got := inProgressUploads(t, st); len(got) != 0 {
				t.Errorf("multipart uploads left: %v", got)
			}
		})
		return st
	})
}

// TestCacheCommitReplace: a committed spool becomes the cached copy, and
// what is in S3 (read through a fresh cache) is the same, after a replace too.
func TestCacheCommitReplace(t *testing.T) {
	ctx := t.Context()
	st := newTestStore(t, nil)
	const key = "streams/demo/events/a.parquet"
	for _, content := range []string{"hello world", "replaced"} {
		w, err := st.Create(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, content)
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		// The spool became the cached copy: readable locally at once.
		if b, err := os.ReadFile(st.Path(key)); err != nil || string(b) != content {
			t.Fatalf("cached copy: %q, %v", b, err)
		}
		if got := readAll(t, st, key); string(got) != content {
			t.Fatalf("content %q", got)
		}
		if got := readAll(t, reopen(t, st), key); string(got) != content {
			t.Fatalf("content from a fresh cache %q", got)
		}
	}
	// An aborted object leaves nothing in S3, at any depth.
	w, err := st.Create(ctx, "streams/demo/events/b.parquet")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "discard me")
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := rawKeys(t, st); !slices.Equal(got, []string{key}) {
		t.Fatalf("objects after abort: %v", got)
	}
	if got := tmpFiles(t, st); len(got) != 0 {
		t.Fatalf("tmp files left: %v", got)
	}
}

// TestPutIfAbsentRace: what S3 holds after a race is the winner's, not what a
// loser cached, with single puts and with multipart uploads.
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
			winner := storetest.RacePut(t, ctx, st, key, data)
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

// TestPutIfAbsentOwnBytes: a put that finds its own bytes at the key succeeds
// (a retried put whose first attempt landed); Local does not do this.
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

// TestDeleteDropsCache: Delete removes the cached copy too.
func TestDeleteDropsCache(t *testing.T) {
	ctx := t.Context()
	st := newTestStore(t, nil)
	const key = "streams/demo/events/a.parquet"
	if err := st.PutIfAbsent(ctx, key, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.LocalPath(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(st.Path(key)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("cached copy after delete: %v", err)
	}
	if _, err := st.LocalPath(ctx, key); !errors.Is(err, base.ErrNotFound) {
		t.Fatalf("LocalPath of deleted: %v", err)
	}
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
