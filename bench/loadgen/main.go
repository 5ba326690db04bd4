package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// config is the parsed command line.
type config struct {
	url         string
	label       string
	conns       int
	duration    time.Duration
	warmup      time.Duration
	maxRequests int64
	bodySize    int
	variants    int
	contentType string
	parts       int // > 0: multipart/mixed bodies of this many JSON events
	headers     headerFlags
	timeout     time.Duration
	backoff     bool
	// baseline, when set, is a second URL loaded in turn with url: the run
	// alternates between them in slices (see paired).
	baseline      string
	baselineLabel string
	slices        int
}

// headerFlags is a repeatable -H "Name: value".
type headerFlags [][2]string

func (h *headerFlags) String() string { return fmt.Sprint(*h) }

func (h *headerFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("header %q: want \"Name: value\"", v)
	}
	*h = append(*h, [2]string{strings.TrimSpace(name), strings.TrimSpace(value)})
	return nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "loadgen:", err)
		return 2
	}
	if cfg.baseline != "" {
		base, res, err := paired(cfg)
		if err != nil {
			fmt.Fprintln(stderr, "loadgen:", err)
			return 1
		}
		fmt.Fprintln(stdout, base.JSON())
		fmt.Fprintln(stdout, res.JSON())
		fmt.Fprintln(stderr, base.Human())
		fmt.Fprintln(stderr, res.Human())
		if res.OK == 0 || base.OK == 0 {
			return 1
		}
		return 0
	}
	res, err := load(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	fmt.Fprintln(stdout, res.JSON())
	fmt.Fprintln(stderr, res.Human())
	if res.OK == 0 {
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var body string
	fs.StringVar(&c.url, "url", "", "target URL; the host must be 127.0.0.1")
	fs.StringVar(&c.label, "label", "", "name of the run in the report")
	fs.IntVar(&c.conns, "c", 16, "concurrent connections")
	fs.DurationVar(&c.duration, "d", 10*time.Second, "run duration (the run also stops after -n requests)")
	fs.DurationVar(&c.warmup, "warmup", 0, "unmeasured load before the run")
	fs.Int64Var(&c.maxRequests, "n", 1_000_000, "maximum number of requests (the run also stops after -d)")
	fs.StringVar(&body, "body", "100KiB", "body size: bytes, or with a suffix B, KiB, MiB, KB or MB")
	fs.IntVar(&c.variants, "variants", 4, "number of distinct bodies, rotated")
	fs.StringVar(&c.contentType, "content-type", "application/vnd.apache.arrow.stream", "Content-Type of the requests")
	fs.IntVar(&c.parts, "parts", 0, "when > 0, send multipart/mixed bulk pushes of this many application/json events of -body bytes each (overrides -content-type)")
	fs.Var(&c.headers, "H", `extra request header "Name: value" (repeatable), e.g. an Authorization`)
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "per-request read and write timeout")
	fs.StringVar(&c.baseline, "baseline", "", "a second URL (a no-op server, say) loaded in turn with -url: -slices slices of each, alternating, -d in all for each; prints the baseline's JSON line, then -url's with the slice-by-slice ratios")
	fs.StringVar(&c.baselineLabel, "baseline-label", "baseline", "name of the -baseline run in the report")
	fs.IntVar(&c.slices, "slices", 5, "with -baseline: how many slices of each URL")
	fs.BoolVar(&c.backoff, "backoff", true, "on 429 and 503, wait as X-Retry-After-Ms asks (at most 1 s) before the connection's next request, as a well-behaved client does")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var errs []error
	n, err := parseSize(body)
	if err != nil {
		errs = append(errs, fmt.Errorf("-body: %w", err))
	}
	c.bodySize = n
	if _, err := loopbackAddr(c.url); err != nil {
		errs = append(errs, fmt.Errorf("-url: %w", err))
	}
	if c.baseline != "" {
		if _, err := loopbackAddr(c.baseline); err != nil {
			errs = append(errs, fmt.Errorf("-baseline: %w", err))
		}
		if c.slices < 1 || c.slices > 1000 {
			errs = append(errs, fmt.Errorf("-slices: %d is not between 1 and 1000", c.slices))
		}
	}
	if c.conns < 1 || c.conns > 4096 {
		errs = append(errs, fmt.Errorf("-c: %d is not between 1 and 4096", c.conns))
	}
	if c.duration <= 0 || c.duration > time.Hour {
		errs = append(errs, fmt.Errorf("-d: %s is not between 0 and 1h", c.duration))
	}
	if c.warmup < 0 || c.warmup > time.Hour {
		errs = append(errs, fmt.Errorf("-warmup: %s is not between 0 and 1h", c.warmup))
	}
	if c.maxRequests < 1 || c.maxRequests > 1e9 {
		errs = append(errs, fmt.Errorf("-n: %d is not between 1 and 10^9", c.maxRequests))
	}
	if c.variants < 1 || c.variants > 64 {
		errs = append(errs, fmt.Errorf("-variants: %d is not between 1 and 64", c.variants))
	}
	if c.parts < 0 || c.parts > 10_000 {
		errs = append(errs, fmt.Errorf("-parts: %d is not between 0 and 10000", c.parts))
	}
	if c.timeout <= 0 {
		errs = append(errs, fmt.Errorf("-timeout: %s is not positive", c.timeout))
	}
	return c, errors.Join(errs...)
}

// parseSize reads "100KiB", "1MiB", "64KB", "512B" or "2048".
func parseSize(s string) (int, error) {
	units := []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"KB", 1000}, {"MB", 1000 * 1000}, {"B", 1}}
	num, mult := strings.TrimSpace(s), 1
	for _, u := range units {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > (64<<20)/mult {
		return 0, fmt.Errorf("%q is not a size between 1 B and 64 MiB", s)
	}
	return n * mult, nil
}

// loopbackAddr checks that raw is an http URL on 127.0.0.1 with a port and
// returns its host:port.
func loopbackAddr(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("missing; want http://127.0.0.1:PORT/path")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%q does not parse: %w", raw, err)
	}
	if u.Scheme != "http" {
		return "", fmt.Errorf("%q: only http:// is supported", raw)
	}
	if u.Hostname() != "127.0.0.1" {
		return "", fmt.Errorf("%q: refusing host %q: loadgen only loads 127.0.0.1", raw, u.Hostname())
	}
	if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
		return "", fmt.Errorf("%q: want an explicit port", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("%q: user info is not supported", raw)
	}
	return net.JoinHostPort("127.0.0.1", u.Port()), nil
}

// load builds the bodies, runs the optional warm-up and then the measured
// run, and returns the measured figures.
func load(cfg config) (Result, error) {
	bodies, err := makeBodies(&cfg)
	if err != nil {
		return Result{}, err
	}
	hc, err := client(cfg, cfg.url)
	if err != nil {
		return Result{}, err
	}
	defer hc.CloseIdleConnections()
	if cfg.warmup > 0 {
		phase(hc, cfg, bodies, cfg.warmup, cfg.maxRequests)
	}
	ws, elapsed := phase(hc, cfg, bodies, cfg.duration, cfg.maxRequests)
	return report(cfg, cfg.label, cfg.url, bodies, ws, elapsed), nil
}

// paired loads cfg.baseline and cfg.url in turn: after a warm-up of each,
// cfg.slices slices of cfg.duration/cfg.slices, baseline then target, so
// that the two share the machine's good and bad moments. On a shared
// machine whose speed drifts by tens of percent within a minute, two
// back-to-back runs of 10 s compare the drift as much as the servers.
// It returns the baseline's and the target's figures over all their
// slices; the target's carries the ratio of its requests/s to the
// baseline's in each pair of slices, and their median.
func paired(cfg config) (base, res Result, err error) {
	bodies, err := makeBodies(&cfg)
	if err != nil {
		return base, res, err
	}
	bc, err := client(cfg, cfg.baseline)
	if err != nil {
		return base, res, err
	}
	defer bc.CloseIdleConnections()
	tc, err := client(cfg, cfg.url)
	if err != nil {
		return base, res, err
	}
	defer tc.CloseIdleConnections()
	bcfg := cfg
	bcfg.url = cfg.baseline
	if cfg.warmup > 0 {
		phase(bc, bcfg, bodies, cfg.warmup, cfg.maxRequests)
		phase(tc, cfg, bodies, cfg.warmup, cfg.maxRequests)
	}
	slice := cfg.duration / time.Duration(cfg.slices)
	perSlice := max(cfg.maxRequests/int64(cfg.slices), 1)
	var bws, tws []*workerStats
	var belapsed, telapsed time.Duration
	ratios := make([]float64, 0, cfg.slices)
	for range cfg.slices {
		b, be := phase(bc, bcfg, bodies, slice, perSlice)
		t, te := phase(tc, cfg, bodies, slice, perSlice)
		bws, tws = append(bws, b...), append(tws, t...)
		belapsed += be
		telapsed += te
		br := merge(b, be).ReqPerS
		if br > 0 {
			ratios = append(ratios, merge(t, te).ReqPerS/br)
		}
	}
	base = report(bcfg, cfg.baselineLabel, cfg.baseline, bodies, bws, belapsed)
	res = report(cfg, cfg.label, cfg.url, bodies, tws, telapsed)
	base.Slices, res.Slices = cfg.slices, cfg.slices
	res.SliceRatios = ratios
	res.RatioMedian = median(ratios)
	return base, res, nil
}

// makeBodies builds cfg's request bodies; multipart bodies set
// cfg.contentType.
func makeBodies(cfg *config) ([]body, error) {
	if cfg.parts > 0 {
		cfg.contentType = multipartContentType
		return multipartBodies(cfg.bodySize, cfg.parts, cfg.variants)
	}
	return buildBodies(cfg.bodySize, cfg.variants, cfg.contentType)
}

// client returns a HostClient of cfg.conns connections to raw's host.
func client(cfg config, raw string) (*fasthttp.HostClient, error) {
	addr, err := loopbackAddr(raw)
	if err != nil {
		return nil, err
	}
	return &fasthttp.HostClient{
		Addr:                          addr,
		Name:                          "ducktail-loadgen",
		MaxConns:                      cfg.conns,
		ReadTimeout:                   cfg.timeout,
		WriteTimeout:                  cfg.timeout,
		MaxIdleConnDuration:           time.Minute,
		MaxConnWaitTimeout:            cfg.timeout,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
		NoDefaultUserAgentHeader:      true,
		ReadBufferSize:                16 << 10,
		WriteBufferSize:               64 << 10,
	}, nil
}

// report merges the workers' figures of one URL into its Result.
func report(cfg config, label, url string, bodies []body, ws []*workerStats, elapsed time.Duration) Result {
	res := merge(ws, elapsed)
	res.Label, res.URL, res.Conns = label, redact(url), cfg.conns
	res.BodyBytes, res.RowsPerBody = len(bodies[0].data), bodies[0].rows
	return res
}

// redact hides the token of an /ingest/{token} URL in reports.
func redact(raw string) string {
	i := strings.Index(raw, "/ingest/")
	if i < 0 {
		return raw
	}
	rest := raw[i+len("/ingest/"):]
	if len(rest) > 8 {
		rest = rest[:8] + "…"
	}
	return raw[:i+len("/ingest/")] + rest
}

// phase runs cfg.conns workers until d has passed or maxRequests have been
// started, and returns their figures and the elapsed time.
func phase(hc *fasthttp.HostClient, cfg config, bodies []body, d time.Duration, maxRequests int64) ([]*workerStats, time.Duration) {
	var started atomic.Int64
	ws := make([]*workerStats, cfg.conns)
	perWorker := min(maxRequests/int64(cfg.conns)+1, 1<<16)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range ws {
		w := &workerStats{latencies: make([]time.Duration, 0, perWorker)}
		ws[i] = w
		wg.Go(func() { worker(hc, cfg, bodies, i, w, &started, maxRequests, deadline) })
	}
	wg.Wait()
	return ws, time.Since(start)
}

func worker(hc *fasthttp.HostClient, cfg config, bodies []body, id int, w *workerStats,
	started *atomic.Int64, maxRequests int64, deadline time.Time) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	for k := id; ; k++ {
		if started.Add(1) > maxRequests {
			return
		}
		t0 := time.Now()
		if !t0.Before(deadline) {
			return
		}
		b := bodies[k%len(bodies)]
		req.Reset()
		req.SetRequestURI(cfg.url)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType(cfg.contentType)
		for _, h := range cfg.headers {
			req.Header.Set(h[0], h[1])
		}
		req.SetBodyRaw(b.data)
		resp.Reset()
		err := hc.Do(req, resp)
		lat := time.Since(t0)
		switch {
		case isTimeout(err):
			w.fail("timeout")
			continue
		case err != nil:
			w.fail("conn")
			continue
		}
		w.latencies = append(w.latencies, lat)
		code := resp.StatusCode()
		if code < 200 || code > 299 {
			w.fail(strconv.Itoa(code))
			if cfg.backoff && (code == fasthttp.StatusTooManyRequests || code == fasthttp.StatusServiceUnavailable) {
				w.backoff(retryAfter(resp), deadline)
			}
			continue
		}
		w.ok++
		w.okBytes += int64(len(b.data))
		w.okRows += b.rows
	}
}

func isTimeout(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	return errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrNoFreeConns) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// maxBackoff bounds the wait a 429 or 503 answer can ask for.
const maxBackoff = time.Second

// retryAfter returns the wait a 429 or 503 response asks for: its
// X-Retry-After-Ms header, else Retry-After in seconds, else 100 ms; at
// most maxBackoff.
func retryAfter(resp *fasthttp.Response) time.Duration {
	if n, err := strconv.Atoi(string(resp.Header.Peek("X-Retry-After-Ms"))); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Millisecond, maxBackoff)
	}
	if n, err := strconv.Atoi(string(resp.Header.Peek("Retry-After"))); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, maxBackoff)
	}
	return 100 * time.Millisecond
}
