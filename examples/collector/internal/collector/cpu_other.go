//go:build !unix

package collector

import "time"

// cpuTime is not measured here: /metrics leaves process_cpu_seconds_total out, and the
// benchmarks' cpu-µs/event read 0.
func cpuTime() time.Duration { return 0 }
