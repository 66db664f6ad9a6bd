//go:build !unix

package decode

// processCPU is unavailable here; BenchmarkDecodeRatio then reports only wall-clock ratios.
func processCPU() (int64, bool) { return 0, false }
