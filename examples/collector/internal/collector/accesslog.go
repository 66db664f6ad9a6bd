package collector

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// accessRow is one line of the access_log table: who read what, when, and the answer.
type accessRow struct {
	time, role, fingerprint, method, path, query string
	status                                       int
}

// accessWrite is access log rows queued for the writer; nobody waits for their commit.
type accessWrite struct{ rows []accessRow }

// accessParams are the query parameters whose values the access log keeps: they are
// identifiers and bounds (an investigator needs to know whose data was read), not secrets.
// Other parameters are recorded by name with their value replaced, so that a credential
// passed by mistake in a URL never reaches the store.
var accessParams = map[string]bool{
	"user": true, "session": true, "since": true, "until": true, "limit": true, "format": true, "prompt_id": true,
}

// accessQuery is the query string as the access log records it.
func accessQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k))
			b.WriteByte('=')
			if accessParams[k] {
				b.WriteString(url.QueryEscape(v))
			} else {
				b.WriteString("REDACTED")
			}
		}
	}
	return b.String()
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// whoKey holds, in a request's context, where guard writes the principal it identified, so
// that logged (outside guard) can record refused requests too.
type whoKey struct{}

// logged records every request to next in access_log, once answered, refused ones included
// (role "none" when no known token was presented). The row is queued for the writer and
// committed with the next group commit; when the writer is closed or stays saturated for
// SaturationWait the row is lost and a warning logged. A handler that aborts mid-answer
// (panic http.ErrAbortHandler) is recorded with status 500.
func (c *Collector) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := new(principal)
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		defer func() {
			p := recover()
			role := "none"
			if who.role != RoleUnknown {
				role = who.role.String()
				if c.authn.open() {
					role = "anonymous"
				}
			}
			switch {
			case p != nil:
				sw.status = http.StatusInternalServerError // aborted mid-answer
			case sw.status == 0:
				sw.status = http.StatusOK
			}
			row := accessRow{time: fmtTime(start), role: role, fingerprint: who.fingerprint, method: r.Method,
				path: r.URL.Path, query: accessQuery(r.URL.Query()), status: sw.status}
			ok, err := c.store.send(context.Background(), &accessWrite{rows: []accessRow{row}}, c.cfg.SaturationWait)
			if err != nil || !ok {
				c.cfg.Logger.Warn("collector: access log row lost", "path", r.URL.Path, "principal", role)
			}
			if p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), whoKey{}, who)))
	})
}
