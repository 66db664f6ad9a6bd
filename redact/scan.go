package redact

import (
	"math"
	"math/bits"
	"slices"
)

// span is one detection: the bytes s[start:end] of the scanned text are det's match.
type span struct {
	start, end int
	det        Detector
}

// features is a bit set of byte classes present in a text, computed in one pass. Detector
// gates test it before doing any work, so a text without '@' never reaches the email detector.
type features uint32

const (
	fAt features = 1 << iota
	fDigit
	fColon
	fSlash
	fBackslash
	fEq
	fDash
	fUnder
	fDot
	fUpper
	fLower
	fSpace
	fNewline
	fQuestion
	fPlus
	fParen
	fQuote
	fPercent
	fAmp
	fHigh // non-ASCII
)

var byteClass = func() (t [256]features) {
	for c := '0'; c <= '9'; c++ {
		t[c] = fDigit
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = fUpper
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = fLower
	}
	t['@'], t[':'], t['/'], t['\\'], t['='], t['-'], t['_'], t['.'] = fAt, fColon, fSlash, fBackslash, fEq, fDash, fUnder, fDot
	t[' '], t['\t'], t['\n'], t['\r'], t['?'], t['+'] = fSpace, fSpace, fNewline, fNewline, fQuestion, fPlus
	t['('], t[')'], t['"'], t['\''] = fParen, fParen, fQuote, fQuote
	t['%'], t['&'] = fPercent, fAmp
	for c := 0x80; c < 0x100; c++ {
		t[c] = fHigh
	}
	return t
}()

// scanText holds a text and what one pass learned about it.
type scanText struct {
	s      string
	f      features
	digits int // number of ASCII digits
	kw     uint64
	kwDone bool
}

// keywords are the case-insensitive words some detectors need before they do any work. One
// pass over the text finds which occur (a first-byte table, then a prefix compare), the way
// secret scanners gate their rules with an Aho-Corasick pass.
var keywords = []string{"pass", "token", "secret", "key", " -p", " -u", " -a", " -b", "export ", "set ", "auth", "cred", "bearer",
	"-user", "proxy-authorization", "authorization", "set-cookie", "cookie", "x-api-key", "api-key", "x-auth-token", "x-access-token",
	"private-token", "x-goog-api-key", "anthropic-api-key", "x-amz-security-token", "ssn", "social security",
	"/users", "\\users", "/home", "\\home", " -w", "curl", "securestring", "sqlplus", "rman", "expdp", "impdp", "sqlldr", "userid=", "psk"}

// kwFirst and kwSecond are the keywords whose first (second) byte is the index, either case.
var kwFirst, kwSecond = kwTable(0), kwTable(1)

func kwTable(pos int) (t [256]uint64) {
	for i, k := range keywords {
		t[k[pos]] |= 1 << i
		if isLower(k[pos]) {
			t[k[pos]-32] |= 1 << i
		}
	}
	return t
}

func kwBit(w string) uint64 {
	for i, k := range keywords {
		if k == w {
			return 1 << i
		}
	}
	panic("redact: unknown keyword " + w)
}

// keywordsIn returns the bit set of keywords that occur in t.
func (t *scanText) keywordsIn() uint64 {
	if !t.kwDone {
		t.kw, t.kwDone = keywordsOf(t.s), true
	}
	return t.kw
}

// keywordsOf returns the bit set of keywords that occur in s.
func keywordsOf(s string) uint64 {
	var m uint64
	for i := 0; i+1 < len(s); i++ {
		cand := kwFirst[s[i]] & kwSecond[s[i+1]] &^ m
		for cand != 0 {
			k := bits.TrailingZeros64(cand)
			cand &= cand - 1
			if hasPrefixFold(s[i:], keywords[k]) {
				m |= 1 << k
			}
		}
	}
	return m
}

func newScanText(s string) scanText {
	t := scanText{s: s}
	var f features
	d := 0
	for i := 0; i < len(s); i++ {
		c := byteClass[s[i]]
		f |= c
		if c == fDigit {
			d++
		}
	}
	t.f, t.digits = f, d
	return t
}

func (t *scanText) has(f features) bool { return t.f&f == f }

// finder appends the detections of one detector (or family) in t to out.
type finder func(t *scanText, out []span) []span

type detectorImpl struct {
	dets detectorSet // detectors this finder can report
	gate func(t *scanText) bool
	find finder
}

// impls is every finder, in priority order: when two detections overlap, the earlier start
// wins, then the longer span, then the finder listed first.
var impls = []detectorImpl{
	{setOf(DetectorPrivateKey), func(t *scanText) bool { return t.has(fDash) && t.has(fUpper) && t.len() >= 60 }, findPrivateKeys},
	{vendorSet, func(t *scanText) bool { return t.len() >= 20 && (t.f&(fUnder|fDash|fDot|fUpper) != 0 || t.digits >= 8) }, findVendorTokens},
	{setOf(DetectorSlackWebhook), func(t *scanText) bool { return t.has(fSlash | fDot) }, findSlackWebhooks},
	{setOf(DetectorJWT), func(t *scanText) bool { return t.has(fDot) && t.len() >= 30 }, findJWTs},
	{setOf(DetectorAuthHeader), func(t *scanText) bool { return t.f&(fColon|fEq) != 0 }, findAuthHeaders},
	{setOf(DetectorURLCredentials, DetectorURLSecretParam), func(t *scanText) bool { return t.f&(fAt|fQuestion|fEq) != 0 && t.has(fColon|fSlash) }, findURLSecrets},
	{setOf(DetectorCommandLine), func(t *scanText) bool { return t.has(fSpace) }, findCommandLine},
	{setOf(DetectorAssignment, DetectorHighEntropy), func(t *scanText) bool { return t.f&(fColon|fEq) != 0 }, findAssignments},
	{setOf(DetectorEmail), func(t *scanText) bool { return t.has(fDot) && t.f&(fAt|fPercent|fBackslash|fAmp) != 0 }, findEmails},
	{setOf(DetectorIBAN), func(t *scanText) bool { return t.has(fUpper) && t.digits >= 12 }, findIBANs},
	{setOf(DetectorCard), func(t *scanText) bool { return t.digits >= 12 }, findCards},
	{setOf(DetectorSSN), func(t *scanText) bool { return t.digits >= 9 }, findSSNs},
	{setOf(DetectorPhone), func(t *scanText) bool { return t.digits >= 10 }, findPhones},
	{setOf(DetectorIPv4), func(t *scanText) bool { return t.has(fDot) && t.digits >= 4 }, findIPv4},
	{setOf(DetectorIPv6), func(t *scanText) bool { return t.has(fColon) && t.len() >= 6 }, findIPv6},
	{setOf(DetectorHomeUser), func(t *scanText) bool { return t.f&(fSlash|fBackslash) != 0 }, findHomeUsers},
}

func (t *scanText) len() int { return len(t.s) }

// scanner runs the enabled detectors over texts. It is immutable and safe for concurrent use.
type scanner struct {
	enabled detectorSet
	impls   []detectorImpl
}

func newScanner(enabled detectorSet) *scanner {
	sc := &scanner{enabled: enabled}
	for _, im := range impls {
		if im.dets&enabled != 0 {
			sc.impls = append(sc.impls, im)
		}
	}
	return sc
}

// scan returns the non-overlapping detections in s, sorted by start, appended to out[:0].
func (sc *scanner) scan(s string, out []span) []span {
	var t scanText
	return sc.scanWith(&t, s, out)
}

// scanWith is scan with caller-provided scratch state (the engine keeps one per walker, so a
// clean value costs no allocation).
func (sc *scanner) scanWith(t *scanText, s string, out []span) []span {
	out = out[:0]
	if len(s) < 3 || sc == nil || len(sc.impls) == 0 {
		return out
	}
	*t = newScanText(s)
	for _, im := range sc.impls {
		if !im.gate(t) {
			continue
		}
		n := len(out)
		out = im.find(t, out)
		// Drop detections of detectors that are not enabled, and our own earlier output.
		k := n
		for _, sp := range out[n:] {
			if sc.enabled.has(sp.det) && sp.end > sp.start && !isRedactedToken(s[sp.start:sp.end]) {
				out[k] = sp
				k++
			}
		}
		out = out[:k]
	}
	if len(out) < 2 {
		return out
	}
	out = keyedFirst(out)
	out = cardsOverPhones(s, out)
	slices.SortStableFunc(out, func(a, b span) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return (b.end - b.start) - (a.end - a.start)
	})
	k := 1
	for _, sp := range out[1:] {
		if sp.start < out[k-1].end {
			continue
		}
		out[k] = sp
		k++
	}
	return out[:k]
}

// keyedFirst drops the detections that overlap one of a value that is secret because of its
// key or flag (keyedDetectors): "-pS3cret%40corp.io" is mysql's password, not an e-mail
// address that would take the "p" of the flag with it.
func keyedFirst(out []span) []span {
	keyed := 0
	for _, sp := range out {
		if keyedDetectors.has(sp.det) {
			keyed++
		}
	}
	if keyed == 0 || keyed == len(out) {
		return out
	}
	k := 0
next:
	for _, sp := range out {
		if !keyedDetectors.has(sp.det) {
			for _, kp := range out {
				if keyedDetectors.has(kp.det) && sp.start < kp.end && kp.start < sp.end {
					continue next
				}
			}
		}
		out[k] = sp
		k++
	}
	return out[:k]
}

// cardsOverPhones cuts a phone number that read on into a card number short of the card
// ("+1 415 555 2671 4539 1488 0343 6467": the phone's digits end where the card's start), and
// drops one inside a card: the card is the stronger reading (Luhn, issuer), and the longer
// phone would leave the card's other digits as sent.
func cardsOverPhones(s string, out []span) []span {
	var cards, phones bool
	for _, sp := range out {
		cards = cards || sp.det == DetectorCard
		phones = phones || sp.det == DetectorPhone
	}
	if !cards || !phones {
		return out
	}
	k := 0
next:
	for _, sp := range out {
		if sp.det == DetectorPhone {
			for _, c := range out {
				if c.det != DetectorCard || sp.start >= c.end || c.start >= sp.end {
					continue
				}
				if c.start <= sp.start {
					continue next
				}
				sp.end = c.start
				for sp.end > sp.start && !isDigit(s[sp.end-1]) {
					sp.end--
				}
			}
		}
		out[k] = sp
		k++
	}
	return out[:k]
}

// isRedactedToken reports whether s is something the engine writes: an entity label
// ("[EMAIL]"), a length marker, a run of mask characters, or a pseudonym ("email:3f9a…").
// Detectors never report such text, which keeps redaction idempotent.
func isRedactedToken(s string) bool {
	if len(s) >= 3 && s[0] == '[' && s[len(s)-1] == ']' {
		for i := 1; i < len(s)-1; i++ {
			c := s[i]
			if !(c >= 'A' && c <= 'Z' || c == '_' || c == ':' || c >= '0' && c <= '9') {
				return false
			}
		}
		return true
	}
	stars := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '*' {
			stars++
		}
	}
	if stars > 0 && stars*2 >= len(s) {
		return true
	}
	return isPseudonym(s)
}

// isPseudonym reports whether s has the shape of a pseudonym: entity ":" [keyid ":"] 16 hex.
func isPseudonym(s string) bool {
	if len(s) < pseudonymHexLen+2 {
		return false
	}
	h := s[len(s)-pseudonymHexLen:]
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	head := s[:len(s)-pseudonymHexLen]
	if head[len(head)-1] != ':' {
		return false
	}
	head = head[:len(head)-1]
	if len(head) == 0 || len(head) > 40 {
		return false
	}
	for i := 0; i < len(head); i++ {
		c := head[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == ':') {
			return false
		}
	}
	return true
}

// clog2 holds c·log2(c) for small counts.
var clog2 = func() (t [256]float64) {
	for c := 2; c < len(t); c++ {
		t[c] = float64(c) * math.Log2(float64(c))
	}
	return t
}()

// entropy returns the Shannon entropy of s in bits per byte: log2(n) − Σ c·log2(c) / n.
func entropy(s string) float64 {
	if len(s) == 0 {
		return 0
	}
	if len(s) > 65535 {
		s = s[:65535]
	}
	var counts [256]uint16
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	sum := 0.0
	for _, c := range counts {
		switch {
		case c < 2:
		case int(c) < len(clog2):
			sum += clog2[c]
		default:
			sum += float64(c) * math.Log2(float64(c))
		}
	}
	return math.Log2(n) - sum/n
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool   { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

// lowerASCII returns c lower-cased if it is an ASCII letter.
func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

// indexFold returns the first index of the lower-case ASCII word w in s, ignoring ASCII case,
// starting at from, or -1.
func indexFold(s, w string, from int) int {
	if len(w) == 0 {
		return from
	}
	c0 := w[0]
	for i := from; i+len(w) <= len(s); i++ {
		if lowerASCII(s[i]) != c0 {
			continue
		}
		j := 1
		for ; j < len(w); j++ {
			if lowerASCII(s[i+j]) != w[j] {
				break
			}
		}
		if j == len(w) {
			return i
		}
	}
	return -1
}

func hasPrefixFold(s, p string) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if lowerASCII(s[i]) != p[i] {
			return false
		}
	}
	return true
}
