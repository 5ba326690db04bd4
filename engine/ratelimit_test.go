package engine

import (
	"errors"
	"testing"
	"time"

	"github.com/ducktail/ducktail/base"
)

func TestRateLimit(t *testing.T) {
	st := &Stream{label: "a/b"}
	t0 := time.Unix(1_800_000_000, 0)
	if err := st.admit(1e9, 1e12, t0); err != nil {
		t.Fatalf("no limit: %v", err)
	}
	st.SetRateLimit(RateLimit{EventsPerSecond: 10, BytesPerSecond: 1000})
	f := func(events, bytes int64, at time.Duration, wantMs int64) {
		t.Helper()
		err := st.admit(events, bytes, t0.Add(at))
		if wantMs == 0 {
			if err != nil {
				t.Fatalf("admit(%d, %d) at %v: %v", events, bytes, at, err)
			}
			return
		}
		if !errors.Is(err, base.ErrRateLimited) || base.RetryAfter(err) != wantMs {
			t.Fatalf("admit(%d, %d) at %v: %v (retry %d ms), want a %d ms hint", events, bytes, at, err, base.RetryAfter(err), wantMs)
		}
	}
	f(10, 100, 0, 0)                     // the first second's worth
	f(1, 10, 0, 100)                     // empty: 1 event takes 100 ms
	f(1, 10, 100*time.Millisecond, 0)    // refilled one
	f(5, 950, 600*time.Millisecond, 0)   // 5 events refilled, bytes full again
	f(1, 500, 700*time.Millisecond, 350) // bytes: 50+100 there, 500 wanted
	f(50, 10, 3*time.Second, 0)          // bigger than a second's worth: admitted when full, in debt
	f(1, 1, 3*time.Second, 4100)         // the debt of 40 events, and 1 more
	st.SetRateLimit(RateLimit{})
	f(1e6, 1e9, 3*time.Second, 0)
}
