package collector

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	defaultLimit = 100
	maxLimit     = 1000
	defaultRange = 7 * 24 * time.Hour
)

// routes adds the query API and /metrics to mux, each behind the roles that may use it (when
// tokens are configured) and recorded in access_log.
func (c *Collector) routes(mux *http.ServeMux) {
	read := func(h http.HandlerFunc) http.Handler { return c.logged(c.guard("cowork", h, RoleRead)) }
	mux.Handle("GET /api/health", c.logged(c.guard("cowork", http.HandlerFunc(c.health))))
	mux.Handle("GET /api/chains", read(c.listChains))
	mux.Handle("GET /api/chains/{prompt_id}", read(c.getChain))
	mux.Handle("GET /api/sessions", read(c.listSessions))
	mux.Handle("GET /api/users", read(c.listUsers))
	mux.Handle("GET /api/stats", read(c.stats))
	mux.Handle("GET /metrics", read(c.serveMetrics))
	mux.Handle("GET /api/export", c.logged(c.guard("cowork", http.HandlerFunc(c.export), RoleAdmin)))
	mux.Handle("POST /api/retention/run", c.logged(c.guard("cowork", http.HandlerFunc(c.runRetention), RoleAdmin)))
}

func apiError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"error": msg})
	_, _ = w.Write(append(b, '\n'))
}

func writeJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}

func (c *Collector) health(w http.ResponseWriter, _ *http.Request) {
	if !c.ready.Load() {
		apiError(w, http.StatusServiceUnavailable, "not ready")
		return
	}
	writeJSON(w, []byte(`{"status":"ok"}`))
}

// parseTime reads a query time: RFC 3339, a date (2026-11-24), or a duration back from now
// ("24h", "7d").
func parseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if strings.HasSuffix(s, "d") {
		if n, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("bad time %q: use RFC 3339, YYYY-MM-DD, or a duration such as 24h or 7d", s)
}

// window reads since and until; since defaults to def before now (0: no lower bound).
func window(r *http.Request, def time.Duration) (since, until string, err error) {
	now := time.Now()
	s, err := parseTime(r.URL.Query().Get("since"), now)
	if err != nil {
		return "", "", err
	}
	u, err := parseTime(r.URL.Query().Get("until"), now)
	if err != nil {
		return "", "", err
	}
	if s.IsZero() && def > 0 {
		s = now.Add(-def)
	}
	since = fmtTime(s)
	until = "9999"
	if !u.IsZero() {
		until = fmtTime(u)
	}
	return since, until, nil
}

func limit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad limit %q", s)
	}
	return min(n, maxLimit), nil
}

// listChains serves GET /api/chains?user=&session=&since=&until=&limit=: the latest chains
// first. user matches the account uuid, the account id or the (redacted) e-mail.
func (c *Collector) listChains(w http.ResponseWriter, r *http.Request) {
	since, until, err := window(r, 0)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	n, err := limit(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := `SELECT json FROM chains WHERE started_at >= ? AND started_at < ?`
	args := []any{since, until}
	if u := r.URL.Query().Get("user"); u != "" {
		q += ` AND (account_uuid = ? OR account_id = ? OR email = ?)`
		args = append(args, u, u, u)
	}
	if s := r.URL.Query().Get("session"); s != "" {
		q += ` AND session_id = ?`
		args = append(args, s)
	}
	q += ` ORDER BY started_at DESC, id LIMIT ?`
	args = append(args, n)
	rows, err := c.store.r.QueryContext(r.Context(), q, args...)
	if err != nil {
		c.queryFailed(w, err)
		return
	}
	defer rows.Close()
	out := []byte(`{"chains":[`)
	first := true
	for rows.Next() {
		var js []byte
		if err := rows.Scan(&js); err != nil {
			c.queryFailed(w, err)
			return
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, js...)
	}
	if err := rows.Err(); err != nil {
		c.queryFailed(w, err)
		return
	}
	writeJSON(w, append(out, "]}"...))
}

func (c *Collector) queryFailed(w http.ResponseWriter, err error) {
	c.cfg.Logger.Error("collector: query failed", "err", err)
	apiError(w, http.StatusInternalServerError, "query failed")
}

// getChain serves GET /api/chains/{prompt_id}[?session=]: the chain with its stored events.
func (c *Collector) getChain(w http.ResponseWriter, r *http.Request) {
	pid := r.PathValue("prompt_id")
	q := `SELECT session_id, json, ckey FROM chains WHERE prompt_id = ?`
	args := []any{pid}
	if s := r.URL.Query().Get("session"); s != "" {
		q += ` AND session_id = ?`
		args = append(args, s)
	}
	q += ` ORDER BY stored_at DESC LIMIT 1`
	var session string
	var js []byte
	var ckey int64
	err := c.store.r.QueryRowContext(r.Context(), q, args...).Scan(&session, &js, &ckey)
	if errors.Is(err, sql.ErrNoRows) {
		apiError(w, http.StatusNotFound, "no stored chain has this prompt id (open chains appear once they close)")
		return
	}
	if err != nil {
		c.queryFailed(w, err)
		return
	}
	rows, err := c.store.r.QueryContext(r.Context(), `SELECT name, time, time_unix_nano, seq, attributes FROM events
		WHERE ckey = ? AND session_id = ? AND prompt_id = ? ORDER BY time, time_unix_nano, seq`, chainNumber(chainKey{session, pid}, ckey), session, pid)
	if err != nil {
		c.queryFailed(w, err)
		return
	}
	defer rows.Close()
	out := append(js[:len(js)-1:len(js)-1], `,"events":[`...)
	first := true
	for rows.Next() {
		var name, tm, attrs string
		var tun, seq int64
		if err := rows.Scan(&name, &tm, &tun, &seq, &attrs); err != nil {
			c.queryFailed(w, err)
			return
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, `{"name":`...)
		out = appendJSONString(out, name)
		out = append(out, `,"time":`...)
		out = appendJSONString(out, tm)
		out = append(out, `,"time_unix_nano":`...)
		out = strconv.AppendInt(out, tun, 10)
		if seq >= 0 {
			out = append(out, `,"sequence":`...)
			out = strconv.AppendInt(out, seq, 10)
		}
		out = append(out, `,"attributes":`...)
		out = append(out, attrs...)
		out = append(out, '}')
	}
	if err := rows.Err(); err != nil {
		c.queryFailed(w, err)
		return
	}
	writeJSON(w, append(out, "]}"...))
}

// userRow is one line of GET /api/users.
type userRow struct {
	AccountUUID  string  `json:"account_uuid"`
	AccountID    string  `json:"account_id,omitempty"`
	Email        string  `json:"email,omitempty"`
	CostUSD      float64 `json:"cost_usd"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	Prompts      int64   `json:"prompts"`
	Sessions     int64   `json:"sessions"`
	ToolCalls    int64   `json:"tool_calls"`
	Rejected     int64   `json:"rejected"`
	Errors       int64   `json:"api_errors"`
	FirstAt      string  `json:"first_at"`
	LastAt       string  `json:"last_at"`
}

// listUsers serves GET /api/users?since=&until=: per-user totals over the chains that started
// in the window (default: the last 7 days), highest cost first.
func (c *Collector) listUsers(w http.ResponseWriter, r *http.Request) {
	since, until, err := window(r, defaultRange)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	rows, err := c.store.r.QueryContext(r.Context(), `SELECT account_uuid, max(account_id), max(email), total(cost_usd),
		total(input_tokens), total(output_tokens), sum(prompt_id <> ''), count(DISTINCT session_id), total(tool_calls),
		total(rejected), total(api_errors), min(started_at), max(ended_at)
		FROM chains WHERE started_at >= ? AND started_at < ? GROUP BY account_uuid ORDER BY total(cost_usd) DESC`, since, until)
	if err != nil {
		c.queryFailed(w, err)
		return
	}
	defer rows.Close()
	users := []userRow{}
	for rows.Next() {
		var u userRow
		var in, out, tools, rej, errs float64
		if err := rows.Scan(&u.AccountUUID, &u.AccountID, &u.Email, &u.CostUSD, &in, &out, &u.Prompts, &u.Sessions, &tools, &rej, &errs, &u.FirstAt, &u.LastAt); err != nil {
			c.queryFailed(w, err)
			return
		}
		u.InputTokens, u.OutputTokens, u.ToolCalls, u.Rejected, u.Errors = int64(in), int64(out), int64(tools), int64(rej), int64(errs)
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		c.queryFailed(w, err)
		return
	}
	b, _ := json.Marshal(map[string]any{"since": since, "until": strings.TrimPrefix(until, "9999"), "users": users})
	writeJSON(w, b)
}

// sessionRow is one line of GET /api/sessions.
type sessionRow struct {
	SessionID    string  `json:"session_id"`
	AccountUUID  string  `json:"account_uuid"`
	Email        string  `json:"email,omitempty"`
	Product      string  `json:"product,omitempty"`
	StartedAt    string  `json:"started_at"`
	EndedAt      string  `json:"ended_at"`
	Prompts      int64   `json:"prompts"`
	CostUSD      float64 `json:"cost_usd"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	APIErrors    int64   `json:"api_errors"`
	ToolCalls    int64   `json:"tool_calls"`
	Rejected     int64   `json:"rejected"`
}

// listSessions serves GET /api/sessions?user=&since=&until=&limit=, latest first.
func (c *Collector) listSessions(w http.ResponseWriter, r *http.Request) {
	since, until, err := window(r, 0)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	n, err := limit(r)
	if err != nil {
		apiError(w, http.StatusBadRequest, err.Error())
		return
	}
	q := `SELECT session_id, account_uuid, email, product, started_at, ended_at, prompts, cost_usd, input_tokens, output_tokens,
		api_errors, tool_calls, rejected FROM sessions WHERE started_at >= ? AND started_at < ?`
	args := []any{since, until}
	if u := r.URL.Query().Get("user"); u != "" {
		q += ` AND (account_uuid = ? OR email = ?)`
		args = append(args, u, u)
	}
	q += ` ORDER BY started_at DESC LIMIT ?`
	args = append(args, n)
	rows, err := c.store.r.QueryContext(r.Context(), q, args...)
	if err != nil {
		c.queryFailed(w, err)
		return
	}
	defer rows.Close()
	out := []sessionRow{}
	for rows.Next() {
		var s sessionRow
		if err := rows.Scan(&s.SessionID, &s.AccountUUID, &s.Email, &s.Product, &s.StartedAt, &s.EndedAt, &s.Prompts, &s.CostUSD,
			&s.InputTokens, &s.OutputTokens, &s.APIErrors, &s.ToolCalls, &s.Rejected); err != nil {
			c.queryFailed(w, err)
			return
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		c.queryFailed(w, err)
		return
	}
	b, _ := json.Marshal(map[string]any{"sessions": out})
	writeJSON(w, b)
}

// stats serves GET /api/stats: row counts of the store, for audits and load tests. Sessions
// are counted on the chains_session index, not through the sessions view, which would compute
// every session's totals (a second for 50,000 chains).
func (c *Collector) stats(w http.ResponseWriter, r *http.Request) {
	var events, chains, open, sessions, points int64
	err := c.store.r.QueryRowContext(r.Context(), `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM chains),
		(SELECT count(*) FROM open_chains), (SELECT count(DISTINCT session_id) FROM chains), (SELECT count(*) FROM metric_points)`).
		Scan(&events, &chains, &open, &sessions, &points)
	if err != nil {
		c.queryFailed(w, err)
		return
	}
	b, _ := json.Marshal(map[string]int64{"events": events, "chains": chains, "open_chains": open, "sessions": sessions, "metric_points": points})
	writeJSON(w, b)
}
