package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/ducktail/ducktail/bench/internal/latency"
)

// config is the parsed command line.
type config struct {
	base, stream, form, label, auth string
	events, span                    int64
	conns                           int
	duration, warmup, timeout       time.Duration
	seed                            uint64
	// The baseline stream, read in turn with the stream when set.
	bstream, blabel string
	bevents         int64
}

// streams returns the streams read: the baseline (if any) first.
func (c config) streams() []config {
	if c.bstream == "" {
		return []config{c}
	}
	b := c
	b.stream, b.label, b.events = c.bstream, c.blabel, c.bevents
	return []config{b, c}
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rangeread", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.StringVar(&c.base, "url", "", "server base URL, http://127.0.0.1:PORT")
	fs.StringVar(&c.stream, "stream", "", "ACCOUNT/NAME of the stream")
	fs.StringVar(&c.form, "form", "query", "query (?from=&to=) or slice (.slice(from,to))")
	fs.StringVar(&c.label, "label", "", "name of the run in the report")
	fs.StringVar(&c.auth, "auth", "", "Authorization header value, e.g. \"Bearer KEY\"")
	fs.Int64Var(&c.events, "events", 0, "number of events the stream holds (ids 0..events-1)")
	fs.Int64Var(&c.span, "span", 1000, "events per read")
	fs.IntVar(&c.conns, "c", 1, "concurrent connections")
	fs.DurationVar(&c.duration, "d", 5*time.Second, "measured duration")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured reads before")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed of the offsets")
	fs.StringVar(&c.bstream, "baseline-stream", "", "ACCOUNT/NAME of a stream to read in turn with -stream, request by request")
	fs.Int64Var(&c.bevents, "baseline-events", 0, "number of events the baseline stream holds")
	fs.StringVar(&c.blabel, "baseline-label", "", "name of the baseline's run in the report")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := c.check(); err != nil {
		fmt.Fprintln(stderr, "rangeread:", err)
		return 2
	}
	code := 0
	for _, res := range measure(c) {
		fmt.Fprintln(stdout, res.JSON())
		fmt.Fprintln(stderr, res.Human())
		if res.OK == 0 {
			code = 1
		}
	}
	return code
}

func (c *config) check() error {
	var errs []error
	c.base, errs = latency.CheckTarget(c.base, c.stream)
	if c.form != "query" && c.form != "slice" {
		errs = append(errs, fmt.Errorf("-form: %q: want query or slice", c.form))
	}
	if c.span < 1 || c.span > 1_000_000 {
		errs = append(errs, fmt.Errorf("-span: %d is not between 1 and 10^6", c.span))
	}
	if c.events < c.span {
		errs = append(errs, fmt.Errorf("-events: %d is below -span %d", c.events, c.span))
	}
	if c.bstream != "" {
		if !latency.IsStream(c.bstream) {
			errs = append(errs, fmt.Errorf("-baseline-stream: %q: want ACCOUNT/NAME", c.bstream))
		}
		if c.bevents < c.span {
			errs = append(errs, fmt.Errorf("-baseline-events: %d is below -span %d", c.bevents, c.span))
		}
	}
	if c.conns < 1 || c.conns > 256 {
		errs = append(errs, fmt.Errorf("-c: %d is not between 1 and 256", c.conns))
	}
	if c.duration <= 0 || c.warmup < 0 || c.timeout <= 0 {
		errs = append(errs, errors.New("-d and -timeout must be positive, -warmup not negative"))
	}
	return errors.Join(errs...)
}

// target returns the URL of the read of [x, x+span).
func (c config) target(x int64) string {
	if c.form == "slice" {
		return fmt.Sprintf("%s/%s.slice(%d,%d)", c.base, c.stream, x, x+c.span)
	}
	return fmt.Sprintf("%s/%s?from=%d&to=%d", c.base, c.stream, x, x+c.span)
}

// measure runs the warm-up and the measured phase, and reports each stream.
// With a baseline, every connection reads the two streams in turn, so
// that both see the same moments of a shared, noisy machine.
func measure(c config) []Result {
	u, _ := url.Parse(c.base)
	hc := &fasthttp.HostClient{Addr: u.Host, MaxConns: c.conns, ReadTimeout: c.timeout, WriteTimeout: c.timeout,
		MaxResponseBodySize: 256 << 20, DisablePathNormalizing: true, NoDefaultUserAgentHeader: true}
	defer hc.CloseIdleConnections()
	if c.warmup > 0 {
		phase(hc, c, c.warmup, c.seed+1)
	}
	ws, elapsed := phase(hc, c, c.duration, c.seed)
	var out []Result
	for i, sc := range c.streams() {
		mine := make([]*worker, len(ws))
		for j, w := range ws {
			mine[j] = w[i]
		}
		out = append(out, merge(sc, mine, elapsed))
	}
	return out
}

// worker is one connection's figures.
type worker struct {
	lat    []time.Duration
	ok     int64
	bytes  int64 // body bytes of the ok answers
	errors map[string]int64
}

func (w *worker) fail(k string) {
	if w.errors == nil {
		w.errors = map[string]int64{}
	}
	w.errors[k]++
}

// phase reads until d is over, each connection going through the
// streams in turn; it returns each connection's figures per stream.
func phase(hc *fasthttp.HostClient, c config, d time.Duration, seed uint64) ([][]*worker, time.Duration) {
	streams := c.streams()
	ws := make([][]*worker, c.conns)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range ws {
		for range streams {
			ws[i] = append(ws[i], &worker{})
		}
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		wg.Go(func() {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for k := 0; time.Now().Before(deadline); k++ {
				sc, w := streams[k%len(streams)], ws[i][k%len(streams)]
				x := rng.Int64N(sc.events - sc.span + 1)
				req.Reset()
				req.SetRequestURI(sc.target(x))
				req.Header.Set("Accept", "application/json")
				if c.auth != "" {
					req.Header.Set("Authorization", c.auth)
				}
				resp.Reset()
				t0 := time.Now()
				err := hc.Do(req, resp)
				lat := time.Since(t0)
				if err != nil {
					w.fail("conn")
					continue
				}
				w.lat = append(w.lat, lat)
				if k := check(resp, x, c.span); k != "" {
					w.fail(k)
					continue
				}
				w.ok++
				w.bytes += int64(len(resp.Body()))
			}
		})
	}
	wg.Wait()
	return ws, time.Since(start)
}

// check returns "" for a 200 answer holding events x..x+span-1, else the
// kind of error.
func check(resp *fasthttp.Response, x, span int64) string {
	if code := resp.StatusCode(); code != fasthttp.StatusOK {
		return strconv.Itoa(code)
	}
	body := bytes.TrimSpace(resp.Body())
	if n := int64(bytes.Count(body, []byte(`{"id":`))); n != span {
		return "rows"
	}
	var first []struct {
		ID int64 `json:"id"`
	}
	// Only the first object matters; decoding the whole array is the
	// client's cost, not the server's, so cut it after the first event.
	end := bytes.Index(body, []byte(`},{"id":`))
	if end < 0 {
		end = len(body) - 2
	}
	if json.Unmarshal(append(append([]byte(nil), body[:end+1]...), ']'), &first) != nil || len(first) != 1 || first[0].ID != x {
		return "first_id"
	}
	return ""
}

// Result is the report, printed as one JSON line.
type Result struct {
	Label    string           `json:"label,omitempty"`
	Stream   string           `json:"stream"`
	Form     string           `json:"form"`
	Events   int64            `json:"events"`
	Span     int64            `json:"span"`
	Conns    int              `json:"conns"`
	Seconds  float64          `json:"seconds"`
	Requests int64            `json:"requests"`
	OK       int64            `json:"ok"`
	Errors   map[string]int64 `json:"errors"`
	ReqPerS  float64          `json:"req_per_s"`
	P50Ms    float64          `json:"p50_ms"`
	P99Ms    float64          `json:"p99_ms"`
	MaxMs    float64          `json:"max_ms"`
	// AnswerBytes is the mean body size of the ok answers: a stream of
	// bigger ids answers more bytes for the same events.
	AnswerBytes int64 `json:"answer_bytes"`
}

func merge(c config, ws []*worker, elapsed time.Duration) Result {
	r := Result{Label: c.label, Stream: c.stream, Form: c.form, Events: c.events, Span: c.span, Conns: c.conns,
		Seconds: elapsed.Seconds(), Errors: map[string]int64{}}
	var all []time.Duration
	var bytes int64
	for _, w := range ws {
		all = append(all, w.lat...)
		r.OK += w.ok
		bytes += w.bytes
		for k, n := range w.errors {
			r.Errors[k] += n
		}
	}
	if r.OK > 0 {
		r.AnswerBytes = bytes / r.OK
	}
	r.Requests = r.OK
	for _, n := range r.Errors {
		r.Requests += n
	}
	if r.Seconds > 0 {
		r.ReqPerS = float64(r.Requests) / r.Seconds
	}
	r.P50Ms, r.P99Ms, r.MaxMs = latency.Summary(all)
	return r
}

// JSON is the one-line report for bench/run.sh.
func (r Result) JSON() string { return latency.JSON(r) }

// Human is the one-line report for people.
func (r Result) Human() string {
	errs := "no errors"
	if len(r.Errors) > 0 {
		b, _ := json.Marshal(r.Errors)
		errs = "errors " + string(b)
	}
	label := r.Label
	if label == "" {
		label = r.Stream + " " + r.Form
	}
	return fmt.Sprintf("%s: %d-event reads from %d events, %d conns: p50 %.2f ms, p99 %.2f ms, max %.2f ms, %.1f req/s, %d B an answer, %d/%d ok, %s (%.1f s)",
		label, r.Span, r.Events, r.Conns, r.P50Ms, r.P99Ms, r.MaxMs, r.ReqPerS, r.AnswerBytes, r.OK, r.Requests, errs, r.Seconds)
}
