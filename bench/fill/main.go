package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/storage"
)

// target is one -stream NAME=N.
type target struct {
	name base.StreamName
	n    int64
}

// targets is the repeatable -stream flag.
type targets []target

func (t *targets) String() string { return fmt.Sprint(*t) }

func (t *targets) Set(v string) error {
	name, count, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("%q: want ACCOUNT/NAME=EVENTS", v)
	}
	sn, err := base.ParseStreamName(name)
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(count, "_", ""), 10, 64)
	if err != nil || n < 1 || n > 1e9 {
		return fmt.Errorf("%q: the event count must be between 1 and 10^9", v)
	}
	*t = append(*t, target{name: sn, n: n})
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "fill:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", "", "data dir (created if missing; no server may be running on it)")
	var ts targets
	fs.Var(&ts, "stream", "ACCOUNT/NAME=EVENTS (repeatable): the stream and the number of events it must hold")
	group := fs.Int("group", 10_000, "events per AppendEvents call (one WAL record)")
	size := fs.Int("size", 100, "approximate bytes of each event's JSON")
	viaEngine := fs.Int64("engine-events", 20_000, "events of each stream appended through the engine (AppendEvents, then its own flush); the rest are written as segments directly")
	segRows := fs.Int64("segment-rows", 1_000_000, "rows of each directly written segment (the default flush.max_rows)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole fill to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case *dir == "":
		return errors.New("-data: missing")
	case len(ts) == 0:
		return errors.New("-stream: give at least one")
	case *group < 1 || *group > 1_000_000:
		return fmt.Errorf("-group: %d is not between 1 and 10^6", *group)
	case *viaEngine < 1:
		return fmt.Errorf("-engine-events: %d is below 1", *viaEngine)
	case *segRows < 1 || *segRows > 100_000_000:
		return fmt.Errorf("-segment-rows: %d is not between 1 and 10^8", *segRows)
	case *size < 1 || *size > engine.MaxEventBytes:
		return fmt.Errorf("-size: %d is not between 1 and %d", *size, engine.MaxEventBytes)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	eng, err := engine.Open(ctx, engine.Options{DataDir: *dir, Durability: engine.DurabilityBuffered})
	if err != nil {
		return fmt.Errorf("opening %s: %w", *dir, err)
	}
	// Through the engine: the first -engine-events of each stream, so that
	// the catalog, the WAL's life and the first segments are the engine's.
	var errs []error
	directs := make([]direct, len(ts))
	for i, t := range ts {
		st, err := fill(ctx, eng, target{name: t.name, n: min(t.n, *viaEngine)}, *group, *size, stdout)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.name, err))
			break
		}
		directs[i] = direct{prefix: st.Prefix(), stored: st.Stored(), label: st.Label()}
	}
	// Close flushes what is still buffered into segments, so the server
	// starts on Parquet rather than replaying a WAL.
	start := time.Now()
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := eng.Close(cctx); err != nil {
		errs = append(errs, fmt.Errorf("closing the engine: %w", err))
	}
	fmt.Fprintf(stdout, "engine closed (final flush) in %.1f s\n", time.Since(start).Seconds())
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// The rest as segments written directly, the engine closed.
	store, err := storage.NewLocal(*dir, nil)
	if err != nil {
		return err
	}
	for i, t := range ts {
		start := time.Now()
		n, err := writeSegments(ctx, store, directs[i], t.n, *segRows, *size)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		if n > 0 {
			d := time.Since(start)
			fmt.Fprintf(stdout, "%s: %d events written as segments in %.1f s, %.0f events/s\n", t.name, n, d.Seconds(), float64(n)/max(d.Seconds(), 1e-9))
		}
	}
	return verify(ctx, *dir, ts, stdout)
}

// verify opens the data dir read-only and checks that each stream holds
// exactly the events asked for.
func verify(ctx context.Context, dir string, ts targets, stdout io.Writer) error {
	eng, err := engine.Open(ctx, engine.Options{DataDir: dir, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("reopening %s: %w", dir, err)
	}
	defer eng.Close(ctx)
	for _, t := range ts {
		st, err := eng.Stream(t.name)
		if err != nil {
			return err
		}
		s := st.Stats()
		if s.NextID != t.n {
			return fmt.Errorf("%s: holds %d events after the fill, want %d", t.name, s.NextID, t.n)
		}
		fmt.Fprintf(stdout, "%s: %d events in %d segments\n", t.name, s.NextID, s.Segments)
	}
	return nil
}

// fill appends events to t's stream through the engine until it holds at
// least t.n, and returns the stream.
func fill(ctx context.Context, eng *engine.Engine, t target, group, size int, stdout io.Writer) (*engine.Stream, error) {
	st, err := eng.CreateEventStream(ctx, t.name)
	if err != nil {
		return nil, err
	}
	have := st.Stats().NextID
	if have >= t.n {
		return st, nil
	}
	start := time.Now()
	evs := make([]engine.Event, 0, group)
	for next := have; next < t.n; {
		k := int(min(int64(group), t.n-next))
		evs = evs[:0]
		for i := range k {
			evs = append(evs, engine.Event{ContentType: "application/json", Type: "bench",
				Data: eventJSON(next+int64(i), size), Index: -1})
		}
		if err := appendRetrying(ctx, eng, st, evs); err != nil {
			return nil, fmt.Errorf("appending events %d to %d: %w", next, next+int64(k)-1, err)
		}
		next += int64(k)
	}
	d := time.Since(start)
	fmt.Fprintf(stdout, "%s: %d events appended through the engine in %.1f s, %.0f events/s\n",
		t.name, t.n-have, d.Seconds(), float64(t.n-have)/max(d.Seconds(), 1e-9))
	return st, nil
}

// appendRetrying appends evs, waiting as asked while the engine is over
// its memory budget, at most a minute in all.
func appendRetrying(ctx context.Context, eng *engine.Engine, st *engine.Stream, evs []engine.Event) error {
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := eng.AppendEvents(ctx, st, evs)
		if err == nil || !errors.Is(err, base.ErrOverCapacity) || time.Now().After(deadline) {
			return err
		}
		wait := time.Duration(max(base.RetryAfter(err), 10)) * time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// eventJSON is event i: {"n":i,"pad":"xxx…"} of about size bytes.
func eventJSON(i int64, size int) []byte {
	b := strconv.AppendInt([]byte(`{"n":`), i, 10)
	b = append(b, `,"pad":"`...)
	for len(b) < size-2 {
		b = append(b, 'x')
	}
	return append(b, `"}`...)
}
