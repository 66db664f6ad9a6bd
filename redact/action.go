package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// pseudonymHexLen is the number of hex digits of HMAC-SHA256 kept in a pseudonym (64 bits).
const pseudonymHexLen = 16

// hasher makes keyed pseudonyms. It is safe for concurrent use.
type hasher struct {
	keyID string
	pool  sync.Pool // of *hmacState
}

// hmacState is a keyed HMAC with scratch buffers, reused through the pool so that a
// pseudonym costs one allocation (its string).
type hmacState struct {
	m   hash.Hash
	in  []byte
	sum []byte
}

func newHasher(keyID string, key []byte) *hasher {
	k := append([]byte(nil), key...)
	h := &hasher{keyID: keyID}
	h.pool.New = func() any {
		return &hmacState{m: hmac.New(sha256.New, k), in: make([]byte, 0, 128), sum: make([]byte, 0, sha256.Size)}
	}
	return h
}

// pseudonym returns entity ":" [keyID ":"] hex16(HMAC-SHA256(key, entity NUL value)).
// E-mail addresses are lower-cased (ASCII letters), with an escaped '@' unescaped, first so
// that variants of one address share a pseudonym.
func (h *hasher) pseudonym(entity, v string) string {
	if isPseudonym(v) {
		return v
	}
	st := h.pool.Get().(*hmacState)
	in := append(st.in[:0], entity...)
	in = append(in, 0)
	if entity == "email" {
	next:
		for i := 0; i < len(v); i++ {
			for _, m := range emailAts {
				if hasPrefixFold(v[i:], m) {
					in = append(in, '@') // jane%40acme.com is jane@acme.com
					i += len(m) - 1
					continue next
				}
			}
			in = append(in, lowerASCII(v[i]))
		}
	} else {
		in = append(in, v...)
	}
	st.m.Reset()
	st.m.Write(in)
	st.sum = st.m.Sum(st.sum[:0])
	var hx [pseudonymHexLen]byte
	hex.Encode(hx[:], st.sum[:pseudonymHexLen/2])
	if cap(in) <= 4096 {
		st.in = in
	}
	h.pool.Put(st)
	var b strings.Builder
	b.Grow(len(entity) + len(h.keyID) + 2 + pseudonymHexLen)
	b.WriteString(entity)
	b.WriteByte(':')
	if h.keyID != "" {
		b.WriteString(h.keyID)
		b.WriteByte(':')
	}
	b.Write(hx[:])
	return b.String()
}

const defaultMask = "[REDACTED]"

// partial stars every letter and digit of v except the first keepFirst and last keepLast
// characters; separators are kept.
func partial(v string, keepFirst, keepLast int) string {
	n := utf8.RuneCountInString(v)
	if keepFirst+keepLast >= n {
		keepFirst, keepLast = 0, 0
	}
	var b strings.Builder
	b.Grow(len(v))
	i := 0
	for _, r := range v {
		if i < keepFirst || i >= n-keepLast || !(r < utf8.RuneSelf && isAlnum(byte(r)) || r >= utf8.RuneSelf) {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}

// partialEmail keeps the domain: "***@acme.example".
func partialEmail(v string) string {
	at := strings.LastIndexByte(v, '@')
	if at < 0 {
		return partial(v, 0, 0)
	}
	return "***" + v[at:]
}

func lengthMarker(v string) string {
	if isLengthMarker(v) {
		return v
	}
	n := utf8.RuneCountInString(v)
	if n < smallLengths {
		return smallLengthMarkers()[n]
	}
	return "[LEN:" + strconv.Itoa(n) + "]"
}

// smallLengths is how many length markers ("[LEN:0]" …) are made once and shared, so that
// reducing a short text to its length costs no allocation.
const smallLengths = 1024

var smallLengthMarkers = sync.OnceValue(func() *[smallLengths]string {
	var t [smallLengths]string
	for i := range t {
		t[i] = "[LEN:" + strconv.Itoa(i) + "]"
	}
	return &t
})

func isLengthMarker(v string) bool {
	if !strings.HasPrefix(v, "[LEN:") || !strings.HasSuffix(v, "]") || len(v) < 7 {
		return false
	}
	for i := 5; i < len(v)-1; i++ {
		if !isDigit(v[i]) {
			return false
		}
	}
	return true
}

const ellipsis = "…"

func truncate(v string, maxLen int) string {
	if maxLen <= 0 {
		maxLen = 32
	}
	n := utf8.RuneCountInString(v)
	if n <= maxLen || (n == maxLen+1 && strings.HasSuffix(v, ellipsis)) {
		return v
	}
	i := 0
	for k := range v {
		if i == maxLen {
			return v[:k] + ellipsis
		}
		i++
	}
	return v
}

// generalizePath replaces a home directory (/Users/<u>, /home/<u>, C:\Users\<u>) with "~"
// and keeps only the first depth directories and the last element of what follows, with
// "…" in between: /Users/jane/Documents/a/b/c.txt becomes ~/Documents/a/…/c.txt. It is
// idempotent.
func generalizePath(p string, depth int) string {
	if depth <= 0 {
		depth = 2
	}
	sep := byte('/')
	if strings.IndexByte(p, '/') < 0 && strings.IndexByte(p, '\\') >= 0 {
		sep = '\\'
	}
	root, rest := "", p
	if h, r, ok := splitHome(p); ok {
		root, rest = h, r
	} else if len(p) > 0 && (p[0] == '/' || p[0] == '\\') {
		root, rest = p[:1], p[1:]
	} else if len(p) >= 3 && isLetterByte(p[0]) && p[1] == ':' && (p[2] == '\\' || p[2] == '/') {
		root, rest = p[:3], p[3:]
	}
	if rest == "" {
		return root
	}
	if n := countParts(rest, sep); n <= depth+1 || (n == depth+2 && nthPartIs(rest, sep, depth, ellipsis)) {
		// Nothing to shorten: only the home directory (if any) changes.
		if root == "" || root == p[:len(root)] {
			return p
		}
		return root + rest
	}
	var parts []string
	if sep == '/' {
		parts = strings.FieldsFunc(rest, func(r rune) bool { return r == '/' })
	} else {
		parts = strings.FieldsFunc(rest, func(r rune) bool { return r == '\\' || r == '/' })
	}
	trailing := rest[len(rest)-1] == sep
	if len(parts) > depth+2 || (len(parts) == depth+2 && parts[depth] != ellipsis) {
		parts = append(parts[:depth:depth], ellipsis, parts[len(parts)-1])
	}
	out := root + strings.Join(parts, string(sep))
	if trailing {
		out += string(sep)
	}
	return out
}

// countParts counts the non-empty elements of a path.
func countParts(p string, sep byte) int {
	n := 0
	in := false
	for i := 0; i < len(p); i++ {
		if p[i] == sep || p[i] == '/' || (sep == '\\' && p[i] == '\\') {
			in = false
			continue
		}
		if !in {
			n++
			in = true
		}
	}
	return n
}

// nthPartIs reports whether the k-th (0-based) element of the path is w.
func nthPartIs(p string, sep byte, k int, w string) bool {
	n := -1
	for _, part := range strings.FieldsFunc(p, func(r rune) bool { return r == rune(sep) || r == '/' }) {
		n++
		if n == k {
			return part == w
		}
	}
	return false
}

// splitHome splits a home-directory prefix off p, returning "~/" (or "~\") and the rest. A
// Windows home may sit behind a WSL or MSYS mount of its drive (/mnt/c/Users/…, /c/Users/…).
func splitHome(p string) (home, rest string, ok bool) {
	q := p
	if len(q) >= 7 && strings.HasPrefix(q, "/mnt/") && isLetterByte(q[5]) && q[6] == '/' {
		q = q[6:]
	} else if len(q) >= 3 && q[0] == '/' && isLetterByte(q[1]) && q[2] == '/' {
		q = q[2:]
	}
	if q != p && !strings.HasPrefix(q, "/Users/") {
		q = p
	}
	for _, h := range []string{"/Users/", "/home/", "/export/home/", "/var/home/"} {
		if strings.HasPrefix(q, h) {
			r := q[len(h):]
			if i := strings.IndexByte(r, '/'); i >= 0 {
				return "~/", r[i+1:], true
			}
			return "~", "", true
		}
	}
	if len(p) >= 9 && isLetterByte(p[0]) && p[1] == ':' && (p[2] == '\\' || p[2] == '/') && strings.EqualFold(p[3:9], "Users"+string(p[2])) {
		r := p[9:]
		if i := strings.IndexAny(r, `\/`); i >= 0 {
			return "~" + string(p[2]), r[i+1:], true
		}
		return "~", "", true
	}
	if p == "~" {
		return "~", "", true
	}
	if strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		return p[:2], p[2:], true
	}
	return "", "", false
}
