package correlate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withoutPool turns off the shards' pools of dropped chains' memory.
func withoutPool() Option { return optionFunc(func(c *config) error { c.noPool = true; return nil }) }

// emittedForm is what a consumer can see of an emitted chain: its JSON and its events' keys,
// sequence numbers, names and times, in order.
func emittedForm(t testing.TB, c *Chain) string {
	t.Helper()
	b, err := json.Marshal(c)
	require.NoError(t, err)
	for _, ev := range c.Events {
		r := ev.EventRecord()
		b = append(b, '|')
		b = fmt.Appendf(b, "%s/%s/%d/%T/%d", r.SessionID, r.PromptID, r.Sequence, ev, tsOf(r))
	}
	return string(b)
}

// formConsumer keeps the emitted form of each chain.
type formConsumer struct {
	t     testing.TB
	mu    sync.Mutex
	forms []string
}

func (f *formConsumer) Chain(_ context.Context, c *Chain) error {
	s := emittedForm(f.t, c)
	f.mu.Lock()
	f.forms = append(f.forms, s)
	f.mu.Unlock()
	return nil
}

// pooled counts the chains in the shards' pools.
func pooled(a *Assembler) (chains int) {
	for i := range a.shards {
		s := &a.shards[i]
		s.mu.Lock()
		chains += len(s.free.chains)
		s.mu.Unlock()
	}
	return chains
}

// TestChainPoolEmitsTheSameChains checks that reusing the memory of chains dropped from memory
// changes nothing a consumer can see: a chaotic fleet streamed through an assembler whose
// retention is so small that closed chains are released and dropped all the time (late events
// then amend partially or start afresh, late duplicates are recognised or not) emits the same
// chains, byte for byte and with the same events, with the pools as without, and the same
// stats.
func TestChainPoolEmitsTheSameChains(t *testing.T) {
	evs := chaoticEvents(t)
	for _, reuse := range []bool{false, true} {
		opts := []Option{WithRetainClosed(3), WithRememberClosed(8), WithShards(1), WithMaxChainEvents(40)}
		if reuse {
			opts = append(opts, WithChainReuse())
		}
		run := func(opts ...Option) ([]string, Stats, int) {
			c := &formConsumer{t: t}
			a := streamReplay(t, evs, c, opts...)
			// One shard: the emissions do not depend on the seed, but sort them anyway.
			slices.Sort(c.forms)
			return c.forms, a.Stats(), pooled(a)
		}
		want, wantStats, none := run(append(opts, withoutPool())...)
		got, gotStats, some := run(opts...)
		assert.Zero(t, none)
		assert.Positive(t, some, "no chain was pooled")
		assert.Equal(t, wantStats, gotStats)
		require.Equal(t, len(want), len(got))
		for i := range want {
			require.Equal(t, want[i], got[i], "emission %d", i)
		}
		assert.Positive(t, gotStats.Amended)
		assert.Positive(t, gotStats.Late)
		assert.Positive(t, gotStats.Duplicates)
	}
}

// TestChainPoolConcurrent adds from many goroutines at once to one shard whose chains are
// dropped from memory as soon as they close, so that a chain a goroutine added to is pooled
// and rewritten for another goroutine's key while the first goes on adding (run it with
// -race: Add must not read a pooled chain without its shard's lock; with OverflowBlock it
// unlocks the shard after every event). Every emitted chain must hold only events of its own
// key, and every added event must be emitted exactly once.
func TestChainPoolConcurrent(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	var mu sync.Mutex
	var emitted int64
	var bad []string
	check := ConsumerFunc(func(_ context.Context, c *Chain) error {
		mu.Lock()
		defer mu.Unlock()
		emitted += int64(len(c.Events))
		for _, ev := range c.Events {
			if r := ev.EventRecord(); r.SessionID != c.SessionID || r.PromptID != c.PromptID {
				bad = append(bad, c.SessionID+"/"+c.PromptID+" holds "+r.SessionID+"/"+r.PromptID)
			}
		}
		return nil
	})
	for _, overflow := range []Overflow{OverflowBlock, OverflowEvict} {
		emitted, bad = 0, nil
		a, err := New(check, WithClock(clk), WithShards(1), WithRetainClosed(0), WithRememberClosed(1),
			WithMaxChainEvents(2), WithMaxChains(4), WithOverflow(overflow))
		require.NoError(t, err)
		_, batches := workerScenarios(t, 8, 20, "p")
		var wg, sweeper sync.WaitGroup
		done := make(chan struct{})
		sweeper.Add(1)
		go func() { // frees room for blocked adders until they are done
			defer sweeper.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				clk.Advance(time.Minute)
				assert.NoError(t, a.Sweep(ctx))
				time.Sleep(100 * time.Microsecond)
			}
		}()
		for w := range batches {
			wg.Add(1)
			go func() {
				defer wg.Done()
				evs := batches[w]
				for i := 0; i < len(evs); i += 5 {
					assert.NoError(t, a.Add(ctx, evs[i:min(i+5, len(evs))]...))
				}
			}()
		}
		wg.Wait()
		close(done)
		sweeper.Wait()
		require.NoError(t, a.Close(ctx))
		st := a.Stats()
		mu.Lock()
		assert.Empty(t, bad)
		assert.Equal(t, st.Added, emitted)
		mu.Unlock()
		assert.Positive(t, pooled(a))
		assert.Zero(t, st.InFlight)
	}
}
