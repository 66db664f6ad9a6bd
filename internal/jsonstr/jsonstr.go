// Package jsonstr reads and writes JSON strings, the one piece of JSON that the SDK's
// hand-written codecs (OTLP/JSON, JSON-in-string attributes, the collector's rows) share.
package jsonstr

import (
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

const hexDigits = "0123456789abcdef"

// AppendEscapedASCII appends the escape of an ASCII byte inside a JSON string: \" and \\, \b \f
// \n \r \t by their short forms, any other byte as \u00XX (control characters, and the bytes
// an encoder escapes for HTML safety: <, >, &).
func AppendEscapedASCII(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// Append writes s to b as a JSON string the way JavaScript's JSON.stringify does (the form
// Claude Code sends): quotes, backslashes and control characters escaped, \b \f \n \r \t by
// their short forms, everything else as it is. Invalid UTF-8 becomes U+FFFD, so the output is
// always valid JSON and valid UTF-8.
func Append(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if i = SkipPlain(s, i); i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = AppendEscapedASCII(append(b, s[start:i]...), c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// SkipPlain returns i advanced by eight bytes at a time for as long as none of the eight is
// a quote, a backslash, a control character or not ASCII: the bytes a JSON string carries
// as they are. What follows it (at most seven bytes short of the end) must be read one at a
// time.
func SkipPlain(s string, i int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
		q, b := w^(lo*'"'), w^(lo*'\\')
		// A zero byte of q or b (a quote or a backslash), a byte under 0x20, or a high bit
		// sets a high bit.
		if ((q-lo)&^q|(b-lo)&^b|(w-lo*0x20)&^w|w)&hi != 0 {
			break
		}
	}
	return i
}

// End returns the index just past the closing quote of the JSON string that starts at
// s[i] == '"', or -1 when it is not closed.
func End(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// Unquote decodes the body of a JSON string (between its quotes). It reports false for an
// invalid escape or a raw control character. Invalid UTF-8 and unpaired surrogates become
// U+FFFD.
func Unquote(raw string) (string, bool) {
	plain := true
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		return raw, true
	}
	b, ok := AppendUnquote(make([]byte, 0, len(raw)), raw)
	if !ok {
		return "", false
	}
	return unsafe.String(unsafe.SliceData(b), len(b)), true // b is not written again
}

// AppendUnquote appends the decoded body of a JSON string (between its quotes) to b, as
// [Unquote] decodes it. It reports false for an invalid escape or a raw control character.
// What it appends is at most three times as long as raw (an invalid byte becomes U+FFFD).
func AppendUnquote(b []byte, raw string) ([]byte, bool) {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c < 0x20:
			return b, false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(raw[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\ufffd"...)
			} else {
				b = append(b, raw[i:i+size]...)
			}
			i += size
			continue
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(raw) {
			return b, false
		}
		switch e := raw[i+1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(raw, i+2)
			if !ok {
				return b, false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2, ok := hex4(raw, i+2); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							b = utf8.AppendRune(b, d)
							i += 6
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
			continue
		default:
			return b, false
		}
		i += 2
	}
	return b, true
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// htmlSafe reports the ASCII bytes that encoding/json writes as they are (with HTML escaping,
// its default): not a control character, ", \, <, > or &.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// AppendHTMLSafe writes s as a JSON string exactly as encoding/json does by default: ", \
// and \b \f \n \r \t by their short escapes, other control characters and <, >, & as \u00XX,
// U+2028 and U+2029 as \u2028 and \u2029, each invalid UTF-8 byte as \ufffd. ([Append] writes
// the JavaScript form instead: no HTML escapes, raw U+FFFD.)
func AppendHTMLSafe(b []byte, s string) []byte {
	b = append(b, '"')
	start, i := 0, 0
	for i < len(s) {
		// Eight bytes at a time while all are plain, then one at a time up to the byte that
		// stopped the fast path.
		i = skipHTMLSafe(s, i)
		for i < len(s) && s[i] < utf8.RuneSelf && htmlSafe[s[i]] {
			i++
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b = AppendEscapedASCII(append(b, s[start:i]...), c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', byte('0'+r&0xf))
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// skipHTMLSafe returns i advanced eight bytes at a time for as long as all eight are
// [htmlSafe]; the bytes after it (at most seven short of the end) must be read one by one.
func skipHTMLSafe(s string, i int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
		// A zero byte in qa (" or &), lg (< or >) or bs (\\), a byte under 0x20 or a high
		// bit (not ASCII) sets a high bit.
		qa, lg, bs := (w|lo*0x04)^(lo*'&'), (w|lo*0x02)^(lo*'>'), w^(lo*'\\')
		if ((qa-lo)&^qa|(lg-lo)&^lg|(bs-lo)&^bs|(w-lo*0x20)&^w|w)&hi != 0 {
			break
		}
	}
	return i
}
