package redact

import (
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Personal-data detectors. Numbers are validated with checksums (Luhn, mod-97) and issuer
// or range tables; addresses with net/netip; e-mail with a letter TLD.

func isEmailLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func isDomainByte(c byte) bool { return isAlnum(c) || c == '.' || c == '-' }

// domainEnd returns where the domain name that starts at s[i] ends: over ASCII letters,
// digits, '.' and '-', and non-ASCII letters (an internationalised domain, müller.de), not
// over other non-ASCII text (acme.com’s).
func domainEnd(s string, i int) int {
	for i < len(s) {
		if isDomainByte(s[i]) {
			i++
			continue
		}
		if s[i] < utf8.RuneSelf {
			break
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) {
			break
		}
		i += n
	}
	return i
}

// fileExtTLDs are "TLDs" that are really file extensions (icon@2x.png).
// Country domains that are also file extensions (.rs Serbia, .md Moldova, .py Paraguay) are
// not listed: an address there is an address (fail closed), and icon@2x.png needs no list.
var fileExtTLDs = map[string]bool{"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true, "ico": true,
	"js": true, "ts": true, "css": true, "go": true, "json": true, "yaml": true, "yml": true, "txt": true,
	"lock": true, "tsx": true, "jsx": true, "mjs": true, "cjs": true, "map": true, "wasm": true, "pdf": true}

// emailAts are the ways an '@' is written in text that was escaped for a URL, JSON or HTML,
// once or twice (jane%2540acme.com, jane\\u0040acme.com), in lower case for indexFold and
// longest first, so that the pseudonym's unescaping takes the whole escape.
var emailAts = [...]string{"%2540", `\\u0040`, "&#x40;", "&#064;", "%40", `\u0040`, "&#64;"}

// findEmails reports local@domain.tld addresses, also with the '@' escaped (jane%40acme.com
// in a URL, jane\u0040acme.com in raw JSON, jane&#64;acme.com in HTML).
func findEmails(t *scanText, out []span) []span {
	s := t.s
	for from := 0; ; {
		k := strings.IndexByte(s[from:], '@')
		if k < 0 {
			break
		}
		at := from + k
		from = at + 1
		if ls, de, ok := emailAround(s, at, at+1); ok {
			out = append(out, span{ls, de, DetectorEmail})
			from = de
		}
	}
	if !t.has(fPercent) && !t.has(fBackslash) && !t.has(fAmp) {
		return out
	}
	for _, m := range emailAts {
		for from := 0; ; {
			k := indexFold(s, m, from)
			if k < 0 {
				break
			}
			from = k + len(m)
			if ls, de, ok := emailAround(s, k, k+len(m)); ok {
				out = append(out, span{ls, de, DetectorEmail})
				from = de
			}
		}
	}
	return out
}

// emailAround returns the bounds of the e-mail address whose '@' is s[at:atEnd], if one is.
func emailAround(s string, at, atEnd int) (ls, de int, ok bool) {
	ls = at
	for ls > 0 && at-ls < 64 {
		if isEmailLocal(s[ls-1]) {
			ls--
			continue
		}
		if s[ls-1] < utf8.RuneSelf {
			break
		}
		r, n := utf8.DecodeLastRuneInString(s[:ls])
		if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) {
			break // jürgen@… is an address (RFC 6531); “jane@… is not quoted
		}
		ls -= n
	}
	if ls > 0 && s[ls-1] == '\\' && ls < at && !afterDomainName(s, ls-1) {
		// The letter of an escape is not the address's (x\njane@…, \u00e9jane@…); a domain
		// account's name is (CORP\jane@…, CORP\nancy@…).
		switch s[ls] {
		case 'n', 't', 'r', 'b', 'f':
			ls++
		case 'u':
			if ls+5 <= at && isHex(s[ls+1]) && isHex(s[ls+2]) && isHex(s[ls+3]) && isHex(s[ls+4]) {
				ls += 5
			}
		}
	}
	for ls < at && (s[ls] == '.' || s[ls] == '-') {
		ls++
	}
	if ls == at || s[at-1] == '.' {
		return 0, 0, false
	}
	// A literal '@' after a URL's scheme ends its user name; an escaped one is in it, and the
	// user name is an address (https://jane%40acme.com@dev.azure.com).
	literal := atEnd == at+1
	if literal && ls > 0 && s[ls-1] == ':' && strings.LastIndex(s[max(0, ls-200):ls], "://") >= 0 {
		return 0, 0, false // scheme://user:password@host is the URL detector's
	}
	if literal && ls >= 3 && s[ls-3:ls] == "://" {
		return 0, 0, false // scheme://user@host: a URL's user name
	}
	if at-ls == 3 && s[ls:at] == "git" {
		return 0, 0, false // git@github.com:org/repo
	}
	de = domainEnd(s, atEnd)
	for de > atEnd && (s[de-1] == '.' || s[de-1] == '-') {
		de--
	}
	dom := s[atEnd:de]
	dot := strings.LastIndexByte(dom, '.')
	if dot <= 0 || strings.Contains(dom, "..") || dom[0] == '-' || dom[0] == '.' {
		return 0, 0, false
	}
	tld := dom[dot+1:]
	if len(tld) < 2 || len(tld) > 24 || !(isLetters(tld) || utf8Word(tld)) || fileExtTLDs[strings.ToLower(tld)] {
		return 0, 0, false
	}
	if first := dom[:strings.IndexByte(dom, '.')]; len(first) >= 2 && isDigit(first[0]) && (first[len(first)-1] == 'x') {
		return 0, 0, false // @2x.
	}
	return ls, de, true
}

// afterDomainName reports whether the backslash at s[bs] ends a Windows domain's name: two
// or more upper-case letters or digits that start a word (CORP\, ACME01\).
func afterDomainName(s string, bs int) bool {
	k := bs
	for k > 0 && (isUpper(s[k-1]) || isDigit(s[k-1])) && bs-k < 16 {
		k--
	}
	return bs-k >= 2 && isUpper(s[k]) && (k == 0 || !isAlnum(s[k-1]) && s[k-1] != '\\')
}

// utf8Word reports whether s is valid UTF-8 with a non-ASCII letter and no ASCII but
// letters (an internationalised top-level domain: рф, 中国).
func utf8Word(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	wide := false
	for _, r := range s {
		if r >= 0x80 {
			if !unicode.IsLetter(r) {
				return false
			}
			wide = true
		} else if !isLetterByte(byte(r)) {
			return false
		}
	}
	return wide
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isUpper(s[i]) && !isLower(s[i]) {
			return false
		}
	}
	return true
}

// digitRun is a number made of digit groups separated by one consistent separator.
type digitRun struct {
	start, end int
	digits     [24]byte
	n          int
	sep        byte // 0, ' ', '-' or '.'
}

// readDigitRun reads digits from i allowing single separators from seps between groups (with
// wide, a space may also be doubled, as in "4111  1111  1111  1111"). It stops before a
// separator that is not followed by a digit.
func readDigitRun(s string, i int, seps string, wide bool, r *digitRun) {
	*r = digitRun{start: i}
	for i < len(s) {
		c := s[i]
		if isDigit(c) {
			if r.n < len(r.digits) {
				r.digits[r.n] = c
			}
			r.n++
			i++
			continue
		}
		// A separator after a digit (what the run has read so far ends with one), before one.
		if i > r.start && strings.IndexByte(seps, c) >= 0 && (r.sep == 0 || r.sep == c) {
			w := 1
			if wide && c == ' ' && i+2 < len(s) && s[i+1] == ' ' {
				w = 2
			}
			if i+w < len(s) && isDigit(s[i+w]) {
				r.sep = c
				i += w
				continue
			}
		}
		break
	}
	r.end = i
}

// next returns where a scan of the digit runs of s goes on after r, read with separators
// seps: past it, or from its last group when the run stopped at another of seps followed by
// a digit ("0 5500-0000-…"), where a run of its own may begin.
func (r *digitRun) next(s, seps string) int {
	i := r.end
	if r.sep != 0 && i+1 < len(s) && s[i] != r.sep && strings.IndexByte(seps, s[i]) >= 0 && isDigit(s[i+1]) {
		for i > r.start && isDigit(s[i-1]) {
			i--
		}
	}
	return i
}

// numberStart reports whether a number may start at i: the byte before is not a letter,
// digit or a joiner that would make it part of a longer token.
func numberStart(s string, i int) bool {
	if i == 0 || afterEscape(s, i) {
		return true
	}
	c := s[i-1]
	return !isAlnum(c) && c != '.' && c != '-' && c != '_' && c != '/' && c != '+' && c != ':'
}

// numberEnd reports whether a number may end at i: the byte there is not a letter, digit or
// a joiner followed by more of a token.
func numberEnd(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	c := s[i]
	if isAlnum(c) || c == '_' {
		return false
	}
	if (c == '.' || c == '-' || c == ':' || c == '/') && i+1 < len(s) && isAlnum(s[i+1]) {
		return false
	}
	return true
}

// idStart and idEnd are numberStart and numberEnd for numbers whose checksum or layout
// identifies them (cards, SSNs): those may also stand after or before ':' and '/', as a URL
// path segment ("/v1/cards/4111…"), a label ("ssn:536-…") or an expiry ("4111…:12/27").
func idStart(s string, i int) bool {
	return i == 0 || s[i-1] == ':' || s[i-1] == '/' || numberStart(s, i)
}

func idEnd(s string, i int) bool {
	return i >= len(s) || s[i] == ':' || s[i] == '/' || numberEnd(s, i)
}

// inPseudonym reports whether s[start:end] is the hex of a keyed pseudonym
// ("email:k1:4024007198765432"), which may be all digits and pass for a card.
func inPseudonym(s string, start, end int) bool {
	if end-start != pseudonymHexLen || start == 0 || s[start-1] != ':' || continuesToken(s, end) {
		return false
	}
	h := start - 1
	for h > 0 && start-h <= 42 && isPseudonymHead(s[h-1]) {
		h--
	}
	return strings.Count(s[h:start], ":") >= 2 && isPseudonym(s[h:end])
}

// continuesToken reports whether s[i] continues a token (a pseudonym ends at a boundary).
func continuesToken(s string, i int) bool {
	return i < len(s) && (isAlnum(s[i]) || s[i] == '_')
}

func isPseudonymHead(c byte) bool { return isAlnum(c) || c == '_' || c == '-' || c == ':' }

func luhn(d []byte) bool {
	sum := 0
	dbl := false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if dbl {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		dbl = !dbl
	}
	return sum%10 == 0
}

func prefixNum(d []byte, n int) int {
	v := 0
	for i := 0; i < n && i < len(d); i++ {
		v = v*10 + int(d[i]-'0')
	}
	return v
}

// cardIssuer reports whether the digits have a known issuer prefix with a valid length.
func cardIssuer(d []byte) bool {
	n := len(d)
	p1, p2, p3, p4 := prefixNum(d, 1), prefixNum(d, 2), prefixNum(d, 3), prefixNum(d, 4)
	switch {
	case p1 == 4:
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return n == 16
	case p2 == 34 || p2 == 37:
		return n == 15
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65:
		return n >= 16 && n <= 19
	case p4 >= 3528 && p4 <= 3589:
		return n >= 16 && n <= 19
	case p3 >= 300 && p3 <= 305, p2 == 36, p2 == 38, p2 == 39:
		return n >= 14 && n <= 19
	case p2 == 62:
		return n >= 16 && n <= 19
	case p4 == 5018, p4 == 5020, p4 == 5038, p4 == 5893, p4 == 6304, p4 == 6759, p4 >= 6761 && p4 <= 6763:
		return n >= 13 && n <= 19
	}
	return false
}

// cardSeps separate the digit groups of a card number.
const cardSeps = " -\t."

// findCards reports payment card numbers: 13–19 digits, bare or in groups separated by one
// consistent space (or two), dash, tab or dot, with a known issuer prefix and length and a
// valid Luhn check.
func findCards(t *scanText, out []span) []span {
	s := t.s
	var r digitRun
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || !idStart(s, i) {
			continue
		}
		readDigitRun(s, i, cardSeps, true, &r)
		out = cardsIn(s, r.start, r.end, out)
		i = r.next(s, cardSeps) - 1
	}
	return out
}

// cardsIn reports the card numbers in the run of digit groups s[start:end] (one separator
// between groups): from each group, the longest run of whole groups that is a card, bare (one
// group) or grouped (three groups or more, the first of 4–6 digits). Numbers next to a card
// in the same run do not hide it: "4111 1111 1111 1111 2 items" holds a card, and so does
// "ref 1234 4111111111111111". Cards that share a group are reported as one span.
func cardsIn(s string, start, end int, out []span) []span {
	first0 := len(out) // this run's detections start here
	var d [19]byte
	for a := start; a < end; {
		n, groups, first, best := 0, 0, 0, -1
		for j := a; j < end; {
			k := j
			for k < end && isDigit(s[k]) {
				k++
			}
			if n+k-j > len(d) {
				break
			}
			n += copy(d[n:], s[j:k])
			if groups++; groups == 1 {
				first = k - j
			}
			if n >= 13 && (groups == 1 || groups >= 3 && first >= 4 && first <= 6) && (k < end || idEnd(s, k)) &&
				cardIssuer(d[:n]) && luhn(d[:n]) && !allSame(d[:n]) && !inPseudonym(s, a, k) {
				best = k
			}
			for j = k; j < end && !isDigit(s[j]); j++ { // past the separator
			}
		}
		if best >= 0 {
			if k := len(out) - 1; k >= first0 && out[k].end > a {
				out[k].end = max(out[k].end, best) // cards sharing a group: "4000 00000 6011 1820 2111 2826"
			} else {
				out = append(out, span{a, best, DetectorCard})
			}
		}
		for a < end && isDigit(s[a]) { // the next group
			a++
		}
		for a < end && !isDigit(s[a]) {
			a++
		}
	}
	return out
}

func allSame(d []byte) bool {
	for _, c := range d[1:] {
		if c != d[0] {
			return false
		}
	}
	return true
}

// ibanLengths is the IBAN length of each country (ISO 13616 registry).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "BY": 28, "CH": 21,
	"CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
	"GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
	"ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
	"RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
	"TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

// findIBANs reports IBANs, compact or in groups of four separated by spaces, with the
// country's length and a valid mod-97 check.
func findIBANs(t *scanText, out []span) []span {
	s := t.s
	for i := 0; i+15 <= len(s); i++ {
		if !isUpper(s[i]) || !isUpper(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+3]) || (i > 0 && isAlnum(s[i-1])) {
			continue
		}
		want, ok := ibanLengths[s[i:i+2]]
		if !ok {
			continue
		}
		var buf [34]byte
		n := 0
		j := i
		for j < len(s) && n < want {
			c := s[j]
			if isDigit(c) || isUpper(c) {
				buf[n] = c
				n++
				j++
				continue
			}
			if c == ' ' && n%4 == 0 && j+1 < len(s) && isAlnum(s[j+1]) {
				j++
				continue
			}
			break
		}
		if n != want || (j < len(s) && isAlnum(s[j])) || !mod97(buf[:n]) {
			continue
		}
		out = append(out, span{i, j, DetectorIBAN})
		i = j
	}
	return out
}

func mod97(b []byte) bool {
	rem := 0
	for k := 0; k < len(b); k++ {
		c := b[(k+4)%len(b)]
		if isDigit(c) {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			v := int(c-'A') + 10
			rem = (rem*100 + v) % 97
		}
	}
	return rem == 1
}

var ssnKeywordMask = kwBit("ssn") | kwBit("social security")

// findSSNs reports US social security numbers written ddd-dd-dddd or ddd dd dddd (and a bare
// nine-digit number right after "SSN" or "social security"), excluding area 000, 666 and
// 900–999, group 00, serial 0000 and the published sample numbers.
func findSSNs(t *scanText, out []span) []span {
	s := t.s
	var r digitRun
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || !idStart(s, i) {
			continue
		}
		readDigitRun(s, i, "- ", false, &r)
		i = r.next(s, "- ") - 1
		if r.sep != 0 {
			out = ssnsIn(s, r.start, r.end, out)
			continue
		}
		if r.n != 9 || !idEnd(s, r.end) || t.keywordsIn()&ssnKeywordMask == 0 {
			continue
		}
		if !ssnContext(s, max(0, r.start-24), r.start) {
			continue
		}
		if validSSN(r.digits[:9]) {
			out = append(out, span{r.start, r.end, DetectorSSN})
		}
	}
	return out
}

// ssnContext reports whether s[lo:hi], the text before a bare nine-digit number, names it an
// SSN: "SSN" or "social security", but not the engine's label [SSN], so that redacting the
// output again finds nothing new.
func ssnContext(s string, lo, hi int) bool {
	ctx := s[lo:hi]
	if indexFold(ctx, "social security", 0) >= 0 {
		return true
	}
	for k := indexFold(ctx, "ssn", 0); k >= 0; k = indexFold(ctx, "ssn", k+3) {
		at := lo + k
		if at == 0 || s[at-1] != '[' || at+3 >= len(s) || s[at+3] != ']' {
			return true
		}
	}
	return false
}

// ssnsIn reports the SSNs in the run of digit groups s[start:end]: three groups in a row of 3,
// 2 and 4 digits, wherever they stand in the run ("111 11 1111 1@x.example" holds one).
func ssnsIn(s string, start, end int, out []span) []span {
	var g [3][2]int // the last three groups' bounds
	k := 0
	for j := start; j < end; {
		e := j
		for e < end && isDigit(s[e]) {
			e++
		}
		g[0], g[1], g[2] = g[1], g[2], [2]int{j, e}
		if k++; k >= 3 && g[0][1]-g[0][0] == 3 && g[1][1]-g[1][0] == 2 && e-j == 4 && (e < end || idEnd(s, e)) {
			var d [9]byte
			copy(d[:3], s[g[0][0]:g[0][1]])
			copy(d[3:5], s[g[1][0]:g[1][1]])
			copy(d[5:], s[j:e])
			if validSSN(d[:]) {
				out = append(out, span{g[0][0], e, DetectorSSN})
				k = 0
			}
		}
		j = e + 1
	}
	return out
}

// validSSN reports whether the 9 digits d are an SSN that may have been issued.
func validSSN(d []byte) bool {
	area, group, serial := prefixNum(d, 3), prefixNum(d[3:], 2), prefixNum(d[5:], 4)
	if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
		return false
	}
	ds := string(d)
	return ds != "078051120" && ds != "219099999" && ds != "123456789"
}

// findPhones reports E.164 numbers (+ then 8–15 digits, separators allowed) and North
// American numbers with separators: (212) 555-0143, 212-555-0143, 212.555.0143, +1 …
func findPhones(t *scanText, out []span) []span {
	s := t.s
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '+' {
			if i+1 >= len(s) || !isDigit(s[i+1]) || s[i+1] == '0' || (i > 0 && (isAlnum(s[i-1]) || s[i-1] == '+')) {
				continue
			}
			n, end := phoneDigits(s, i+1)
			if n < 8 || n > 15 || !numberEnd(s, end) {
				n, end = phonePrefix(s, i+1, end)
			}
			if n >= 8 && n <= 15 && numberEnd(s, end) {
				out = append(out, span{i, end, DetectorPhone})
				i = end
			}
			continue
		}
		if (c == '(' || isDigit(c)) && numberStart(s, i) {
			if end, ok := nanp(s, i); ok {
				out = append(out, span{i, end, DetectorPhone})
				i = end
			}
		}
	}
	return out
}

// phoneDigits counts digits from i allowing single separators ' ', '-', '.', and parentheses.
func phoneDigits(s string, i int) (n, end int) {
	end = i
	for i < len(s) {
		c := s[i]
		switch {
		case isDigit(c):
			n++
			i++
			end = i
		case (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') && i+1 < len(s) && (isDigit(s[i+1]) || s[i+1] == '('):
			i++
		case c == ')' && i+2 < len(s) && s[i+1] == ' ' && isDigit(s[i+2]):
			i += 2
		default:
			return n, end
		}
	}
	return n, end
}

// phonePrefix returns the digits and end of the longest part of the phone digits s[i:end]
// that ends at a space or bracket and holds 8–15 digits, or 0: what read on took in digits
// that are not the number's ("+33 1 23 45 67 38 0A", "+4915193852789)000"). A dash or dot
// ends no shorter number: it joins.
func phonePrefix(s string, i, end int) (n, e int) {
	d := 0
	for k := i; k < end; k++ {
		if isDigit(s[k]) {
			d++
		} else if (s[k] == ' ' || s[k] == '(' || s[k] == ')') && d >= 8 && d <= 15 {
			n, e = d, k
		}
	}
	return n, e
}

// nanp matches a North American number with separators starting at i.
func nanp(s string, i int) (int, bool) {
	j := i
	if j+1 < len(s) && s[j] == '1' && (s[j+1] == '-' || s[j+1] == ' ' || s[j+1] == '.') {
		j += 2
	}
	var area [3]byte
	paren := j < len(s) && s[j] == '('
	if paren {
		j++
	}
	if !take3(s, j, area[:]) {
		return 0, false
	}
	j += 3
	if paren {
		if j >= len(s) || s[j] != ')' {
			return 0, false
		}
		j++
		if j < len(s) && s[j] == ' ' {
			j++
		}
	} else {
		if j >= len(s) || (s[j] != '-' && s[j] != '.' && s[j] != ' ') {
			return 0, false
		}
	}
	var sep byte
	if !paren {
		sep = s[j]
		j++
	}
	var ex [3]byte
	if !take3(s, j, ex[:]) {
		return 0, false
	}
	j += 3
	if j >= len(s) {
		return 0, false
	}
	if paren {
		if s[j] != '-' && s[j] != '.' && s[j] != ' ' {
			return 0, false
		}
	} else if s[j] != sep {
		return 0, false
	}
	j++
	var line [4]byte
	for k := 0; k < 4; k++ {
		if j+k >= len(s) || !isDigit(s[j+k]) {
			return 0, false
		}
		line[k] = s[j+k]
	}
	j += 4
	if area[0] < '2' || ex[0] < '2' || !numberEnd(s, j) {
		return 0, false
	}
	return j, true
}

func take3(s string, j int, dst []byte) bool {
	if j+3 > len(s) {
		return false
	}
	for k := 0; k < 3; k++ {
		if !isDigit(s[j+k]) {
			return false
		}
		dst[k] = s[j+k]
	}
	return true
}

// ipStart reports whether an IPv4 address may start at i: as numberStart, and also after ':'
// ("ip:8.8.8.8") and as a URL's host ("http://10.1.2.3"). After a '/' inside a path it is a
// version as often as not (/releases/download/1.2.3.4/, Chrome/120.0.0.0), and is kept.
func ipStart(s string, i int) bool {
	return numberStart(s, i) || s[i-1] == ':' || (i >= 2 && s[i-1] == '/' && s[i-2] == '/')
}

// ipEnd reports whether an IPv4 address may end at i: as numberEnd, and also before a port
// or a path (':443', '/32', '/api').
func ipEnd(s string, i int) bool {
	return i >= len(s) || s[i] == ':' || s[i] == '/' || numberEnd(s, i)
}

// findIPv4 reports dotted quads with octets 0–255 (no leading zeros), not part of a longer
// dotted number and not right after "v" or "version". The unspecified (0.x), loopback
// (127.x) and broadcast (255.x) ranges identify no one and are kept.
func findIPv4(t *scanText, out []span) []span {
	s := t.s
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || !ipStart(s, i) {
			continue
		}
		j := i
		oct := 0
		var first int
		ok := true
		for oct < 4 {
			v, n := 0, 0
			st := j
			for j < len(s) && isDigit(s[j]) && n < 4 {
				v = v*10 + int(s[j]-'0')
				j++
				n++
			}
			if n == 0 || n > 3 || v > 255 || (n > 1 && s[st] == '0') {
				ok = false
				break
			}
			if oct == 0 {
				first = v
			}
			oct++
			if oct < 4 {
				if j >= len(s) || s[j] != '.' {
					ok = false
					break
				}
				j++
			}
		}
		if !ok {
			for i < len(s) && (isDigit(s[i]) || s[i] == '.') {
				i++
			}
			continue
		}
		if !ipEnd(s, j) || first == 0 || first == 127 || first == 255 {
			i = j
			continue
		}
		pre := s[max(0, i-9):i]
		if strings.HasSuffix(pre, "v") || strings.HasSuffix(pre, "V") || indexFold(pre, "version", 0) >= 0 {
			i = j
			continue
		}
		out = append(out, span{i, j, DetectorIPv4})
		i = j
	}
	return out
}

// findIPv6 reports net/netip-valid IPv6 addresses of at least three groups, not embedded in a
// longer token. Loopback and unspecified addresses are skipped.
func findIPv6(t *scanText, out []span) []span {
	s := t.s
	for from := 0; ; {
		k := strings.IndexByte(s[from:], ':')
		if k < 0 {
			return out
		}
		k += from
		st := k
		for st > 0 && (isHex(s[st-1]) || s[st-1] == ':') {
			st--
		}
		end := k
		for end < len(s) && (isHex(s[end]) || s[end] == ':' || s[end] == '.') {
			end++
		}
		for end > st && (s[end-1] == '.' || (s[end-1] == ':' && (end-2 < st || s[end-2] != ':'))) {
			end--
		}
		from = max(end, k+1)
		if (st > 0 && (isAlnum(s[st-1]) || s[st-1] == '_')) || (end < len(s) && (isAlnum(s[end]) || s[end] == '_')) {
			continue
		}
		cand := s[st:end]
		if strings.Count(cand, ":") < 2 || len(cand) < 6 {
			continue
		}
		groups := 0
		for _, g := range strings.Split(cand, ":") {
			if g != "" {
				groups++
			}
		}
		if groups < 3 {
			continue
		}
		a, err := netip.ParseAddr(cand)
		if err != nil || !a.Is6() || a.IsLoopback() || a.IsUnspecified() {
			continue
		}
		out = append(out, span{st, end, DetectorIPv6})
	}
}

// homeDirs are the home-directory prefixes whose next path segment is a user name.
var homeDirs = []string{"/Users/", "/home/", `\Users\`, "/Users\\", `\home\`, "/export/home/", "/var/home/"}

// homeDirsLower are homeDirs in lower case, for indexFold.
var homeDirsLower = func() []string {
	l := make([]string, len(homeDirs))
	for i, h := range homeDirs {
		l[i] = strings.ToLower(h)
	}
	return l
}()

var homeKeywordMask = kwBit("/users") | kwBit("\\users") | kwBit("/home") | kwBit("\\home")

// homeDirBits is the keyword that must occur for each of homeDirs.
var homeDirBits = []uint64{kwBit("/users"), kwBit("/home"), kwBit("\\users"), kwBit("/users"), kwBit("\\home"), kwBit("/home"), kwBit("/home")}

// notUserNames are home-directory entries that are not people.
var notUserNames = map[string]bool{"shared": true, "public": true, "default": true, "default user": true, "all users": true,
	"user": true, "username": true, "you": true, "yourname": true, "your-name": true, "your_name": true, "name": true, "me": true,
	"guest": true, "defaultapppool": true, "linuxbrew": true}

// findHomeUsers reports the user name in /Users/<u>/, /home/<u>/, C:\Users\<u>\ (any drive,
// either slash), unless the path is part of a URL or the name is a placeholder.
func findHomeUsers(t *scanText, out []span) []span {
	s := t.s
	kw := t.keywordsIn()
	if kw&homeKeywordMask == 0 {
		return out
	}
	for i, h := range homeDirs {
		if kw&homeDirBits[i] == 0 {
			continue
		}
		for from := 0; ; {
			k := strings.Index(s[from:], h)
			folded := false
			if strings.Contains(h, "Users") {
				// Windows and macOS take the name in any case (c:/users/jane); a slash form
				// in another case counts after a drive or its mount only (not /users/42 of
				// a REST route).
				if f := indexFold(s[from:], homeDirsLower[i], 0); f >= 0 && (k < 0 || f < k) {
					k, folded = f, true
				}
			}
			if k < 0 {
				break
			}
			k += from
			from = k + len(h)
			if folded && h[0] == '/' && !afterDrive(s, k) {
				continue
			}
			if h[0] == '\\' && k > 0 && s[k-1] == '\\' {
				k-- // JSON-escaped: C:\\Users\\jane
				if from < len(s) && s[from] == '\\' {
					from++
				}
			}
			if k > 0 && !homeRoot(s, k) {
				continue
			}
			ns := from
			ne := ns
			for ne < len(s) && s[ne] != '/' && s[ne] != '\\' && s[ne] != '"' && s[ne] != '\'' && s[ne] != '\n' &&
				s[ne] != ' ' && s[ne] != '\t' && s[ne] != ',' && s[ne] != ';' && s[ne] != ')' && s[ne] != ']' && s[ne] != '`' {
				ne++
			}
			if ne < len(s) && s[ne] == ' ' && (strings.HasPrefix(s[ne:], " User") || strings.HasPrefix(s[ne:], " Users")) {
				continue // "Default User", "All Users"
			}
			if h[1] == 'U' {
				ne = nameWithSpaces(s, ne)
			}
			name := s[ns:ne]
			for len(name) > 0 && (name[len(name)-1] == '.' || name[len(name)-1] == ':') {
				name = name[:len(name)-1]
			}
			var lb [64]byte
			lname := lowerInto(lb[:0], name)
			if name == "" || strings.ContainsAny(name, "*<>$%{}?[") || (strings.IndexByte(name, '~') >= 0 && !shortName(name)) || isRedactedToken(name) || (lname != nil && notUserNames[string(lname)]) {
				continue
			}
			out = append(out, span{ns, ns + len(name), DetectorHomeUser})
		}
	}
	return out
}

// afterDrive reports whether the home directory at s[k] follows a drive (C:, /C:) or its WSL
// or MSYS mount (/mnt/c, /c).
func afterDrive(s string, k int) bool {
	n := k
	switch {
	case n >= 2 && s[n-1] == ':' && isLetterByte(s[n-2]) && (n == 2 || !isAlnum(s[n-3])):
		return true
	case n >= 2 && s[n-2] == '/' && isLetterByte(s[n-1]) && (n == 2 || !isAlnum(s[n-3]) || strings.HasSuffix(s[:n-1], "/mnt/")):
		return true
	}
	return false
}

// nameWithSpaces returns where a Windows or macOS user name that reads to s[ne] ends when it
// goes on past a space: over capitalised words (John Smith, Jane Doe) up to the path's next
// separator. Other text after a space (cp /Users/jane notes/x) is not the name.
func nameWithSpaces(s string, ne int) int {
	j := ne
	for j < len(s) && j-ne < 48 && s[j] == ' ' && j+1 < len(s) && isUpper(s[j+1]) {
		j++
		for j < len(s) && (isLetterByte(s[j]) || s[j] == '.' || s[j] == '-' || s[j] == '\'') {
			j++
		}
		if j < len(s) && (s[j] == '\\' || s[j] == '/') {
			return j
		}
	}
	return ne
}

// shortName reports whether name is a Windows 8.3 short name (JANESM~1), which stands for the
// long one.
func shortName(name string) bool {
	t := strings.IndexByte(name, '~')
	if t < 1 || t > 6 || t+1 >= len(name) {
		return false
	}
	for i := t + 1; i < len(name); i++ {
		if !isDigit(name[i]) {
			return false
		}
	}
	return true
}

// afterEscape reports whether s[i] follows a line break or tab written as an escape (\n, \r,
// \t): text that holds JSON which did not parse, or a log line quoting one. What follows starts
// a word, as after the break itself.
func afterEscape(s string, i int) bool {
	return i >= 2 && s[i-2] == '\\' && (s[i-1] == 'n' || s[i-1] == 'r' || s[i-1] == 't')
}

func isLetterByte(c byte) bool { return isUpper(c) || isLower(c) }

// homeRoot reports whether the home directory s[k:] ("/Users/…") starts a path: at a word
// boundary, after a drive (C:), a WSL or MSYS mount of one (/mnt/c, /c), a WSL share
// (\\wsl$\Ubuntu, \\wsl.localhost\Ubuntu) or a file:// URL, and not inside another URL.
func homeRoot(s string, k int) bool {
	pre := s[:k]
	switch {
	case strings.HasSuffix(pre, "file://"), strings.HasSuffix(pre, "file://localhost"):
		return true // file:///Users/…
	case strings.HasSuffix(pre, "/System/Volumes/Data"):
		return true // macOS's data volume: /System/Volumes/Data/Users/…
	case remoteRoot(pre):
		return true // vscode-remote://wsl+Ubuntu/home/…, //wsl$/Ubuntu/home/…
	case len(pre) >= 2 && pre[len(pre)-1] == ':' && isLetterByte(pre[len(pre)-2]) && (len(pre) == 2 || !isAlnum(pre[len(pre)-3])): // C:
		// A drive letter set off from what precedes it starts a path wherever it stands
		// (/C:/Users, \\?\C:\Users, -u:/Users), unless in a URL other than file://.
		pre = pre[:len(pre)-2]
		return strings.HasSuffix(pre, "file://") || strings.HasSuffix(pre, "file:///") || !inURL(s, len(pre))
	case len(pre) >= 2 && pre[len(pre)-2] == '/' && isLetterByte(pre[len(pre)-1]): // /c, /mnt/c
		pre = strings.TrimSuffix(pre[:len(pre)-2], "/mnt")
	case pre[len(pre)-1] != '\\' && strings.Contains(pre[max(0, len(pre)-80):], `\\wsl`):
		if wslShare(pre[max(0, len(pre)-80):]) {
			return true
		}
	}
	if strings.HasSuffix(pre, "file://") || strings.HasSuffix(pre, "file:///") {
		return true // file:///C:/Users/…
	}
	if pre != "" && !afterEscape(s, len(pre)) {
		p := pre[len(pre)-1]
		if isAlnum(p) || p == '.' || p == '_' || p == '-' || p == '/' || p == '\\' {
			return false
		}
	}
	return !inURL(s, len(pre))
}

// remoteRoot reports whether pre ends with the root of another machine's or distribution's
// file system in forward-slash form: a VS Code remote (vscode-remote://wsl+Ubuntu,
// vscode-remote://ssh-remote+host) or a WSL share (//wsl$/Ubuntu, //wsl.localhost/Debian).
func remoteRoot(pre string) bool {
	seg := strings.LastIndexByte(pre, '/')
	if seg < 0 || seg == len(pre)-1 {
		return false
	}
	head := pre[:seg+1]
	if strings.HasSuffix(head, "vscode-remote://") {
		return true
	}
	return strings.HasSuffix(head, "//wsl$/") || strings.HasSuffix(head, "//wsl.localhost/")
}

// wslShare reports whether pre ends with a WSL share and distribution (\\wsl$\Ubuntu,
// \\wsl.localhost\Debian), its backslashes single or JSON-escaped.
func wslShare(pre string) bool {
	if strings.Contains(pre, `\\\\wsl`) {
		pre = strings.ReplaceAll(pre, `\\`, `\`) // JSON-escaped: \\\\wsl$\\Ubuntu
	}
	seg := strings.LastIndexByte(pre, '\\')
	share := strings.LastIndexByte(pre[:max(seg, 0)], '\\')
	if seg <= 0 || share <= 0 || pre[share-1] != '\\' {
		return false
	}
	n := pre[share+1 : seg]
	return n == "wsl$" || n == "wsl.localhost"
}

// inURL reports whether position k lies in a token that contains "://".
func inURL(s string, k int) bool {
	st := k
	for st > 0 && s[st-1] != ' ' && s[st-1] != '\n' && s[st-1] != '"' && s[st-1] != '\'' && k-st < 300 {
		st--
	}
	return strings.Contains(s[st:k], "://")
}
