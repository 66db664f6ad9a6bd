package collector

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Role is what a bearer token may do. The zero value, RoleUnknown, is no role at all.
type Role uint8

// Roles.
const (
	RoleUnknown Role = iota
	// RoleIngest may send telemetry: the OTLP endpoints (HTTP /v1/logs, /v1/metrics, gRPC).
	RoleIngest
	// RoleRead may use the query API (/api/chains, /api/sessions, /api/users, /api/stats) and
	// /metrics.
	RoleRead
	// RoleAdmin may do both, and run retention and exports.
	RoleAdmin
)

// String returns the role's name as written in token files: ingest, read, admin.
func (r Role) String() string {
	switch r {
	case RoleIngest:
		return "ingest"
	case RoleRead:
		return "read"
	case RoleAdmin:
		return "admin"
	}
	return "unknown"
}

// ParseRole reads a role name (ingest, read, admin).
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ingest":
		return RoleIngest, nil
	case "read":
		return RoleRead, nil
	case "admin":
		return RoleAdmin, nil
	}
	// The text is not quoted: a token written in the role's place must not reach a log.
	return RoleUnknown, fmt.Errorf("%w: unknown role (want ingest, read or admin)", ErrTokens)
}

// ErrTokens reports a malformed token list or token file.
var ErrTokens = errors.New("collector: bad token configuration")

// Token is a bearer token and its role.
type Token struct {
	Role  Role
	Value string
}

// Fingerprint is what logs and the access log show of a token: the first 12 hex digits of
// its SHA-256, never the token itself.
func (t Token) Fingerprint() string { return fingerprint(t.Value) }

func fingerprint(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:6])
}

// ParseTokens reads a token list as $COWORK_TOKENS holds it: "role:token" items separated by
// commas, e.g. "ingest:abc,read:def". Blank items are skipped.
func ParseTokens(s string) ([]Token, error) {
	var out []Token
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		role, tok, ok := strings.Cut(item, ":")
		if !ok || strings.TrimSpace(tok) == "" {
			return nil, fmt.Errorf("%w: item %d is not role:token", ErrTokens, i+1)
		}
		r, err := ParseRole(role)
		if err != nil {
			return nil, err
		}
		out = append(out, Token{Role: r, Value: strings.TrimSpace(tok)})
	}
	return out, nil
}

// ReadTokens reads a token file: one "role token" a line; blank lines and lines starting
// with # are skipped. Errors name the line, never the token.
func ReadTokens(rd io.Reader) ([]Token, error) {
	var out []Token
	sc := bufio.NewScanner(rd)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("%w: line %d is not \"role token\"", ErrTokens, n)
		}
		r, err := ParseRole(f[0])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, Token{Role: r, Value: f[1]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokens, err)
	}
	return out, nil
}

// LoadTokenFile reads the token file at path with [ReadTokens]. A file that others than its
// owner may read or write (mode not 0600 or stricter) is still used, with a warning on log.
func LoadTokenFile(path string, log *slog.Logger) ([]Token, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokens, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 && log != nil {
		log.Warn("collector: token file is readable or writable by others; chmod 600 it", "path", path, "mode", fi.Mode().Perm().String())
	}
	toks, err := ReadTokens(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return toks, nil
}

// principal is who made a request: a role and its token's fingerprint. With no token
// configured every request is anonymous with every right.
type principal struct {
	role        Role
	fingerprint string
}

func (p principal) String() string {
	if p.fingerprint == "" {
		return p.role.String()
	}
	return p.role.String() + ":" + p.fingerprint
}

// authn holds the configured tokens as hashes of their Authorization header values.
type authn struct {
	hashes [][sha256.Size]byte
	roles  []Role
	fps    []string
}

func newAuthn(toks []Token) *authn {
	a := &authn{}
	for _, t := range toks {
		a.hashes = append(a.hashes, sha256.Sum256([]byte("Bearer "+t.Value)))
		a.roles = append(a.roles, t.Role)
		a.fps = append(a.fps, t.Fingerprint())
	}
	return a
}

func (a *authn) open() bool { return len(a.hashes) == 0 }

// identify returns who an Authorization header value names. The value is hashed and compared
// against every configured token, in constant time and without stopping at a match, so the
// time taken tells nothing about which token (if any) matched.
func (a *authn) identify(header string) (principal, bool) {
	if a.open() {
		return principal{role: RoleAdmin}, true
	}
	// The scheme is case-insensitive (RFC 9110); normalise it before hashing.
	if len(header) > 7 && strings.EqualFold(header[:7], "bearer ") {
		header = "Bearer " + strings.TrimLeft(header[7:], " ")
	}
	got := sha256.Sum256([]byte(header))
	match := -1
	for i := range a.hashes {
		eq := subtle.ConstantTimeCompare(got[:], a.hashes[i][:])
		match = subtle.ConstantTimeSelect(eq, i, match)
	}
	if match < 0 {
		return principal{}, false
	}
	return principal{role: a.roles[match], fingerprint: a.fps[match]}, true
}

// allows reports whether role may do what need requires: admin may do everything.
func allows(have, need Role) bool { return have == need || have == RoleAdmin }

// guard answers 401 without a known token and 403 when its role is not among roles (any
// role when roles is empty); otherwise it serves next. It tells [Collector.logged] who asked.
func (c *Collector) guard(realm string, next http.Handler, roles ...Role) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := c.authn.identify(r.Header.Get("Authorization"))
		if !ok {
			if realm == "otlp" {
				c.otlpUnauthorized.Add(1)
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
			apiError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		if slot, ok := r.Context().Value(whoKey{}).(*principal); ok {
			*slot = p
		}
		if !permitted(p.role, roles) {
			if realm == "otlp" {
				c.otlpForbidden.Add(1)
			}
			c.cfg.Logger.Info("collector: refused: role not allowed", "principal", p.String(), "path", r.URL.Path)
			apiError(w, http.StatusForbidden, "this token's role ("+p.role.String()+") may not do this")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func permitted(have Role, roles []Role) bool {
	if len(roles) == 0 {
		return true
	}
	for _, need := range roles {
		if allows(have, need) {
			return true
		}
	}
	return false
}

// grpcAuth is the gRPC interceptor of the OTLP services: ingest or admin tokens only.
func (c *Collector) grpcAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	var header string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("authorization"); len(v) > 0 {
			header = v[0]
		}
	}
	p, ok := c.authn.identify(header)
	if !ok {
		c.otlpUnauthorized.Add(1)
		return nil, status.Error(codes.Unauthenticated, "missing or wrong bearer token")
	}
	if !allows(p.role, RoleIngest) {
		c.otlpForbidden.Add(1)
		c.cfg.Logger.Info("collector: refused: role not allowed", "principal", p.String(), "method", info.FullMethod)
		return nil, status.Error(codes.PermissionDenied, "this token's role ("+p.role.String()+") may not send telemetry")
	}
	return handler(ctx, req)
}
