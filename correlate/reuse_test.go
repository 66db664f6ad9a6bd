package correlate

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/telemetry"
)

// encoder is a Consumer that keeps only what it copies out of each chain before returning (its
// JSON and its event count), as WithChainReuse requires.
type encoder struct {
	mu     sync.Mutex
	json   []string
	events []int
}

func (e *encoder) Chain(_ context.Context, c *Chain) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.json = append(e.json, string(b))
	e.events = append(e.events, len(c.Events))
	e.mu.Unlock()
	return nil
}

// chaoticEvents is a simulated fleet with every behaviour on, then the corpus: the input of
// the tests that compare two ways of assembling it.
func chaoticEvents(t *testing.T) []telemetry.Event {
	users := 60
	if testing.Short() {
		users = 15
	}
	var evs []telemetry.Event
	for s := range simFleet(users, 2).Sessions() {
		evs = append(evs, s.Events...)
	}
	return append(evs, allCorpusEvents(t)...)
}

// streamReplay adds evs in batches of 20 through an assembler made with opts, moving the clock
// and sweeping as it goes so that chains close, are amended by late events and are evicted
// while others are in flight, then closes it and returns it.
func streamReplay(t *testing.T, evs []telemetry.Event, c Consumer, opts ...Option) *Assembler {
	t.Helper()
	ctx := context.Background()
	clk := newFakeClock()
	a, err := New(c, append([]Option{WithClock(clk), WithMaxChains(40)}, opts...)...)
	require.NoError(t, err)
	for i := 0; i < len(evs); i += 20 {
		require.NoError(t, a.Add(ctx, evs[i:min(i+20, len(evs))]...))
		if i%200 == 0 {
			clk.Advance(10 * time.Second)
			require.NoError(t, a.Sweep(ctx))
		}
	}
	require.NoError(t, a.Close(ctx))
	return a
}

// TestChainReuseEmitsTheSameChains checks that WithChainReuse changes nothing a consumer that
// copies the chain out can see: the same chains, byte for byte, with the
// same stats, though each is built in the memory of an earlier one (lists longer and shorter,
// prompts and responses present and absent, amendments and evictions).
func TestChainReuseEmitsTheSameChains(t *testing.T) {
	evs := chaoticEvents(t)
	col := &collector{}
	wantStats := streamReplay(t, evs, col).Stats()
	want := exactJSON(t, col.chains)

	enc := &encoder{}
	gotStats := streamReplay(t, evs, enc, WithChainReuse()).Stats()
	assert.Equal(t, wantStats, gotStats)
	// The shards' order (a random seed per assembler) orders each sweep's emissions: compare
	// the chains, with their events, by key and version.
	type emitted struct {
		json   string
		events int
	}
	byKey := func(js []string, events []int) map[string]emitted {
		m := map[string]emitted{}
		for i, j := range js {
			var k struct {
				Session string `json:"session_id"`
				Prompt  string `json:"prompt_id"`
				Version int    `json:"version"`
			}
			require.NoError(t, json.Unmarshal([]byte(j), &k))
			id := k.Session + "/" + k.Prompt + "/" + itoa(k.Version)
			require.NotContains(t, m, id)
			m[id] = emitted{j, events[i]}
		}
		return m
	}
	var wantEvents []int
	for _, c := range col.chains {
		wantEvents = append(wantEvents, len(c.Events))
	}
	require.Equal(t, len(want), len(enc.json))
	assert.Equal(t, byKey(want, wantEvents), byKey(enc.json, enc.events))
	assert.Positive(t, gotStats.Amended)
	assert.Positive(t, gotStats.Evicted)
}

// TestChainReuseConcurrent emits from many goroutines at once with WithChainReuse (run it with
// -race): every chain's last version must equal the batch fold's.
func TestChainReuseConcurrent(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	var mu sync.Mutex
	latest := map[chainKey]*Chain{}
	keep := ConsumerFunc(func(_ context.Context, c *Chain) error {
		// Copy what is compared: a deep copy through JSON, plus the fields JSON leaves out.
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		cp := new(Chain)
		if err := json.Unmarshal(b, cp); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		k := chainKey{c.SessionID, c.PromptID}
		if old := latest[k]; old == nil || old.Version < cp.Version {
			latest[k] = cp
		}
		return nil
	})
	a, err := New(keep, WithClock(clk), WithShards(8), WithChainReuse())
	require.NoError(t, err)
	all, batches := workerScenarios(t, 8, 25, "r")
	addConcurrently(t, a, batches, 0)
	clk.Advance(10 * time.Minute)
	require.NoError(t, a.Sweep(ctx))
	var got []*Chain
	for _, c := range latest {
		got = append(got, c)
	}
	SortChains(got)
	// Through JSON, the copies lose Events and normalise times: compare the JSON forms.
	assert.Equal(t, chainJSON(t, Fold(all)), chainJSON(t, got))
	assert.Zero(t, a.Stats().InFlight)
}
