package arrowipc

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestProbeCorpus(t *testing.T) {
	dir := os.Getenv("PROBE_DIR")
	if dir == "" {
		t.Skip()
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, n := range names {
		raw, _ := os.ReadFile(n)
		lines := strings.Split(string(raw), "\n")
		q := strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")")
		b, err := strconv.Unquote(q)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err, alloc := decodeAlloc([]byte(b))
		t.Logf("%s: %d bytes, %v, alloc %d: %v", filepath.Base(n), len(b), time.Since(start), alloc, err)
	}
}

func TestProbeMutations(t *testing.T) {
	if os.Getenv("PROBE_MUT") == "" {
		t.Skip()
	}
	files := append(ipcFiles(t, "valid", "*.stream"), ipcFiles(t, "malformed", "*")...)
	seed := uint64(1)
	rnd := func() uint64 { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; return seed }
	var worst time.Duration
	deadline := time.Now().Add(15 * time.Second)
	n := 0
	for time.Now().Before(deadline) {
		f := files[rnd()%uint64(len(files))]
		b := append([]byte(nil), f.data...)
		for k := 0; k < 1+int(rnd()%4); k++ {
			b[rnd()%uint64(len(b))] = byte(rnd())
		}
		start := time.Now()
		s, err := Decode(b, nil, Limits{})
		if err == nil {
			s.Release()
		} else if strings.Contains(err.Error(), errPanicPrefix) {
			os.WriteFile("/tmp/panic.bin", b, 0o644)
			t.Fatalf("%s: %v", f.name, err)
		}
		n++
		if d := time.Since(start); d > worst {
			worst = d
			t.Logf("%s: %v %v", f.name, d, err)
			if d > time.Second {
				os.WriteFile("/tmp/slow.bin", b, 0o644)
			}
		}
	}
	t.Logf("%d decodes, worst %v", n, worst)
}
