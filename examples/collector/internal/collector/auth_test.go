package collector_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/coworkgov/cowork/examples/collector/internal/collector"
	"github.com/coworkgov/cowork/internal/corpus"
)

const (
	ingestTok = "ingest-0123456789"
	readTok   = "read-0123456789"
	adminTok  = "admin-0123456789"
	legacyTok = "legacy-0123456789"
)

func rolesConfig(t *testing.T, dir string) collector.Config {
	toks, err := collector.ParseTokens("ingest:" + ingestTok + ", read:" + readTok + ",admin:" + adminTok)
	require.NoError(t, err)
	cfg := fastChains(dir)
	cfg.Tokens, cfg.Token = toks, legacyTok
	return cfg
}

func bearer(tok string) []string {
	if tok == "" {
		return nil
	}
	return []string{"Authorization", "Bearer " + tok}
}

// TestRoles checks every role's allowed and refused calls: 401 without a known token, 403
// with a known token of the wrong role.
func TestRoles(t *testing.T) {
	_, url := start(t, rolesConfig(t, t.TempDir()))
	f := corpus.Logs(corpus.JSON, "deny")[0]
	queries := []string{"/api/chains", "/api/chains/nope", "/api/users", "/api/sessions", "/api/stats", "/metrics"}
	for _, tc := range []struct {
		name   string
		tok    string
		ingest int
		query  int
		health int
	}{
		{"none", "", http.StatusUnauthorized, http.StatusUnauthorized, http.StatusUnauthorized},
		{"wrong", "wrong-token", http.StatusUnauthorized, http.StatusUnauthorized, http.StatusUnauthorized},
		{"prefix", adminTok[:len(adminTok)-1], http.StatusUnauthorized, http.StatusUnauthorized, http.StatusUnauthorized},
		{"ingest", ingestTok, http.StatusOK, http.StatusForbidden, http.StatusOK},
		{"read", readTok, http.StatusForbidden, http.StatusOK, http.StatusOK},
		{"admin", adminTok, http.StatusOK, http.StatusOK, http.StatusOK},
		{"legacy admin", legacyTok, http.StatusOK, http.StatusOK, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := bearer(tc.tok)
			assert.Equal(t, tc.ingest, postBody(t, url, "/v1/logs", "application/json", f.Data, h...).StatusCode)
			assert.Equal(t, tc.ingest, postBody(t, url, "/v1/metrics", "application/json", []byte(`{}`), h...).StatusCode)
			for _, p := range queries {
				want := tc.query
				if want == http.StatusOK && p == "/api/chains/nope" {
					want = http.StatusNotFound
				}
				assert.Equal(t, want, getJSON(t, url+p, nil, h...), p)
			}
			assert.Equal(t, tc.health, getJSON(t, url+"/api/health", nil, h...))
		})
	}
	req, err := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+readTok)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	// 3 unknown tokens × 2 OTLP paths; the read token × 2.
	assert.Contains(t, string(page), `cowork_collector_requests_refused_total{reason="unauthorized"} 6`)
	assert.Contains(t, string(page), `cowork_collector_requests_refused_total{reason="forbidden"} 2`)
}

// TestRolesGRPC: over gRPC only ingest and admin tokens may export.
func TestRolesGRPC(t *testing.T) {
	c, err := collector.New(context.Background(), rolesConfig(t, t.TempDir()))
	require.NoError(t, err)
	client, _ := serveGRPC(t, c)
	var req collogspb.ExportLogsServiceRequest
	require.NoError(t, proto.Unmarshal(corpus.Logs(corpus.Protobuf, "skill")[0].Data, &req))
	for _, tc := range []struct {
		tok  string
		want codes.Code
	}{{"", codes.Unauthenticated}, {"nope", codes.Unauthenticated}, {readTok, codes.PermissionDenied}, {ingestTok, codes.OK}, {adminTok, codes.OK}} {
		ctx := context.Background()
		if tc.tok != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tc.tok)
		}
		_, err := client.Export(ctx, &req)
		assert.Equal(t, tc.want, status.Code(err), tc.tok)
	}
}

// TestAccessLog: every query-API request leaves a row with the role, the token's fingerprint
// (never the token), the path, the query with known parameters kept and others masked, and
// the status; the collector's log never carries a token either.
func TestAccessLog(t *testing.T) {
	dir := t.TempDir()
	cfg := rolesConfig(t, dir)
	logs := &lockedBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, url := start(t, cfg)
	require.Equal(t, http.StatusOK, getJSON(t, url+"/api/chains?user=u-1&session=s-1&limit=5&access_token=hunter2", nil, bearer(readTok)...))
	require.Equal(t, http.StatusForbidden, getJSON(t, url+"/api/users?since=7d", nil, bearer(ingestTok)...))
	require.Equal(t, http.StatusUnauthorized, getJSON(t, url+"/api/stats", nil, bearer("wrong")...))
	require.Equal(t, http.StatusOK, getJSON(t, url+"/api/stats", nil, bearer(adminTok)...))

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "cowork.db")+"?mode=ro&_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	defer db.Close()
	type row struct {
		role, fp, method, path, query string
		status                        int
	}
	var got []row
	require.Eventually(t, func() bool {
		got = got[:0]
		rs, err := db.Query(`SELECT role, fingerprint, method, path, query, status FROM access_log WHERE time <> '' ORDER BY id`)
		require.NoError(t, err)
		defer rs.Close()
		for rs.Next() {
			var r row
			require.NoError(t, rs.Scan(&r.role, &r.fp, &r.method, &r.path, &r.query, &r.status))
			got = append(got, r)
		}
		return len(got) >= 4
	}, 10*time.Second, 20*time.Millisecond)
	fp := func(tok string) string { return collector.Token{Value: tok}.Fingerprint() }
	assert.Equal(t, []row{
		{"read", fp(readTok), "GET", "/api/chains", "access_token=REDACTED&limit=5&session=s-1&user=u-1", 200},
		{"ingest", fp(ingestTok), "GET", "/api/users", "since=7d", 403},
		{"none", "", "GET", "/api/stats", "", 401},
		{"admin", fp(adminTok), "GET", "/api/stats", "", 200},
	}, got)
	assert.Len(t, fp(readTok), 12)
	for _, tok := range []string{ingestTok, readTok, adminTok, legacyTok, "hunter2"} {
		assert.NotContains(t, logs.String(), tok)
	}
	assert.Contains(t, logs.String(), fp(legacyTok))
}

func TestTokenConfig(t *testing.T) {
	toks, err := collector.ParseTokens(" ingest:a ,READ:b,,admin:c")
	require.NoError(t, err)
	assert.Equal(t, []collector.Token{{Role: collector.RoleIngest, Value: "a"}, {Role: collector.RoleRead, Value: "b"}, {Role: collector.RoleAdmin, Value: "c"}}, toks)
	for _, bad := range []string{"a", "ingest:", "root:x"} {
		_, err := collector.ParseTokens(bad)
		require.ErrorIs(t, err, collector.ErrTokens, bad)
		assert.NotContains(t, err.Error(), "x")
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "tokens")
	require.NoError(t, os.WriteFile(path, []byte("# comment\n\ningest  tok-i\nadmin tok-a\n"), 0o644))
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	toks, err = collector.LoadTokenFile(path, log)
	require.NoError(t, err)
	assert.Equal(t, []collector.Token{{Role: collector.RoleIngest, Value: "tok-i"}, {Role: collector.RoleAdmin, Value: "tok-a"}}, toks)
	assert.Contains(t, logs.String(), "chmod 600")
	assert.NotContains(t, logs.String(), "tok-")

	logs.Reset()
	require.NoError(t, os.Chmod(path, 0o600))
	_, err = collector.LoadTokenFile(path, log)
	require.NoError(t, err)
	assert.Empty(t, logs.String())

	require.NoError(t, os.WriteFile(path, []byte("ingest tok-i\nsuperuser tok-secret\n"), 0o600))
	_, err = collector.LoadTokenFile(path, log)
	require.ErrorIs(t, err, collector.ErrTokens)
	assert.Contains(t, err.Error(), "line 2")
	assert.False(t, strings.Contains(err.Error(), "tok-secret"))

	_, err = collector.New(context.Background(), collector.Config{DataDir: t.TempDir(), Tokens: []collector.Token{{Value: "x"}}})
	require.ErrorIs(t, err, collector.ErrTokens)
}

// lockedBuffer is a log destination safe for the collector's goroutines and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
