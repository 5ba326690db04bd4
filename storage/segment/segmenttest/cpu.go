package segmenttest

import (
	"syscall"
	"time"
)

// CPUTime returns the user+system CPU time this process has used. On a
// loaded machine benchmarks compare it rather than wall time. It returns 0
// where getrusage fails.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
