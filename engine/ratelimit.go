package engine

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ducktail/ducktail/base"
)

// RateLimit bounds a stream's appends: events (rows) and request bytes per
// second, each a token bucket holding one second's worth. Zero fields mean
// no limit.
type RateLimit struct {
	EventsPerSecond float64
	BytesPerSecond  float64
}

// limiter is a stream's pair of token buckets. Safe for concurrent use.
type limiter struct {
	mu     sync.Mutex
	events bucket
	bytes  bucket
}

type bucket struct {
	rate   float64 // tokens per second; 0: unlimited
	tokens float64
	last   time.Time
}

func (b *bucket) refill(now time.Time) {
	if b.last.IsZero() {
		b.tokens, b.last = b.rate, now
		return
	}
	b.tokens = math.Min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
}

// need returns how long until n tokens (at most a full bucket) are there.
func (b *bucket) need(n float64) time.Duration {
	if b.rate == 0 {
		return 0
	}
	want := math.Min(n, b.rate)
	if b.tokens >= want {
		return 0
	}
	return time.Duration((want - b.tokens) / b.rate * float64(time.Second))
}

// SetRateLimit sets the stream's rate limit; the zero RateLimit removes it.
// A factory's limit bounds all of its substreams together, through its own
// buckets: "rate limits are enforced on the stream level" (the Pipet seed),
// and with a bucket per substream any writer could pass a limit by making
// up new arguments.
func (s *Stream) SetRateLimit(l RateLimit) {
	s.limit.mu.Lock()
	s.limit.events = bucket{rate: l.EventsPerSecond}
	s.limit.bytes = bucket{rate: l.BytesPerSecond}
	s.limit.mu.Unlock()
}

// admit takes events and bytes from the stream's buckets (a substream's
// factory's), or refuses with
// ErrRateLimited and how long to wait. A request larger than a second's
// worth is admitted when the bucket is full and leaves it in debt.
func (s *Stream) admit(events, bytes int64, now time.Time) error {
	if s.parent != nil {
		return s.parent.admit(events, bytes, now)
	}
	l := &s.limit
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.events.rate == 0 && l.bytes.rate == 0 {
		return nil
	}
	l.events.refill(now)
	l.bytes.refill(now)
	wait := max(l.events.need(float64(events)), l.bytes.need(float64(bytes)))
	if wait > 0 {
		// Round up: a client told to come back earlier would be refused.
		ms := max(int64(math.Ceil(float64(wait)/float64(time.Millisecond))), 1)
		return base.Retry(base.ErrRateLimited, ms,
			"stream %s is over its rate limit (%s: streams[].rate_limit); retry in %d ms", s.label, l.describe(), ms)
	}
	if l.events.rate > 0 {
		l.events.tokens -= float64(events)
	}
	if l.bytes.rate > 0 {
		l.bytes.tokens -= float64(bytes)
	}
	return nil
}

// describe says what the limit is, leaving out a bucket without one.
func (l *limiter) describe() string {
	var parts []string
	if l.events.rate > 0 {
		parts = append(parts, strconv.FormatFloat(l.events.rate, 'g', -1, 64)+" events/s")
	}
	if l.bytes.rate > 0 {
		parts = append(parts, strconv.FormatFloat(l.bytes.rate, 'g', -1, 64)+" bytes/s")
	}
	return strings.Join(parts, ", ")
}
