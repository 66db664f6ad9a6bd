package redact

import (
	"encoding/base64"
	"strings"
)

// Secret detectors. Every finder here is gated by the byte classes of the text (see scan.go)
// and then by a literal it searches with strings.Index or a byte loop; only candidates that
// pass a structural, alphabet, length or entropy check are reported.

var vendorSet = setOf(DetectorAWSAccessKey, DetectorGitHubToken, DetectorGitLabToken, DetectorSlackToken,
	DetectorStripeKey, DetectorGoogleAPIKey, DetectorOpenAIKey, DetectorAnthropicKey, DetectorNPMToken,
	DetectorPyPIToken, DetectorHuggingFace, DetectorSendGridKey, DetectorDigitalOcean, DetectorShopifyToken,
	DetectorAgeSecretKey, DetectorVaultToken, DetectorDatabricks)

// alphabets for token bodies.
const (
	alphaBase62   = 1 << iota // A-Za-z0-9
	alphaUnder                // _
	alphaDash                 // -
	alphaDot                  // .
	alphaUpper32              // A-Z2-7
	alphaHexLower             // 0-9a-f
	alphaBech32               // upper-case bech32
)

type vendorRule struct {
	prefix   string
	det      Detector
	alpha    int
	min, max int     // body length bounds
	minH     float64 // entropy floor of the body
	check    func(body string) bool
}

const bech32Upper = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"

// vendorRules is indexed by the first byte of the prefix.
var vendorRules = func() (t [256][]vendorRule) {
	add := func(r vendorRule) { t[r.prefix[0]] = append(t[r.prefix[0]], r) }
	for _, p := range []string{"AKIA", "ASIA", "ABIA", "ACCA"} {
		add(vendorRule{p, DetectorAWSAccessKey, alphaUpper32, 16, 16, 2.8, func(b string) bool { return !strings.Contains(b, "EXAMPLE") }})
	}
	for _, p := range []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"} {
		add(vendorRule{p, DetectorGitHubToken, alphaBase62, 36, 36, 3.5, nil})
	}
	add(vendorRule{"github_pat_", DetectorGitHubToken, alphaBase62 | alphaUnder, 70, 100, 3.5, nil})
	for _, p := range []string{"glpat-", "gldt-", "glrt-", "glptt-", "glsoat-", "gloas-", "glcbt-", "glimt-", "glft-", "glagent-", "glffct-", "glsa_"} {
		add(vendorRule{p, DetectorGitLabToken, alphaBase62 | alphaUnder | alphaDash | alphaDot, 20, 120, 3.3, nil})
	}
	for _, p := range []string{"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-", "xoxe.xoxp-", "xapp-"} {
		add(vendorRule{p, DetectorSlackToken, alphaBase62 | alphaDash, 20, 250, 3.0, func(b string) bool { return strings.IndexAny(b, "0123456789") >= 0 }})
	}
	for _, p := range []string{"sk_live_", "sk_test_", "rk_live_", "rk_test_"} {
		add(vendorRule{p, DetectorStripeKey, alphaBase62, 20, 247, 3.3, nil})
	}
	add(vendorRule{"AIza", DetectorGoogleAPIKey, alphaBase62 | alphaUnder | alphaDash, 35, 35, 3.5, nil})
	for _, p := range []string{"sk-ant-api03-", "sk-ant-admin01-", "sk-ant-oat01-", "sk-ant-ort01-", "sk-ant-sid01-"} {
		add(vendorRule{p, DetectorAnthropicKey, alphaBase62 | alphaUnder | alphaDash, 80, 130, 4.0, func(b string) bool { return strings.HasSuffix(b, "AA") }})
	}
	for _, p := range []string{"sk-proj-", "sk-svcacct-", "sk-admin-", "sk-None-"} {
		add(vendorRule{p, DetectorOpenAIKey, alphaBase62 | alphaUnder | alphaDash, 40, 250, 4.0, nil})
	}
	add(vendorRule{"sk-", DetectorOpenAIKey, alphaBase62 | alphaUnder | alphaDash, 40, 250, 4.0, func(b string) bool {
		return strings.Contains(b, "T3BlbkFJ") && !strings.HasPrefix(b, "ant-")
	}})
	add(vendorRule{"npm_", DetectorNPMToken, alphaBase62, 36, 36, 3.5, nil})
	add(vendorRule{"pypi-AgEIcHlwaS5vcmc", DetectorPyPIToken, alphaBase62 | alphaUnder | alphaDash, 50, 250, 3.5, nil})
	add(vendorRule{"hf_", DetectorHuggingFace, alphaBase62, 34, 34, 3.5, nil})
	add(vendorRule{"SG.", DetectorSendGridKey, alphaBase62 | alphaUnder | alphaDash | alphaDot, 66, 66, 3.5, func(b string) bool {
		return len(b) == 66 && b[22] == '.' && strings.IndexByte(b[:22], '.') < 0 && strings.IndexByte(b[23:], '.') < 0
	}})
	for _, p := range []string{"dop_v1_", "doo_v1_", "dor_v1_"} {
		add(vendorRule{p, DetectorDigitalOcean, alphaHexLower, 64, 64, 3.0, nil})
	}
	for _, p := range []string{"shpat_", "shpca_", "shppa_", "shpss_"} {
		add(vendorRule{p, DetectorShopifyToken, alphaHexLower, 32, 32, 3.0, nil})
	}
	add(vendorRule{"AGE-SECRET-KEY-1", DetectorAgeSecretKey, alphaBech32, 58, 58, 3.5, nil})
	for _, p := range []string{"hvs.", "hvb.", "hvr."} {
		add(vendorRule{p, DetectorVaultToken, alphaBase62 | alphaUnder | alphaDash, 24, 200, 3.5, nil})
	}
	add(vendorRule{"dapi", DetectorDatabricks, alphaHexLower | alphaDash, 32, 34, 3.0, func(b string) bool {
		for i := 0; i < 32; i++ {
			if !isHex(b[i]) || isUpper(b[i]) {
				return false
			}
		}
		return len(b) == 32 || b[32] == '-'
	}})
	return t
}()

func inAlpha(c byte, a int) bool {
	switch {
	case a&alphaBase62 != 0 && isAlnum(c):
		return true
	case a&alphaUnder != 0 && c == '_':
		return true
	case a&alphaDash != 0 && c == '-':
		return true
	case a&alphaDot != 0 && c == '.':
		return true
	case a&alphaUpper32 != 0 && (isUpper(c) || c >= '2' && c <= '7'):
		return true
	case a&alphaHexLower != 0 && (isDigit(c) || c >= 'a' && c <= 'f'):
		return true
	case a&alphaBech32 != 0 && strings.IndexByte(bech32Upper, c) >= 0:
		return true
	}
	return false
}

func isTokenByte(c byte) bool { return isAlnum(c) || c == '_' || c == '-' || c == '.' }

// findVendorTokens walks the runs of token bytes ([A-Za-z0-9_.-]) of at least 20 bytes and
// matches each against the prefix table of its first byte.
func findVendorTokens(t *scanText, out []span) []span {
	s := t.s
	for i := 0; i < len(s); {
		if !isTokenByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isTokenByte(s[j]) {
			j++
		}
		if j-i >= 20 {
			out = matchVendor(s, i, j, out)
		}
		i = j
	}
	return out
}

func matchVendor(s string, i, j int, out []span) []span {
	run := s[i:j]
	for _, r := range vendorRules[run[0]] {
		if !strings.HasPrefix(run, r.prefix) {
			continue
		}
		body := run[len(r.prefix):]
		n := 0
		for n < len(body) && n < r.max && inAlpha(body[n], r.alpha) {
			n++
		}
		// The body must end at the end of the run (a longer run is another token), allowing
		// trailing dots from prose.
		rest := body[n:]
		if strings.Trim(rest, ".") != "" || n < r.min {
			continue
		}
		body = strings.TrimRight(body[:n], ".")
		if len(body) < r.min {
			continue
		}
		if entropy(body) < r.minH || (r.check != nil && !r.check(body)) || isPlaceholder(body) {
			continue
		}
		return append(out, span{i, i + len(r.prefix) + len(body), r.det})
	}
	return out
}

// findSlackWebhooks finds https://hooks.slack.com/services/T…/B…/… (and workflows/triggers).
func findSlackWebhooks(t *scanText, out []span) []span {
	s := t.s
	const host = "hooks.slack.com/"
	for from := 0; ; {
		k := strings.Index(s[from:], host)
		if k < 0 {
			return out
		}
		k += from
		from = k + len(host)
		start := k
		if k >= 8 && s[k-8:k] == "https://" {
			start = k - 8
		}
		end := from
		for end < len(s) && (isAlnum(s[end]) || s[end] == '/' || s[end] == '_' || s[end] == '-') {
			end++
		}
		path := s[from:end]
		if (strings.HasPrefix(path, "services/") || strings.HasPrefix(path, "workflows/") || strings.HasPrefix(path, "triggers/")) &&
			strings.Count(path, "/") >= 3 && len(path) >= 30 && !isPlaceholder(path[strings.LastIndexByte(path, '/')+1:]) {
			out = append(out, span{start, end, DetectorSlackWebhook})
		}
	}
}

// findPrivateKeys masks whole PEM / OpenSSH / PGP private key blocks, armour included. A
// block with no END line is masked to the end of the text.
func findPrivateKeys(t *scanText, out []span) []span {
	s := t.s
	for from := 0; ; {
		k := strings.Index(s[from:], "-----BEGIN ")
		if k < 0 {
			return out
		}
		k += from
		lineEnd := strings.Index(s[k+11:], "-----")
		if lineEnd < 0 || lineEnd > 60 {
			from = k + 11
			continue
		}
		label := s[k+11 : k+11+lineEnd]
		from = k + 11 + lineEnd + 5
		if !strings.HasSuffix(label, "PRIVATE KEY") && label != "PGP PRIVATE KEY BLOCK" {
			continue
		}
		end := len(s)
		if e := strings.Index(s[from:], "-----END "); e >= 0 {
			if f := strings.Index(s[from+e+9:], "-----"); f >= 0 && f <= 60 {
				end = from + e + 9 + f + 5
			}
		}
		b64 := 0
		for i := from; i < end; i++ {
			if isAlnum(s[i]) || s[i] == '+' || s[i] == '/' {
				b64++
			}
		}
		if b64 < 40 {
			continue
		}
		out = append(out, span{k, end, DetectorPrivateKey})
		from = end
	}
}

// findJWTs finds header.payload.signature tokens whose header and payload are base64url
// JSON objects and whose header names an "alg".
func findJWTs(t *scanText, out []span) []span {
	s := t.s
	for from := 0; ; {
		k := strings.Index(s[from:], "eyJ")
		if k < 0 {
			return out
		}
		k += from
		from = k + 3
		if k > 0 && isTokenByte(s[k-1]) {
			continue
		}
		end := k
		for end < len(s) && (isAlnum(s[end]) || s[end] == '_' || s[end] == '-' || s[end] == '.' || s[end] == '=') {
			end++
		}
		tok := strings.TrimRight(s[k:end], ".")
		parts := strings.Split(tok, ".")
		if len(parts) != 3 || len(parts[0]) < 10 || len(parts[1]) < 10 || !strings.HasPrefix(parts[1], "eyJ") {
			continue
		}
		h, ok1 := b64json(parts[0])
		_, ok2 := b64json(parts[1])
		if !ok1 || !ok2 || !strings.Contains(h, `"alg"`) {
			continue
		}
		out = append(out, span{k, k + len(tok), DetectorJWT})
		from = k + len(tok)
	}
}

func b64json(seg string) (string, bool) {
	seg = strings.TrimRight(seg, "=")
	if len(seg) > 4096 {
		return "", false
	}
	var buf [3072]byte
	n, err := base64.RawURLEncoding.Decode(buf[:], []byte(seg))
	if err != nil {
		return "", false
	}
	b := strings.TrimSpace(string(buf[:n]))
	return b, len(b) >= 2 && b[0] == '{' && b[len(b)-1] == '}'
}

// authHeaderNames are header names whose value is a credential (lower case).
var authHeaderNames = []string{"proxy-authorization", "authorization", "set-cookie", "cookie", "x-api-key", "api-key", "x-auth-token", "x-access-token", "private-token", "x-goog-api-key", "anthropic-api-key", "x-amz-security-token"}

var authHeaderBits = func() []uint64 {
	out := make([]uint64, len(authHeaderNames))
	for i, n := range authHeaderNames {
		out[i] = kwBit(n)
	}
	return out
}()

// headerPrefixes are what may stand before a credential header's name and keep it one:
// X-Authorization, X-Forwarded-Authorization, and the CGI and WSGI environment's
// HTTP_AUTHORIZATION and HTTP_COOKIE.
var headerPrefixes = []string{"x-forwarded-", "x-original-", "x-", "http_x_", "http_"}

// headerPrefixAt returns where one of headerPrefixes ends at s[k] starts, or -1.
func headerPrefixAt(s string, k int) int {
	for _, p := range headerPrefixes {
		if k >= len(p) && hasPrefixFold(s[k-len(p):], p) {
			return k - len(p)
		}
	}
	return -1
}

// credentialHeader returns the credential header that the lower-case name lk is, with or
// without one of headerPrefixes ("http_authorization" → "authorization"), or "".
func credentialHeader(lk string) string {
	for _, h := range authHeaderNames {
		if lk == h {
			return h
		}
	}
	for _, p := range headerPrefixes {
		if rest, ok := strings.CutPrefix(lk, p); ok {
			for _, h := range authHeaderNames {
				if rest == h {
					return h
				}
			}
		}
	}
	return ""
}

// findAuthHeaders finds "Authorization: Bearer …", "Cookie: …", "X-Api-Key: …" (also with =
// in key=value renderings) and reports the credential after the scheme.
func findAuthHeaders(t *scanText, out []span) []span {
	s := t.s
	kw := t.keywordsIn()
	for i, name := range authHeaderNames {
		if kw&authHeaderBits[i] == 0 {
			continue
		}
		for from := 0; ; {
			k := indexFold(s, name, from)
			if k < 0 {
				break
			}
			from = k + len(name)
			if k > 0 && (isAlnum(s[k-1]) || s[k-1] == '-' || s[k-1] == '_') && !afterEscape(s, k) {
				p := headerPrefixAt(s, k)
				if p < 0 || (p > 0 && (isAlnum(s[p-1]) || s[p-1] == '-' || s[p-1] == '_') && !afterEscape(s, p)) {
					continue
				}
			}
			// The quote the header stands in, if any ('Cookie: …' in a command line, a JSON
			// string), ends its value; quotes inside it (a quoted cookie value, Digest's
			// parameters, a JSON cookie) do not.
			start := k
			if p := headerPrefixAt(s, k); p >= 0 {
				start = p
			}
			q := openingQuote(s, start)
			i := from
			if i < len(s) && (s[i] == '"' || s[i] == '\'') {
				i++
			}
			for i < len(s) && s[i] == ' ' {
				i++
			}
			if i >= len(s) || (s[i] != ':' && s[i] != '=') {
				continue
			}
			i++
			for i < len(s) && s[i] == ' ' {
				i++
			}
			if i < len(s) && (s[i] == '"' || s[i] == '\'') { // "Cookie": "…": the value's own quote
				q = quoteAt(s, i)
				i++
			} else if i+1 < len(s) && s[i] == '\\' && s[i+1] == '"' {
				q = quoteAt(s, i+1)
				i += 2
			}
			end := headerEnd(s, i, q)
			from = max(from, end) // a header runs to the end of its line: linear time
			v := strings.TrimRight(s[i:end], " ,;\\")
			if name == "authorization" || name == "proxy-authorization" {
				// Keep the scheme (Bearer, Basic, Token, …).
				if sp := strings.IndexByte(v, ' '); sp > 0 && sp < 25 && isSchemeWord(v[:sp]) {
					one := singleToken(v[:sp])
					i += sp + 1
					for i < len(s) && s[i] == ' ' {
						i++
					}
					v = strings.TrimRight(s[i:end], " ,;\\")
					if one {
						if sp := strings.IndexAny(v, " \t\\"); sp > 0 { // a space, or an escaped line break
							v = strings.TrimRight(v[:sp], ",;\\")
						}
					}
				}
			}
			if len(v) < 6 || headerPlaceholder(name, v) {
				continue
			}
			out = append(out, span{i, i + len(v), DetectorAuthHeader})
			from = i + len(v)
		}
	}
	return out
}

// A quote delimits a header's value: its character, and whether it is escaped (\" in a
// JSON string); the zero quote is none, and the value runs to the end of its line.
type quote struct {
	c       byte
	escaped bool
}

// quoteAt returns the quote at s[i] (a quote character).
func quoteAt(s string, i int) quote {
	return quote{s[i], i > 0 && s[i-1] == '\\'}
}

// openingQuote returns the quote right before s[k], or none.
func openingQuote(s string, k int) quote {
	if k > 0 && (s[k-1] == '"' || s[k-1] == '\'') {
		return quoteAt(s, k-1)
	}
	return quote{}
}

// headerEnd returns where the value of a header that starts at i ends: at the end of its
// line, or before the quote q that closes it (an escaped one for an escaped q, an unescaped
// one otherwise).
func headerEnd(s string, i int, q quote) int {
	end := i
	for ; end < len(s) && s[end] != '\n' && s[end] != '\r'; end++ {
		if q.c == 0 || s[end] != q.c {
			continue
		}
		esc := end > i && s[end-1] == '\\'
		if esc == q.escaped {
			if esc {
				end--
			}
			break
		}
	}
	return end
}

// headerPlaceholder reports whether the value v of header name stands for a credential
// rather than holding one. A cookie header holds many values, and is a placeholder only when
// each of them is one (session=${SESSION}); Set-Cookie's attributes after the first ';' are
// not values.
func headerPlaceholder(name, v string) bool {
	if name != "cookie" && name != "set-cookie" {
		return isPlaceholder(v)
	}
	if name == "set-cookie" {
		v, _, _ = strings.Cut(v, ";")
	}
	some := false
	for c := range strings.SplitSeq(v, ";") {
		_, val, ok := strings.Cut(c, "=")
		if !ok {
			val = c
		}
		if val = strings.TrimSpace(val); val == "" {
			continue // an empty value stands for nothing
		}
		if !isPlaceholder(val) {
			return false
		}
		some = true
	}
	return some || isPlaceholder(v)
}

// headerCredential returns where the credential starts in the value v of the credential
// header name ("Bearer abc" → 7), or -1 when the value is a placeholder or too short.
func headerCredential(name, v string) int {
	st := 0
	if sp := strings.IndexByte(v, ' '); sp > 0 && sp < 25 && isSchemeWord(v[:sp]) {
		st = sp + 1
		for st < len(v) && v[st] == ' ' {
			st++
		}
	}
	if len(v)-st < 6 || headerPlaceholder(name, v[st:]) || isRedactedToken(v[st:]) {
		return -1
	}
	return st
}

func isSchemeWord(w string) bool {
	digits := false
	for i := 0; i < len(w); i++ {
		if isDigit(w[i]) {
			digits = true
		} else if !isAlnum(w[i]) && w[i] != '-' {
			return false
		}
	}
	// A word with digits is a scheme only when known (AWS4-HMAC-SHA256): a token before a
	// space is the credential ("Authorization: a8f2c9e1b7d6a3f5e0 expired").
	return !digits || strings.HasPrefix(w, "AWS4-") || strings.HasPrefix(strings.ToUpper(w), "SCRAM-")
}

// singleToken reports whether the credential of the authorization scheme w is one token,
// which ends at a space (Bearer, Basic, Token), unlike Digest's parameters.
func singleToken(w string) bool {
	return strings.EqualFold(w, "bearer") || strings.EqualFold(w, "basic") || strings.EqualFold(w, "token")
}

// secretParams are URL query parameter names whose value is a credential (lower case).
var secretParams = map[string]int{
	"token": 3, "access_token": 3, "refresh_token": 3, "id_token": 3, "auth_token": 3, "api_token": 3,
	"api_key": 3, "apikey": 3, "api-key": 3, "key": 16, "secret": 3, "client_secret": 3, "password": 3,
	"passwd": 3, "pwd": 3, "sig": 8, "signature": 8, "x-amz-signature": 8, "x-amz-credential": 8,
	"x-amz-security-token": 8, "x-goog-signature": 8, "x-goog-credential": 8, "awsaccesskeyid": 8,
	"code": 10, "auth": 6, "session": 10, "sessionid": 10, "private_token": 3, "access_key": 8, "secret_key": 3,
}

// findURLSecrets finds the password of scheme://user:password@host and the values of secret
// query parameters.
func findURLSecrets(t *scanText, out []span) []span {
	s := t.s
	for from := 0; ; {
		k := strings.Index(s[from:], "://")
		if k < 0 {
			return out
		}
		k += from
		from = k + 3
		if k == 0 || !isAlnum(s[k-1]) {
			continue
		}
		end := from
		for end < len(s) && !isURLStop(s[end]) {
			end++
		}
		// Authority. The password may hold a byte that ends a URL (',' ')'): the URL runs on
		// after it, and its query starts after it.
		off := 0
		if ps, pe := urlPassword(s, from); pe > ps && !isPlaceholder(s[ps:pe]) {
			out = append(out, span{ps, pe, DetectorURLCredentials})
			off = pe - from
			for end = max(end, pe); end < len(s) && !isURLStop(s[end]); end++ {
			}
		}
		u := s[from:end]
		// Query.
		if q := strings.IndexByte(u[off:], '?'); q >= 0 {
			q += off
			qs := u[q+1:]
			if h := strings.IndexByte(qs, '#'); h >= 0 {
				qs = qs[:h]
			}
			base := from + q + 1
			for off := 0; off < len(qs); {
				amp := strings.IndexByte(qs[off:], '&')
				part := qs[off:]
				if amp >= 0 {
					part = qs[off : off+amp]
				}
				if eq := strings.IndexByte(part, '='); eq > 0 {
					var kb [32]byte
					key := lowerInto(kb[:0], part[:eq])
					if minLen, ok := secretParams[string(key)]; ok {
						v := part[eq+1:]
						if len(v) >= minLen && !isPlaceholder(v) {
							out = append(out, span{base + off + eq + 1, base + off + len(part), DetectorURLSecretParam})
						}
					}
				}
				if amp < 0 {
					break
				}
				off += amp + 1
			}
		}
		from = end
	}
}

// urlPassword returns the bounds of the password in the authority of the URL whose
// authority starts at s[from] (user:password@host), or an empty range. A password may hold
// bytes a URL should have percent-encoded ('/', '#', '?', ',', ')'): the authority is read to
// the first '@' after the user name's ':' (or the last of those that follow it up to the host's
// end), provided the user name is plain, what follows the '@' is a host, and the password is
// not a port with a path (host:8080/@user). When that reading
// fails, the authority is what precedes the first '/', '?' or '#', as RFC 3986 has it.
func urlPassword(s string, from int) (int, int) {
	end := from
	colon, at := -1, -1
	for end < len(s) && end-from < 256 && s[end] > ' ' && s[end] != '"' && s[end] != '\'' && s[end] != '`' && s[end] != '<' && s[end] != '>' {
		switch {
		case s[end] == ':' && colon < 0:
			colon = end
		case s[end] == '@' && colon >= 0 && at < 0:
			at = end
		}
		end++
	}
	// The password ends at the last '@' before the host's end ('/', '?', '#'): a later '@'
	// is in the path (repo.git@v1.0, /@scope/pkg, ?next=/@me).
	if at >= 0 {
		for k := at + 1; k < end && s[k] != '/' && s[k] != '?' && s[k] != '#'; k++ {
			if s[k] == '@' {
				at = k
			}
		}
	}
	if ps, pe := loosePassword(s, from, at); pe > ps {
		return ps, pe
	}
	// RFC 3986: the authority ends at the first '/', '?' or '#'; its last '@' ends the userinfo.
	ae := from
	for ae < end && s[ae] != '/' && s[ae] != '?' && s[ae] != '#' && !isURLStop(s[ae]) {
		ae++
	}
	at = strings.LastIndexByte(s[from:ae], '@')
	if at <= 0 {
		return 0, 0
	}
	at += from
	c := strings.IndexByte(s[from:at], ':')
	if c < 0 || at-(from+c+1) < 1 {
		return 0, 0
	}
	return from + c + 1, at
}

// loosePassword is urlPassword's reading of an authority that runs to the '@' at s[at].
func loosePassword(s string, from, at int) (int, int) {
	if at < 0 || at+1 >= len(s) || !(isAlnum(s[at+1]) || s[at+1] == '[') {
		return 0, 0
	}
	c := strings.IndexByte(s[from:at], ':')
	if c < 0 {
		return 0, 0
	}
	c += from
	for k := from; k < c; k++ {
		if !isEmailLocal(s[k]) && s[k] != '\\' { // a Windows domain may lead: CORP\jane
			return 0, 0 // not a user name: the '@' is in the path or query
		}
	}
	pw := s[c+1 : at]
	if pw == "" {
		return 0, 0
	}
	if sl := strings.IndexAny(pw, "/?#"); sl >= 0 {
		port := sl > 0
		for k := 0; k < sl; k++ {
			port = port && isDigit(pw[k])
		}
		if port || sl == 0 {
			return 0, 0 // host:8080/… or host:/… then an '@' in the path
		}
	}
	return c + 1, at
}

func isURLStop(c byte) bool {
	return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == '\\' || c == ')' || c == ']' || c == '}' || c == ','
}

func lowerInto(dst []byte, s string) []byte {
	if len(s) > cap(dst) {
		return nil
	}
	for i := 0; i < len(s); i++ {
		dst = append(dst, lowerASCII(s[i]))
	}
	return dst
}

// placeholderWords are words that mark a value as a stand-in for a secret (lower case). A
// word counts only where it stands as a word: set off by a non-letter or a change of case
// (fake-token, myFakeToken, AKIAIOSFODNN7EXAMPLE, YOUR_KEY), not inside another word
// (Autodom2024!, /todos).
var placeholderWords = []string{"example", "placeholder", "changeme", "change_me", "dummy", "redacted", "insert",
	"replace_me", "todo", "sample", "fake", "secret_here", "yourpass", "your_", "your-"}

// placeholderFirst indexes placeholderWords by first byte.
var placeholderFirst = func() (t [256][]uint8) {
	for i, w := range placeholderWords {
		t[w[0]] = append(t[w[0]], uint8(i))
	}
	return t
}()

// isPlaceholder reports whether v looks like a stand-in for a secret: a variable reference
// ($TOKEN, ${X}, %X%), a template (<token>, {{ secret }}), an example word, an elided value
// (sk-..., ./...), a run of one character, or a literal like "null" or "true". It errs
// towards "no": a secret it takes for a placeholder is kept, a placeholder it misses is only
// removed.
func isPlaceholder(v string) bool {
	v = strings.Trim(v, `"' `)
	if len(v) == 0 {
		return true
	}
	if isReference(v) {
		return true
	}
	var lb [256]byte
	lv := lowerInto(lb[:0], v)
	if lv == nil {
		return false
	}
	ls := string(lv) // short, stack-backed conversion is optimised away for comparisons below
	switch ls {
	case "null", "none", "nil", "true", "false", "undefined", "password", "secret", "token", "pass", "empty", "string", "required", "optional", "env", "prompt", "stdin", "file":
		return true
	}
	if strings.IndexByte(v, ' ') >= 0 && !template(v) {
		return placeholderPhrase(v)
	}
	var mixed, marks, dots bool // lower-case letters; bytes of a template or an ellipsis
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case isLower(c):
			mixed = true
		case c == '$' || c == '{' || c == '<' || c == '%':
			marks = true
		case c == '.' || c == 0xE2:
			dots = true
		}
	}
	for i := 0; i < len(ls); i++ {
		for _, k := range placeholderFirst[ls[i]] {
			if w := placeholderWords[k]; strings.HasPrefix(ls[i:], w) && standsAsWord(v, i, i+len(w), mixed) {
				return true
			}
		}
	}
	if strings.Contains(ls, "xxxx") || (marks && template(v)) || (dots && elided(v)) {
		return true
	}
	same := true
	for i := 1; i < len(v); i++ {
		if v[i] != v[0] {
			same = false
			break
		}
	}
	return same
}

// isReference reports whether v as a whole refers to a value kept elsewhere: a variable
// ($TOKEN, ${X}, $(cmd), %TOKEN%), a name in braces ({token}), or anything in square
// brackets ([YOUR_TOKEN], the engine's labels). Other
// values that start with those bytes are values ($2b$12$… is a bcrypt hash, %2B… URL-encoded
// bytes, {"id":…} a document).
func isReference(v string) bool {
	switch v[0] {
	case '$':
		return strings.HasPrefix(v, "${") || strings.HasPrefix(v, "$(") || isIdentifier(v[1:])
	case '%':
		return len(v) > 2 && v[len(v)-1] == '%' && isIdentifier(v[1:len(v)-1])
	case '[':
		return bracketLabel(v)
	case '{':
		return v[len(v)-1] == '}' && len(v) > 2 && (strings.HasPrefix(v, "{{") || bracketName(v[1:len(v)-1]))
	case '<':
		return template(v)
	}
	return false
}

// isIdentifier reports whether w is a variable name: a letter or '_', then letters, digits, '_'.
func isIdentifier(w string) bool {
	if w == "" || isDigit(w[0]) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !isAlnum(w[i]) && w[i] != '_' {
			return false
		}
	}
	return true
}

// bracketName reports whether w, found between brackets, names something: letters, digits,
// '_', '-', '.' and spaces, with at least one letter.
func bracketName(w string) bool {
	letter := false
	for i := 0; i < len(w); i++ {
		c := w[i]
		if isLetterByte(c) {
			letter = true
		} else if !isDigit(c) && c != '_' && c != '-' && c != ' ' && c != '.' {
			return false
		}
	}
	return letter
}

// phraseFillers are the words a placeholder phrase is made of beside placeholder words
// ("your password here", "insert token here").
var phraseFillers = map[string]bool{"your": true, "my": true, "the": true, "a": true, "an": true, "here": true, "goes": true,
	"put": true, "enter": true, "with": true, "of": true, "to": true, "for": true, "own": true, "actual": true, "real": true,
	"new": true, "this": true, "that": true, "is": true, "and": true, "or": true, "value": true, "password": true, "passwd": true,
	"passphrase": true, "secret": true, "token": true, "key": true, "api": true, "access": true, "auth": true, "credential": true,
	"credentials": true, "user": true, "username": true, "pass": true}

// placeholderPhrase reports whether the words of v are each a filler or a placeholder: a
// phrase that stands for a secret ("your password here"), not a passphrase ("my fake dog
// barks").
func placeholderPhrase(v string) bool {
	for w := range strings.FieldsSeq(v) {
		w = strings.Trim(w, ".,:;!?()\"'")
		var lb [64]byte
		if lw := lowerInto(lb[:0], w); w == "" || (lw != nil && phraseFillers[string(lw)]) || isPlaceholder(w) {
			continue
		}
		return false
	}
	return true
}

// standsAsWord reports whether v[i:j] is a word of its own: its start meets the value's edge,
// a non-letter or a change of case, and its end the edge, a symbol or a change of case; or
// the word is in capitals inside a value with lower-case letters (wJalr…CYEXAMPLEKEY). Digits
// may come before the word (AKIAIOSFODNN7EXAMPLE) but not after it: a word followed by a
// number is how people make passwords (Example2024, Sample1). A word that ends in a separator
// (your_) needs only its start.
func standsAsWord(v string, i, j int, mixed bool) bool {
	if mixed && j-i >= 4 && allNotLower(v[i:j]) {
		return true
	}
	start := i == 0 || !isLetterByte(v[i-1]) || (isLower(v[i-1]) && isUpper(v[i]))
	end := j == len(v) || !isAlnum(v[j]) || !isLetterByte(v[j-1]) || (isLower(v[j-1]) && isUpper(v[j]))
	return start && end
}

func allNotLower(w string) bool {
	for i := 0; i < len(w); i++ {
		if isLower(w[i]) {
			return false
		}
	}
	return true
}

// template reports whether v holds a template or reference: "<your key>", "${X}", "{{ x }}",
// "$(cmd)".
func template(v string) bool {
	found := false
	outside := 0 // letters and digits outside the templates
	scheme := 0  // where a leading scheme word and its space end (Bearer ${TOKEN})
	if sp := strings.IndexByte(v, ' '); sp > 0 && sp < 25 && isSchemeWord(v[:sp]) {
		scheme = sp + 1
	}
	for i := scheme; i < len(v); {
		if n := templateAt(v, i); n > 0 {
			found = true
			i += n
			continue
		}
		if isAlnum(v[i]) {
			outside++
		}
		i++
	}
	// A template inside a value (Hunter22${x}, S3cr3t<a>pw) does not make it a stand-in.
	return found && outside <= maxOutsideTemplate
}

// maxOutsideTemplate is how many letters and digits a value may hold besides its templates
// and still be one (sk-${KEY}, ${HOST}:${PORT}).
const maxOutsideTemplate = 5

// templateAt returns the length of the template that starts at v[i] (${X}, {{ x }}, $(cmd),
// <name>, %s), or 0.
func templateAt(v string, i int) int {
	rest := v[i:]
	for _, m := range [...]struct{ open, close string }{{"${", "}"}, {"{{", "}}"}, {"$(", ")"}} {
		if strings.HasPrefix(rest, m.open) {
			if c := strings.Index(rest[len(m.open):], m.close); c >= 0 {
				return len(m.open) + c + len(m.close)
			}
			return 0
		}
	}
	switch {
	case strings.HasPrefix(rest, "%s"):
		return 2
	case rest[0] == '<':
		j := 1
		for j < len(rest) && (isAlnum(rest[j]) || rest[j] == '_' || rest[j] == '-' || rest[j] == ' ' || rest[j] == '.') {
			j++
		}
		if j > 1 && j < len(rest) && rest[j] == '>' {
			return j + 1
		}
	}
	return 0
}

// bracketLabel reports whether v, which starts with '[', is a label as a whole: a name in
// square brackets ([YOUR_TOKEN], the engine's [SECRET]), an engine label cut short by the end
// of a URL's part ([PASSWORD), or an IPv6 host ([::1]). Other values that start with '['
// ([7hx!Kq2zzP, [Hunter22]x) are values.
func bracketLabel(v string) bool {
	w := v[1:]
	if strings.HasSuffix(w, "]") {
		w = w[:len(w)-1]
		if bracketName(w) || isIPv6Literal(w) {
			return true
		}
		return false
	}
	if w == "" {
		return true
	}
	for i := 0; i < len(w); i++ {
		if !isUpper(w[i]) && w[i] != '_' {
			return false
		}
	}
	return true
}

// isIPv6Literal reports whether w is made of hex digits, ':' and '.', with a ':'.
func isIPv6Literal(w string) bool {
	colon := false
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == ':':
			colon = true
		case isDigit(c) || c == '.' || ('a' <= c|0x20 && c|0x20 <= 'f'):
		default:
			return false
		}
	}
	return colon
}

// elided reports whether v is cut short with an ellipsis and keeps at most a short prefix of
// what it stands for (sk-ant-api03-..., ghp_…): longer text around the dots is a value.
func elided(v string) bool {
	if !strings.Contains(v, "...") && !strings.Contains(v, "…") {
		return false
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if isAlnum(v[i]) {
			n++
		}
	}
	return n <= 12
}

// secretKeyMask is the keywords of keys whose value findAssignments may report.
var secretKeyMask = kwBit("pass") | kwBit("token") | kwBit("secret") | kwBit("key") | kwBit("auth") | kwBit("cred") |
	kwBit("bearer") | kwBit("cookie")

// keyedDetectors report a whole value because of its key or flag; their replacement is a
// label that no detector reads again.
var keyedDetectors = setOf(DetectorAssignment, DetectorHighEntropy, DetectorAuthHeader, DetectorCommandLine,
	DetectorURLCredentials, DetectorURLSecretParam)

// keyClass classifies an assignment key: 2 for password-like keys (any value is a secret),
// 1 for token-like keys (only random-looking values are), 0 otherwise.
func keyClass(key string) int {
	key = strings.Trim(key, `"'- `)
	if (len(key) < 3 && !strings.EqualFold(key, "pw")) || len(key) > 64 || isRedactedToken(key) || holdsRedaction(key) {
		// A label ([AWS_ACCESS_KEY]) or pseudonym (secret:k1:0da2782c84929ada) names what was
		// removed, not a setting: read as a key, it would make redacting the text again (a
		// store re-redacted, a collector forwarding to another) remove the word after it.
		return 0
	}
	var kb [64]byte
	lk := string(lowerInto(kb[:0], key))
	cls := 0
	switch {
	case containsAny(lk, "password", "passwd", "passphrase", "passcode", "secret", "credential"),
		nameOrSuffix(lk, "pwd"), nameOrSuffix(lk, "pass"), nameOrSuffix(lk, "pw"), nameOrSuffix(lk, "pin"), lk == "otp",
		len(key) > 4 && (strings.HasSuffix(key, "Pass") || strings.HasSuffix(key, "Pwd")):
		cls = 2
	case containsAny(lk, "token", "apikey", "api_key", "api-key", "accesskey", "access_key", "private_key", "privatekey", "auth",
		"signature", "session_key", "sessionkey", "cookie", "bearer", "jwt"),
		lk == "key" || strings.HasSuffix(lk, "_key") || strings.HasSuffix(lk, "-key") || strings.HasSuffix(lk, ".key") ||
			(len(key) > 3 && strings.HasSuffix(key, "Key")):
		cls = 1
	default:
		return 0
	}
	if namesNoSecret(lk) {
		return 0
	}
	return cls
}

// nameOrSuffix reports whether the lower-case key lk is w, or ends with w after '_', '-' or
// '.' (db_pass, db-pass, smtp.pass).
func nameOrSuffix(lk, w string) bool {
	if lk == w {
		return true
	}
	n := len(lk) - len(w)
	return n > 0 && strings.HasSuffix(lk, w) && (lk[n-1] == '_' || lk[n-1] == '-' || lk[n-1] == '.')
}

// namesNoSecret reports whether the lower-case key lk names something about a secret (its
// id, name, type, path, length, expiry…) rather than the secret itself.
func namesNoSecret(lk string) bool {
	if lk == "" {
		return false
	}
	for _, suf := range keySuffixByLast[lk[len(lk)-1]] {
		if strings.HasSuffix(lk, suf) {
			return true
		}
	}
	return false
}

// keySuffixByLast indexes keySuffixNotSecret by last byte.
var keySuffixByLast = func() (t [256][]string) {
	for _, suf := range keySuffixNotSecret {
		t[suf[len(suf)-1]] = append(t[suf[len(suf)-1]], suf)
	}
	return t
}()

// inheritsSecret reports whether a member key under a password-like key holds the secret too
// ({"password":{"value":"…"}}, {"credentials":{"db":"…"}}): any key that does not name
// something about it (username, type, expires_at stay).
func inheritsSecret(key string) bool {
	var kb [64]byte
	lk := lowerInto(kb[:0], key)
	return lk != nil && !namesNoSecret(string(lk))
}

// holdsRedaction reports whether the word w holds a label or a pseudonym the engine wrote
// beside other characters ("#[GITHUB_TOKEN]", "(secret:k1:0da2782c84929ada)"): a word the
// first pass made, which names no setting.
func holdsRedaction(w string) bool {
	for rest := w; ; rest = rest[1:] {
		i := strings.IndexByte(rest, '[')
		if i < 0 {
			break
		}
		rest = rest[i:]
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			break
		}
		if isRedactedToken(rest[:j+1]) {
			return true
		}
	}
	if len(w) > pseudonymHexLen+2 {
		t := strings.TrimFunc(w, func(r rune) bool { return r > 0x7f || !isAlnum(byte(r)) })
		return t != w && isPseudonym(t)
	}
	return false
}

func containsAny(s string, ws ...string) bool {
	for _, w := range ws {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

var keySuffixNotSecret = []string{"_id", "_ids", "id", "_name", "name", "_count", "count", "_type", "type", "_length", "_len", "_size", "size",
	"_url", "_uri", "_path", "path", "_file", "file", "_env", "_ttl", "_expiry", "_expires", "_expires_at", "expiration", "tokens",
	"_at", "_hash", "_version", "_kind", "_mode", "mode", "_format", "_field", "_header", "_prefix", "_policy", "_limit", "limit",
	"_enabled", "enabled", "_required", "_stdin", "-stdin", "_source", "_method", "method", "_endpoint", "_provider", "provider",
	"_rotation", "_hint", "_strength", "_min", "_max", "_reset", "reset", "_changed", "_label", "_usage", "_budget", "_index",
	"_seconds", "_secs", "_ms", "_minutes", "_hours", "_days", "_retries", "_attempts", "_timeout"}

// findAssignments finds key=value and key: value pairs whose key names a secret: env files,
// YAML, JSON, INI, HCL and prose. Password-like keys report any real value; token-like keys
// report only values that look random (length, entropy and mixed character classes).
func findAssignments(t *scanText, out []span) []span {
	s := t.s
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '=' && c != ':' {
			continue
		}
		if c == ':' && i+2 < len(s) && s[i+1] == '/' && s[i+2] == '/' {
			continue
		}
		if c == '=' && i+1 < len(s) && s[i+1] == '=' {
			i++
			continue
		}
		// Key, backwards.
		j := i
		for j > 0 && s[j-1] == ' ' {
			j--
		}
		if c == '=' && j > 1 && s[j-1] == ']' && (s[j-2] == '"' || s[j-2] == '\'') {
			j-- // a subscript: config['password'] = …, os.environ["DB_PASSWORD"] = …
		}
		quoted := byte(0)
		if j > 0 && (s[j-1] == '"' || s[j-1] == '\'') {
			quoted = s[j-1]
			j--
		}
		ke := j
		for j > 0 && (isAlnum(s[j-1]) || s[j-1] == '_' || s[j-1] == '-' || s[j-1] == '.') {
			j--
		}
		if ke == j || ke-j > 64 {
			continue
		}
		if quoted != 0 && (j == 0 || s[j-1] != quoted) {
			continue
		}
		if c == ':' && quoted == 0 && builtinEntity(s[j:ke]) {
			// A pseudonym the engine wrote (secret:k1:0da2782c84929ada) is not a key and its
			// value (see keyClass). Only the built-in entities' names count: password:
			// followed by 16 hex digits is still a password.
			we := i
			for we < len(s) && (isAlnum(s[we]) || s[we] == '_' || s[we] == '-' || s[we] == ':') {
				we++
			}
			if isPseudonym(s[j:we]) {
				i = we - 1
				continue
			}
		}
		cls := keyClass(s[j:ke])
		if cls == 0 {
			continue
		}
		lineStart := j == 0 || s[j-1] == '\n' || (quoted != 0 && (j == 1 || s[j-2] == '\n' || s[j-2] == ' ' || s[j-2] == '{' || s[j-2] == ','))
		if quoted == 0 {
			k := j
			for k > 0 && (s[k-1] == ' ' || s[k-1] == '\t') {
				k--
			}
			lineStart = lineStart || k == 0 || s[k-1] == '\n' || strings.HasSuffix(s[:k], "export")
		}
		// Value, forwards.
		v := i + 1
		for v < len(s) && (s[v] == ' ' || s[v] == '\t') {
			v++
		}
		if v >= len(s) {
			continue
		}
		var vs, ve int
		if q := s[v]; q == '"' || q == '\'' || q == '`' {
			e := strings.IndexByte(s[v+1:], q)
			if e < 0 {
				continue
			}
			vs, ve = v+1, v+1+e
			if strings.IndexByte(s[vs:ve], '\n') >= 0 {
				continue
			}
		} else {
			vs = v
			ve = v
			toEOL := c == ':' && lineStart && quoted == 0
			envLine := c == '=' && lineStart && quoted == 0
			// A key=value that opens a quoted string ('password=correct horse battery staple',
			// a form body) runs to its closing quote or the next '&'.
			var toQuote byte
			if c == '=' && quoted == 0 && cls == 2 && j > 0 && (s[j-1] == '"' || s[j-1] == '\'') {
				toQuote = s[j-1]
			}
			for ve < len(s) {
				b := s[ve]
				if toQuote != 0 {
					if b == toQuote || b == '&' || b == '\n' || b == '\r' {
						break
					}
					ve++
					continue
				}
				if b == '\n' || b == '\r' || b == '"' || b == '\'' || b == '`' || (!toEOL && (b == ' ' || b == '\t')) ||
					(!toEOL && !envLine && (b == ',' || b == ';' || b == '&' || b == '}' || b == ')' || b == ']' || b == '|')) {
					break
				}
				ve++
			}
			for ve > vs && (s[ve-1] == '.' || s[ve-1] == ' ' || s[ve-1] == ',') {
				ve--
			}
			if c == ':' && cls == 2 && isProse(s[vs:ve], lineStart) {
				continue // prose: "password: reset it tomorrow"
			}
		}
		val := s[vs:ve]
		if len(val) < 3 || isPlaceholder(val) || looksLikeIdentifier(val) {
			i = max(i, ve-1) // the value is not scanned for keys again: linear time
			continue
		}
		if cls == 2 {
			out = append(out, span{vs, ve, DetectorAssignment})
		} else if looksRandom(val) {
			out = append(out, span{vs, ve, DetectorHighEntropy})
		}
		i = ve
	}
	return out
}

// isProse reports whether an unquoted value after "key:" reads as words rather than a
// secret: lower-case words separated by spaces (or one such word outside YAML).
func isProse(v string, lineStart bool) bool {
	words := strings.Fields(v)
	if len(words) == 0 {
		return true
	}
	if len(words) == 1 && lineStart {
		return false
	}
	for _, w := range words {
		if !isLowerWord(strings.TrimRight(w, ".,!?")) {
			return false
		}
	}
	return true
}

// isLowerWord reports whether w is only lower-case ASCII letters (a dictionary word).
func isLowerWord(w string) bool {
	for i := 0; i < len(w); i++ {
		if !isLower(w[i]) {
			return false
		}
	}
	return true
}

// looksLikeIdentifier reports whether v, under a secret-like key, names where a secret is
// rather than being one: a path of two segments or more (/run/secrets/db, ~/.pgpass,
// ./pw.txt) or an http(s) URL, with no space. A number is a secret there (a PIN, a numeric
// password), and so is a word that merely starts with '/' or "http".
func looksLikeIdentifier(v string) bool {
	if strings.ContainsAny(v, " \t\n") {
		return false
	}
	if strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://") {
		return true
	}
	if strings.HasPrefix(v, "~/") || strings.HasPrefix(v, "./") {
		return true
	}
	return v[0] == '/' && strings.IndexByte(v[1:], '/') > 0
}

// looksRandom reports whether v is a plausible generated credential: at least 16 bytes, no
// spaces, entropy of at least 3.2 bits per byte, and at least two character classes.
func looksRandom(v string) bool {
	if len(v) < 16 || strings.IndexByte(v, ' ') >= 0 {
		return false
	}
	var lower, upper, digit bool
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case isLower(c):
			lower = true
		case isUpper(c):
			upper = true
		case isDigit(c):
			digit = true
		}
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit} {
		if b {
			classes++
		}
	}
	return classes >= 2 && entropy(v) >= 3.2
}
