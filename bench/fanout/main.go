package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ducktail/ducktail/bench/internal/latency"
)

// config is the parsed command line.
type config struct {
	base, stream, auth, label string
	subs                      int
	rate                      float64
	duration, grace, connect  time.Duration
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.base, "url", "", "server base URL, http://127.0.0.1:PORT")
	fs.StringVar(&c.stream, "stream", "bench/fanout", "ACCOUNT/NAME of the stream (created by the first POST)")
	fs.StringVar(&c.auth, "auth", "", "Authorization header value, e.g. \"Bearer KEY\"")
	fs.StringVar(&c.label, "label", "", "name of the run in the report")
	fs.IntVar(&c.subs, "subs", 1000, "subscribers")
	fs.Float64Var(&c.rate, "rate", 50, "events posted per second")
	fs.DurationVar(&c.duration, "d", 10*time.Second, "how long to post")
	fs.DurationVar(&c.grace, "grace", 5*time.Second, "how long to wait for deliveries after the last POST")
	fs.DurationVar(&c.connect, "connect-timeout", 60*time.Second, "how long all subscribers may take to connect")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := c.check(); err != nil {
		fmt.Fprintln(stderr, "fanout:", err)
		return 2
	}
	res, err := fanout(context.Background(), c)
	if err != nil {
		fmt.Fprintln(stderr, "fanout:", err)
		return 1
	}
	fmt.Fprintln(stdout, res.JSON())
	fmt.Fprintln(stderr, res.Human())
	if res.Missed > 0 || len(res.PostErrors) > 0 || res.Sent == 0 {
		return 1
	}
	return 0
}

func (c *config) check() error {
	var errs []error
	c.base, errs = latency.CheckTarget(c.base, c.stream)
	if c.subs < 1 || c.subs > 100_000 {
		errs = append(errs, fmt.Errorf("-subs: %d is not between 1 and 100000", c.subs))
	}
	if c.rate <= 0 || c.rate > 10_000 {
		errs = append(errs, fmt.Errorf("-rate: %v is not between 0 and 10000", c.rate))
	}
	if c.duration <= 0 || c.grace < 0 || c.connect <= 0 {
		errs = append(errs, errors.New("-d and -connect-timeout must be positive, -grace not negative"))
	}
	return errors.Join(errs...)
}

// payload is what each event carries and what a subscriber reads back.
type payload struct {
	Seq    int   `json:"seq"`
	SentNs int64 `json:"sent_ns"`
}

// fanout runs the whole measurement.
func fanout(ctx context.Context, c config) (Result, error) {
	epoch := time.Now()
	since := func() int64 { return int64(time.Since(epoch)) }
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConns:        c.subs + 4,
		MaxIdleConnsPerHost: c.subs + 4,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	target := c.base + "/" + c.stream

	// The first write creates the stream; subscribers then start after it.
	if err := post(ctx, client, c, target, []byte(`{"seq":-1,"sent_ns":0}`)); err != nil {
		return Result{}, fmt.Errorf("creating %s: %w", c.stream, err)
	}

	maxEvents := int(c.rate*c.duration.Seconds()) + 2
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	subs := make([]*subscriber, c.subs)
	var ready, done sync.WaitGroup
	var complete atomic.Int64
	var sent atomic.Int64
	sent.Store(-1) // unknown until the posting ends
	allDone := make(chan struct{})
	var doneOnce sync.Once
	for i := range subs {
		s := &subscriber{seen: make([]bool, maxEvents), lat: make([]time.Duration, 0, maxEvents)}
		subs[i] = s
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			s.run(sctx, client, c, target, since, &ready, func(n int) {
				if int64(n) == sent.Load() && s.markComplete() && complete.Add(1) == int64(c.subs) {
					doneOnce.Do(func() { close(allDone) })
				}
			})
		}()
	}
	connected := make(chan struct{})
	go func() { ready.Wait(); close(connected) }()
	connectStart := time.Now()
	select {
	case <-connected:
	case <-time.After(c.connect):
		cancel()
		done.Wait()
		return Result{}, fmt.Errorf("not every subscriber connected within %s", c.connect)
	}
	connectSecs := time.Since(connectStart).Seconds()
	for _, s := range subs {
		if s.err != nil {
			cancel()
			done.Wait()
			return Result{}, fmt.Errorf("a subscriber failed to connect: %w", s.err)
		}
	}

	// Post at a fixed rate, open loop: each POST starts on its tick in its
	// own goroutine (at most maxInFlight at once), so a slow answer delays
	// no other event and the offered rate is the configured one.
	const maxInFlight = 64
	interval := time.Duration(float64(time.Second) / c.rate)
	var (
		pmu      sync.Mutex
		postLat  []time.Duration
		postErrs = map[string]int64{}
		posts    sync.WaitGroup
	)
	slots := make(chan struct{}, maxInFlight)
	n := 0
	start := time.Now()
	for next := start; next.Sub(start) < c.duration && n < maxEvents; next = next.Add(interval) {
		if d := time.Until(next); d > 0 {
			time.Sleep(d) // pacing the sender, not waiting for state
		}
		slots <- struct{}{}
		body, _ := json.Marshal(payload{Seq: n, SentNs: since()})
		n++
		posts.Go(func() {
			defer func() { <-slots }()
			t0 := time.Now()
			err := post(ctx, client, c, target, body)
			pmu.Lock()
			defer pmu.Unlock()
			if err != nil {
				postErrs[errKind(err)]++
				return
			}
			postLat = append(postLat, time.Since(t0))
		})
	}
	posts.Wait()
	sent.Store(int64(n))
	// Subscribers that already had everything before sent was known.
	for _, s := range subs {
		if s.count() == n && s.markComplete() && complete.Add(1) == int64(c.subs) {
			doneOnce.Do(func() { close(allDone) })
		}
	}
	waitStart := time.Now()
	select {
	case <-allDone:
	case <-time.After(c.grace):
	}
	drain := time.Since(waitStart)
	cancel()
	done.Wait()
	return merge(c, subs, n, postLat, postErrs, connectSecs, drain), nil
}

func post(ctx context.Context, client *http.Client, c config, target string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return &statusError{code: resp.StatusCode, msg: strings.TrimSpace(string(msg))}
	}
	return nil
}

type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d: %s", e.code, e.msg) }

func errKind(err error) string {
	var se *statusError
	if errors.As(err, &se) {
		return fmt.Sprint(se.code)
	}
	return "conn"
}

// subscriber is one subscription's state, touched only by its goroutine
// until the run ends (and through the atomic counters).
type subscriber struct {
	seen       []bool
	lat        []time.Duration
	distinct   atomic.Int64
	dups       int64
	late       int64 // events with a sequence number beyond what was sent
	err        error // connecting failed
	endedEarly bool  // the server ended the stream before the run did
	completed  atomic.Bool
}

func (s *subscriber) count() int         { return int(s.distinct.Load()) }
func (s *subscriber) markComplete() bool { return s.completed.CompareAndSwap(false, true) }

// run subscribes, signals ready after the server's first flush, and reads
// events until ctx ends. onEvent gets the number of distinct events seen.
func (s *subscriber) run(ctx context.Context, client *http.Client, c config, target string, since func() int64,
	ready *sync.WaitGroup, onEvent func(int)) {
	signalled := false
	signal := func() {
		if !signalled {
			signalled = true
			ready.Done()
		}
	}
	defer signal()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target+"?data=true", nil)
	if err != nil {
		s.err = err
		return
	}
	req.Header.Set("Accept", "text/event-stream")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := client.Do(req)
	if err != nil {
		s.err = err
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.err = &statusError{code: resp.StatusCode}
		return
	}
	br := bufio.NewReaderSize(resp.Body, 16<<10)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			if ctx.Err() == nil {
				s.endedEarly = true
			}
			return
		}
		switch {
		case len(line) <= 2: // the blank line ending an event or the first flush
			signal()
		case bytes.HasPrefix(line, []byte("data: ")):
			now := since()
			var ev struct {
				Data string `json:"data"`
			}
			var p payload
			if json.Unmarshal(line[len("data: "):], &ev) != nil || json.Unmarshal([]byte(ev.Data), &p) != nil {
				continue
			}
			switch {
			case p.Seq < 0:
				continue
			case p.Seq >= len(s.seen):
				s.late++
				continue
			case s.seen[p.Seq]:
				s.dups++
				continue
			}
			s.seen[p.Seq] = true
			s.lat = append(s.lat, time.Duration(now-p.SentNs))
			onEvent(int(s.distinct.Add(1)))
		}
	}
}
