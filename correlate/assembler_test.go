package correlate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/telemetry"
)

func newTestAssembler(t *testing.T, opts ...Option) (*Assembler, *collector, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	col := &collector{}
	a, err := New(col, append([]Option{WithClock(clk)}, opts...)...)
	require.NoError(t, err)
	return a, col, clk
}

func TestAssemblerCorpusMatchesFold(t *testing.T) {
	ctx := context.Background()
	a, col, clk := newTestAssembler(t)
	evs := allCorpusEvents(t)
	require.NoError(t, a.Add(ctx, evs...))
	assert.Empty(t, col.latest(), "nothing closes before the quiet period")

	clk.Advance(6 * time.Second)
	require.NoError(t, a.Sweep(ctx))
	terminal := col.latest()
	for _, c := range terminal {
		assert.Equal(t, TriggerTerminal, c.ClosedBy, c.PromptID)
		assert.False(t, c.IsPreamble())
	}
	assert.Len(t, terminal, 7, "one prompt chain per scenario closed by its terminal event")

	clk.Advance(2 * time.Minute)
	require.NoError(t, a.Sweep(ctx))
	got := col.latest()
	want := Fold(allCorpusEvents(t))
	assert.Equal(t, exactJSON(t, want), exactJSON(t, got), "the stream and the batch fold agree byte for byte")
	st := a.Stats()
	assert.Zero(t, st.InFlight)
	assert.Equal(t, int64(len(want)), st.Emitted)
	assert.Equal(t, int64(len(evs)), st.Added)
}

func TestAssemblerTimingRules(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		opts    []Option
		events  []telemetry.Event
		advance []time.Duration // sweep after each
		trigger Trigger
		reasons []Reason
	}{
		{
			name: "terminal plus quiet",
			events: []telemetry.Event{
				ev("user_prompt", "s", "p", 1, t0),
				ev("assistant_response", "s", "p", 2, t0),
			},
			advance: []time.Duration{4 * time.Second, 2 * time.Second},
			trigger: TriggerTerminal,
		},
		{
			name: "idle without terminal",
			events: []telemetry.Event{
				ev("user_prompt", "s", "p", 1, t0),
				ev("api_request", "s", "p", 2, t0),
			},
			advance: []time.Duration{time.Minute, time.Minute},
			trigger: TriggerIdle,
			reasons: []Reason{ReasonNoTerminal},
		},
		{
			name: "terminal waits for unpaired decision until idle",
			events: []telemetry.Event{
				ev("user_prompt", "s", "p", 1, t0),
				ev("tool_decision", "s", "p", 2, t0, "tool_name", "Bash", "tool_use_id", "t1", "decision", "accept", "source", "config"),
				ev("assistant_response", "s", "p", 3, t0),
			},
			advance: []time.Duration{10 * time.Second, 2 * time.Minute},
			trigger: TriggerIdle,
			reasons: []Reason{ReasonUnpairedDecision},
		},
		{
			name: "max age",
			opts: []Option{WithMaxAge(time.Minute), WithIdleTimeout(time.Hour)},
			events: []telemetry.Event{
				ev("user_prompt", "s", "p", 1, t0),
			},
			advance: []time.Duration{30 * time.Second, 30 * time.Second},
			trigger: TriggerMaxAge,
			reasons: []Reason{ReasonNoTerminal},
		},
		{
			name: "max events",
			opts: []Option{WithMaxChainEvents(2)},
			events: []telemetry.Event{
				ev("user_prompt", "s", "p", 1, t0),
				ev("api_request", "s", "p", 2, t0),
			},
			trigger: TriggerMaxEvents,
			reasons: []Reason{ReasonNoTerminal, ReasonMaxEvents},
		},
		{
			name: "max bytes",
			opts: []Option{WithMaxChainBytes(100)},
			events: []telemetry.Event{
				ev("user_prompt", "s", "p", 1, t0),
			},
			trigger: TriggerMaxBytes,
			reasons: []Reason{ReasonNoTerminal, ReasonMaxBytes},
		},
		{
			name: "sequence gap",
			events: []telemetry.Event{
				ev("user_prompt", "s", "p", 1, t0),
				ev("assistant_response", "s", "p", 3, t0),
			},
			advance: []time.Duration{6 * time.Second},
			trigger: TriggerTerminal,
			reasons: []Reason{ReasonSequenceGap},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, col, clk := newTestAssembler(t, tt.opts...)
			require.NoError(t, a.Add(ctx, tt.events...))
			for i, d := range tt.advance {
				if i == len(tt.advance)-1 || len(tt.advance) == 1 {
					// Before the last step nothing may have closed.
					assert.Empty(t, col.latest(), "closed too early")
				}
				clk.Advance(d)
				require.NoError(t, a.Sweep(ctx))
			}
			got := col.latest()
			require.Len(t, got, 1)
			assert.Equal(t, tt.trigger, got[0].ClosedBy)
			want := tt.reasons
			if want == nil {
				want = []Reason{}
			}
			assert.Equal(t, want, got[0].Reasons)
			assert.Equal(t, len(tt.reasons) == 0, got[0].Complete)
		})
	}
}

func TestAssemblerLateEventsAndDuplicates(t *testing.T) {
	ctx := context.Background()
	a, col, clk := newTestAssembler(t)
	evs := corpusEvents(t, "mcp")
	// Hold back the MCP disconnect (last event) and send everything twice.
	last := evs[len(evs)-1]
	require.NoError(t, a.Add(ctx, evs[:len(evs)-1]...))
	require.NoError(t, a.Add(ctx, corpusEvents(t, "mcp")[:len(evs)-1]...))
	assert.Equal(t, int64(len(evs)-1), a.Stats().Duplicates)

	clk.Advance(6 * time.Second)
	require.NoError(t, a.Sweep(ctx))
	v1 := col.latest()
	require.Len(t, v1, 1)
	assert.Equal(t, 1, v1[0].Version)
	assert.Equal(t, len(evs)-1-6, v1[0].EventCount) // 6 preamble events

	// The late event reopens the chain; a re-sent copy of an emitted event is still a duplicate.
	require.NoError(t, a.Add(ctx, last, corpusEvents(t, "mcp")[7]))
	st := a.Stats()
	assert.Equal(t, int64(1), st.Late)
	assert.Equal(t, int64(len(evs)), st.Duplicates)
	clk.Advance(6 * time.Second)
	require.NoError(t, a.Sweep(ctx))
	clk.Advance(2 * time.Minute)
	require.NoError(t, a.Sweep(ctx))

	got := col.latest()
	want := Fold(corpusEvents(t, "mcp"))
	require.Len(t, got, 2)
	assert.Equal(t, 2, got[1].Version, "the late event emits version 2 of the same chain")
	assert.Equal(t, v1[0].ID, got[1].ID)
	assert.Equal(t, chainJSON(t, want), chainJSON(t, got))
	assert.Equal(t, int64(1), a.Stats().Amended)
}

func TestAssemblerPartialAmendment(t *testing.T) {
	ctx := context.Background()
	a, col, clk := newTestAssembler(t, WithRetainClosed(0), WithShards(1))
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	require.NoError(t, a.Add(ctx, ev("user_prompt", "s", "p", 1, t0), ev("assistant_response", "s", "p", 2, t0)))
	clk.Advance(6 * time.Second)
	require.NoError(t, a.Sweep(ctx))
	require.NoError(t, a.Add(ctx, ev("user_prompt", "s", "p", 1, t0))) // duplicate of a released event
	assert.Equal(t, int64(1), a.Stats().Duplicates)
	require.NoError(t, a.Add(ctx, ev("mcp_server_connection", "s", "p", 3, t0, "status", "disconnected")))
	require.NoError(t, a.Flush(ctx))
	require.Len(t, col.chains, 2)
	v2 := col.chains[1]
	assert.Equal(t, 2, v2.Version)
	assert.Contains(t, v2.Reasons, ReasonPartial)
	assert.Equal(t, 1, v2.EventCount)
	assert.Equal(t, TriggerFlush, v2.ClosedBy)
}

func TestAssemblerEviction(t *testing.T) {
	ctx := context.Background()
	a, col, _ := newTestAssembler(t, WithMaxChains(2))
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for i, p := range []string{"p1", "p2", "p3"} {
		require.NoError(t, a.Add(ctx, ev("user_prompt", "s"+p, p, int64(i), t0)))
	}
	require.Len(t, col.chains, 1)
	assert.Equal(t, "p1", col.chains[0].PromptID, "the oldest chain is evicted")
	assert.Equal(t, TriggerEvicted, col.chains[0].ClosedBy)
	assert.Contains(t, col.chains[0].Reasons, ReasonEvicted)
	st := a.Stats()
	assert.Equal(t, int64(1), st.Evicted)
	assert.Equal(t, int64(2), st.InFlight)
	assert.Equal(t, int64(1), st.Incomplete["evicted"])
}

// TestEvictionLog: evictions are logged at most once a second (by the assembler's clock) as
// a warning with their counts, each chain only at debug level, so that an overflowing
// assembler does not flood its log.
func TestEvictionLog(t *testing.T) {
	for _, debug := range []bool{false, true} {
		var buf bytes.Buffer
		level := slog.LevelInfo
		if debug {
			level = slog.LevelDebug
		}
		ctx := context.Background()
		a, _, clk := newTestAssembler(t, WithMaxChains(2), WithLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level}))))
		t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
		add := func(from, to int) {
			for i := from; i < to; i++ {
				p := fmt.Sprintf("p%d", i)
				require.NoError(t, a.Add(ctx, ev("user_prompt", "s"+p, p, 1, t0)))
			}
		}
		add(0, 12) // 10 evictions in the same instant
		clk.Advance(999 * time.Millisecond)
		add(12, 15) // 3 more within the second
		clk.Advance(time.Millisecond)
		add(15, 16) // a second after the first warning
		var warnings []map[string]any
		debugs := 0
		for line := range bytes.Lines(buf.Bytes()) {
			var rec map[string]any
			require.NoError(t, json.Unmarshal(line, &rec))
			switch rec["level"] {
			case "WARN":
				warnings = append(warnings, rec)
			case "DEBUG":
				debugs++
				assert.Equal(t, "correlate: evicted in-flight chain", rec["msg"])
				assert.NotEmpty(t, rec["chain_id"])
			}
		}
		assert.Equal(t, int64(14), a.Stats().Evicted)
		require.Len(t, warnings, 2, "debug=%v", debug)
		assert.Equal(t, "correlate: evicted in-flight chains to bound memory", warnings[0]["msg"])
		assert.Equal(t, 1.0, warnings[0]["chains"], "the first at once")
		assert.Equal(t, 1.0, warnings[0]["events"])
		assert.Equal(t, 13.0, warnings[1]["chains"], "then the count since")
		assert.Equal(t, 2.0, warnings[1]["in_flight"])
		if debug {
			assert.Equal(t, 14, debugs)
		} else {
			assert.Zero(t, debugs)
		}
	}
}

func TestAssemblerBlockingBackPressure(t *testing.T) {
	ctx := context.Background()
	a, col, _ := newTestAssembler(t, WithMaxChains(1), WithOverflow(OverflowBlock))
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	require.NoError(t, a.Add(ctx, ev("user_prompt", "s1", "p1", 1, t0)))
	require.NoError(t, a.Add(ctx, ev("user_prompt", "s2", "p2", 1, t0)), "at the limit, not over it")

	// Over the limit: Add waits until its context ends.
	short, cancel := context.WithCancel(ctx)
	cancel()
	err := a.Add(short, ev("user_prompt", "s3", "p3", 1, t0))
	require.ErrorIs(t, err, context.Canceled)

	// A blocked Add proceeds when Flush frees room.
	done := make(chan error, 1)
	go func() { done <- a.Add(ctx, ev("user_prompt", "s4", "p4", 1, t0)) }()
	require.NoError(t, a.Flush(ctx))
	require.NoError(t, <-done)
	require.NoError(t, a.Close(ctx))
	assert.Zero(t, a.Stats().Evicted)
	assert.Len(t, col.chains, 3)
}

func TestAssemblerConsumerErrorAndClose(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("disk full")
	a, err := New(ConsumerFunc(func(context.Context, *Chain) error { return boom }))
	require.NoError(t, err)
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	require.NoError(t, a.Add(ctx, ev("user_prompt", "s", "p", 1, t0)))
	err = a.Close(ctx)
	require.ErrorIs(t, err, ErrConsumer)
	require.ErrorIs(t, err, boom)
	var ce *ConsumerError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, ChainID("s", "p"), ce.ChainID)
	assert.Equal(t, int64(1), a.Stats().ConsumerErrors)
	assert.ErrorIs(t, a.Add(ctx, ev("user_prompt", "s", "p", 1, t0)), ErrClosed)
}

func TestNewValidatesOptions(t *testing.T) {
	for _, o := range []Option{WithQuietPeriod(0), WithIdleTimeout(-1), WithMaxChains(0), WithOverflow(OverflowUnknown), WithClock(nil), WithRetainClosed(-1), WithShards(0), WithLogger(nil)} {
		_, err := New(&collector{}, o)
		assert.ErrorIs(t, err, ErrInvalidOption)
	}
	_, err := New(nil)
	assert.ErrorIs(t, err, ErrInvalidOption)
}

func TestAssemblerSubagentParent(t *testing.T) {
	ctx := context.Background()
	a, col, clk := newTestAssembler(t)
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	require.NoError(t, a.Add(ctx, subagentScenario("s", t0)...))
	clk.Advance(3 * time.Minute)
	require.NoError(t, a.Sweep(ctx))
	got := col.latest()
	require.Len(t, got, 3)
	assert.Equal(t, chainJSON(t, Fold(subagentScenario("s", t0))), chainJSON(t, got))
	p1, p2 := got[1], got[2]
	assert.Equal(t, "s-p1", p1.PromptID)
	assert.Equal(t, "s-p1", p2.ParentPromptID)
	assert.True(t, p2.Prompt.TaskNotification)
	require.Len(t, p1.Subagents, 1)
	assert.Equal(t, Subagent{AgentID: "a1b2c3", Type: "general-purpose", Async: true, Completed: true, DurationMS: 30}, p1.Subagents[0])
	assert.True(t, p1.Complete, "%v", p1.Reasons)
	assert.Equal(t, "started a subagent", p1.Response.Text, "the response of the main thread, not the subagent's")
	assert.InDelta(t, 0.75, p1.Totals.CostUSD, 1e-12)
}

func TestAssemblerConcurrentSessions(t *testing.T) {
	ctx := context.Background()
	a, col, clk := newTestAssembler(t, WithShards(8))
	const workers = 8
	all, batches := workerScenarios(t, workers, 40, "w")
	addConcurrently(t, a, batches, 20) // and a retried export of each worker's first 20 events
	clk.Advance(10 * time.Minute)
	require.NoError(t, a.Sweep(ctx))
	assert.Equal(t, chainJSON(t, Fold(all)), chainJSON(t, col.latest()))
	st := a.Stats()
	assert.Equal(t, int64(workers*20), st.Duplicates)
	assert.Zero(t, st.InFlight)
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestAssemblerBlockingReleasesKeptChainsFirst(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	one := int64(eventSize(ev("user_prompt", "s", "p", 1, t0)))
	a, col, _ := newTestAssembler(t, WithMaxBytes(3*one), WithOverflow(OverflowBlock))
	require.NoError(t, a.Add(ctx, ev("user_prompt", "s1", "p1", 1, t0), ev("api_request", "s1", "p1", 2, t0), ev("assistant_response", "s1", "p1", 3, t0)))
	require.NoError(t, a.Flush(ctx))
	require.Len(t, col.chains, 1)
	assert.Equal(t, int64(1), a.Stats().Retained)

	// The closed chain's kept events fill the budget; a new chain must not wait for them.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	e1, e2 := ev("user_prompt", "s2", "p2", 1, t0), ev("api_request", "s2", "p2", 2, t0)
	require.NoError(t, a.Add(cancelled, e1, e2))
	st := a.Stats()
	assert.Zero(t, st.Retained)
	assert.Equal(t, int64(eventSize(e1)+eventSize(e2)), st.BytesHeld)
}

// TestShardMapCollisions checks the shard map's chaining of keys with the same hash, which
// real keys almost never reach.
func TestShardMapCollisions(t *testing.T) {
	s := &shard{chains: map[uint64]*pendingChain{}}
	var ps []*pendingChain
	for i := range 4 {
		p := &pendingChain{key: chainKey{"s", string(rune('a' + i))}}
		ps = append(ps, p)
		s.insert(7, p)
	}
	for _, p := range ps {
		assert.Same(t, p, s.lookup(7, p.key))
	}
	assert.Nil(t, s.lookup(7, chainKey{"s", "x"}))
	assert.Nil(t, s.lookup(8, ps[0].key))
	removed := map[int]bool{}
	for _, i := range []int{1, 3, 0, 2} { // middle, head, tail, last
		s.remove(7, ps[i])
		removed[i] = true
		for j, p := range ps {
			if removed[j] {
				assert.Nil(t, s.lookup(7, p.key))
			} else {
				assert.Same(t, p, s.lookup(7, p.key))
			}
		}
	}
	assert.Empty(t, s.chains)
}

// TestShardSessionCollisions checks the same chaining in the shard's map of sessions.
func TestShardSessionCollisions(t *testing.T) {
	s := &shard{}
	var ls []*liveSession
	for i := range 4 {
		l := &liveSession{id: string(rune('a' + i)), hash: 7}
		ls = append(ls, l)
		s.insertSession(l)
	}
	for _, l := range ls {
		assert.Same(t, l, s.session(7, l.id))
	}
	assert.Nil(t, s.session(7, "x"))
	assert.Nil(t, s.session(8, "a"))
	removed := map[int]bool{}
	for _, i := range []int{1, 3, 0, 2} { // middle, head, tail, last
		s.removeSession(ls[i])
		removed[i] = true
		for j, l := range ls {
			if removed[j] {
				assert.Nil(t, s.session(7, l.id))
			} else {
				assert.Same(t, l, s.session(7, l.id))
			}
		}
	}
	assert.Empty(t, s.sessions)
}

// TestNameHash checks the fingerprint's precomputed name hashes against hashing the name.
func TestNameHash(t *testing.T) {
	for _, n := range []string{telemetry.NameAPIRequest, telemetry.NameToolDecision, telemetry.NameToolResult,
		telemetry.NameUserPrompt, telemetry.NameAssistantResponse, telemetry.NamePluginLoaded,
		telemetry.NameMCPServerConnection, telemetry.NameManagedSettingsResolved, telemetry.NameSkillActivated,
		telemetry.NameSubagentCompleted, telemetry.NameAPIError, telemetry.NameAPIRetriesExhausted,
		telemetry.NameCompaction, "not_an_event"} {
		ev := telemetry.New(n)
		assert.Equal(t, maphash.String(fpSeed, n), nameHash(ev), n)
	}
}

// workerScenarios renames scenario copies for workers workers, perWorker each (session ids
// prefix+worker letter+index), and returns them all and per worker.
func workerScenarios(t *testing.T, workers, perWorker int, prefix string) (all []telemetry.Event, batches [][]telemetry.Event) {
	t.Helper()
	scenarios := []string{"files", "deny", "mcp", "skill", "fatal", "web", "task"}
	batches = make([][]telemetry.Event, workers)
	for w := range workers {
		for i := range perWorker {
			evs := renamed(t, scenarios[(w+i)%len(scenarios)], prefix+string(rune('a'+w))+"-"+itoa(i))
			batches[w] = append(batches[w], evs...)
		}
		all = append(all, batches[w]...)
	}
	return all, batches
}

// addConcurrently adds each batch from its own goroutine, shuffled, seven events at a time
// with a Sweep every seventy, then the batch's first retry events again (a retried export).
func addConcurrently(t *testing.T, a *Assembler, batches [][]telemetry.Event, retry int) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			evs := shuffled(batches[w], uint64(w+1))
			for i := 0; i < len(evs); i += 7 {
				assert.NoError(t, a.Add(ctx, evs[i:min(i+7, len(evs))]...))
				if i%70 == 0 {
					assert.NoError(t, a.Sweep(ctx))
				}
			}
			if retry > 0 {
				assert.NoError(t, a.Add(ctx, evs[:retry]...))
			}
		}()
	}
	wg.Wait()
}
