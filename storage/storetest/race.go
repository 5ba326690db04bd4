package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/storage"
)

// Winner checks the errors of racing creators of one object: exactly one is
// nil and every other wraps storage.ErrExists (and so base.ErrConflict). It
// returns the index of the winner.
func Winner(t *testing.T, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("creators %d and %d both won", winner, i)
			}
			winner = i
		case !errors.Is(err, storage.ErrExists) || !errors.Is(err, base.ErrConflict):
			t.Fatalf("creator %d: %v, want ErrExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no creator won")
	}
	return winner
}

// Race calls f(0), ..., f(n-1) all at once and returns their errors, in
// order: racing creators of one object, to be checked with Winner.
func Race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errs
}

// RacePut runs one PutIfAbsent of key per element of data, all at once, checks
// with Winner that exactly one wins, and returns the winner's index.
func RacePut(t *testing.T, ctx context.Context, st storage.Store, key string, data [][]byte) int {
	t.Helper()
	return Winner(t, Race(len(data), func(i int) error {
		return st.PutIfAbsent(ctx, key, data[i])
	}))
}
