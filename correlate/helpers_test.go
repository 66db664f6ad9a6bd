package correlate

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
)

// fakeClock is a Clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// collector is a Consumer that keeps every chain.
type collector struct {
	mu     sync.Mutex
	chains []*Chain
}

func (c *collector) Chain(_ context.Context, ch *Chain) error {
	c.mu.Lock()
	c.chains = append(c.chains, ch)
	c.mu.Unlock()
	return nil
}

// latest returns the highest version of each chain, in SortChains order.
func (c *collector) latest() []*Chain {
	c.mu.Lock()
	defer c.mu.Unlock()
	return latestVersions(c.chains)
}

func latestVersions(cs []*Chain) []*Chain {
	m := map[string]*Chain{}
	for _, ch := range cs {
		if p, ok := m[ch.ID]; !ok || ch.Version > p.Version {
			m[ch.ID] = ch
		}
	}
	out := make([]*Chain, 0, len(m))
	for _, ch := range m {
		out = append(out, ch)
	}
	SortChains(out)
	return out
}

// chainJSON renders chains without the stream-history fields (closed_by, version).
func chainJSON(t testing.TB, cs []*Chain) []string {
	t.Helper()
	out := make([]string, len(cs))
	for i, c := range cs {
		cp := *c
		cp.ClosedBy, cp.Version = 0, 0
		b, err := json.Marshal(&cp)
		require.NoError(t, err)
		out[i] = string(b)
	}
	return out
}

func exactJSON(t testing.TB, cs []*Chain) []string {
	t.Helper()
	out := make([]string, len(cs))
	for i, c := range cs {
		b, err := json.Marshal(c)
		require.NoError(t, err)
		out[i] = string(b)
	}
	return out
}

// allCorpusEvents decodes every scenario (fresh objects on every call).
func allCorpusEvents(t testing.TB) []telemetry.Event {
	var evs []telemetry.Event
	for _, sc := range corpus.Scenarios() {
		evs = append(evs, corpusEvents(t, sc)...)
	}
	return evs
}

// renamed decodes the corpus scenario and moves it to session "<tag>-s" with prompts
// prefixed by tag, so many copies can run at once.
func renamed(t testing.TB, scenario, tag string) []telemetry.Event {
	evs := corpusEvents(t, scenario)
	for _, ev := range evs {
		r := ev.EventRecord()
		telemetry.Set(ev, telemetry.KeySessionID, telemetry.String(tag+"-s"))
		if r.PromptID != "" {
			telemetry.Set(ev, telemetry.KeyPromptID, telemetry.String(tag+"-"+r.PromptID))
		}
	}
	return evs
}

// ev builds an event by name with attributes, for hand-made scenarios.
func ev(name, session, prompt string, seq int64, at time.Time, kv ...any) telemetry.Event {
	e := telemetry.New(name)
	telemetry.Set(e, telemetry.KeySessionID, telemetry.String(session))
	if prompt != "" {
		telemetry.Set(e, telemetry.KeyPromptID, telemetry.String(prompt))
	}
	telemetry.Set(e, telemetry.KeySequence, telemetry.Int(seq))
	telemetry.Set(e, telemetry.KeyTimestamp, telemetry.String(at.UTC().Format("2006-01-02T15:04:05.000Z")))
	telemetry.Set(e, telemetry.KeyAccountID, telemetry.String("user_01TEST"))
	e.EventRecord().TimeUnixNano = uint64(at.UnixNano())
	e.EventRecord().Resource = &telemetry.Resource{ServiceName: "cowork"}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		var v telemetry.Value
		switch x := kv[i+1].(type) {
		case string:
			v = telemetry.String(x)
		case int:
			v = telemetry.Int(int64(x))
		case float64:
			v = telemetry.Double(x)
		case bool:
			v = telemetry.Bool(x)
		default:
			panic(fmt.Sprintf("unsupported %T", x))
		}
		telemetry.Set(e, k, v)
	}
	return e
}

// subagentScenario is a prompt that starts a background subagent, whose notification opens a
// second prompt (SCHEMA.md §4.10).
func subagentScenario(session string, t0 time.Time) []telemetry.Event {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	p1, p2 := session+"-p1", session+"-p2"
	return []telemetry.Event{
		ev("managed_settings_resolved", session, "", 0, at(0)),
		ev("user_prompt", session, p1, 1, at(10), "prompt", "research the market", "prompt_length", "19"),
		ev("api_request", session, p1, 2, at(20), "model", "m", "cost_usd", 0.25, "cost_usd_micros", 250000, "input_tokens", 10),
		ev("tool_decision", session, p1, 3, at(30), "tool_name", "Agent", "tool_use_id", "toolu_a", "decision", "accept", "source", "config", "tool_parameters", `{"subagent_type":"general-purpose"}`),
		ev("tool_result", session, p1, 4, at(40), "tool_name", "Agent", "tool_use_id", "toolu_a", "success", "true", "duration_ms", "5", "tool_parameters", `{"subagent_type":"general-purpose"}`),
		ev("api_request", session, p1, 5, at(50), "model", "m", "cost_usd", 0.5, "cost_usd_micros", 500000, "agent_id", "a1b2c3", "query_source", "agent:builtin:general-purpose"),
		ev("assistant_response", session, p1, 6, at(55), "response", "started a subagent", "model", "m"),
		ev("assistant_response", session, p1, 7, at(60), "response", "sub result", "model", "m", "agent_id", "a1b2c3"),
		ev("subagent_completed", session, p1, 8, at(70), "agent_type", "general-purpose", "is_async", true, "agent_id", "a1b2c3", "duration_ms", 30),
		ev("user_prompt", session, p2, 9, at(80), "prompt", "<task-notification><task-id>a1b2c3</task-id></task-notification>", "agent_id", "a1b2c3"),
		ev("api_request", session, p2, 10, at(90), "model", "m", "cost_usd", 0.125, "cost_usd_micros", 125000),
		ev("assistant_response", session, p2, 11, at(95), "response", "done", "model", "m"),
	}
}

func shuffled[T any](xs []T, seed uint64) []T {
	out := slices.Clone(xs)
	s := seed | 1
	for i := len(out) - 1; i > 0; i-- {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		j := int(s % uint64(i+1))
		out[i], out[j] = out[j], out[i]
	}
	return out
}

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// golden compares got (indented JSON) with testdata/golden/name, rewriting it with -update.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	require.NoError(t, err)
	b = append(b, '\n')
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, b, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	require.Equal(t, string(want), string(b), "golden %s (regenerate with go test -update)", path)
}

func errorsAs[T error](err error, target *T) bool { return errors.As(err, target) }
