package telemetrytest

import (
	"encoding/hex"
	"math/rand/v2"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// ids draws realistic identifiers from a deterministic source. Not safe for concurrent use.
type ids struct{ r *rand.Rand }

func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// uuid returns a random UUID v4 in its canonical lower-case form.
func (g ids) uuid() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		u := g.r.Uint64()
		for j := range 8 {
			b[i+j] = byte(u >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// hex returns n random lower-case hex digits.
func (g ids) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.r.IntN(16)]
	}
	return string(b)
}

// b62 returns n random base-62 characters.
func (g ids) b62(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = base62[g.r.IntN(len(base62))]
	}
	return string(b)
}

func (g ids) toolUseID() string { return "toolu_01" + g.b62(22) }
func (g ids) accountID() string { return "user_01" + g.b62(22) }
func (g ids) requestID() string { return "req_011C" + g.b62(20) }
func (g ids) agentID() string   { return g.hex(17) }
func (g ids) userID() string    { return g.hex(64) }
