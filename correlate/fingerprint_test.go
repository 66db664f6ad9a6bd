package correlate

import (
	"testing"
)

// TestFingerprintDistinct checks that fpKey.hash gives distinct fingerprints to millions of
// near-identical dedup keys (consecutive sequence numbers and times, one bit apart, the
// frequent names, with and without a content hash) and the same one to the same key. Random
// 64-bit values collide among 2.4 M keys with probability about 2·10⁻⁷.
func TestFingerprintDistinct(t *testing.T) {
	names := []uint64{hashAPIRequest, hashToolDecision, hashToolResult, hashUserPrompt, hashAssistantResponse, 0}
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	seen := make(map[uint64]fpKey, 24*n)
	check := func(k fpKey) {
		fp := k.hash()
		if fp != k.hash() {
			t.Fatalf("%+v: fingerprint not deterministic", k)
		}
		if o, ok := seen[fp]; ok && o != k {
			t.Fatalf("fingerprint collision: %+v and %+v → %#x", o, k, fp)
		}
		seen[fp] = k
	}
	const base = uint64(1_767_225_600_000_000_000)
	for _, name := range names {
		for i := range uint64(n) {
			check(fpKey{name: name, seq: i, tun: base + i*1_000_000})
			check(fpKey{name: name, seq: i, tun: base})                 // same time, sequence apart
			check(fpKey{name: name, seq: 7, tun: base + i})             // times one nanosecond apart
			check(fpKey{name: name, tun: base, content: i})             // content hashes only
			check(fpKey{name: name, seq: 1 << (i % 64), tun: base ^ i}) // single bits
		}
	}
	for a := range uint64(64) { // single-bit keys of every word
		check(fpKey{name: 1 << a})
		check(fpKey{seq: 1 << a})
		check(fpKey{tun: 1 << a})
		check(fpKey{content: 1 << a})
	}
	check(fpKey{})
}
