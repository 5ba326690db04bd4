package engine

import (
	"bytes"
	"sync"
	"testing"
)

func TestArenaReuse(t *testing.T) {
	a := newArena(1024, 4)
	body := bytes.Repeat([]byte{7}, 300)
	var chunks []*chunk
	for i := 0; i < 10; i++ { // 3 bodies a chunk: 4 chunks, the first three retired
		cp, c := a.copyIn(body)
		if !bytes.Equal(cp, body) || uintptrOf(cp)%8 != 0 {
			t.Fatalf("copy %d wrong or unaligned", i)
		}
		chunks = append(chunks, c)
	}
	for _, c := range chunks {
		c.release()
	}
	a.mu.Lock()
	free := len(a.free)
	a.mu.Unlock()
	if free != 3 {
		t.Fatalf("%d chunks on the free list, want the 3 retired ones", free)
	}
	// The current chunk has room for two more bodies; the third takes a
	// chunk from the free list rather than allocating one.
	for i := 0; i < 4; i++ {
		_, c := a.copyIn(body)
		defer c.release()
	}
	a.mu.Lock()
	free = len(a.free)
	a.mu.Unlock()
	if free != 2 {
		t.Fatalf("free list %d after reuse, want 2", free)
	}
}

// TestArenaRetireUnreferenced is the case that once deadlocked: the current
// chunk's last body is released before the arena moves on.
func TestArenaRetireUnreferenced(t *testing.T) {
	a := newArena(1024, 4)
	body := make([]byte, 600)
	_, c := a.copyIn(body)
	c.release()
	_, c2 := a.copyIn(body) // retires the first chunk, whose only reference is the arena's
	defer c2.release()
	if c2 != c {
		t.Fatal("the retired chunk was not recycled as the next current chunk")
	}
}

func TestArenaConcurrent(t *testing.T) {
	a := newArena(4096, 8)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			body := bytes.Repeat([]byte{byte(g)}, 100+g*37)
			for i := 0; i < 2000; i++ {
				cp, c := a.copyIn(body)
				if !bytes.Equal(cp, body) {
					t.Errorf("goroutine %d: copy overwritten", g)
				}
				c.release()
			}
		}(g)
	}
	wg.Wait()
}

func TestArenaOversize(t *testing.T) {
	a := newArena(64, 4)
	body := bytes.Repeat([]byte{1}, 100)
	cp, c := a.copyIn(body)
	if !bytes.Equal(cp, body) {
		t.Fatal("oversize copy differs")
	}
	c.release()
	if len(a.free) != 0 {
		t.Fatal("oversize chunk went to the free list")
	}
}
