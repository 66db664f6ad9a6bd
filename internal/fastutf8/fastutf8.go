// Package fastutf8 validates UTF-8 faster than unicode/utf8 on what Cowork's telemetry carries:
// many short keys and values, mostly ASCII with a rare multi-byte rune. The decoders and the
// redaction engine share it.
package fastutf8

import (
	"encoding/binary"
	"unicode/utf8"
	"unsafe"
)

// Valid reports whether s is valid UTF-8, like [utf8.ValidString], but faster on what
// telemetry carries: many short keys and values, mostly ASCII with a rare multi-byte rune.
// It tests eight bytes at a time with no call for short strings, and after a multi-byte rune
// goes back to testing eight at a time (utf8.ValidString continues byte by byte).
func Valid(s string) bool {
	n := len(s)
	if n < 8 {
		var or byte
		for i := 0; i < n; i++ {
			or |= s[i]
		}
		return or < utf8.RuneSelf || utf8.ValidString(s)
	}
	b := unsafe.Slice(unsafe.StringData(s), n) // read only
	const hi = 0x8080808080808080
	i := 0
	for {
		for i+8 <= n && binary.LittleEndian.Uint64(b[i:])&hi == 0 {
			i += 8
		}
		// Fewer than eight bytes left: the last eight, overlapping what was tested, cover them.
		if i+8 > n && binary.LittleEndian.Uint64(b[n-8:])&hi == 0 {
			return true
		}
		for i < n && s[i] < utf8.RuneSelf {
			i++
		}
		if i == n {
			return true
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		i += size
	}
}
