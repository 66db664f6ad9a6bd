package correlate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/coworkgov/cowork/telemetry"
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

// TestChainReuseEventsArrays follows one events array with WithChainReuse through the
// states in which its pooling could go wrong: a chain released while it is still being
// emitted keeps its array until the consumer returns, and then the next chain takes it; a
// chain reopened by a late event while its first version is in the consumer's hands leaves
// that version's events as they were; without the option no closed chain's array is pooled.
func TestChainReuseEventsArrays(t *testing.T) {
	ctx := context.Background()
	t0 := newFakeClock().Now()
	evs := func(prompt string, seqs ...int64) []telemetry.Event {
		var out []telemetry.Event
		for _, q := range seqs {
			out = append(out, ev("tool_result", "s", prompt, q, t0.Add(time.Duration(q)*time.Millisecond)))
		}
		return out
	}
	for _, reuse := range []bool{false, true} {
		t.Run(fmt.Sprint("reuse=", reuse), func(t *testing.T) {
			clk := newFakeClock()
			var a *Assembler
			var arrays []*telemetry.Event // the events array of each emitted chain
			var seen []string
			late := evs("p1", 9)
			c := ConsumerFunc(func(ctx context.Context, c *Chain) error {
				arrays = append(arrays, unsafe.SliceData(c.Events))
				before := emittedForm(t, c)
				if c.PromptID == "p1" && c.Version == 1 {
					// A late event reopens p1 while this version is being emitted.
					require.NoError(t, a.Add(ctx, late...))
					assert.Equal(t, before, emittedForm(t, c), "the emitted version changed under the consumer")
				}
				seen = append(seen, fmt.Sprintf("%s v%d %d", c.PromptID, c.Version, len(c.Events)))
				return nil
			})
			opts := []Option{WithClock(clk), WithShards(1), WithRetainClosed(1), WithRememberClosed(4)}
			if reuse {
				opts = append(opts, WithChainReuse())
			}
			var err error
			a, err = New(c, opts...)
			require.NoError(t, err)
			pooledArrays := func() (n int) {
				for _, st := range a.shards[0].free.events {
					n += len(st)
				}
				return n
			}

			// One sweep closes p0, then p1, which releases p0 (one chain retained) before either
			// is emitted; p1's late event arrives while p1 is emitted.
			require.NoError(t, a.Add(ctx, evs("p0", 1, 2, 3)...))
			require.NoError(t, a.Add(ctx, evs("p1", 4, 5)...))
			clk.Advance(time.Hour)
			require.NoError(t, a.Sweep(ctx))
			require.Len(t, arrays, 2)
			if !reuse {
				assert.Zero(t, pooledArrays(), "an emitted chain's events are the consumer's")
				return
			}
			assert.Equal(t, 2, pooledArrays(), "p0 released, p1 reopened in a copy: both arrays are no one's")

			clk.Advance(time.Hour)
			require.NoError(t, a.Sweep(ctx)) // p1 version 2
			require.NoError(t, a.Add(ctx, evs("p2", 6)...))
			clk.Advance(time.Hour)
			require.NoError(t, a.Sweep(ctx))
			require.Len(t, arrays, 4)
			assert.NotEqual(t, arrays[1], arrays[2], "version 2 must not write into version 1's array")
			assert.Contains(t, arrays[:2], arrays[3], "p2 was not built in a pooled array")
			assert.Equal(t, []string{"p0 v1 3", "p1 v1 2", "p1 v2 3", "p2 v1 1"}, seen)
		})
	}
}
