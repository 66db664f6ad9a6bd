package collector_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
)

func getBody(t *testing.T, u, tok string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

// exportJSONL decodes a jsonl export line by line with the OTLP/JSON decoder.
func exportJSONL(t *testing.T, body []byte) []telemetry.Event {
	t.Helper()
	var out []telemetry.Event
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		l, err := telemetry.DecodeLogsJSON(sc.Bytes())
		require.NoError(t, err)
		require.Equal(t, 1, l.Len(), "one event a line")
		out = append(out, l.Events()...)
	}
	require.NoError(t, sc.Err())
	return out
}

// TestExport exports the stored corpus in both formats: each decodes with the telemetry
// decoders to the same events, as many as are stored, redacted, with their resources; a time
// range selects by event time; only admins may export.
func TestExport(t *testing.T) {
	for _, raw := range []bool{false, true} {
		t.Run(map[bool]string{false: "gzip", true: "raw"}[raw], func(t *testing.T) { export(t, raw) })
	}
}

// export runs TestExport on a store of gzip-compressed or raw payloads.
func export(t *testing.T, raw bool) {
	cfg := rolesConfig(t, t.TempDir())
	cfg.RawPayloads = raw
	c, base := start(t, cfg)
	ctx := context.Background()
	for _, f := range corpus.Files(corpus.Protobuf) {
		if f.Signal != "logs" {
			continue
		}
		require.Equal(t, http.StatusOK, postBody(t, base, "/v1/logs", "application/x-protobuf", f.Data, bearer(ingestTok)...).StatusCode)
	}
	var st map[string]int64
	require.Equal(t, http.StatusOK, getJSON(t, base+"/api/stats", &st, bearer(readTok)...))
	stored := int(st["events"])
	require.Positive(t, stored)

	code, hdr, body := getBody(t, base+"/api/export", adminTok)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "application/x-ndjson", hdr.Get("Content-Type"))
	lines := exportJSONL(t, body)
	require.Len(t, lines, stored)

	code, hdr, pb := getBody(t, base+"/api/export?format=otlp", adminTok)
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "application/x-protobuf", hdr.Get("Content-Type"))
	logs, err := telemetry.DecodeLogsProto(pb)
	require.NoError(t, err)
	evs := logs.Events()
	require.Len(t, evs, stored)
	for i := range evs {
		assert.Equal(t, evs[i].Name(), lines[i].Name(), i)
		assert.True(t, telemetry.AttributesOf(evs[i]).Equal(telemetry.AttributesOf(lines[i])), i)
		assert.Equal(t, evs[i].EventRecord().TimeUnixNano, lines[i].EventRecord().TimeUnixNano, i)
		require.NotNil(t, lines[i].EventRecord().Resource, i)
		assert.Equal(t, evs[i].EventRecord().Resource.ServiceName, lines[i].EventRecord().Resource.ServiceName, i)
	}
	for _, s := range secrets {
		assert.NotContains(t, string(body), s, "stored events are redacted")
		assert.NotContains(t, string(pb), s, "stored events are redacted")
	}

	// A time range: events stored now with times 40 days and 1 hour ago.
	now := time.Now().UTC()
	require.NoError(t, c.ConsumeLogs(ctx, prompts(now.Add(-40*24*time.Hour), "export-old")))
	require.NoError(t, c.ConsumeLogs(ctx, prompts(now.Add(-time.Hour), "export-new")))
	q := url.Values{"since": {now.Add(-45 * 24 * time.Hour).Format(time.RFC3339)}, "until": {now.Add(-30 * 24 * time.Hour).Format(time.RFC3339)}}
	_, _, body = getBody(t, base+"/api/export?"+q.Encode(), adminTok)
	got := exportJSONL(t, body)
	require.Len(t, got, 1)
	assert.Equal(t, "export-old", got[0].EventRecord().SessionID)
	q.Set("format", "otlp")
	_, _, pb = getBody(t, base+"/api/export?"+q.Encode(), adminTok)
	logs, err = telemetry.DecodeLogsProto(pb)
	require.NoError(t, err)
	require.Equal(t, 1, logs.Len())
	assert.Equal(t, "export-old", logs.Events()[0].EventRecord().SessionID)
	_, _, body = getBody(t, base+"/api/export?since=2h", adminTok)
	got = exportJSONL(t, body)
	require.Len(t, got, 1)
	assert.Equal(t, "export-new", got[0].EventRecord().SessionID)

	for _, tok := range []string{readTok, ingestTok} {
		code, _, _ := getBody(t, base+"/api/export", tok)
		assert.Equal(t, http.StatusForbidden, code)
	}
	code, _, _ = getBody(t, base+"/api/export", "nope")
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _, _ = getBody(t, base+"/api/export?format=csv", adminTok)
	assert.Equal(t, http.StatusBadRequest, code)
}
