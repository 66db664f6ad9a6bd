package telemetrytest_test

import (
	"bytes"
	"context"
	"math"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/emit"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

var reAccountID = regexp.MustCompile(`^user_01[0-9A-Za-z]{22}$`)

// busy has every behaviour often enough that a small fleet shows each of them.
func busy(seed uint64) telemetrytest.FleetOptions {
	o := telemetrytest.Realistic(seed)
	o.Users, o.SessionsPerUser, o.PromptsPerSession, o.Orgs = 6, 2, 5, 2
	o.MCPRate, o.SkillRate, o.SubagentRate, o.RejectRate, o.ErrorRate, o.ToolFailureRate = 0.6, 0.3, 0.3, 0.2, 0.1, 0.1
	return o
}

func payloads(t *testing.T, fl *telemetrytest.Fleet, enc telemetrytest.Encoding) [][]byte {
	var out [][]byte
	for b, err := range fl.Payloads(enc) {
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

func TestFleetDeterministic(t *testing.T) {
	a := payloads(t, telemetrytest.NewFleet(busy(1)), telemetrytest.EncodingProtobuf)
	b := payloads(t, telemetrytest.NewFleet(busy(1)), telemetrytest.EncodingProtobuf)
	c := payloads(t, telemetrytest.NewFleet(busy(2)), telemetrytest.EncodingProtobuf)
	require.Equal(t, a, b, "same seed, same bytes")
	assert.NotEqual(t, a, c, "another seed, other events")

	// Any session regenerates alone exactly as the stream produced it.
	fl := telemetrytest.NewFleet(busy(1))
	i := 0
	for s := range fl.Sessions() {
		alone := fl.Session(i)
		x, err := telemetry.EncodeLogsJSON(telemetry.NewLogs(s.Events...))
		require.NoError(t, err)
		y, err := telemetry.EncodeLogsJSON(telemetry.NewLogs(alone.Events...))
		require.NoError(t, err)
		require.True(t, bytes.Equal(x, y), "session %d", i)
		i++
	}
	assert.Equal(t, fl.NumSessions(), i)
}

// TestFleetTruth checks every session's events against its ground truth and the schema.
func TestFleetTruth(t *testing.T) {
	fl := telemetrytest.NewFleet(busy(3))
	seen := map[string]int{}
	products := map[telemetry.Product]int{}
	for s := range fl.Sessions() {
		tr := s.Truth
		require.Len(t, s.Events, tr.Events, "no chaos: delivered = generated")
		require.Zero(t, tr.Duplicates)
		telemetrytest.RequireValid(t, s.Events...)
		products[tr.Product]++

		// Identity and envelope.
		assert.Regexp(t, reAccountID, tr.AccountID)
		res := s.User.Resource
		assert.Equal(t, tr.Product, res.Product())
		assert.Equal(t, tr.Product == telemetry.ProductCowork, res.ProcessOwner != "", "process.owner on Cowork only")

		// Preamble: managed settings at seq 0, then ≥4 plugins, no prompt.id.
		require.IsType(t, &telemetry.ManagedSettingsResolved{}, s.Events[0])
		preamble := 0
		for _, ev := range s.Events {
			if ev.EventRecord().PromptID == "" {
				preamble++
			}
		}
		assert.Equal(t, tr.Preamble, preamble)
		assert.GreaterOrEqual(t, preamble, 5)

		var cost int64
		decisions := map[string]*telemetry.ToolDecision{}
		results := map[string]int{}
		prompts := map[string]telemetrytest.PromptTruth{}
		for _, p := range tr.Prompts {
			prompts[p.PromptID] = p
		}
		perPrompt := map[string]int{}
		perPromptCost := map[string]int64{}
		var lastPrompt string
		for i, ev := range s.Events {
			r := ev.EventRecord()
			assert.Equal(t, tr.SessionID, r.SessionID)
			assert.Equal(t, int64(i), r.Sequence, "event.sequence counts per process")
			assert.Same(t, res, r.Resource)
			if r.PromptID != "" {
				perPrompt[r.PromptID]++
				lastPrompt = r.PromptID
			}
			seen[ev.Name()]++
			switch e := ev.(type) {
			case *telemetry.APIRequest:
				cost += e.CostUSDMicros
				perPromptCost[r.PromptID] += e.CostUSDMicros
				assert.Equal(t, float64(e.CostUSDMicros)/1e6, e.CostUSD, "cost_usd matches cost_usd_micros")
				if e.AgentID != "" {
					assert.Equal(t, "agent:builtin:general-purpose", e.QuerySource)
					assert.Contains(t, prompts[r.PromptID].Subagents, e.AgentID, "subagent requests carry the parent prompt.id")
					seen["subagent_api_request"]++
				}
				if e.MCPServerName != "" {
					seen["api_request_mcp"]++
				}
				if e.SkillName != "" {
					seen["api_request_skill"]++
				}
				if i+1 < len(s.Events) {
					if d, ok := s.Events[i+1].(*telemetry.ToolDecision); ok && d.PromptID == r.PromptID {
						seen["api_request_then_decision"]++
					}
				}
			case *telemetry.ToolDecision:
				decisions[e.ToolUseID] = e
				if i+1 < len(s.Events) {
					if _, ok := s.Events[i+1].(*telemetry.APIRequest); ok {
						seen["decision_then_api_request"]++
					}
				}
				if e.ToolName == "mcp_tool" {
					c, ok := e.MCP()
					assert.True(t, ok)
					assert.NotEmpty(t, c.Server)
				}
			case *telemetry.ToolResult:
				d, ok := decisions[e.ToolUseID]
				require.True(t, ok, "a result follows its decision")
				assert.True(t, d.Decision.Accepts(), "rejected calls have no result")
				assert.Equal(t, d.ToolName, e.ToolName)
				results[e.ToolUseID]++
				if len(e.FileAccess()) > 0 {
					seen["file_access"]++
				}
				if e.ToolName == "Agent" {
					assert.Contains(t, e.ToolInput, `"run_in_background":true`)
				}
			case *telemetry.UserPrompt:
				p := prompts[e.PromptID]
				assert.Equal(t, p.TaskNotification, e.IsTaskNotification())
				if p.TaskNotification {
					parent, ok := prompts[p.ParentPromptID]
					require.True(t, ok)
					assert.Contains(t, parent.Subagents, p.AgentID)
					assert.Contains(t, e.Prompt, p.AgentID)
					prev, ok := s.Events[i-1].(*telemetry.SubagentCompleted)
					require.True(t, ok, "the notification follows subagent_completed")
					assert.Equal(t, p.AgentID, prev.AgentID)
					assert.Equal(t, p.ParentPromptID, prev.PromptID)
					seen["task_notification"]++
				}
			case *telemetry.APIError:
				assert.True(t, prompts[r.PromptID].Errored)
			case *telemetry.MCPServerConnection:
				if e.Status == telemetry.ConnectionStatusDisconnected {
					assert.Equal(t, lastPrompt, r.PromptID, "disconnects at exit carry the last prompt.id")
				}
			}
		}
		assert.Equal(t, tr.CostUSDMicros, cost)
		assert.InDelta(t, float64(cost)/1e6, tr.CostUSD, 1e-12)
		for id, d := range decisions {
			if d.Decision.Accepts() {
				assert.Equal(t, 1, results[id], "one result per accepted call")
			} else {
				assert.Zero(t, results[id])
				seen["rejected"]++
			}
		}
		for _, p := range tr.Prompts {
			assert.Equal(t, p.Events, perPrompt[p.PromptID])
			assert.Equal(t, p.CostUSDMicros, perPromptCost[p.PromptID])
			assert.Len(t, p.Rejected, countRejected(decisions, p.ToolCalls))
		}
	}
	for _, k := range []string{"api_error", "api_retries_exhausted", "skill_activated", "subagent_completed", "assistant_response",
		"mcp_server_connection", "plugin_loaded", "subagent_api_request", "api_request_mcp", "api_request_skill",
		"api_request_then_decision", "decision_then_api_request", "file_access", "task_notification", "rejected"} {
		assert.Positive(t, seen[k], "the fleet shows %s", k)
	}
	assert.Positive(t, products[telemetry.ProductCowork])
	assert.Positive(t, products[telemetry.ProductClaudeCode])
}

func countRejected(d map[string]*telemetry.ToolDecision, ids []string) int {
	n := 0
	for _, id := range ids {
		if !d[id].Decision.Accepts() {
			n++
		}
	}
	return n
}

func TestFleetChaos(t *testing.T) {
	o := busy(4)
	o.Chaos = telemetrytest.Chaos{DuplicateRate: 0.1, ReorderRate: 0.1, LateRate: 0.05}
	clean := busy(4)
	fl, ref := telemetrytest.NewFleet(o), telemetrytest.NewFleet(clean)
	dups, reordered := 0, 0
	for i := range fl.NumSessions() {
		s, r := fl.Session(i), ref.Session(i)
		assert.Equal(t, r.Truth.CostUSDMicros, s.Truth.CostUSDMicros, "chaos leaves the truth alone")
		assert.Equal(t, r.Truth.Events, s.Truth.Events)
		assert.Len(t, s.Events, s.Truth.Events+s.Truth.Duplicates)
		dups += s.Truth.Duplicates
		// De-duplicating on (session.id, event.name, event.sequence, timeUnixNano) recovers the
		// generated events.
		type key struct {
			sid, name string
			seq       int64
			ts        uint64
		}
		uniq := map[key]bool{}
		for j, ev := range s.Events {
			rec := ev.EventRecord()
			uniq[key{rec.SessionID, ev.Name(), rec.Sequence, rec.TimeUnixNano}] = true
			if j > 0 && rec.Sequence < s.Events[j-1].EventRecord().Sequence {
				reordered++
			}
		}
		assert.Len(t, uniq, s.Truth.Events)
	}
	assert.Positive(t, dups)
	assert.Positive(t, reordered)
}

func TestFleetStreaming(t *testing.T) {
	o := telemetrytest.Realistic(5)
	o.BatchSize = 7
	fl := telemetrytest.NewFleet(o)
	want := 0
	for s := range fl.Sessions() {
		want += len(s.Events)
		for _, l := range s.Batches() {
			assert.LessOrEqual(t, l.Len(), 7)
			require.Len(t, l.ResourceLogs, 1, "one resource per session batch")
			require.Len(t, l.ResourceLogs[0].ScopeLogs, 1)
			assert.Equal(t, telemetry.LogsScopeName, l.ResourceLogs[0].ScopeLogs[0].Scope.Name)
		}
	}
	got := 0
	for range fl.Events() {
		got++
	}
	assert.Equal(t, want, got)
	n := 0
	for range fl.Events() {
		n++
		if n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n, "the stream stops when asked")

	for _, enc := range []telemetrytest.Encoding{telemetrytest.EncodingProtobuf, telemetrytest.EncodingJSON} {
		decoded := 0
		for _, b := range payloads(t, fl, enc) {
			telemetrytest.AssertValidPayload(t, b)
			var l *telemetry.Logs
			var err error
			if enc == telemetrytest.EncodingJSON {
				l, err = telemetry.DecodeLogsJSON(b)
			} else {
				l, err = telemetry.DecodeLogsProto(b)
			}
			require.NoError(t, err)
			decoded += l.Len()
		}
		assert.Equal(t, want, decoded, enc.String())
	}
	for _, err := range fl.Payloads(telemetrytest.EncodingUnknown) {
		assert.Error(t, err)
	}
}

// TestFleetThroughEmitter sends a fleet through the emit package to the Receiver and checks
// that every event arrives with its session's resource.
func TestFleetThroughEmitter(t *testing.T) {
	rcv := telemetrytest.NewReceiver()
	defer rcv.Close()
	fl := telemetrytest.NewFleet(telemetrytest.Realistic(6))
	ctx := context.Background()
	e, err := emit.New(ctx, emit.WithEndpoint(rcv.URL()))
	require.NoError(t, err)
	var want []telemetry.Event
	for ev := range fl.Events() {
		want = append(want, ev)
		require.NoError(t, e.Emit(ctx, ev))
	}
	require.NoError(t, e.Shutdown(ctx))
	got, err := rcv.WaitForEvents(ctx, len(want))
	require.NoError(t, err)
	require.Len(t, got, len(want))
	bySession := map[string][]telemetry.Event{}
	for _, ev := range got {
		bySession[ev.EventRecord().SessionID] = append(bySession[ev.EventRecord().SessionID], ev)
	}
	for s := range fl.Sessions() {
		g := bySession[s.Truth.SessionID]
		telemetrytest.AssertEventsEqual(t, s.Events, g, telemetrytest.IgnoreEnvelope())
		var micros int64
		for _, ev := range g {
			if r, ok := ev.(*telemetry.APIRequest); ok {
				micros += r.CostUSDMicros
			}
			assert.Equal(t, s.User.Resource.ServiceName, ev.EventRecord().Resource.ServiceName)
		}
		assert.Equal(t, s.Truth.CostUSDMicros, micros)
		assert.False(t, math.IsNaN(s.Truth.CostUSD))
	}
}

func TestFleetUsers(t *testing.T) {
	o := telemetrytest.Realistic(8)
	o.Users, o.Orgs = 200, 3
	fl := telemetrytest.NewFleet(o)
	emails, accounts, orgs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, u := range fl.Users() {
		assert.False(t, emails[u.Email], "unique email %s", u.Email)
		emails[u.Email] = true
		accounts[u.AccountUUID] = true
		orgs[u.OrganizationID] = true
		assert.Regexp(t, reAccountID, u.AccountID)
	}
	assert.Len(t, accounts, 200)
	assert.Len(t, orgs, 3)
	assert.Equal(t, 400, fl.NumSessions())

	var s telemetrytest.Session // a Session built by hand batches with the default size
	s.Events = make([]telemetry.Event, 45)
	for i := range s.Events {
		s.Events[i] = telemetry.New(telemetry.NameUserPrompt)
	}
	assert.Len(t, s.Batches(), 3)
}
