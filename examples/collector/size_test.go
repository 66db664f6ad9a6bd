package main

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSizeFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		str  string
	}{
		{"1GiB", 1 << 30, "1GiB"},
		{"512MiB", 512 << 20, "512MiB"},
		{"1536MiB", 1536 << 20, "1536MiB"},
		{"64KiB", 64 << 10, "64KiB"},
		{"2GB", 2e9, "1953125KiB"},
		{"300MB", 300e6, "300000000B"},
		{"4096", 4096, "4KiB"},
		{"100B", 100, "100B"},
		{"1 GiB", 1 << 30, "1GiB"},
	} {
		var f sizeFlag
		require.NoError(t, f.Set(tc.in), tc.in)
		assert.Equal(t, tc.want, int64(f), tc.in)
		assert.Equal(t, tc.str, f.String(), tc.in)
	}
	for _, bad := range []string{"", "0", "-1MiB", "1TiB", "1.5GiB", "GiB", "12XB", "9999999999GiB"} {
		var f sizeFlag
		assert.Error(t, f.Set(bad), bad)
	}
}

func TestMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		hold, want int64
	}{
		{1 << 30, 3 << 30},             // the default -hold
		{2 << 30, 6 << 30},             // scales with it
		{64 << 20, 1 << 30},            // never below 1 GiB
		{0, 1 << 30},                   // even for an empty hold
		{math.MaxInt64, math.MaxInt64}, // no overflow
	} {
		assert.Equal(t, tc.want, memoryLimit(tc.hold), "hold %d", tc.hold)
	}
}
