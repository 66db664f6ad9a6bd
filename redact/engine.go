package redact

import (
	"crypto/rand"
	"hash/maphash"
	"log/slog"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/coworkgov/cowork/internal/fastutf8"
	"github.com/coworkgov/cowork/telemetry"
)

// Engine applies a compiled [Policy] to events, attribute values and decoded batches. Build
// it with [New]; the zero Engine is not usable. An Engine is immutable after New and safe for
// concurrent use; patterns are compiled once and per-path decisions are cached.
type Engine struct {
	name     string
	rules    []compiledRule
	scanner  *scanner
	skip     globs
	jsonKeys globs
	hasher   *hasher
	audit    AuditLevel
	maxValue int
	memo     *memo
	logger   *slog.Logger

	// general turns the fast paths off (key layouts, fastPath, direct audit attributes), for
	// tests that check they agree with the general path.
	general bool
	// eventFree is set when no rule names events: decisions do not depend on the event name.
	eventFree bool

	rootsMu sync.Mutex
	roots   atomic.Pointer[map[rootKey]*plan]
	planIDs atomic.Uint64
}

type compiledRule struct {
	Rule
	events globs // nil: every event
	keys   globs // nil: every path
	dets   detectorSet
}

type rootKey struct {
	scope Scope
	event string
}

// New compiles policy into an Engine. It returns an error wrapping [ErrPolicy] (a
// *PolicyError) when a rule is invalid, and [ErrKey] for a bad [WithKey].
func New(policy Policy, opts ...Option) (*Engine, error) {
	cfg := config{audit: AuditCounts, cacheSize: 4096, maxValue: 4 << 20, logger: slog.Default()}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.key == nil {
		cfg.key = make([]byte, 32)
		if _, err := rand.Read(cfg.key); err != nil {
			return nil, err
		}
	}
	e := &Engine{name: policy.Name, hasher: newHasher(cfg.keyID, cfg.key), audit: cfg.audit, maxValue: cfg.maxValue, logger: cfg.logger}
	if cfg.cacheSize > 0 {
		e.memo = newMemo(cfg.cacheSize)
	}
	var enabled detectorSet
	for i, d := range policy.Detectors {
		if d == DetectorUnknown || d >= detectorCount {
			return nil, &PolicyError{Field: fieldIdx("detectors", i), Msg: "unknown detector"}
		}
		enabled |= 1 << d
	}
	for _, r := range policy.Rules {
		for _, d := range r.Detectors {
			if d > DetectorUnknown && d < detectorCount {
				enabled |= 1 << d // a rule naming a detector turns it on
			}
		}
	}
	e.scanner = newScanner(enabled)
	var err error
	var bad int
	if e.skip, bad, err = compileGlobs(policy.Skip); err != nil {
		return nil, &PolicyError{Field: fieldIdx("skip", bad), Msg: "bad pattern: " + err.Error()}
	}
	if e.jsonKeys, bad, err = compileGlobs(policy.JSONKeys); err != nil {
		return nil, &PolicyError{Field: fieldIdx("json_keys", bad), Msg: "bad pattern: " + err.Error()}
	}
	names := map[string]bool{}
	for i, r := range policy.Rules {
		cr, err := compileRule(r)
		if err != nil {
			err.Field = fieldIdx("rules", i) + "." + err.Field
			return nil, err
		}
		if names[r.Name] {
			return nil, &PolicyError{Field: fieldIdx("rules", i) + ".name", Msg: "duplicate rule name " + r.Name}
		}
		names[r.Name] = true
		e.rules = append(e.rules, cr)
	}
	e.eventFree = !slices.ContainsFunc(e.rules, func(r compiledRule) bool { return r.events != nil })
	m := map[rootKey]*plan{}
	e.roots.Store(&m)
	return e, nil
}

func fieldIdx(f string, i int) string { return f + "[" + itoa(i) + "]" }

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func compileRule(r Rule) (compiledRule, *PolicyError) {
	cr := compiledRule{Rule: r}
	if r.Name == "" {
		return cr, &PolicyError{Field: "name", Msg: "missing"}
	}
	if r.Name == defaultRuleName {
		return cr, &PolicyError{Field: "name", Msg: `"default" is reserved for detections no rule claims`}
	}
	if r.Action == ActionUnknown || int(r.Action) >= len(actionNames) {
		return cr, &PolicyError{Field: "action", Msg: "missing or unknown action"}
	}
	if r.Scope > ScopeResource {
		return cr, &PolicyError{Field: "scope", Msg: "unknown scope"}
	}
	if r.KeepFirst < 0 || r.KeepLast < 0 || r.MaxLen < 0 || r.Depth < 0 {
		return cr, &PolicyError{Field: "action", Msg: "negative parameter"}
	}
	for _, d := range r.Detectors {
		if d == DetectorUnknown || d >= detectorCount {
			return cr, &PolicyError{Field: "what", Msg: "unknown detector"}
		}
		cr.dets |= 1 << d
	}
	if r.Entity != "" && !isEntity(r.Entity) {
		return cr, &PolicyError{Field: "entity", Msg: "must be 1–24 characters of [a-z0-9_-]"}
	}
	var err error
	var bad int
	if len(r.Keys) > 0 {
		for _, k := range r.Keys {
			if protectedKeys[k] {
				return cr, &PolicyError{Field: "keys", Msg: k + " is protected: correlation needs it"}
			}
		}
		if cr.keys, bad, err = compileGlobs(r.Keys); err != nil {
			return cr, &PolicyError{Field: fieldIdx("keys", bad), Msg: "bad pattern: " + err.Error()}
		}
	}
	if len(r.Events) > 0 {
		if cr.events, bad, err = compileGlobs(r.Events); err != nil {
			return cr, &PolicyError{Field: fieldIdx("events", bad), Msg: "bad pattern: " + err.Error()}
		}
	}
	return cr, nil
}

func isEntity(s string) bool {
	if len(s) == 0 || len(s) > 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isLower(c) || isDigit(c) || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Name returns the policy's name.
func (e *Engine) Name() string { return e.name }

// LogValue describes the engine for slog without its key: policy name, key id, rule and
// detector counts.
func (e *Engine) LogValue() slog.Value {
	return slog.GroupValue(slog.String("policy", e.name), slog.String("key_id", e.hasher.keyID),
		slog.Int("rules", len(e.rules)), slog.Int("detectors", bits.OnesCount64(uint64(e.scanner.enabled))))
}

var _ slog.LogValuer = (*Engine)(nil)

// plan is the cached decision for one (scope, event, path).
type plan struct {
	e        *Engine
	id       uint64 // unique within the engine; mixed into memo hashes
	scope    Scope
	event    string
	path     string
	key      string // the last path segment
	canon    *plan  // roots only: the root whose children this one's are (see Engine.root)
	root     bool
	protect  bool
	whole    int16  // index of the first matching whole-value rule, or -1
	scan     bool   // run detectors over strings
	json     bool   // a declared JSON-valued path
	memo     bool   // strings here are remembered in the engine's memo
	keyCls   int8   // keyClass of the last path segment: the value itself may be a secret
	header   string // the credential header the last path segment names, lower case ("cookie"), or ""
	det      [detectorCount]int16
	mu       sync.Mutex
	children atomic.Pointer[map[string]*plan]
	layout   atomic.Pointer[layout] // roots only: the plans of the event name's keys, in order

	// last are the two memo entries this plan used last: a value repeated on consecutive
	// events (the user's e-mail address, a session's host paths, two of them for some
	// users) is found without hashing it. They are written when the values change, so they
	// sit on a cache line of their own.
	_    [64]byte
	last [2]atomic.Pointer[memoEntry]
	_    [48]byte
}

// recent returns the entry for s among the plan's last two, or nil.
func (p *plan) recent(s string) *memoEntry {
	if e := p.last[0].Load(); e != nil && e.s == s {
		return e
	}
	if e := p.last[1].Load(); e != nil && e.s == s {
		return e
	}
	return nil
}

// used makes e the plan's most recent entry, the previous one its second.
func (p *plan) used(e *memoEntry) {
	if prev := p.last[0].Load(); prev != e {
		p.last[1].Store(prev)
		p.last[0].Store(e)
	}
}

const maxChildren = 512

// layout is the plans of an event name's attribute keys in the order events carry them.
// Events of one name mostly carry the same keys in the same order, some optional ones
// missing, so find looks for the key from the position after the previous key's, comparing
// strings instead of hashing them; a key it does not find goes through plan.child. Each
// entry also says what the plan does to the commonest values (fast), so most attributes are
// decided without reading the plan. A layout is immutable: a root replaces its layout with
// one that also holds the keys an event had and it lacked (so it converges to the union of
// the name's keys), up to layoutMax.
type layout []layoutEntry

type layoutEntry struct {
	key  string
	p    *plan
	fast fastPath
}

// fastPath says which values a plan leaves unchanged whatever they hold, so that event can
// skip them without calling value: the agreement is tested by TestFastPathAgrees.
type fastPath uint8

const (
	fastProtected fastPath = 1 << iota // every value (a protected key)
	fastScalars                        // ints, doubles, booleans and empty values (no whole-value rule)
	fastPlain                          // valid UTF-8 strings within the size limit not starting with '{' or '['
	fastAudit                          // with fastProtected: one of the engine's audit keys
)

// fast computes p's fastPath.
func (p *plan) fast() fastPath {
	if p.protect {
		if isAuditKey(p.key) {
			return fastProtected | fastAudit
		}
		return fastProtected
	}
	var f fastPath
	if p.whole < 0 {
		if p.keyCls != 2 {
			f |= fastScalars
		}
		if !p.scan && !p.json {
			f |= fastPlain
		}
	}
	return f
}

// plainSame reports whether s is a string a fastPlain plan leaves unchanged: what str does
// for it without a whole-value rule, detectors or a JSON declaration.
func (w *walker) plainSame(s string) bool {
	return len(s) <= w.e.maxValue && fastutf8.Valid(s) && (len(s) < 2 || (s[0] != '{' && s[0] != '['))
}

// layoutMax is the most keys a layout holds.
const layoutMax = 64

// find returns the entry of key at or after position *j, advancing *j past it, or nil.
func (l layout) find(key string, j *int) *layoutEntry {
	for t := *j; t < len(l); t++ {
		if keyEqual(l[t].key, key) {
			*j = t + 1
			return &l[t]
		}
	}
	return nil
}

// keyEqual is a == b for attribute keys: most are 5 to 24 bytes, compared here a word at a
// time (the last one overlapping) without a call to the runtime's memequal.
func keyEqual(a, b string) bool {
	n := len(a)
	if n != len(b) {
		return false
	}
	switch {
	case n >= 8:
		for i := 0; i+8 < n; i += 8 {
			if word64(a[i:]) != word64(b[i:]) {
				return false
			}
		}
		return word64(a[n-8:]) == word64(b[n-8:])
	case n >= 4:
		return word32(a) == word32(b) && word32(a[n-4:]) == word32(b[n-4:])
	}
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// word64 is the first eight bytes of s as a little-endian integer.
func word64(s string) uint64 {
	t := s[:8]
	return uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
		uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
}

// word32 is the first four bytes of s as a little-endian integer.
func word32(s string) uint32 {
	t := s[:4]
	return uint32(t[0]) | uint32(t[1])<<8 | uint32(t[2])<<16 | uint32(t[3])<<24
}

// has reports whether the layout holds key.
func (l layout) has(key string) bool {
	return slices.ContainsFunc(l, func(le layoutEntry) bool { return le.key == key })
}

// mergeLayout makes p's layout old with the plans of one event's keys that it lacks
// inserted after the key the event had before them.
func (p *plan) mergeLayout(old layout, plans []*plan) {
	out := make(layout, 0, min(len(old)+len(plans), layoutMax))
	i := 0
	for _, c := range plans {
		k := slices.IndexFunc(old, func(le layoutEntry) bool { return le.key == c.key })
		switch {
		case k >= i:
			out = append(out, old[i:k+1]...)
			i = k + 1
		case k >= 0: // already placed
		case !out.has(c.key):
			out = append(out, layoutEntry{c.key, c, c.fast()})
		}
	}
	out = append(out, old[i:]...)
	if len(out) > layoutMax {
		out = out[:layoutMax]
	}
	p.layout.Store(&out)
}

func (e *Engine) root(scope Scope, event string) *plan {
	k := rootKey{scope, event}
	if p := (*e.roots.Load())[k]; p != nil {
		return p
	}
	// Without rules naming events, every event name's plans decide alike: they share the
	// nameless root's tree (and so its memo entries: a tool_decision and its tool_result
	// carry the same tool_parameters), each name keeping its own layout.
	var canon *plan
	if event != "" && e.eventFree && !e.general {
		canon = e.root(scope, "")
	}
	e.rootsMu.Lock()
	defer e.rootsMu.Unlock()
	old := *e.roots.Load()
	if p := old[k]; p != nil {
		return p
	}
	event = strings.Clone(event) // it may be a slice of a whole request
	k.event = event
	p := &plan{e: e, id: e.planIDs.Add(1), scope: scope, event: event, root: true, whole: -1, canon: canon}
	if len(old) < maxChildren {
		m := make(map[rootKey]*plan, len(old)+1)
		for kk, v := range old {
			m[kk] = v
		}
		m[k] = p
		e.roots.Store(&m)
	}
	return p
}

// child returns the plan of the member key below p.
func (p *plan) child(key string) *plan {
	if p.canon != nil {
		return p.canon.child(key)
	}
	if m := p.children.Load(); m != nil {
		if c := (*m)[key]; c != nil {
			return c
		}
	}
	// The key may be a slice of a whole request: the plan keeps a copy.
	key = strings.Clone(key)
	path := key
	if !p.root {
		path = p.path + "." + key
	}
	c := p.e.newPlan(p.scope, p.event, path, key, p.root && protectedKeys[key])
	if p.keyCls == 2 && c.scan && c.keyCls == 0 && inheritsSecret(key) {
		c.keyCls = 2 // a member of a password's value is the password
	}
	p.mu.Lock()
	old := p.children.Load()
	n := 0
	if old != nil {
		n = len(*old)
	}
	if n < maxChildren {
		m := make(map[string]*plan, n+1)
		if old != nil {
			for k, v := range *old {
				m[k] = v
			}
		}
		m[key] = c
		p.children.Store(&m)
	}
	p.mu.Unlock()
	return c
}

func (e *Engine) newPlan(scope Scope, event, path, key string, protect bool) *plan {
	p := &plan{e: e, id: e.planIDs.Add(1), scope: scope, event: event, path: path, key: key, protect: protect, whole: -1}
	for i := range p.det {
		p.det[i] = -1
	}
	if protect {
		return p
	}
	for i := range e.rules {
		r := &e.rules[i]
		if r.Scope != ScopeAny && r.Scope != scope {
			continue
		}
		if r.events != nil && (scope == ScopeResource || !r.events.match(event)) {
			continue
		}
		if r.keys != nil && !r.keys.match(path) {
			continue
		}
		if r.dets == 0 {
			if p.whole < 0 {
				p.whole = int16(i)
			}
			continue
		}
		for d := Detector(1); d < detectorCount; d++ {
			if r.dets.has(d) && p.det[d] < 0 {
				p.det[d] = int16(i)
			}
		}
	}
	p.scan = len(e.scanner.impls) > 0 && !e.skip.match(path)
	p.json = e.jsonKeys.match(path)
	if e.memo != nil {
		if p.whole >= 0 {
			// Keep and drop need no memory, and mask, label and length cost less than a
			// lookup; the other actions hash, parse or build their result.
			switch e.rules[p.whole].Action {
			case ActionHash, ActionGeneralize, ActionPartial, ActionTruncate:
				p.memo = true
			}
		} else {
			p.memo = p.scan || p.json
		}
	}
	if p.scan {
		p.keyCls = int8(keyClass(key))
		var kb [32]byte
		if lk := lowerInto(kb[:0], key); lk != nil {
			p.header = credentialHeader(string(lk))
		}
	}
	return p
}

// outcome is what happened to one value.
type outcome uint8

const (
	same outcome = iota
	changed
	removed // by a drop rule
	failed  // could not be processed: removed, fail closed
)

// walker carries the per-call scratch state. It is pooled.
type walker struct {
	e      *Engine
	counts []int32 // per rule; the last slot counts detections no rule claimed
	dets   int
	spans  []span
	depth  int
	buf    []byte
	st     scanText

	changes []change // an event's changed attributes, reused

	// Within one call: the record roots of the event names seen, so an event finds its root
	// without hashing its name.
	rootNames [12]string
	rootPlans [12]*plan
	nroots    int

	// Within one Logs call: the batch's arena for the copies of attribute lists the audit
	// attributes are appended to, and how many events are left to redact.
	arena []telemetry.KeyValue
	left  int
}

var walkerPool = sync.Pool{New: func() any { return &walker{spans: make([]span, 0, 16), changes: make([]change, 0, 16)} }}

func (e *Engine) walker() *walker {
	w := walkerPool.Get().(*walker)
	w.e = e
	if cap(w.counts) < len(e.rules)+1 {
		w.counts = make([]int32, len(e.rules)+1)
	}
	w.counts = w.counts[:len(e.rules)+1]
	clear(w.counts)
	w.dets, w.depth = 0, 0
	return w
}

func (w *walker) release() {
	w.e = nil
	w.st = scanText{}
	if cap(w.buf) > 64<<10 {
		w.buf = nil
	}
	clear(w.rootNames[:w.nroots])
	clear(w.rootPlans[:w.nroots])
	w.nroots = 0
	w.arena, w.left = nil, 0
	walkerPool.Put(w)
}

// recordRoot returns the record-scope root of event name.
func (w *walker) recordRoot(name string) *plan {
	for i := 0; i < w.nroots; i++ {
		if w.rootNames[i] == name {
			return w.rootPlans[i]
		}
	}
	p := w.e.root(ScopeRecord, name)
	if w.nroots < len(w.rootNames) {
		w.rootNames[w.nroots], w.rootPlans[w.nroots] = p.event, p
		w.nroots++
	}
	return p
}

// arenaMax is the most entries of one arena chunk (256 KiB).
const arenaMax = 8192

// kvs returns a zeroed list of n attributes with capacity n: from the batch's arena in a
// Logs call (sized from n and the events left), else a new allocation.
func (w *walker) kvs(n int) []telemetry.KeyValue {
	if len(w.arena) < n {
		if w.left <= 1 || n >= arenaMax/2 {
			return make([]telemetry.KeyValue, n)
		}
		w.arena = make([]telemetry.KeyValue, min(n*w.left, arenaMax))
	}
	s := w.arena[:n:n]
	w.arena = w.arena[n:]
	return s
}

func (w *walker) count(rule int16) {
	if rule < 0 {
		w.counts[len(w.counts)-1]++
		return
	}
	w.counts[rule]++
}

// value redacts v at plan p.
func (w *walker) value(p *plan, v telemetry.Value) (telemetry.Value, outcome) {
	if p.protect {
		return v, same
	}
	switch v.Kind() {
	case telemetry.ValueString, telemetry.ValueBytes:
		s := v.Str()
		out, oc := w.str(p, s)
		if oc == changed {
			return telemetry.String(out), changed
		}
		return v, oc
	case telemetry.ValueArray:
		if p.whole >= 0 && w.e.rules[p.whole].Action == ActionDrop {
			w.count(p.whole)
			return telemetry.Value{}, removed
		}
		arr := v.Array()
		var out []telemetry.Value
		for i, el := range arr {
			nv, oc := w.value(p, el)
			if oc == same && out == nil {
				continue
			}
			if out == nil {
				out = make([]telemetry.Value, i, len(arr))
				copy(out, arr[:i])
			}
			if oc == changed || oc == same {
				out = append(out, nv)
			}
		}
		if out == nil {
			return v, same
		}
		return telemetry.Array(out...), changed
	case telemetry.ValueMap:
		if p.whole >= 0 {
			r := &w.e.rules[p.whole]
			switch {
			case r.Action == ActionKeep:
				return v, same
			case r.Action == ActionDrop:
				w.count(p.whole)
				return telemetry.Value{}, removed
			case leafAction(r.Action):
				nv, ch := w.vleaves(p.whole, v)
				if !ch {
					return v, same
				}
				return nv, changed
			}
			w.count(p.whole)
			return telemetry.String(w.wholeText(r, valueJSON(v))), changed
		}
		kvs := v.Map()
		var out []telemetry.KeyValue
		for i, kv := range kvs {
			nv, oc := w.value(p.child(kv.Key), kv.Value)
			if oc == same && out == nil {
				continue
			}
			if out == nil {
				out = make([]telemetry.KeyValue, i, len(kvs))
				copy(out, kvs[:i])
			}
			if oc == changed || oc == same {
				out = append(out, telemetry.KeyValue{Key: kv.Key, Value: nv})
			}
		}
		if out == nil {
			return v, same
		}
		return telemetry.Map(out...), changed
	case telemetry.ValueEmpty:
		return v, same
	}
	// Numbers and booleans: only whole-value rules apply, and a number under a password-like
	// key is a secret (a PIN, a numeric password).
	if p.whole < 0 {
		if p.scan && ((p.keyCls == 2 && v.Kind() == telemetry.ValueDouble) || (v.Kind() == telemetry.ValueInt && (p.keyCls == 2 || cardInt(v.IntRaw())))) {
			switch out, oc := w.str(p, v.Text()); oc {
			case changed:
				return telemetry.String(out), changed
			case removed, failed:
				return telemetry.Value{}, oc
			}
		}
		return v, same
	}
	r := &w.e.rules[p.whole]
	switch r.Action {
	case ActionKeep:
		return v, same
	case ActionDrop:
		w.count(p.whole)
		return telemetry.Value{}, removed
	}
	t := v.Text()
	out := w.wholeText(r, t)
	if out == t {
		return v, same
	}
	w.count(p.whole)
	return telemetry.String(out), changed
}

// str redacts a string at plan p: a whole-value rule, else JSON, else the detectors.
func (w *walker) str(p *plan, s string) (string, outcome) {
	if p.protect {
		return s, same
	}
	if len(s) > w.e.maxValue {
		return "", failed
	}
	// A remembered result comes first: only valid UTF-8 is remembered, so a hit needs no
	// second check.
	if p.memo {
		if e := p.recent(s); e != nil && e.v.holdsAt(w.depth) {
			return w.replay(&e.v, s)
		}
		if e := w.e.memo.get(p, s); e != nil && e.v.holdsAt(w.depth) {
			p.used(e)
			return w.replay(&e.v, s)
		}
	}
	if !fastutf8.Valid(s) {
		return "", failed
	}
	if p.whole >= 0 {
		r := &w.e.rules[p.whole]
		switch r.Action {
		case ActionKeep:
			return s, same
		case ActionDrop:
			w.count(p.whole)
			return "", removed
		}
		if (r.Action == ActionGeneralize || r.Action == ActionTruncate) && p.scan {
			return w.scanThenWhole(p, r, s)
		}
		out := w.wholeText(r, s)
		mv := memoVal{out: out, depth: -1}
		if out != s {
			mv.oc = changed
			mv.rules[0] = memoCount{p.whole, 1}
			mv.nrules = 1
			w.count(p.whole)
		}
		if p.memo {
			w.e.memo.put(p, s, mv)
		}
		return out, mv.oc
	}
	if w.depth < 4 && (p.json || (len(s) >= 2 && (s[0] == '{' || s[0] == '[') && looksJSON(s))) {
		jv, err := parseJSON(s)
		if err == nil {
			return w.jsonText(p, s, &jv)
		}
		if p.json && strings.TrimSpace(s) != "" {
			return "", failed
		}
	}
	if !p.scan {
		return s, same
	}
	return w.scanText(p, s)
}

// scanThenWhole applies a whole-value rule r that keeps part of the text (generalise,
// truncate) together with the detectors: what it keeps may hold an e-mail address or a key
// (~/clients/jane@acme.example/…). A path is generalised first, so that nothing is spent on
// the parts it drops (the home directory's user name); a text is scanned before it is
// truncated, since a key cut short would no longer be found.
func (w *walker) scanThenWhole(p *plan, r *compiledRule, s string) (string, outcome) {
	var mv memoVal
	text := s
	if r.Action == ActionGeneralize {
		if text = w.wholeText(r, s); text != s {
			w.count(p.whole)
			mv.add(p.whole) // the first count always has a slot
		}
	}
	out, oc, memoOK := w.scanRounds(p, text, &mv)
	switch oc {
	case same:
		out = text
	case removed, failed:
		return "", oc
	}
	if r.Action != ActionGeneralize {
		if t := w.wholeText(r, out); t != out {
			out = t
			w.count(p.whole)
			memoOK = mv.add(p.whole) && memoOK
		}
	}
	mv.out, mv.oc = out, same
	if out != s {
		mv.oc = changed
	}
	if p.memo && memoOK && w.depth < 4 {
		w.e.memo.put(p, s, mv)
	}
	return out, mv.oc
}

// jsonText redacts the parsed JSON document jv (the text s) at p. Its result depends on the
// depth it is reached at (documents nested more than four deep are scanned as text), so it
// is remembered with that depth.
func (w *walker) jsonText(p *plan, s string, jv *jvalue) (string, outcome) {
	remember := p.memo && w.e.memo != nil && len(s) <= memoMaxLen
	var before [memoRulesMax]int32
	dets := w.dets
	if remember {
		remember = len(w.counts) <= memoRulesMax
		copy(before[:], w.counts)
	}
	w.depth++
	ch := w.jnode(p, jv)
	w.depth--
	out, oc := s, same
	if ch {
		if jv.drop {
			out, oc = "", removed
		} else {
			w.buf = appendJSON(w.buf[:0], jv)
			out, oc = string(w.buf), changed
		}
	}
	if remember {
		mv := memoVal{out: out, oc: oc, depth: int8(w.depth)}
		if d := w.dets - dets; d < 65536 {
			mv.dets = uint16(d)
		} else {
			remember = false
		}
		for i, c := range w.counts {
			d := c - before[i]
			if d == 0 {
				continue
			}
			if int(mv.nrules) == len(mv.rules) || d > 32767 {
				remember = false
				break
			}
			mv.rules[mv.nrules] = memoCount{int16(i), int16(d)}
			mv.nrules++
		}
		if remember {
			w.e.memo.put(p, s, mv)
		}
	}
	return out, oc
}

func (w *walker) replay(mv *memoVal, s string) (string, outcome) {
	for i := 0; i < int(mv.nrules); i++ {
		w.counts[mvIndex(mv.rules[i].rule, len(w.counts))] += int32(mv.rules[i].n)
	}
	w.dets += int(mv.dets)
	if mv.oc == same {
		return s, same
	}
	return mv.out, mv.oc
}

func mvIndex(rule int16, n int) int {
	if rule < 0 {
		return n - 1
	}
	return int(rule)
}

// scanText runs the detectors over s and applies each detection's rule. A replacement can
// expose a new detection next to it (a card number's last group was also an e-mail's local
// part), so the result is scanned again until nothing changes; a value that has not settled
// after four rounds is removed (fail closed). This makes redaction idempotent.
func (w *walker) scanText(p *plan, s string) (string, outcome) {
	var mv memoVal
	out, oc, memoOK := w.scanRounds(p, s, &mv)
	// Below four levels of JSON a JSON-looking text is scanned instead of parsed; such a
	// result would be wrong at a shallower depth, so it is not remembered.
	if memoOK && w.depth < 4 {
		w.e.memo.put(p, s, mv)
	}
	if oc == same {
		return s, same
	}
	return out, oc
}

// scanRounds is scanText without the memo: it fills mv with the result and its counts, and
// reports whether mv could hold them all.
func (w *walker) scanRounds(p *plan, s string, mv *memoVal) (string, outcome, bool) {
	memoOK, settled := true, false
	out, oc := w.scanOnce(p, s, mv, &memoOK, &settled)
	for round := 0; oc == changed && !settled; round++ {
		if round == 3 {
			out, oc = "", failed
			break
		}
		next, oc2 := w.scanOnce(p, out, mv, &memoOK, &settled)
		if oc2 == same {
			break
		}
		out, oc = next, oc2
	}
	mv.out, mv.oc, mv.depth = out, oc, -1
	return out, oc, memoOK
}

// scanOnce is one round of scanText; it adds its counts to mv.
func (w *walker) scanOnce(p *plan, s string, mv *memoVal, memoOK, settled *bool) (string, outcome) {
	w.spans = w.spans[:0]
	// The member key may say what the value is: a credential header, a password, a token.
	hdr := -1
	if p.header != "" && w.e.scanner.enabled.has(DetectorAuthHeader) {
		hdr = headerCredential(p.header, s)
	}
	if hdr >= 0 {
		w.spans = append(w.spans, span{hdr, len(s), DetectorAuthHeader})
	} else if d := keyedSecret(p, s); d != DetectorUnknown && w.e.scanner.enabled.has(d) {
		w.spans = append(w.spans, span{0, len(s), d})
	} else {
		w.spans = w.e.scanner.scanWith(&w.st, s, w.spans)
	}
	if len(w.spans) == 0 {
		return s, same
	}
	// A value under a secret-like key, in text or as a member, is judged on what it reads:
	// an e-mail address replaced inside one changes it ("token: jane@acme.com[" becomes a
	// random-looking pseudonym), so such a result is judged again.
	recheck := p.keyCls != 0 || (hdr < 0 && w.st.s == s && w.st.keywordsIn()&secretKeyMask != 0)
	note := func(rule int16) {
		w.count(rule)
		w.dets++
		if mv.dets < 65535 {
			mv.dets++
		}
		if !mv.add(rule) {
			*memoOK = false
		}
	}
	var b strings.Builder
	last := 0
	changedAny := false
	joined := false // a replacement touches a byte that could join it into a new detection
	for _, sp := range w.spans {
		rule := p.det[sp.det]
		act := ActionLabel
		var r *compiledRule
		if rule >= 0 {
			r = &w.e.rules[rule]
			act = r.Action
		}
		switch act {
		case ActionKeep:
			continue
		case ActionDrop:
			note(rule)
			return "", removed
		}
		text := s[sp.start:sp.end]
		rep := w.detText(r, sp.det, act, text)
		if rep == text {
			continue
		}
		note(rule)
		if !changedAny {
			b.Grow(len(s) + 16)
			changedAny = true
		}
		b.WriteString(s[last:sp.start])
		b.WriteString(rep)
		last = sp.end
		// A replacement can join with its neighbours into a new detection (a pseudonym after
		// "TOKEN=" looks random; a card's kept digits before "@x.io" are an e-mail). A path
		// user name between separators is the common case that cannot.
		if !(sp.det == DetectorHomeUser && isPathSep(s, sp.start-1) && isPathSep(s, sp.end) && !strings.HasPrefix(s[sp.end:], `\u0040`) && act != ActionMask) {
			joined = joined || (sp.start > 0 && joinable(s[sp.start-1])) || (sp.end < len(s) && joinable(s[sp.end]))
		}
		joined = joined || (recheck && !keyedDetectors.has(sp.det))
	}
	if !changedAny {
		return s, same
	}
	b.WriteString(s[last:])
	if !joined {
		*settled = true
	}
	return b.String(), changed
}

// isPathSep reports whether s[i] is a path separator or i is outside s.
func isPathSep(s string, i int) bool {
	return i < 0 || i >= len(s) || s[i] == '/' || s[i] == '\\'
}

// joinable reports whether a byte next to a replacement could make it part of a new
// detection (a letter, digit or a joiner such as '@', '.', ':', '/', '-', '_', '+', '=', and
// '%', '\', '&' that begin an escaped '@').
// Replacements bounded by spaces, quotes, brackets and punctuation need no rescan.
func joinable(c byte) bool {
	return isAlnum(c) || c == '@' || c == '.' || c == ':' || c == '/' || c == '\\' || c == '-' || c == '_' || c == '+' || c == '=' || c == '%' || c == '&' || c >= 0x80
}

// keyedSecret reports a value that is a secret because of the key it sits under: any real
// value of a password-like key, a random-looking value of a token-like key.
func keyedSecret(p *plan, s string) Detector {
	if p.keyCls == 0 || len(s) < 3 || isRedactedToken(s) || isPlaceholder(s) || looksLikeIdentifier(s) {
		return DetectorUnknown
	}
	if p.keyCls == 2 {
		return DetectorAssignment
	}
	if p.keyCls == 1 && looksRandom(s) {
		return DetectorHighEntropy
	}
	return DetectorUnknown
}

// detText is the replacement of one detection.
func (w *walker) detText(r *compiledRule, d Detector, act Action, text string) string {
	switch act {
	case ActionMask:
		if r.Mask != "" {
			return r.Mask
		}
		return defaultMask
	case ActionPartial:
		if r.KeepDomain && d == DetectorEmail {
			return partialEmail(text)
		}
		return partial(text, r.KeepFirst, r.KeepLast)
	case ActionHash:
		ent := detectorInfos[d].entity
		if r.Entity != "" {
			ent = r.Entity
		}
		return w.e.hasher.pseudonym(ent, text)
	case ActionLength:
		return lengthMarker(text)
	case ActionTruncate:
		return truncate(text, r.MaxLen)
	}
	return d.Label()
}

// wholeText applies a whole-value rule to a scalar rendered as text.
func (w *walker) wholeText(r *compiledRule, s string) string {
	switch r.Action {
	case ActionMask:
		if r.Mask != "" {
			return r.Mask
		}
		return defaultMask
	case ActionLabel:
		if isRedactedToken(s) {
			return s
		}
		if r.Entity != "" {
			return "[" + strings.ToUpper(r.Entity) + "]"
		}
		return defaultMask
	case ActionPartial:
		if r.KeepDomain && strings.IndexByte(s, '@') > 0 {
			return partialEmail(s)
		}
		return partial(s, r.KeepFirst, r.KeepLast)
	case ActionHash:
		ent := r.Entity
		if ent == "" {
			ent = "value"
		}
		if s == "" {
			return s
		}
		return w.e.hasher.pseudonym(ent, s)
	case ActionLength:
		return lengthMarker(s)
	case ActionTruncate:
		return truncate(s, r.MaxLen)
	case ActionGeneralize:
		return generalizePath(s, r.Depth)
	}
	return s
}

// jnode redacts one node of a parsed JSON document in place and reports whether it changed.
func (w *walker) jnode(p *plan, n *jvalue) bool {
	if p.protect {
		return false
	}
	if p.whole >= 0 {
		r := &w.e.rules[p.whole]
		switch r.Action {
		case ActionKeep:
			return false
		case ActionDrop:
			w.count(p.whole)
			n.drop = true
			return true
		}
		switch n.kind {
		case jNull:
			return false
		case jString:
			out, oc := w.str(p, n.s)
			return w.setJString(n, out, oc)
		case jObject, jArray:
			if leafAction(r.Action) {
				return w.jleaves(p.whole, n)
			}
			out := w.wholeText(r, string(appendJSON(nil, n)))
			w.count(p.whole)
			*n = jvalue{kind: jString, s: out}
			return true
		}
		t := n.s
		switch n.kind {
		case jTrue:
			t = "true"
		case jFalse:
			t = "false"
		}
		out := w.wholeText(r, t)
		if out == t {
			return false
		}
		w.count(p.whole)
		*n = jvalue{kind: jString, s: out}
		return true
	}
	switch n.kind {
	case jString:
		out, oc := w.str(p, n.s)
		return w.setJString(n, out, oc)
	case jNumber:
		if p.keyCls != 2 && !(p.scan && cardDigits(n.s)) {
			return false
		}
		out, oc := w.str(p, n.s) // a PIN or a numeric password, a card number
		if oc == changed {
			n.kind = jString
		}
		return w.setJString(n, out, oc)
	case jObject:
		ch := false
		for i := range n.obj {
			if w.jnode(p.child(n.obj[i].k), &n.obj[i].v) {
				ch = true
			}
		}
		return ch
	case jArray:
		ch := false
		for i := range n.arr {
			if w.jnode(p, &n.arr[i]) {
				ch = true
			}
		}
		return ch
	}
	return false
}

// cardDigits reports whether the JSON number t has as many digits as a card number (13 to
// 19, nothing else): such a number is scanned as text, so that a card sent as a number is
// found.
func cardDigits(t string) bool {
	if len(t) < 13 || len(t) > 19 {
		return false
	}
	for i := 0; i < len(t); i++ {
		if !isDigit(t[i]) {
			return false
		}
	}
	return true
}

// cardInt reports whether the integer x has as many digits as a card number (13 to 19).
func cardInt(x int64) bool { return x >= 1_000_000_000_000 }

// leafAction reports whether a whole-value action on a map or array applies to each string
// inside it (rather than to the value rendered as JSON).
func leafAction(a Action) bool {
	return a == ActionGeneralize || a == ActionTruncate || a == ActionPartial
}

// jleaves applies whole-value rule idx to every string below n.
func (w *walker) jleaves(idx int16, n *jvalue) bool {
	r := &w.e.rules[idx]
	ch := false
	switch n.kind {
	case jString:
		if out := w.wholeText(r, n.s); out != n.s {
			n.s = out
			w.count(idx)
			ch = true
		}
	case jObject:
		for i := range n.obj {
			ch = w.jleaves(idx, &n.obj[i].v) || ch
		}
	case jArray:
		for i := range n.arr {
			ch = w.jleaves(idx, &n.arr[i]) || ch
		}
	}
	return ch
}

// vleaves applies whole-value rule idx to every string below v.
func (w *walker) vleaves(idx int16, v telemetry.Value) (telemetry.Value, bool) {
	r := &w.e.rules[idx]
	switch v.Kind() {
	case telemetry.ValueString:
		if out := w.wholeText(r, v.Str()); out != v.Str() {
			w.count(idx)
			return telemetry.String(out), true
		}
	case telemetry.ValueArray:
		arr := v.Array()
		var out []telemetry.Value
		for i, el := range arr {
			nv, ch := w.vleaves(idx, el)
			if ch && out == nil {
				out = append(make([]telemetry.Value, 0, len(arr)), arr[:i]...)
			}
			if out != nil {
				out = append(out, nv)
			}
		}
		if out != nil {
			return telemetry.Array(out...), true
		}
	case telemetry.ValueMap:
		kvs := v.Map()
		var out []telemetry.KeyValue
		for i, kv := range kvs {
			nv, ch := w.vleaves(idx, kv.Value)
			if ch && out == nil {
				out = append(make([]telemetry.KeyValue, 0, len(kvs)), kvs[:i]...)
			}
			if out != nil {
				out = append(out, telemetry.KeyValue{Key: kv.Key, Value: nv})
			}
		}
		if out != nil {
			return telemetry.Map(out...), true
		}
	}
	return v, false
}

// valueJSON renders a map or array value as compact JSON (bytes as strings).
func valueJSON(v telemetry.Value) string {
	var conv func(telemetry.Value) jvalue
	conv = func(v telemetry.Value) jvalue {
		switch v.Kind() {
		case telemetry.ValueString, telemetry.ValueBytes:
			return jvalue{kind: jString, s: v.Str()}
		case telemetry.ValueInt, telemetry.ValueDouble:
			return jvalue{kind: jNumber, s: v.Text()}
		case telemetry.ValueBool:
			if v.BoolRaw() {
				return jvalue{kind: jTrue}
			}
			return jvalue{kind: jFalse}
		case telemetry.ValueArray:
			j := jvalue{kind: jArray, arr: []jvalue{}}
			for _, e := range v.Array() {
				j.arr = append(j.arr, conv(e))
			}
			return j
		case telemetry.ValueMap:
			j := jvalue{kind: jObject, obj: []jfield{}}
			for _, kv := range v.Map() {
				j.obj = append(j.obj, jfield{kv.Key, conv(kv.Value)})
			}
			return j
		}
		return jvalue{kind: jNull}
	}
	j := conv(v)
	return string(appendJSON(nil, &j))
}

func (w *walker) setJString(n *jvalue, out string, oc outcome) bool {
	switch oc {
	case same:
		return false
	case changed:
		n.s = out
	default:
		n.drop = true
	}
	return true
}

// memo remembers the redaction of short strings per plan. It is a two-way set-associative
// table of immutable entries behind atomic pointers: a lookup is one hash, two loads and a
// compare, with no lock and no allocation; a store publishes a new entry over the older of
// the set's two (or an empty one). Which entry is evicted only changes what is recomputed,
// never a result: an entry holds exactly what the uncached path computes for (plan, string).
type memo struct {
	seed  maphash.Seed
	mask  uint64 // len(slots)-1; len(slots) is a power of two
	slots []atomic.Pointer[memoEntry]
}

// memoEntry is one remembered result; it is never changed after it is published.
type memoEntry struct {
	h uint64
	p *plan
	s string // a copy: the original may be a slice of a whole request
	v memoVal
}

type memoCount struct {
	rule int16
	n    int16
}

type memoVal struct {
	out    string // the result when oc != same
	oc     outcome
	nrules uint8
	depth  int8 // the walker depth a JSON document's result holds at; -1: any depth
	dets   uint16
	rules  [3]memoCount
}

// add counts one use of rule, reporting false when mv has no slot left for it.
func (v *memoVal) add(rule int16) bool {
	for i := 0; i < int(v.nrules); i++ {
		if v.rules[i].rule == rule {
			v.rules[i].n++
			return true
		}
	}
	if int(v.nrules) == len(v.rules) {
		return false
	}
	v.rules[v.nrules] = memoCount{rule, 1}
	v.nrules++
	return true
}

// holdsAt reports whether the result holds at walker depth d.
func (v *memoVal) holdsAt(d int) bool { return v.depth < 0 || int(v.depth) == d }

// memoRulesMax is the most rules (count slots) for which jsonText can remember a document's
// per-rule counts: it snapshots them on the stack.
const memoRulesMax = 32

const memoMaxLen = 256

// newMemo returns a memo of at most n entries (n rounded down to a power of two, at least 2).
func newMemo(n int) *memo {
	size := 2
	for size*2 <= n {
		size *= 2
	}
	return &memo{seed: maphash.MakeSeed(), mask: uint64(size - 1), slots: make([]atomic.Pointer[memoEntry], size)}
}

func (m *memo) hash(p *plan, s string) uint64 {
	return maphash.String(m.seed, s) ^ p.id*0x9e3779b97f4a7c15
}

// get returns the remembered result of s at p, or nil.
func (m *memo) get(p *plan, s string) *memoEntry {
	if m == nil || len(s) > memoMaxLen {
		return nil
	}
	h := m.hash(p, s)
	i := h & m.mask &^ 1
	if e := m.slots[i].Load(); e != nil && e.h == h && e.p == p && e.s == s {
		return e
	}
	if e := m.slots[i|1].Load(); e != nil && e.h == h && e.p == p && e.s == s {
		return e
	}
	return nil
}

// put remembers v as the result of s at p.
func (m *memo) put(p *plan, s string, v memoVal) {
	if m == nil || len(s) > memoMaxLen {
		return
	}
	h := m.hash(p, s)
	i := h & m.mask &^ 1
	e := &memoEntry{h: h, p: p, s: strings.Clone(s), v: v}
	if v.oc == same {
		e.v.out = ""
	}
	// Fill an empty way first; otherwise evict the way the hash's top bit names, so two hot
	// values sharing a set usually keep both ways.
	switch {
	case m.slots[i].Load() == nil:
	case m.slots[i|1].Load() == nil:
		i |= 1
	default:
		i |= h >> 63
	}
	m.slots[i].Store(e)
	p.used(e)
}
