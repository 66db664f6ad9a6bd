package correlate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/telemetry"
)

// nestedAdd marks the context of an Add made by a consumer while it holds a chain.
type nestedAdd struct{}

// arrayTracker follows the events arrays of chains in the consumer's hands, and checks the
// shards' pools: no array pooled twice, none pooled while a chain in the map or a chain being
// emitted holds it.
type arrayTracker struct {
	mu  sync.Mutex
	out map[*telemetry.Event]int
}

func (r *arrayTracker) enter(c *Chain) *telemetry.Event {
	p := unsafe.SliceData(c.Events)
	r.mu.Lock()
	r.out[p]++
	r.mu.Unlock()
	return p
}

func (r *arrayTracker) leave(p *telemetry.Event) {
	r.mu.Lock()
	if r.out[p]--; r.out[p] == 0 {
		delete(r.out, p)
	}
	r.mu.Unlock()
}

func (r *arrayTracker) check(t testing.TB, a *Assembler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range a.shards {
		s := &a.shards[i]
		s.mu.Lock()
		pool := map[*telemetry.Event]bool{}
		for _, st := range s.free.events {
			for _, evs := range st {
				p := unsafe.SliceData(evs)
				if pool[p] {
					t.Errorf("array %p pooled twice", p)
				}
				pool[p] = true
				if r.out[p] > 0 {
					t.Errorf("array %p pooled while a chain emitted from it is in the consumer's hands", p)
				}
			}
		}
		for _, p := range s.chains {
			for ; p != nil; p = p.collide {
				if p.events != nil && pool[unsafe.SliceData(p.events)] {
					t.Errorf("array of %v (shut=%v) pooled while the chain holds it", p.key, p.shut)
				}
			}
		}
		s.mu.Unlock()
	}
}

// TestChainReuseArraysConcurrent adds events for a few shared sessions from many goroutines, with late
// events for chains that have closed, tiny retention and chain limits, and consumers that add
// late events themselves while they hold a chain. Every chain must look the same at the end of
// the consumer's call as at its start, and the pools must hold no array twice or in use.
func TestChainReuseArraysConcurrent(t *testing.T) {
	for _, cfg := range []struct {
		retain, remember, maxEvents int
		overflow                    Overflow
	}{
		{0, 0, 3, OverflowEvict}, {1, 2, 4, OverflowEvict}, {2, 4, 5, OverflowBlock}, {0, 3, 9, OverflowEvict}, {1, 1, 17, OverflowEvict},
	} {
		t.Run(fmt.Sprint(cfg), func(t *testing.T) {
			ctx := context.Background()
			clk := newFakeClock()
			t0 := clk.Now()
			tr := &arrayTracker{out: map[*telemetry.Event]int{}}
			var a *Assembler
			var seqMu sync.Mutex
			seq := int64(0)
			next := func() int64 { seqMu.Lock(); defer seqMu.Unlock(); seq++; return seq }
			mk := func(rng *rand.Rand) telemetry.Event {
				q := next()
				s := fmt.Sprint("s", rng.IntN(4))
				p := fmt.Sprint("p", rng.IntN(6))
				return ev("tool_result", s, p, q, t0.Add(time.Duration(q)*time.Millisecond))
			}
			c := ConsumerFunc(func(ctx context.Context, c *Chain) error {
				p := tr.enter(c)
				defer tr.leave(p)
				before := emittedForm(t, c)
				rng := rand.New(rand.NewPCG(uint64(len(c.Events)), uint64(c.Version)))
				if ctx.Value(nestedAdd{}) == nil && rng.IntN(2) == 0 {
					// A late event of this very chain, and some of others, while it is emitted.
					r := c.Events[0].EventRecord()
					q := next()
					late := []telemetry.Event{ev("tool_result", r.SessionID, r.PromptID, q, t0.Add(time.Duration(q)*time.Millisecond))}
					for range rng.IntN(4) {
						late = append(late, mk(rng))
					}
					lctx, cancel := context.WithTimeout(context.WithValue(ctx, nestedAdd{}, true), time.Millisecond)
					_ = a.Add(lctx, late...)
					cancel()
				}
				tr.check(t, a)
				if after := emittedForm(t, c); after != before {
					t.Errorf("chain %s v%d changed in the consumer's hands:\n%s\n%s", c.ID, c.Version, before, after)
				}
				return nil
			})
			var err error
			a, err = New(c, WithClock(clk), WithShards(2), WithRetainClosed(cfg.retain), WithRememberClosed(cfg.remember),
				WithMaxChainEvents(cfg.maxEvents), WithMaxChains(6), WithOverflow(cfg.overflow), WithChainReuse())
			require.NoError(t, err)
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rng := rand.New(rand.NewPCG(uint64(g), 7))
					for i := range 40 {
						var evs []telemetry.Event
						for range 1 + rng.IntN(5) {
							evs = append(evs, mk(rng))
						}
						tctx, cancel := context.WithTimeout(ctx, time.Millisecond)
						_ = a.Add(tctx, evs...)
						cancel()
						if i%7 == 0 {
							clk.Advance(time.Hour)
							_ = a.Sweep(ctx)
						}
						if i%50 == 0 {
							_ = a.Flush(ctx)
						}
					}
				}()
			}
			wg.Wait()
			require.NoError(t, a.Close(ctx))
			tr.check(t, a)
		})
	}
}

// TestChainReuseArraysSameChains runs one sequence of events, late ones added by the consumer
// while it holds a chain, with and without WithChainReuse: the same chains, events included.
func TestChainReuseArraysSameChains(t *testing.T) {
	run := func(reuse bool) []string {
		ctx := context.Background()
		clk := newFakeClock()
		t0 := clk.Now()
		var a *Assembler
		var forms []string
		seq := int64(0)
		rngC := rand.New(rand.NewPCG(3, 4))
		mk := func(rng *rand.Rand) telemetry.Event {
			seq++
			return ev("tool_result", fmt.Sprint("s", rng.IntN(3)), fmt.Sprint("p", rng.IntN(5)), seq, t0.Add(time.Duration(seq)*time.Millisecond))
		}
		depth := 0
		c := ConsumerFunc(func(ctx context.Context, c *Chain) error {
			before := emittedForm(t, c)
			if depth < 3 && rngC.IntN(2) == 0 {
				depth++
				r := c.Events[0].EventRecord()
				seq++
				late := []telemetry.Event{ev("tool_result", r.SessionID, r.PromptID, seq, t0.Add(time.Duration(seq)*time.Millisecond))}
				for range rngC.IntN(4) {
					late = append(late, mk(rngC))
				}
				if err := a.Add(ctx, late...); err != ErrClosed {
					require.NoError(t, err)
				}
				depth--
			}
			assert.Equal(t, before, emittedForm(t, c))
			forms = append(forms, before)
			return nil
		})
		opts := []Option{WithClock(clk), WithShards(1), WithRetainClosed(1), WithRememberClosed(3), WithMaxChainEvents(4), WithMaxChains(5)}
		if reuse {
			opts = append(opts, WithChainReuse())
		}
		var err error
		a, err = New(c, opts...)
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range 2000 {
			require.NoError(t, a.Add(ctx, mk(rng), mk(rng)))
			if i%5 == 0 {
				clk.Advance(time.Hour)
				require.NoError(t, a.Sweep(ctx))
			}
		}
		require.NoError(t, a.Close(ctx))
		return forms
	}
	want, got := run(false), run(true)
	require.Equal(t, len(want), len(got))
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("chain %d differs:\n%s\n%s", i, want[i], got[i])
		}
	}
}
