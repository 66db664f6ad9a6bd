package correlate

import (
	"fmt"
	"log/slog"
	"time"
)

// Clock tells the assembler the time. Inject one with [WithClock] to test every timing rule
// without sleeping. Now must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

// Now returns time.Now().
func (systemClock) Now() time.Time { return time.Now() }

// Overflow says what an [Assembler] does when it holds its maximum chains or bytes.
type Overflow uint8

// The overflow policies.
const (
	// OverflowUnknown is invalid as an option value.
	OverflowUnknown Overflow = iota
	// OverflowEvict closes the oldest in-flight chain early, emits it with reason evicted and
	// counts it (the default).
	OverflowEvict
	// OverflowBlock makes Add wait until Sweep, Flush or Run frees room, or its context ends:
	// back-pressure for lossless pipelines and tests.
	OverflowBlock
)

// String returns "evict", "block", or "" for OverflowUnknown.
func (o Overflow) String() string {
	switch o {
	case OverflowEvict:
		return "evict"
	case OverflowBlock:
		return "block"
	}
	return ""
}

// config holds an assembler's settings; defaultConfig documents the defaults.
type config struct {
	clock          Clock
	quiet          time.Duration
	idle           time.Duration
	maxAge         time.Duration
	maxChainEvents int
	maxChainBytes  int64
	maxChains      int
	maxBytes       int64
	overflow       Overflow
	retainClosed   int
	rememberClosed int
	shards         int
	sweepEvery     time.Duration
	logger         *slog.Logger
	reuseChains    bool
	// noPool turns off the shards' pools of dropped chains' memory (freeMem): tests compare
	// with it.
	noPool bool
}

func defaultConfig() config {
	return config{
		clock:          systemClock{},
		quiet:          5 * time.Second,
		idle:           2 * time.Minute,
		maxAge:         30 * time.Minute,
		maxChainEvents: 10_000,
		maxChainBytes:  8 << 20,
		maxChains:      100_000,
		maxBytes:       512 << 20,
		overflow:       OverflowEvict,
		retainClosed:   10_000,
		rememberClosed: 200_000,
		shards:         64,
		sweepEvery:     time.Second,
		logger:         slog.New(slog.DiscardHandler),
	}
}

// Option configures an [Assembler] in [New]. The set of options is closed.
type Option interface {
	apply(*config) error
}

type optionFunc func(*config) error

func (f optionFunc) apply(c *config) error { return f(c) }

func positive[T int | int64 | time.Duration](name string, v T) error {
	if v <= 0 {
		return fmt.Errorf("%w: %s must be positive, got %v", ErrInvalidOption, name, v)
	}
	return nil
}

// WithClock sets the clock that times the quiet period, idle timeout and maximum age.
// Default: the system clock.
func WithClock(c Clock) Option {
	return optionFunc(func(cfg *config) error {
		if c == nil {
			return fmt.Errorf("%w: nil clock", ErrInvalidOption)
		}
		cfg.clock = c
		return nil
	})
}

// WithQuietPeriod sets how long a chain must stay quiet after a terminal event (and with
// nothing pending) before it closes. Default: 5 s, long enough for the MCP disconnect and
// telemetry flushes that follow a response.
func WithQuietPeriod(d time.Duration) Option {
	return optionFunc(func(c *config) error { c.quiet = d; return positive("quiet period", d) })
}

// WithIdleTimeout sets how long a chain may go without events before it closes whatever its
// state. Default: 2 minutes (agent turns run tools for minutes between events).
func WithIdleTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) error { c.idle = d; return positive("idle timeout", d) })
}

// WithMaxAge sets the longest a chain stays open after its first event. Default: 30 minutes.
func WithMaxAge(d time.Duration) Option {
	return optionFunc(func(c *config) error { c.maxAge = d; return positive("max age", d) })
}

// WithMaxChainEvents sets the events one chain may hold before it is closed (later events
// amend it). Default: 10,000.
func WithMaxChainEvents(n int) Option {
	return optionFunc(func(c *config) error { c.maxChainEvents = n; return positive("max chain events", n) })
}

// WithMaxChainBytes sets the estimated bytes one chain may hold before it is closed.
// Default: 8 MiB.
func WithMaxChainBytes(n int64) Option {
	return optionFunc(func(c *config) error { c.maxChainBytes = n; return positive("max chain bytes", n) })
}

// WithMaxChains sets the in-flight chains the assembler may hold. Default: 100,000.
func WithMaxChains(n int) Option {
	return optionFunc(func(c *config) error { c.maxChains = n; return positive("max chains", n) })
}

// WithMaxBytes sets the estimated bytes of buffered events the assembler may hold, in flight
// and retained for late events. Default: 512 MiB.
func WithMaxBytes(n int64) Option {
	return optionFunc(func(c *config) error { c.maxBytes = n; return positive("max bytes", n) })
}

// WithOverflow sets what happens at the chain or byte limit. Default: [OverflowEvict].
func WithOverflow(o Overflow) Option {
	return optionFunc(func(c *config) error {
		if o != OverflowEvict && o != OverflowBlock {
			return fmt.Errorf("%w: overflow %d", ErrInvalidOption, o)
		}
		c.overflow = o
		return nil
	})
}

// WithRetainClosed sets how many closed chains keep their events, so that a late event emits
// a complete version N+1. Default: 10,000. Zero keeps none (late events then emit a partial
// version).
func WithRetainClosed(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("%w: retain closed must not be negative", ErrInvalidOption)
		}
		c.retainClosed = n
		return nil
	})
}

// WithRememberClosed sets how many closed chains are remembered by key, version and event
// fingerprints (8 bytes per event) after their events are released, so that a late event
// continues the version count and a late duplicate is recognised. Default: 200,000.
func WithRememberClosed(n int) Option {
	return optionFunc(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("%w: remember closed must not be negative", ErrInvalidOption)
		}
		c.rememberClosed = n
		return nil
	})
}

// WithShards sets the number of lock shards (rounded up to a power of two). Default: 64.
func WithShards(n int) Option {
	return optionFunc(func(c *config) error {
		if err := positive("shards", n); err != nil {
			return err
		}
		p := 1
		for p < n {
			p <<= 1
		}
		c.shards = p
		return nil
	})
}

// WithSweepInterval sets how often [Assembler.Run] sweeps for chains to close. Default: 1 s.
func WithSweepInterval(d time.Duration) Option {
	return optionFunc(func(c *config) error { c.sweepEvery = d; return positive("sweep interval", d) })
}

// WithLogger sets the logger for evictions and consumer failures (ids and counts only, never
// event content). Evictions are a warning at most once a second, with the counts since the
// last, and each evicted chain's id at debug level. Default: discard.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidOption)
		}
		c.logger = l
		return nil
	})
}

// WithChainReuse lets the assembler reuse the memory of an emitted [Chain] for later chains:
// the consumer promises that once [Consumer.Chain] returns it keeps neither the *Chain nor
// anything it points to that the fold built: the chain struct, Prompt, Response, the APICalls,
// APIErrors, Tools (and their Success flags), MCPServers, Skills, Plugins, Subagents, Files
// and Reasons slices, and the Events slice (the array of the events' interfaces). Copy what
// must outlive the call (encode the chain, copy a struct or a slice out) before returning.
// Strings and the events themselves are never reused and stay valid. A consumer that encodes
// each chain (to a wire format, a file, a database) before it returns can promise this; one
// that keeps the chains, passes them to another goroutine or a channel, or collects them (as
// tests often do) must not use the option.
//
// With it, an assembler allocates almost nothing per emitted chain (the id string only), and
// a long-running one builds new chains' event lists in the arrays of closed chains whose
// events it no longer keeps: it makes a quarter of the garbage of the default, or less, and
// the GC runs less often. Breaking the promise is a data race: later chains overwrite the
// kept one. Default: off, every chain is the consumer's to keep.
func WithChainReuse() Option {
	return optionFunc(func(c *config) error { c.reuseChains = true; return nil })
}
