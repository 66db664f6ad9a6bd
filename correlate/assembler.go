package correlate

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/coworkgov/cowork/telemetry"
)

// Consumer receives the chains an [Assembler] emits. Chain is called once per emitted version,
// from whichever goroutine closed the chain (Add, Sweep, Run, Flush or Close), possibly from
// several goroutines at once: it must be safe for concurrent use. It may block (that is
// back-pressure on the caller) and should honour ctx. An error is counted in
// [Stats].ConsumerErrors and returned, wrapped in a [*ConsumerError], from the call that
// emitted the chain; the assembler does not retry, so a consumer that needs durability must
// keep the chain before returning nil. The chain must not be modified. The consumer may keep
// it after returning, unless the assembler was made with [WithChainReuse].
type Consumer interface {
	Chain(ctx context.Context, c *Chain) error
}

// ConsumerFunc adapts a function to [Consumer].
type ConsumerFunc func(ctx context.Context, c *Chain) error

// Chain calls f(ctx, c).
func (f ConsumerFunc) Chain(ctx context.Context, c *Chain) error { return f(ctx, c) }

var _ Consumer = ConsumerFunc(nil)

// Assembler folds a stream of events into chains: the streaming form of [Fold]. Add events in
// any order, from many sessions and goroutines; each chain closes on the first of
//
//   - a terminal event (main-thread assistant_response, final api_error, api_retries_exhausted,
//     api_refusal, or a later prompt in the same session) with nothing pending (every accepted
//     call has its result, every Agent call its subagent_completed) and then the quiet period
//     without events;
//   - the idle timeout without events;
//   - the maximum age since the chain's first event;
//   - the chain's maximum events or bytes;
//   - eviction at the assembler's memory limit (with [OverflowEvict]);
//
// and is emitted to the [Consumer] with the trigger in ClosedBy. Time-based closing happens in
// [Assembler.Sweep], which [Assembler.Run] calls periodically; with an injected [Clock], tests
// call Sweep after moving the clock.
//
// A late event for a closed chain reopens it as version N+1 with the earlier events (kept for
// the last WithRetainClosed chains; beyond that the version is marked partial), never as an
// unrelated chain. Duplicate events (same [EventKey]) are dropped and counted, also against
// recently closed chains. Memory is bounded by WithMaxChains and WithMaxBytes.
//
// An Assembler must be created with [New]. It is safe for concurrent use. Events passed to Add
// are kept until their chain is released and are handed to the consumer in Chain.Events: do
// not modify them after Add.
type Assembler struct {
	cfg      config
	consumer Consumer
	shards   []shard
	mask     uint64
	seed     maphash.Seed
	closed   atomic.Bool

	inFlight  atomic.Int64
	bytesHeld atomic.Int64
	// due is at most the earliest of the shards' due times: Sweep returns at once before it.
	// Add lowers it after lowering a shard's; a Sweep that passed over the shards sets it to
	// the earliest it saw, unless it changed meanwhile.
	due      atomic.Int64
	eventsIn atomic.Int64
	order    atomic.Uint64
	st       counters

	spaceMu sync.Mutex
	space   chan struct{}
	waiters atomic.Int32

	evictLog evictLog
}

// evictLog rate-limits the warnings about evictions: under a sustained overflow an assembler
// evicts chains on every Add, and a line for each (a collector past its memory bound evicted
// 15,000 in a few seconds) would flood the log.
type evictLog struct {
	last           atomic.Int64 // when the last warning was logged (the assembler's clock, Unix ns)
	chains, events atomic.Int64 // evicted since
}

// noteEvicted records the eviction of chain k with n events: at debug level each chain, and
// at most one warning a second (by the assembler's clock) with the counts since the last.
func (a *Assembler) noteEvicted(k chainKey, n int) {
	ctx := context.Background()
	if a.cfg.logger.Enabled(ctx, slog.LevelDebug) {
		a.cfg.logger.Debug("correlate: evicted in-flight chain", "chain_id", ChainID(k.session, k.prompt), "events", n)
	}
	l := &a.evictLog
	l.chains.Add(1)
	l.events.Add(int64(n))
	now, last := a.cfg.clock.Now().UnixNano(), l.last.Load()
	if (last == 0 || now-last >= int64(time.Second)) && l.last.CompareAndSwap(last, now) {
		a.cfg.logger.Warn("correlate: evicted in-flight chains to bound memory", "chains", l.chains.Swap(0),
			"events", l.events.Swap(0), "bytes_held", a.bytesHeld.Load(), "in_flight", a.inFlight.Load())
	}
}

type counters struct {
	added, emitted, amended, late, duplicates, evicted, consumerErrors, retained atomic.Int64
	incomplete                                                                   [numReasons]atomic.Int64
	byTrigger                                                                    [numTriggers]atomic.Int64
}

type shard struct {
	mu sync.Mutex
	// chains holds every chain the shard knows, in flight or closed (shut), by the hash of its
	// key (see chainHash; chains whose keys share a hash are linked by collide): one map, so
	// that closing a chain and reopening it for a late event cost no map operations.
	chains map[uint64]*pendingChain
	head   *pendingChain // oldest in flight
	tail   *pendingChain
	// sessions holds the shard's live sessions by the hash of their id (see chainHash; those
	// whose ids share a hash are linked by collide), so that dropping one reads no string.
	sessions map[uint64]*liveSession
	kept     closedList // closed chains that still hold their events, oldest first
	released closedList // closed chains remembered by fingerprints only, oldest first
	// free is the memory of the shard's chains dropped from memory, for its next chains.
	free freeMem
	// due is a time (Unix ns) before which none of the shard's in-flight chains can close by
	// time (see dueAt), math.MaxInt64 for none: Sweep passes over the shard until then without
	// locking it. Written under mu, only ever lowered by Add, set exactly by Sweep.
	due atomic.Int64
}

// freeMem is a shard's pool of what its chains leave behind once nothing can read it: the
// pendingChains dropped from memory (in a long-running assembler, as many as it makes), the
// keys (fingerprint) arrays of dropped chains and those in-flight chains outgrew, the
// sessions dropped with their last remembered chain (with their facts' memory), and the
// arrays in-flight chains' events outgrew. A closed chain's events array is pooled only with
// WithChainReuse, once the chain lets go of it and the consumer has returned from the chain
// emitted from it (see letGo and settle): without the option the emitted Chain.Events shares
// it, and the consumer may keep it. Each stack holds at most maxFree entries, keys arrays up
// to maxFreeCap elements.
//
// A pooled pendingChain stays the shard's (its shard field never changes) and shut, so that
// Add, which reads the chain of the previous event only under its shard's lock, sees it as
// not in flight; see Assembler.add.
type freeMem struct {
	chains   []*pendingChain
	keys     [][]uint64
	sessions []*liveSession
	// events are the arrays in-flight chains' events outgrew (see growEvents) and, with
	// WithChainReuse, those of closed chains no one refers to any more, by capacity:
	// initialEvents<<i in events[i].
	events [numEventClasses][][]telemetry.Event
}

// numEventClasses is the number of capacities of events arrays pooled: 8 to 128.
const numEventClasses = 5

const (
	maxFree    = 32
	maxFreeCap = 128
)

// pop removes and returns the last element of a non-empty stack, clearing its slot.
func pop[T any](stack *[]T) T {
	n := len(*stack) - 1
	v := (*stack)[n]
	var zero T
	(*stack)[n] = zero
	*stack = (*stack)[:n]
	return v
}

// pushFree pools a slice's backing array, emptied, if it is one worth keeping and the stack
// has room.
func pushFree[T any](stack *[][]T, sl []T) {
	if c := cap(sl); c > 0 && c <= maxFreeCap && len(*stack) < maxFree {
		*stack = append(*stack, sl[:0])
	}
}

// newChain returns a pendingChain of the shard for key k, whose hash is h, with state st, from
// the pool if it has one; the caller holds s.mu and inserts it in the map.
func (s *shard) newChain(k chainKey, h uint64, st chainState) *pendingChain {
	if len(s.free.chains) > 0 {
		p := pop(&s.free.chains)
		p.key, p.hash, p.chainState = k, h, st
		return p
	}
	return &pendingChain{key: k, shard: s, hash: h, chainState: st}
}

// newKeys returns an empty keys slice for a new chain, from the pool if it has one.
func (s *shard) newKeys() []uint64 {
	if len(s.free.keys) > 0 {
		return pop(&s.free.keys)
	}
	return make([]uint64, 0, initialEvents)
}

// newEvents returns an empty events slice for a new chain, from the pool if it has one.
func (s *shard) newEvents() []telemetry.Event {
	if free := &s.free.events[0]; len(*free) > 0 {
		return pop(free)
	}
	return make([]telemetry.Event, 0, initialEvents)
}

// growEvents returns p's events in an array of twice their capacity, holding them (and room
// for more), from the pool if it has one; the caller holds s.mu. The array outgrown goes to
// the pool, cleared: an in-flight chain's events are its own (a reopened chain copies the ones
// it shared with a chain still emitting), so nothing else refers to it.
func (s *shard) growEvents(a *Assembler, evs []telemetry.Event) []telemetry.Event {
	c := cap(evs)
	var grown []telemetry.Event
	if j, ok := eventClass(2 * c); ok && !a.cfg.noPool && len(s.free.events[j]) > 0 {
		grown = append(pop(&s.free.events[j]), evs...)
	} else {
		grown = append(make([]telemetry.Event, 0, max(2*c, initialEvents)), evs...)
	}
	s.poolEvents(a, evs)
	return grown
}

// poolEvents pools an events array no one refers to any more, cleared, if it is of a pooled
// capacity and its stack has room; the caller holds s.mu.
func (s *shard) poolEvents(a *Assembler, evs []telemetry.Event) {
	i, ok := eventClass(cap(evs))
	if !ok || a.cfg.noPool || len(s.free.events[i]) >= maxFree {
		return
	}
	evs = evs[:cap(evs)]
	clear(evs)
	s.free.events[i] = append(s.free.events[i], evs[:0])
}

// letGo is called when the closed chain cc stops holding its events (released); the caller
// holds s.mu. With WithChainReuse the array goes to the pool, unless a chain emitted from it
// is still to be folded or in the consumer's hands (cc.emitting): then settle pools it once
// the consumer has returned. Without the option the emitted chain's Events are the
// consumer's to keep, and so is the array.
func (s *shard) letGo(a *Assembler, cc *pendingChain) {
	if a.cfg.reuseChains && !cc.emitting {
		s.poolEvents(a, cc.events)
	}
	cc.emitting = false
}

// settle is emit's part of the events arrays' pooling with WithChainReuse, once the consumer
// has returned from the chain of cl: the array is then the closed chain's alone, if it still
// holds it, else no one's, and pooled.
func (a *Assembler) settle(cl *closing) {
	s := cl.owner.shard
	s.mu.Lock()
	if cc := cl.owner; cc.shut && unsafe.SliceData(cc.events) == unsafe.SliceData(cl.events) {
		cc.emitting = false
	} else {
		s.poolEvents(a, cl.events)
	}
	s.mu.Unlock()
}

// eventClass returns the pool class of an events array of capacity c, if it is one.
func eventClass(c int) (int, bool) {
	for i := range numEventClasses {
		if c == initialEvents<<i {
			return i, true
		}
	}
	return 0, false
}

// freeKeys pools the keys of a chain that no longer needs them.
func (s *shard) freeKeys(a *Assembler, ks []uint64) {
	if !a.cfg.noPool {
		pushFree(&s.free.keys, ks)
	}
}

// newSession returns an empty session, from the pool if it has one; the caller holds s.mu.
func (s *shard) newSession() *liveSession {
	if len(s.free.sessions) > 0 {
		return pop(&s.free.sessions)
	}
	ls := &liveSession{}
	ls.open = ls.openBuf[:0]
	return ls
}

// recycleSession pools a session removed from the shard's map, to which no chain refers any
// more; the caller holds s.mu. Its facts' memory (the sequence bitset, the agents map) goes
// with it, emptied, unless it grew large.
func (s *shard) recycleSession(a *Assembler, ls *liveSession) {
	if a.cfg.noPool || len(s.free.sessions) >= maxFree {
		return
	}
	seqs := ls.info.seqs
	if cap(seqs) > maxFreeCap {
		seqs = nil
	}
	clear(seqs)
	agents := ls.info.agents
	if len(agents) > maxFreeAgents {
		agents = nil
	}
	clear(agents)
	*ls = liveSession{info: sessionInfo{seqs: seqs[:0], agents: agents}}
	ls.open = ls.openBuf[:0]
	s.free.sessions = append(s.free.sessions, ls)
}

// maxFreeAgents is the largest agents map a pooled session keeps.
const maxFreeAgents = 32

// recycle pools a chain removed from the shard's map and lists; the caller holds s.mu.
func (s *shard) recycle(a *Assembler, p *pendingChain) {
	if a.cfg.noPool {
		return
	}
	f := &s.free
	pushFree(&f.keys, p.keys)
	// Drop every reference (events, session, strings), stay shut: not in flight.
	p.key, p.hash, p.collide, p.chainState = chainKey{}, 0, nil, chainState{shut: true}
	if len(f.chains) < maxFree {
		f.chains = append(f.chains, p)
	}
}

// pendingChain is a chain of the shard's map: in flight, or closed (shut) and remembered for
// late events until dropped. Closing and reopening change its state in place.
type pendingChain struct {
	// key and shard never change, so Add may compare them without the shard's lock.
	key   chainKey
	shard *shard
	// hash is key's hash in the shard's map (chainHash), kept so that dropping the chain does
	// not hash its key's strings again; it changes with key, when a pooled chain is reused.
	hash uint64
	// collide links the chains of the shard's map whose keys have the same hash.
	collide *pendingChain
	chainState
}

// chainState is a pendingChain's state, guarded by its shard's mutex.
type chainState struct {
	// events are the chain's events: in flight as added, shut sorted and de-duplicated, nil
	// once released. A shut chain's events are shared with the chain emitted from them, so they
	// are never modified once shut: reopening copies them, unless (WithChainReuse) that chain's
	// consumer has returned.
	events []telemetry.Event
	// keys are the events' fingerprints: in flight and kept, index for index with events;
	// released, what remains of the chain (sorted above linearDedupMax, see release).
	keys []uint64
	// index holds the fingerprints of an in-flight chain whose events outgrow a linear scan,
	// and of a partial amendment, with those of the events forgotten before it.
	index map[uint64]struct{}
	// seqs is the sequence range of the events; with negSeq (a negative sequence number, for
	// which the range depends on order) it is recomputed at close.
	seqs     seqRange
	pend     pendingCount
	lastTS   int64 // in flight and not unsorted: the time of the last event in event order
	promptTS int64 // the first user_prompt's time, in arrival order, else the first event's
	bytes    int64
	created  int64
	order    uint64 // creation order across shards, for eviction
	last     int64
	version  int
	negSeq   bool
	hinted   bool
	partial  bool
	shut     bool
	// unsorted reports that an event arrived too far out of order to be moved into place on
	// Add: the events are sorted at close. Otherwise they are always in event order.
	unsorted bool
	// hasPrompt and notif report a user_prompt and a task notification among the events.
	hasPrompt bool
	notif     bool
	// emitting reports, with WithChainReuse, that a chain emitted from the shut chain's events
	// is still to be folded or in the consumer's hands (see letGo and settle).
	emitting bool
	sess     *liveSession
	// prev and next link the shard's in-flight list, or, shut, its closed list: kept while it
	// holds its events, else released (see closedListOf).
	prev, next *pendingChain
}

// closedChain is a shut pendingChain.
type closedChain = pendingChain

// closedList is an intrusive doubly linked list of closed chains.
type closedList struct {
	head, tail *closedChain
	n          int
}

func (l *closedList) push(c *closedChain) {
	c.prev, c.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
	l.n++
}

func (l *closedList) remove(c *closedChain) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
	l.n--
}

// liveSession is what the assembler knows of a session: the facts its chains' folds need.
// It lives as long as one of its chains is open or remembered as closed, so a late event is
// folded with the same session facts as the rest.
type liveSession struct {
	id      string
	hash    uint64       // of id: its key in the shard's map
	collide *liveSession // the next session of the shard's map whose id has the same hash
	info    sessionInfo
	open    []*pendingChain // in openBuf while it fits: a session has a few chains open at once
	closed  int             // closed chains remembered
	last    int64
	// openBuf backs open at first (160 bytes in all, a size class).
	openBuf [4]*pendingChain
}

const linearDedupMax = 48

// New returns an assembler that emits chains to consumer.
func New(consumer Consumer, opts ...Option) (*Assembler, error) {
	if consumer == nil {
		return nil, errors.Join(ErrInvalidOption, errors.New("correlate: nil consumer"))
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	a := &Assembler{cfg: cfg, consumer: consumer, seed: maphash.MakeSeed(), space: make(chan struct{})}
	a.shards = make([]shard, cfg.shards)
	for i := range a.shards {
		a.shards[i].due.Store(math.MaxInt64)
	}
	a.due.Store(math.MaxInt64)
	a.mask = uint64(cfg.shards - 1)
	return a, nil
}

// closing is a chain taken out of the assembler, to be folded and emitted outside the locks.
type closing struct {
	key chainKey
	// events are the chain's, in their array at its full capacity (settle pools the array);
	// the fold gets them cut to their length, so that an append to Chain.Events copies them.
	events  []telemetry.Event
	facts   sessionFacts
	trigger Trigger
	version int
	partial bool
	// owner is the chain closed, which may hold events (and so reopen from them, or release
	// them) until the chain is dropped. See settle.
	owner *pendingChain
}

// Add adds events. Each event goes to the chain of its (session.id, prompt.id); a duplicate is
// dropped and counted. Add emits the chains its events close (limits, eviction) before it
// returns, and returns the consumer's errors for them joined. With [OverflowBlock], Add waits
// for room and returns ctx's error if ctx ends first (events before the one that waited are
// kept). After Close, Add returns [ErrClosed].
func (a *Assembler) Add(ctx context.Context, events ...telemetry.Event) error {
	if a.closed.Load() {
		return ErrClosed
	}
	now := a.cfg.clock.Now().UnixNano()
	var out []closing
	var errs []error
	var last *pendingChain // the chain of the previous event: consecutive events usually share it
	// held is the shard add left locked: a run of events of one shard is added under one lock.
	// It is unlocked before anything that takes other locks, waits or calls the consumer.
	var held *shard
	var n addCounts // counted here, published before emitting and returning
	touchAdd(events)
	for _, ev := range events {
		if ev == nil {
			continue
		}
		if a.cfg.overflow == OverflowBlock {
			if err := a.waitRoom(ctx); err != nil {
				n.publish(a)
				errs = append(errs, a.emit(ctx, out)...)
				return errors.Join(append(errs, err)...)
			}
		}
		out, last, held = a.add(ev, now, out, last, held, &n)
		if a.cfg.overflow == OverflowBlock || len(out) > 0 || a.overLimit() {
			held.mu.Unlock()
			held, last = nil, nil // unlocked, last may be dropped and rewritten: see add
			if a.cfg.overflow == OverflowEvict && a.overLimit() {
				out = a.evict(out)
			}
			if len(out) > 0 {
				n.publish(a)
				errs = append(errs, a.emit(ctx, out)...)
				out = out[:0]
			}
		}
	}
	if held != nil {
		held.mu.Unlock()
	}
	n.publish(a)
	if a.closed.Load() {
		// Close ran while this Add was adding: flush what it may have missed.
		errs = append(errs, a.Flush(ctx))
	}
	return errors.Join(errs...)
}

// addCounts are an Add call's counts of events received and added, published to the
// assembler's counters in one atomic operation each.
type addCounts struct{ received, added int64 }

func (n *addCounts) publish(a *Assembler) {
	if n.received > 0 {
		a.eventsIn.Add(n.received)
	}
	if n.added > 0 {
		a.st.added.Add(n.added)
	}
	*n = addCounts{}
}

// AddLogs adds every event of a decoded request; see [Assembler.Add].
func (a *Assembler) AddLogs(ctx context.Context, l *telemetry.Logs) error {
	if l == nil {
		return nil
	}
	return a.Add(ctx, l.Events()...)
}

// chainHash returns the shard of key k, the hash that is its key in the shard's map, and the
// session's hash, its session's key. The shard depends on the session only.
func (a *Assembler) chainHash(k chainKey) (s *shard, h, hs uint64) {
	hs = maphash.String(a.seed, k.session)
	return &a.shards[hs&a.mask], hs + maphash.String(a.seed, k.prompt)*0x9e3779b97f4a7c15, hs
}

// session returns the live session with id and hash hs, or nil.
func (s *shard) session(hs uint64, id string) *liveSession {
	ls := s.sessions[hs]
	for ls != nil && ls.id != id {
		ls = ls.collide
	}
	return ls
}

// insertSession adds ls, whose id and hash are set, to the map.
func (s *shard) insertSession(ls *liveSession) { hashInsert(&s.sessions, ls.hash, ls) }

// removeSession removes ls from the map.
func (s *shard) removeSession(ls *liveSession) { hashRemove(s.sessions, ls.hash, ls) }

// lookup returns the chain of k, whose hash is h, or nil.
func (s *shard) lookup(h uint64, k chainKey) *pendingChain {
	p := s.chains[h]
	for p != nil && p.key != k {
		p = p.collide
	}
	return p
}

// insert adds p, whose key hashes to h, to the map.
func (s *shard) insert(h uint64, p *pendingChain) { hashInsert(&s.chains, h, p) }

// remove removes p, whose key hashes to h, from the map.
func (s *shard) remove(h uint64, p *pendingChain) { hashRemove(s.chains, h, p) }

// hashLinked is an entry of a shard's map by 64-bit hash (chains, sessions): entries whose
// hashes are equal are linked through the field that collision returns.
type hashLinked[P any] interface {
	comparable
	collision() *P
}

func (p *pendingChain) collision() **pendingChain { return &p.collide }
func (ls *liveSession) collision() **liveSession  { return &ls.collide }

// hashInsert adds p, whose hash is h, to *m, made on first use (a shard may never see a
// session).
func hashInsert[P hashLinked[P]](m *map[uint64]P, h uint64, p P) {
	if *m == nil {
		*m = map[uint64]P{}
	}
	*p.collision() = (*m)[h]
	(*m)[h] = p
}

// hashRemove removes p, whose hash is h, from m.
func hashRemove[P hashLinked[P]](m map[uint64]P, h uint64, p P) {
	var none P
	if head := m[h]; head == p {
		if n := *p.collision(); n != none {
			m[h] = n
		} else {
			delete(m, h)
		}
	} else {
		for q := head; q != none; q = *q.collision() {
			if *q.collision() == p {
				*q.collision() = *p.collision()
				break
			}
		}
	}
	*p.collision() = none
}

// add adds one event and returns the chain it went to (nil if none) and its shard, which it
// leaves locked. last is the chain the previous event went to: when ev has the same key and
// last is still in flight, the shard and map lookups are skipped (a chain in flight is always
// its key's map entry). held is the shard the caller holds locked, if any: add unlocks it if
// ev belongs to another. n counts the event.
//
// last must be nil unless held is last's shard and has stayed locked since the add that
// returned last: a chain dropped from memory is pooled and rewritten for another key (see
// freeMem), so its key may only be read under its shard's lock. Add forgets last whenever
// it unlocks held.
func (a *Assembler) add(ev telemetry.Event, now int64, out []closing, last *pendingChain, held *shard, n *addCounts) ([]closing, *pendingChain, *shard) {
	r := ev.EventRecord()
	k := chainKey{r.SessionID, r.PromptID}
	e := newEntry(ev)
	var s *shard
	var h, hs uint64
	hashed := false
	if last != nil && last.key == k {
		s = last.shard
	} else {
		s, h, hs = a.chainHash(k)
		last, hashed = nil, true
	}
	if s != held {
		if held != nil {
			held.mu.Unlock()
		}
		s.mu.Lock()
	}
	n.received++
	p := last
	if p == nil || p.shut {
		if !hashed {
			h = p.hash // p is last, of key k
		}
		p = s.lookup(h, k)
	}
	if p == nil || p.shut {
		version, partial := 1, false
		var prior []telemetry.Event
		var keys []uint64
		var index map[uint64]struct{}
		if p != nil {
			cc := p
			if cc.has(e.fp) {
				a.st.duplicates.Add(1)
				return out, nil, s
			}
			a.st.late.Add(1)
			version = cc.version + 1
			if cc.events != nil {
				if a.cfg.reuseChains && !cc.emitting {
					prior = cc.events // no emitted chain shares them any more (see letGo)
				} else {
					// The emitted chain shares cc.events: copy them (settle pools the array
					// they leave with WithChainReuse). The fingerprints are ours.
					prior = append(make([]telemetry.Event, 0, len(cc.events)+8), cc.events...)
				}
				keys = cc.keys
			} else {
				// Released: only the fingerprints remain, which the index keeps.
				partial = true
				index = make(map[uint64]struct{}, len(cc.keys)+initialEvents)
				for _, fp := range cc.keys {
					index[fp] = struct{}{}
				}
				s.freeKeys(a, cc.keys)
				cc.keys = nil
			}
			s.forgetClosed(a, cc, false)
		}
		reopen := p
		var sess *liveSession
		if reopen != nil {
			sess = reopen.sess // kept while a chain of it is remembered
		} else {
			if !hashed { // not reached: last is found again as reopen
				_, _, hs = a.chainHash(k)
			}
			if sess = s.session(hs, k.session); sess == nil {
				sess = s.newSession()
				// The session and its chains outlive the event whose strings k holds, which
				// may share the memory of its whole request (a decoded export): keep copies.
				sess.id, sess.hash = strings.Clone(k.session), hs
				s.insertSession(sess)
			}
		}
		if prior == nil {
			prior, keys = s.newEvents(), s.newKeys()
		}
		st := chainState{created: now, order: a.order.Add(1), version: version, partial: partial, index: index,
			sess: sess, events: prior, keys: keys, seqs: newSeqRange()}
		if reopen != nil {
			p = reopen // the same map entry, in flight again
			p.chainState = st
		} else {
			p = s.newChain(chainKey{sess.id, strings.Clone(k.prompt)}, h, st)
			s.insert(h, p)
		}
		for i, pev := range prior {
			// The kept events are sorted: they are read again as if added in order.
			pe := keyEntry(pev, keys[i])
			p.lastTS = pe.ts
			p.bytes += int64(eventSize(pev))
			sess.info.observe(pev, pe.seq, pe.ts)
			p.note(&pe, i == 0)
		}
		if len(prior) > linearDedupMax {
			p.buildIndex()
		}
		a.bytesHeld.Add(p.bytes)
		s.pushPending(p)
		sess.open = append(sess.open, p)
		a.inFlight.Add(1)
	} else if p.has(e.fp) {
		a.st.duplicates.Add(1)
		return out, p, s
	}
	n.added++
	first := len(p.events) == 0
	p.insert(a, &e)
	if p.index != nil {
		p.index[e.fp] = struct{}{}
	} else if len(p.keys) > linearDedupMax {
		p.buildIndex()
	}
	size := int64(eventSize(ev))
	p.bytes += size
	a.bytesHeld.Add(size)
	p.last = now
	p.sess.last = now
	p.sess.info.observe(ev, e.seq, e.ts)
	p.note(&e, first)
	if up, ok := ev.(*telemetry.UserPrompt); ok && k.prompt != "" && !isTaskNotification(up) {
		// A later prompt ends the session's earlier prompts (of the same shard: the session
		// picks it).
		for _, o := range p.sess.open {
			if o != p && o.key.prompt != "" && o.promptTime() < e.ts {
				o.hinted = true
				s.lowerDue(a, a.dueAt(o))
			}
		}
	}
	s.lowerDue(a, a.dueAt(p))
	switch {
	case len(p.events) >= a.cfg.maxChainEvents:
		out = append(out, s.take(a, p, TriggerMaxEvents))
	case p.bytes >= a.cfg.maxChainBytes:
		out = append(out, s.take(a, p, TriggerMaxBytes))
	}
	return out, p, s
}

// initialEvents is the capacity a new chain starts with: most chains hold a few events.
const initialEvents = 8

// maxShift bounds how far back Add moves an event that arrives out of order (a swapped pair
// moves by one); beyond it the chain is sorted at close instead.
const maxShift = 64

// insert adds e's event to an in-flight chain at its place in event order; the caller holds
// the shard's lock. The arrays the chain outgrows go to the shard's pools.
func (p *pendingChain) insert(a *Assembler, e *entry) {
	n := len(p.events)
	if n == cap(p.events) {
		p.events = p.shard.growEvents(a, p.events)
	}
	p.events = append(p.events, e.ev)
	if n == cap(p.keys) {
		old := p.keys
		p.keys = append(p.keys, e.fp)
		p.shard.freeKeys(a, old)
	} else {
		p.keys = append(p.keys, e.fp)
	}
	if p.unsorted {
		return
	}
	if n == 0 || p.lastTS < e.ts {
		p.lastTS = e.ts
		return
	}
	i := n
	for i > 0 && p.before(e, i-1) {
		if n-i >= maxShift {
			p.unsorted = true
			return
		}
		i--
	}
	if i == n {
		return
	}
	copy(p.events[i+1:], p.events[i:n])
	copy(p.keys[i+1:], p.keys[i:n])
	p.events[i], p.keys[i] = e.ev, e.fp
}

// before reports whether e sorts before the chain's event j.
func (p *pendingChain) before(e *entry, j int) bool {
	o := keyEntry(p.events[j], p.keys[j])
	return compareEntries(e, &o) < 0
}

// note updates what the chain keeps about its events as one arrives (first: the chain's first
// event): the order key, the sequence range, the terminal hint, what is pending and the
// prompt's time.
func (p *pendingChain) note(e *entry, first bool) {
	if first {
		p.promptTS = e.ts // until a user_prompt arrives
	}
	p.seqs.add(e.seq)
	if e.seq < 0 {
		p.negSeq = true
	}
	if terminalHint(e.ev) {
		p.hinted = true
	}
	p.pend.add(e.ev)
	if up, ok := e.ev.(*telemetry.UserPrompt); ok {
		if !p.hasPrompt {
			p.hasPrompt, p.promptTS = true, e.ts
		}
		if isTaskNotification(up) {
			p.notif = true
		}
	}
}

// promptTime is the time of the chain's first user_prompt to arrive, else of its first event.
func (p *pendingChain) promptTime() int64 { return p.promptTS }

func (p *pendingChain) buildIndex() {
	p.index = make(map[uint64]struct{}, len(p.keys)*2)
	for i := range p.keys {
		p.index[p.keys[i]] = struct{}{}
	}
}

// has reports whether the chain, in flight or shut, holds fingerprint fp.
func (p *pendingChain) has(fp uint64) bool {
	if p.index != nil {
		_, ok := p.index[fp]
		return ok
	}
	if p.shut && p.events == nil && len(p.keys) > linearDedupMax {
		_, ok := slices.BinarySearch(p.keys, fp) // released, sorted: see release
		return ok
	}
	return slices.Contains(p.keys, fp)
}

// sortEvents sorts an in-flight chain's events (and their fingerprints) into event order and
// returns their sequence range.
func (p *pendingChain) sortEvents() seqRange {
	scratch := entryPool.Get().(*[]entry)
	es := (*scratch)[:0]
	for i, ev := range p.events {
		es = append(es, keyEntry(ev, p.keys[i]))
	}
	slices.SortFunc(es, func(a, b entry) int { return compareEntries(&a, &b) })
	seqs := newSeqRange()
	for i := range es {
		if p.events[i] != es[i].ev {
			p.events[i] = es[i].ev // only moved events: each write of a pointer costs a barrier during GC
		}
		p.keys[i] = es[i].fp
		seqs.add(es[i].seq)
	}
	clear(es)
	*scratch = es[:0]
	entryPool.Put(scratch)
	return seqs
}

var entryPool = sync.Pool{New: func() any { return new([]entry) }}

// closingPool holds Sweep's lists of chains to emit: a collector sweeps every second.
var closingPool = sync.Pool{New: func() any { return new([]closing) }}

// take removes p from the in-flight set and returns it for emission; the caller holds s.mu.
// p stays in the shard's map, shut, as the closed chain.
func (s *shard) take(a *Assembler, p *pendingChain, t Trigger) closing {
	s.unlinkPending(p)
	a.inFlight.Add(-1)
	seqs := p.seqs
	switch {
	case p.unsorted:
		seqs = p.sortEvents()
	case p.negSeq:
		seqs = newSeqRange()
		for _, ev := range p.events {
			seqs.add(ev.EventRecord().Sequence)
		}
	}
	es := p.events
	facts := p.sess.info.facts(p.key.prompt, es, seqs, p.notif)
	if i := slices.Index(p.sess.open, p); i >= 0 {
		p.sess.open = slices.Delete(p.sess.open, i, i+1)
	}
	// Keep the closed chain for late events: with its events while retention allows.
	out := closing{key: p.key, events: es, facts: facts, trigger: t, version: p.version, partial: p.partial, owner: p}
	index := p.index
	p.shut = true
	p.index, p.unsorted = nil, false
	cc := p
	p.sess.closed++
	if p.partial {
		// A partial amendment's forgotten events stay forgotten; remember their fingerprints.
		fps := cc.keys[:0] // the index holds them, with the forgotten ones
		for fp := range index {
			fps = append(fps, fp)
		}
		cc.events, cc.keys = nil, sortFPs(fps)
		a.bytesHeld.Add(-p.bytes)
		cc.bytes = 0
		s.released.push(cc)
	} else {
		cc.emitting = true // until settle
		a.st.retained.Add(1)
		s.kept.push(cc)
	}
	s.trimClosed(a)
	a.signalRoom()
	return out
}

// sortFPs returns the fingerprints a chain keeps once released: sorted when there are more
// than linearDedupMax (has searches them), else as they come (has scans them; they are
// distinct: a chain holds one event per fingerprint). Most closed chains are never looked up
// again, so the few fingerprints of a short chain are not worth sorting.
func sortFPs(fps []uint64) []uint64 {
	if len(fps) > linearDedupMax {
		slices.Sort(fps)
	}
	return fps
}

// release drops a closed chain's events, keeping its fingerprints.
func (s *shard) release(a *Assembler, cc *closedChain) {
	if cc.events == nil {
		return
	}
	s.letGo(a, cc)
	cc.events, cc.keys = nil, sortFPs(cc.keys) // the keys stay as the fingerprints, in place
	a.bytesHeld.Add(-cc.bytes)
	cc.bytes = 0
	a.st.retained.Add(-1)
	s.kept.remove(cc)
	s.released.push(cc)
}

// dropClosed forgets a closed chain entirely, and its session once nothing refers to it.
func (s *shard) dropClosed(a *Assembler, cc *closedChain) { s.forgetClosed(a, cc, true) }

func (s *shard) forgetClosed(a *Assembler, cc *closedChain, dropSession bool) {
	if cc.events != nil {
		a.bytesHeld.Add(-cc.bytes)
		a.st.retained.Add(-1)
	}
	s.closedListOf(cc).remove(cc)
	cc.sess.closed--
	if !dropSession {
		return // reopened: the map entry goes back in flight, with the events or a copy
	}
	// Dropped: only released chains are (trimClosed), so their events array has been let go.
	s.remove(cc.hash, cc)
	if ls := cc.sess; ls.closed == 0 && len(ls.open) == 0 {
		s.removeSession(ls)
		s.recycleSession(a, ls)
	}
	s.recycle(a, cc)
}

// closedListOf returns the closed list holding cc: kept while cc holds its events.
func (s *shard) closedListOf(cc *closedChain) *closedList {
	if cc.events != nil {
		return &s.kept
	}
	return &s.released
}

// trimClosed keeps the closed set within its per-shard share of the retention limits.
func (s *shard) trimClosed(a *Assembler) {
	n := len(a.shards)
	retain := (a.cfg.retainClosed + n - 1) / n
	remember := (a.cfg.rememberClosed + n - 1) / n
	for s.kept.n > retain {
		s.release(a, s.kept.head)
	}
	for s.released.n > 0 && s.kept.n+s.released.n > max(remember, retain) {
		s.dropClosed(a, s.released.head)
	}
}

// dueAt returns the time (Unix ns) at which Sweep would close the in-flight chain p by time if
// no event arrived before: its maximum age, idle timeout or, once terminal with nothing
// pending, quiet period (what is pending changes only with an event).
func (a *Assembler) dueAt(p *pendingChain) int64 {
	t := min(p.created+int64(a.cfg.maxAge), p.last+int64(a.cfg.idle))
	if p.hinted && !p.pend.pending() {
		t = min(t, p.last+int64(a.cfg.quiet))
	}
	return t
}

// lowerDue lowers the shard's due time to t if t is earlier, and then the assembler's; the
// caller holds s.mu.
func (s *shard) lowerDue(a *Assembler, t int64) {
	if t < s.due.Load() {
		s.due.Store(t)
		lowerAtomic(&a.due, t)
	}
}

// lowerAtomic lowers v to t if t is earlier.
func lowerAtomic(v *atomic.Int64, t int64) {
	for {
		old := v.Load()
		if t >= old || v.CompareAndSwap(old, t) {
			return
		}
	}
}

func (s *shard) pushPending(p *pendingChain) {
	p.prev = s.tail
	if s.tail != nil {
		s.tail.next = p
	} else {
		s.head = p
	}
	s.tail = p
}

func (s *shard) unlinkPending(p *pendingChain) {
	if p.prev != nil {
		p.prev.next = p.next
	} else {
		s.head = p.next
	}
	if p.next != nil {
		p.next.prev = p.prev
	} else {
		s.tail = p.prev
	}
	p.prev, p.next = nil, nil
}

func (a *Assembler) overLimit() bool {
	return a.inFlight.Load() > int64(a.cfg.maxChains) || a.bytesHeld.Load() > a.cfg.maxBytes
}

// releaseKept frees the events of retained closed chains, oldest first, until the bytes held
// are within the limit or none are kept.
func (a *Assembler) releaseKept() {
	for i := range a.shards {
		if a.bytesHeld.Load() <= a.cfg.maxBytes {
			return
		}
		s := &a.shards[i]
		s.mu.Lock()
		for s.kept.head != nil && a.bytesHeld.Load() > a.cfg.maxBytes {
			s.release(a, s.kept.head)
		}
		s.mu.Unlock()
	}
}

// evict frees memory: first the events of retained closed chains, then the oldest in-flight
// chains, until the assembler is within its limits.
func (a *Assembler) evict(out []closing) []closing {
	a.releaseKept()
	for a.overLimit() {
		// The oldest chain among the shards' oldest.
		var victim *shard
		var oldest uint64
		for i := range a.shards {
			s := &a.shards[i]
			s.mu.Lock()
			if s.head != nil && (victim == nil || s.head.order < oldest) {
				victim, oldest = s, s.head.order
			}
			s.mu.Unlock()
		}
		if victim == nil {
			return out
		}
		victim.mu.Lock()
		if p := victim.head; p != nil {
			n, k := len(p.events), p.key // take may drop p from memory (no retention)
			out = append(out, victim.take(a, p, TriggerEvicted))
			a.st.evicted.Add(1)
			a.noteEvicted(k, n)
		}
		victim.mu.Unlock()
	}
	return out
}

func (a *Assembler) waitRoom(ctx context.Context) error {
	if a.overLimit() {
		a.releaseKept() // events kept for late arrivals never block new ones
	}
	for a.overLimit() {
		a.spaceMu.Lock()
		ch := a.space
		a.waiters.Add(1)
		a.spaceMu.Unlock()
		if !a.overLimit() {
			a.waiters.Add(-1)
			return nil
		}
		select {
		case <-ch:
			a.waiters.Add(-1)
		case <-ctx.Done():
			a.waiters.Add(-1)
			return ctx.Err()
		}
		if a.closed.Load() {
			return ErrClosed
		}
	}
	return nil
}

func (a *Assembler) signalRoom() {
	if a.waiters.Load() == 0 {
		return
	}
	a.spaceMu.Lock()
	close(a.space)
	a.space = make(chan struct{})
	a.spaceMu.Unlock()
}

// emit folds and hands chains to the consumer, in order.
func (a *Assembler) emit(ctx context.Context, cs []closing) []error {
	var errs []error
	for _, cl := range cs {
		var m *chainMem // WithChainReuse: the memory the chain is built in, taken back after
		if a.cfg.reuseChains {
			m = chainMemPool.Get().(*chainMem)
		}
		evs := cl.events[:len(cl.events):len(cl.events)]
		touchFull(evs, cl.key)
		c := foldInto(m, cl.key.session, cl.key.prompt, evs, cl.facts)
		c.withTrigger(cl.trigger, cl.version, cl.partial)
		a.st.emitted.Add(1)
		a.st.byTrigger[cl.trigger].Add(1)
		if cl.version > 1 {
			a.st.amended.Add(1)
		}
		for _, r := range c.Reasons {
			a.st.incomplete[r].Add(1)
		}
		if err := a.consumer.Chain(ctx, c); err != nil {
			a.st.consumerErrors.Add(1)
			a.cfg.logger.Error("correlate: consumer failed", "chain_id", c.ID, "version", c.Version)
			errs = append(errs, &ConsumerError{ChainID: c.ID, Version: c.Version, Err: err})
		}
		if m != nil {
			// The consumer has returned and, by the option's promise, keeps nothing of c.
			m.reset()
			chainMemPool.Put(m)
			a.settle(&cl)
		}
	}
	return errs
}

// Sweep closes and emits every chain whose quiet period, idle timeout or maximum age has
// passed at the clock's current time. It returns the consumer's errors joined.
func (a *Assembler) Sweep(ctx context.Context) error {
	now := a.cfg.clock.Now().UnixNano()
	quiet, idle, maxAge := int64(a.cfg.quiet), int64(a.cfg.idle), int64(a.cfg.maxAge)
	due0 := a.due.Load()
	if now < due0 {
		return nil // nothing is due
	}
	earliest := int64(math.MaxInt64) // of the shards' due times, as the pass leaves them
	buf := closingPool.Get().(*[]closing)
	out := (*buf)[:0]
	var errs []error
	for i := range a.shards {
		s := &a.shards[i]
		if d := s.due.Load(); now < d {
			// Nothing of the shard is due. An Add that lowers its due time concurrently, for
			// events it adds now, orders after this Sweep.
			earliest = min(earliest, d)
			continue
		}
		s.mu.Lock()
		due := int64(math.MaxInt64)
		for p := s.head; p != nil; {
			next := p.next
			switch {
			case now-p.created >= maxAge:
				out = append(out, s.take(a, p, TriggerMaxAge))
			case now-p.last >= idle:
				out = append(out, s.take(a, p, TriggerIdle))
			case p.hinted && now-p.last >= quiet && !p.pend.pending():
				out = append(out, s.take(a, p, TriggerTerminal))
			default:
				due = min(due, a.dueAt(p))
			}
			p = next
		}
		s.due.Store(due)
		earliest = min(earliest, due)
		s.mu.Unlock()
		// Emit shard by shard (in the same order as all at once), reusing out.
		errs = append(errs, a.emit(ctx, out)...)
		clear(out)
		out = out[:0]
	}
	// An Add that lowered a shard's due time after the pass read it may have found a.due
	// already no later (due0, what made this Sweep pass) and left it: the compare-and-swap then
	// raises a.due past that shard's time. So the shards' times are read again after it: an
	// Add whose lowering this misses stored it after, so it lowers a.due after the swap.
	if a.due.CompareAndSwap(due0, earliest) {
		for i := range a.shards {
			lowerAtomic(&a.due, a.shards[i].due.Load())
		}
	}
	*buf = out[:0] // cleared after each shard's emission
	closingPool.Put(buf)
	return errors.Join(errs...)
}

// Flush emits every in-flight chain now, with ClosedBy [TriggerFlush], and returns the
// consumer's errors joined, or ctx's error if it ends first (chains not yet emitted stay in
// flight).
func (a *Assembler) Flush(ctx context.Context) error {
	var errs []error
	for i := range a.shards {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		s := &a.shards[i]
		s.mu.Lock()
		var out []closing
		for p := s.head; p != nil; {
			next := p.next
			out = append(out, s.take(a, p, TriggerFlush))
			p = next
		}
		s.mu.Unlock()
		errs = append(errs, a.emit(ctx, out)...)
	}
	return errors.Join(errs...)
}

// Run sweeps every sweep interval (see [WithSweepInterval]) until ctx ends or the assembler
// is closed. Consumer errors are counted and logged, not returned; Run returns ctx's error or
// nil after Close.
func (a *Assembler) Run(ctx context.Context) error {
	t := time.NewTicker(a.cfg.sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if a.closed.Load() {
				return nil
			}
			_ = a.Sweep(ctx)
		}
	}
}

// Close stops accepting events (Add returns [ErrClosed]), wakes blocked adders, and flushes
// every in-flight chain; see [Assembler.Flush]. Close may be called more than once.
func (a *Assembler) Close(ctx context.Context) error {
	a.closed.Store(true)
	a.spaceMu.Lock()
	close(a.space)
	a.space = make(chan struct{})
	a.spaceMu.Unlock()
	return a.Flush(ctx)
}
