package wal

import "time"

// gatherer decides how long the writer waits, in Sync mode, before taking
// the pending records into a round: group commit's "commit delay".
//
// Under many concurrent appenders the writer syncs back to back, and the
// appenders split into cohorts: those woken by round k answer their
// clients and append again while round k+1, which took only the records
// that arrived during round k's fsync, is already syncing, so they wait
// for round k+2. Each record then waits about two fsyncs, and a round
// holds a fraction of the appenders. (Measured: 32 connections posting
// single events, about 12 records a round at 0.8 ms an fsync.) Waiting a
// little, at most half an fsync, for as many records as the recent rounds
// held lets the cohorts merge into one round per fsync. A lone appender is
// never delayed: the wait needs a recent round of two or more records.
type gatherer struct {
	sizes [16]int // records in the last rounds, a ring
	next  int
	sync  time.Duration // moving average of fsync time
}

// maxGather caps the wait whatever the fsync takes.
const maxGather = 2 * time.Millisecond

func (g *gatherer) observe(records int) {
	g.sizes[g.next] = records
	g.next = (g.next + 1) % len(g.sizes)
}

func (g *gatherer) synced(d time.Duration) {
	if g.sync == 0 {
		g.sync = d
		return
	}
	g.sync += (d - g.sync) / 8
}

// plan returns how many pending records are worth waiting for and for how
// long at most; 0 means do not wait.
func (g *gatherer) plan() (records int, wait time.Duration) {
	peak := 0
	for _, n := range g.sizes {
		peak = max(peak, n)
	}
	if peak < 2 {
		return 0, 0
	}
	// Half an fsync merged the cohorts only in part (about 20 of 32
	// records a round); one and a half merged them best of 0.5, 1 and 1.5
	// (32 connections: +5-20% events/s over 1, and lower p99).
	return peak, min(g.sync*3/2, maxGather)
}

// gather waits, in Sync mode, until the pending records reach the recent
// peak or the planned wait is over (t is the writer's timer, stopped).
// While it waits, appenders wake it only when their record makes the
// count (Log.wakeAt): waking it for every record, to count and sleep
// again, cost more CPU than the records themselves.
func (l *Log) gather(t *time.Timer) {
	if l.opts.Mode != Sync {
		return
	}
	want, wait := l.gatherer.plan()
	if wait <= 0 {
		return
	}
	deadline := time.Now().Add(wait)
	l.mu.Lock()
	if l.records >= want || l.closing {
		l.mu.Unlock()
		return
	}
	l.wakeAt = want
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.wakeAt = 0
		l.mu.Unlock()
	}()
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		t.Reset(left)
		select {
		case <-l.work:
			t.Stop()
		case <-t.C:
			return
		}
		l.mu.Lock()
		n, closing := l.records, l.closing
		l.mu.Unlock()
		if n >= want || closing {
			return
		}
	}
}
