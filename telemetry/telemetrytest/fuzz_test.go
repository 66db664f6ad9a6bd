package telemetrytest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

// FuzzReceiver posts arbitrary bodies to the receiver's handler. Properties: it never panics,
// it answers 200 exactly when the telemetry decoder accepts the body, and it records exactly
// the events the decoder returns.
func FuzzReceiver(f *testing.F) {
	for _, file := range corpus.Logs(corpus.Protobuf, "deny") {
		f.Add(file.Data, false)
	}
	for _, file := range corpus.Logs(corpus.JSON, "mcp") {
		f.Add(file.Data, true)
	}
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00}, false)
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"event.name","value":{"intValue":"1"}}]}]}]}]}`), true)
	rcv := telemetrytest.NewReceiver()
	defer rcv.Close()
	f.Fuzz(func(t *testing.T, body []byte, json bool) {
		rcv.Reset()
		ctype := "application/x-protobuf"
		decode := telemetry.DecodeLogsProto
		if json {
			ctype, decode = "application/json", telemetry.DecodeLogsJSON
		}
		req := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		w := httptest.NewRecorder()
		rcv.ServeHTTP(w, req)
		l, err := decode(body)
		if err != nil {
			assert.Equal(t, http.StatusBadRequest, w.Code)
		} else {
			assert.Equal(t, http.StatusOK, w.Code)
		}
		want := 0
		if l != nil {
			want = l.Len()
		}
		assert.Equal(t, want, rcv.Len())
	})
}

// FuzzFleet simulates fleets from arbitrary seeds and rates. Properties: every session's
// events pass validation, event.sequence counts from 0, costs add up to the ground truth, and
// every accepted tool call has exactly one result while rejected ones have none.
func FuzzFleet(f *testing.F) {
	f.Add(uint64(0), uint8(0), uint8(0))
	f.Add(uint64(1), uint8(50), uint8(50))
	f.Add(uint64(0xdeadbeef), uint8(255), uint8(255))
	f.Fuzz(func(t *testing.T, seed uint64, rate, errRate uint8) {
		r := float64(rate) / 255
		o := telemetrytest.FleetOptions{Seed: seed, Users: 2, SessionsPerUser: 1, PromptsPerSession: 3,
			ClaudeCodeRate: r, MCPRate: r, SkillRate: r, SubagentRate: r, RejectRate: r, ToolFailureRate: r,
			ErrorRate: float64(errRate) / 255}
		for s := range telemetrytest.NewFleet(o).Sessions() {
			require.NoError(t, telemetry.Validate(s.Events...))
			var micros int64
			accepted, results := map[string]bool{}, map[string]int{}
			for i, ev := range s.Events {
				require.Equal(t, int64(i), ev.EventRecord().Sequence)
				switch e := ev.(type) {
				case *telemetry.APIRequest:
					micros += e.CostUSDMicros
				case *telemetry.ToolDecision:
					accepted[e.ToolUseID] = e.Decision.Accepts()
				case *telemetry.ToolResult:
					results[e.ToolUseID]++
				}
			}
			require.Equal(t, s.Truth.CostUSDMicros, micros)
			for id, ok := range accepted {
				if ok {
					require.Equal(t, 1, results[id])
				} else {
					require.Zero(t, results[id])
				}
			}
			require.Len(t, results, countTrue(accepted))
		}
	})
}

func countTrue(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}
