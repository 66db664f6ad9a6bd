package redact

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/coworkgov/cowork/telemetry"
)

// TestDetection runs the secret-laden input through both sides once and counts the injected
// secret values that survive in the encoded output (as the stored bytes would hold them).
func TestDetection(t *testing.T) {
	in := secretInput(t)
	require.NotEmpty(t, in.injected)
	e := newCowork(t)
	var cw strings.Builder
	for _, b := range in.bodies {
		l, err := telemetry.DecodeLogsProto(b)
		require.NoError(t, err)
		e.Logs(l)
		j, err := telemetry.EncodeLogsJSON(l)
		require.NoError(t, err)
		cw.Write(j)
	}
	p := newPeer(t)
	var pr strings.Builder
	var u plog.ProtoUnmarshaler
	var m plog.JSONMarshaler
	for _, b := range in.bodies {
		l, err := u.UnmarshalLogs(b)
		require.NoError(t, err)
		require.NoError(t, p.ConsumeLogs(context.Background(), l))
		j, err := m.MarshalLogs(l)
		require.NoError(t, err)
		pr.Write(j)
	}
	survives := func(out, v string) bool {
		// Values appear JSON-escaped inside the encoded attributes, sometimes twice.
		esc := strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), `"`, `\"`)
		esc2 := strings.ReplaceAll(strings.ReplaceAll(esc, `\`, `\\`), `"`, `\"`)
		esc3 := strings.ReplaceAll(v, "\n", `\\n`)
		return strings.Contains(out, v) || strings.Contains(out, esc) || strings.Contains(out, esc2) || strings.Contains(out, esc3) ||
			strings.Contains(out, strings.ReplaceAll(v, "\n", `\\\\n`))
	}
	cwLeft, prLeft := 0, 0
	for _, v := range in.injected {
		if survives(cw.String(), v) {
			cwLeft++
			t.Logf("cowork missed %.60q", v)
		}
		if survives(pr.String(), v) {
			prLeft++
		}
	}
	n := len(in.injected)
	t.Logf("injected %d secret values: cowork caught %d (%.1f%%), collector caught %d (%.1f%%)",
		n, n-cwLeft, 100*float64(n-cwLeft)/float64(n), n-prLeft, 100*float64(n-prLeft)/float64(n))
	assert.LessOrEqual(t, cwLeft, prLeft, "cowork detects at least what the collector does")
	assert.Zero(t, cwLeft)
	for _, banned := range []string{"@acme.example", "4111 1111 1111 1111", "jane.doe"} {
		assert.NotContains(t, cw.String(), banned)
	}
}

type allCase struct {
	Text   string `json:"text"`
	Labels []struct {
		Detector string `json:"detector"`
		Value    string `json:"value"`
	} `json:"labels"`
}

// TestDetectionLabelled puts every case of the labelled corpus (positives and hard
// negatives) into an attribute both sides scan and compares recall (labelled values that do
// not survive) and false alarms (hard negatives that were changed).
func TestDetectionLabelled(t *testing.T) {
	raw, err := os.ReadFile("../../../redact/testdata/labelled.jsonl")
	require.NoError(t, err)
	var cases []allCase
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var c allCase
		require.NoError(t, json.Unmarshal([]byte(line), &c))
		cases = append(cases, c)
	}
	const key = "mcp_arguments"
	e := newCowork(t)
	p := newPeer(t)
	ld := plog.NewLogs()
	recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	var cwOut []string
	for _, c := range cases {
		v, ok := e.Value(key, telemetry.String(c.Text))
		if !ok {
			v = telemetry.String("")
		}
		cwOut = append(cwOut, v.Str())
		r := recs.AppendEmpty()
		r.Attributes().PutStr(key, c.Text)
	}
	require.NoError(t, p.ConsumeLogs(context.Background(), ld))
	var prOut []string
	for i := 0; i < recs.Len(); i++ {
		v, _ := recs.At(i).Attributes().Get(key)
		prOut = append(prOut, v.Str())
	}
	type score struct{ labels, caught, negatives, falseAlarms int }
	var cw, pr score
	perDet := map[string][2]int{} // detector -> cowork caught, collector caught
	for i, c := range cases {
		if len(c.Labels) == 0 {
			cw.negatives++
			pr.negatives++
			if cwOut[i] != c.Text {
				cw.falseAlarms++
			}
			if prOut[i] != c.Text {
				pr.falseAlarms++
			}
			continue
		}
		for _, l := range c.Labels {
			cw.labels++
			pr.labels++
			d := perDet[l.Detector]
			if !strings.Contains(cwOut[i], l.Value) {
				cw.caught++
				d[0]++
			}
			if !strings.Contains(prOut[i], l.Value) {
				pr.caught++
				d[1]++
			}
			perDet[l.Detector] = d
		}
	}
	t.Logf("labelled corpus: %d secret/PII values, %d hard negatives", cw.labels, cw.negatives)
	t.Logf("cowork:    caught %d (%.1f%%), changed %d hard negatives (%.1f%%)", cw.caught, 100*float64(cw.caught)/float64(cw.labels), cw.falseAlarms, 100*float64(cw.falseAlarms)/float64(cw.negatives))
	t.Logf("collector: caught %d (%.1f%%), changed %d hard negatives (%.1f%%)", pr.caught, 100*float64(pr.caught)/float64(pr.labels), pr.falseAlarms, 100*float64(pr.falseAlarms)/float64(pr.negatives))
	for d, n := range perDet {
		if n[0] != n[1] {
			t.Logf("  %-20s cowork %d, collector %d", d, n[0], n[1])
		}
	}
	assert.GreaterOrEqual(t, cw.caught, pr.caught)
	assert.LessOrEqual(t, cw.falseAlarms, pr.falseAlarms)
}
