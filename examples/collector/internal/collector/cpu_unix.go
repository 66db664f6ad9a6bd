//go:build unix

package collector

import (
	"syscall"
	"time"
)

// cpuTime is the process's user and system CPU time (/metrics' process_cpu_seconds_total):
// on a shared machine, CPU per event says more than events per second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
