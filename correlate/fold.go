package correlate

import (
	"cmp"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coworkgov/cowork/telemetry"
)

// entry is an event with the keys events are ordered and de-duplicated on: what Fold sorts,
// and what the assembler compares an arriving event with (a chain keeps only each event's
// fingerprint and time beside it, see evKey).
type entry struct {
	ev  telemetry.Event
	ts  int64  // event.timestamp in Unix ns, else timeUnixNano
	tun uint64 // timeUnixNano
	seq int64  // event.sequence
	fp  uint64 // fingerprint of the dedup key
}

var fpSeed = maphash.MakeSeed()

// EventKey is the natural key retried exports repeat byte for byte: (session.id, event.name,
// event.sequence, timeUnixNano). [Fold] and the [Assembler] keep one event per key. An event
// without event.sequence is keyed on a hash of its attributes instead (HasSequence false).
type EventKey struct {
	SessionID    string
	Name         string
	Sequence     int64
	TimeUnixNano uint64
	HasSequence  bool
	ContentHash  uint64
}

// KeyOf returns ev's [EventKey].
func KeyOf(ev telemetry.Event) EventKey {
	r := ev.EventRecord()
	k := EventKey{SessionID: r.SessionID, Name: ev.Name(), Sequence: r.Sequence, TimeUnixNano: r.TimeUnixNano, HasSequence: true}
	if noSequence(r) {
		k.HasSequence = false
		k.ContentHash = contentHash(ev)
	}
	return k
}

func newEntry(ev telemetry.Event) entry {
	r := ev.EventRecord()
	e := entry{ev: ev, ts: tsOf(r), tun: r.TimeUnixNano, seq: r.Sequence}
	k := fpKey{name: nameHash(ev), seq: uint64(r.Sequence), tun: r.TimeUnixNano}
	if noSequence(r) {
		k.content = contentHash(ev)
	}
	e.fp = k.hash()
	return e
}

// keyEntry returns the ordering key of ev, whose fingerprint is already known.
func keyEntry(ev telemetry.Event, fp uint64) entry {
	r := ev.EventRecord()
	return entry{ev: ev, ts: tsOf(r), tun: r.TimeUnixNano, seq: r.Sequence, fp: fp}
}

// fpKey is what an event's fingerprint hashes: the dedup key within a chain, with the event
// name as its hash.
type fpKey struct {
	name    uint64
	seq     uint64
	tun     uint64
	content uint64 // contentHash, for events without event.sequence
}

// fpKeys are the fingerprint's secret keys, random per process like fpSeed.
var fpKeys = [5]uint64{rand.Uint64(), rand.Uint64(), rand.Uint64(), rand.Uint64(), rand.Uint64()}

// hash returns the fingerprint of k: each pair of words, xored with a random key, is
// multiplied to 128 bits and folded (wyhash's mum), and the two results once more. It replaces
// maphash.Comparable (4 % of Add) with three multiplications. The strength needed is that of a
// 64-bit seeded mix of fixed-size, non-adversarial input: the name word is already a seeded
// maphash of the name, so the keys an attacker cannot see decide every product; a product is
// degenerate only when a word equals its key exactly (probability 2⁻⁶⁴ per event), and distinct
// keys otherwise collide as random 64-bit values do, about n²/2⁶⁵ for n events: below 10⁻¹¹ for
// a chain of 10,000 events, the bound §2 of DESIGN.md states (TestFingerprintDistinct checks
// millions of near-identical keys).
func (k *fpKey) hash() uint64 {
	a := mum(k.name^fpKeys[0], k.seq^fpKeys[1])
	b := mum(k.tun^fpKeys[2], k.content^fpKeys[3])
	return mum(a^fpKeys[4], b)
}

// mum multiplies x and y to 128 bits and returns the halves xored.
func mum(x, y uint64) uint64 {
	hi, lo := bits.Mul64(x, y)
	return hi ^ lo
}

// The name hashes of the frequent events, computed once.
var (
	hashAPIRequest              = maphash.String(fpSeed, telemetry.NameAPIRequest)
	hashToolDecision            = maphash.String(fpSeed, telemetry.NameToolDecision)
	hashToolResult              = maphash.String(fpSeed, telemetry.NameToolResult)
	hashUserPrompt              = maphash.String(fpSeed, telemetry.NameUserPrompt)
	hashAssistantResponse       = maphash.String(fpSeed, telemetry.NameAssistantResponse)
	hashPluginLoaded            = maphash.String(fpSeed, telemetry.NamePluginLoaded)
	hashMCPServerConnection     = maphash.String(fpSeed, telemetry.NameMCPServerConnection)
	hashManagedSettingsResolved = maphash.String(fpSeed, telemetry.NameManagedSettingsResolved)
	hashSkillActivated          = maphash.String(fpSeed, telemetry.NameSkillActivated)
	hashSubagentCompleted       = maphash.String(fpSeed, telemetry.NameSubagentCompleted)
	hashAPIError                = maphash.String(fpSeed, telemetry.NameAPIError)
	hashAPIRetriesExhausted     = maphash.String(fpSeed, telemetry.NameAPIRetriesExhausted)
)

// nameHash returns the hash of ev's name.
func nameHash(ev telemetry.Event) uint64 {
	switch ev.(type) {
	case *telemetry.APIRequest:
		return hashAPIRequest
	case *telemetry.ToolDecision:
		return hashToolDecision
	case *telemetry.ToolResult:
		return hashToolResult
	case *telemetry.UserPrompt:
		return hashUserPrompt
	case *telemetry.AssistantResponse:
		return hashAssistantResponse
	case *telemetry.PluginLoaded:
		return hashPluginLoaded
	case *telemetry.MCPServerConnection:
		return hashMCPServerConnection
	case *telemetry.ManagedSettingsResolved:
		return hashManagedSettingsResolved
	case *telemetry.SkillActivated:
		return hashSkillActivated
	case *telemetry.SubagentCompleted:
		return hashSubagentCompleted
	case *telemetry.APIError:
		return hashAPIError
	case *telemetry.APIRetriesExhausted:
		return hashAPIRetriesExhausted
	}
	return maphash.String(fpSeed, ev.Name())
}

// tsOf returns an event's order time in Unix ns: event.timestamp, else timeUnixNano.
func tsOf(r *telemetry.Record) int64 {
	if !r.Timestamp.IsZero() {
		return r.Timestamp.UnixNano()
	}
	return int64(r.TimeUnixNano)
}

// noSequence reports whether a record lacks event.sequence. Only a decoded record (one with
// its wire attributes) can tell an absent sequence from 0; an event built in Go from typed
// fields always encodes one.
func noSequence(r *telemetry.Record) bool {
	return r.Sequence == 0 && len(r.Attrs) > 0 && !r.Attrs.Has(telemetry.KeySequence)
}

// contentHash hashes an event's attributes sorted by key, so the same content in another
// attribute order gives the same hash (Jaeger's lesson: canonicalise, then hash).
func contentHash(ev telemetry.Event) uint64 {
	attrs := telemetry.AttributesOf(ev)
	idx := make([]int, len(attrs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(attrs[a].Key, attrs[b].Key) })
	var h maphash.Hash
	h.SetSeed(fpSeed)
	h.WriteString(ev.Name())
	for _, i := range idx {
		h.WriteString(attrs[i].Key)
		h.WriteByte(0)
		h.WriteString(attrs[i].Value.Kind().String())
		h.WriteString(attrs[i].Value.Text())
		h.WriteByte(0)
	}
	return h.Sum64()
}

// eventSize estimates the bytes an event holds without walking its attributes: the typed
// struct and record, a fixed share per attribute, and the lengths of the content strings that
// dominate large events. It is an estimate for memory limits, not an exact count.
func eventSize(ev telemetry.Event) int {
	r := ev.EventRecord()
	n := 320 + 72*len(r.Attrs)
	switch e := ev.(type) {
	case *telemetry.UserPrompt:
		n += len(e.Prompt) + len(e.PromptText)
	case *telemetry.AssistantResponse:
		n += len(e.Response)
	case *telemetry.ToolResult:
		n += len(e.ToolInput) + len(e.ToolParameters) + len(e.Error)
	case *telemetry.ToolDecision:
		n += len(e.ToolParameters)
	case *telemetry.APIError:
		n += len(e.Error)
	case *telemetry.Unknown:
		for _, kv := range r.Attrs {
			if kv.Value.Kind() == telemetry.ValueString {
				n += len(kv.Value.Str())
			}
		}
	}
	return n
}

// compareEntries orders events: event.timestamp, then timeUnixNano, then event.sequence; the
// name and fingerprint break the remaining ties so the order is total.
func compareEntries(a, b *entry) int {
	if c := cmp.Compare(a.ts, b.ts); c != 0 {
		return c
	}
	if c := cmp.Compare(a.tun, b.tun); c != 0 {
		return c
	}
	if c := cmp.Compare(a.seq, b.seq); c != 0 {
		return c
	}
	if c := strings.Compare(a.ev.Name(), b.ev.Name()); c != 0 {
		return c
	}
	return cmp.Compare(a.fp, b.fp)
}

// sortEntries sorts in event order and drops duplicates (equal fingerprints), returning the
// shortened slice and the number dropped.
//
// Events mostly arrive in order, so it checks first and sorts only when needed, and it moves
// entries only after the first duplicate (moving an entry costs write barriers during GC).
func sortEntries(es []entry) ([]entry, int) {
	sorted := true
	for i := 1; i < len(es); i++ {
		if compareEntries(&es[i-1], &es[i]) > 0 {
			sorted = false
			break
		}
	}
	if !sorted {
		slices.SortFunc(es, func(a, b entry) int { return compareEntries(&a, &b) })
	}
	n := 1 // es[:n] is sorted and de-duplicated
	for n < len(es) && !isDup(es[:n], es[n].fp, es[n].ts) {
		n++
	}
	if n >= len(es) {
		return es, 0
	}
	out := es[:n]
	dups := 0
	for i := n; i < len(es); i++ {
		if isDup(out, es[i].fp, es[i].ts) {
			dups++
			continue
		}
		out = append(out, es[i])
	}
	clear(es[len(out):])
	return out, dups
}

// isDup reports whether a sorted, de-duplicated prefix already holds fingerprint fp; equal
// keys sort next to each other unless timestamps differ, so it scans back over equal ts.
func isDup(sorted []entry, fp uint64, ts int64) bool {
	for i := len(sorted) - 1; i >= 0 && sorted[i].ts == ts; i-- {
		if sorted[i].fp == fp {
			return true
		}
	}
	return false
}

// sessionInfo is what a chain's fold needs from the rest of its session: which sequence numbers
// the session stream holds, which prompt each subagent ran under, and when the latest prompt
// started (task notifications excluded: they follow a prompt without ending it). The assembler
// keeps one per live session; Fold builds one per session.
type sessionInfo struct {
	seqs         []uint64            // bitset of event.sequence values seen (< maxTrackedSeq)
	agents       map[string]agentRun // agent_id → where it ran
	lastAgent    string              // the agent_id observed last (in agents): most repeat it
	lastPromptTS int64               // latest user_prompt time with a prompt.id
}

// agentRun is an agent_id seen in a session and the prompt.id of the chain it ran in; id is
// the map key's own copy, which lastAgent takes.
type agentRun struct{ id, prompt string }

const maxTrackedSeq = 1 << 22

// observe records one event of the session, with its sequence number and order time.
func (s *sessionInfo) observe(ev telemetry.Event, seq, ts int64) {
	r := ev.EventRecord()
	if q := seq; q >= 0 && q < maxTrackedSeq {
		w := int(q >> 6)
		if w >= len(s.seqs) {
			s.seqs = slices.Grow(s.seqs, w+1-len(s.seqs))[:w+1]
		}
		s.seqs[w] |= 1 << (uint(q) & 63)
	}
	if r.PromptID == "" {
		return
	}
	switch ev := ev.(type) {
	case *telemetry.UserPrompt:
		if ts > s.lastPromptTS && !isTaskNotification(ev) {
			s.lastPromptTS = ts
		}
	case *telemetry.APIRequest:
		s.agent(ev.AgentID, r.PromptID)
	case *telemetry.AssistantResponse:
		s.agent(ev.AgentID, r.PromptID)
	case *telemetry.SubagentCompleted:
		s.agent(ev.AgentID, r.PromptID)
	case *telemetry.APIError:
		s.agent(ev.AgentID, r.PromptID)
	}
}

func (s *sessionInfo) agent(id, prompt string) {
	if id == "" || id == s.lastAgent {
		return
	}
	if s.agents == nil {
		s.agents = map[string]agentRun{}
	}
	run, ok := s.agents[id]
	if !ok {
		// Copies: the session outlives the event whose strings these are (see add).
		run = agentRun{id: strings.Clone(id), prompt: strings.Clone(prompt)}
		s.agents[run.id] = run
	}
	s.lastAgent = run.id
}

func (s *sessionInfo) hasSeq(q int64) bool {
	if q < 0 || q >= maxTrackedSeq {
		return true
	}
	w := int(q >> 6)
	return w < len(s.seqs) && s.seqs[w]&(1<<(uint(q)&63)) != 0
}

// gap reports whether a sequence number in [lo, hi] is missing from the session stream.
func (s *sessionInfo) gap(lo, hi int64) bool {
	for q := lo; q <= hi; q++ {
		if !s.hasSeq(q) {
			return true
		}
	}
	return false
}

// parentOf finds the prompt whose chain started the subagent a task notification reports on:
// by the prompt's agent_id attribute, else by a known agent id inside the prompt text.
func (s *sessionInfo) parentOf(p *telemetry.UserPrompt, self string) string {
	if len(s.agents) == 0 {
		return ""
	}
	if v, ok := p.Attrs.Get(telemetry.KeyAgentID); ok { // not a typed field of user_prompt
		if parent := s.agents[v.Text()].prompt; parent != "" && parent != self {
			return parent
		}
	}
	text := p.Prompt
	if !strings.Contains(text, telemetry.TaskNotificationPrefix) {
		text = p.PromptText
	}
	// The first matching id in sorted order: the least of the matches, found without sorting.
	found, best := false, ""
	for id, run := range s.agents {
		if (!found || id < best) && run.prompt != self && strings.Contains(text, id) {
			found, best = true, id
		}
	}
	if !found {
		return ""
	}
	return s.agents[best].prompt
}

// sessionFacts is what a chain's fold learns from its session, taken under the session's lock.
type sessionFacts struct {
	gap          bool   // a sequence number in the chain's range is missing from the session
	parent       string // the prompt that started the subagent this chain's notification reports on
	lastPromptTS int64  // latest prompt start in the session
}

// seqRange is the range of event.sequence values of a chain's events in event order, as the
// gap check reads it: add each sequence number in event order.
type seqRange struct{ lo, hi int64 }

func newSeqRange() seqRange { return seqRange{-1, -1} }

func (r *seqRange) add(q int64) {
	if r.lo < 0 || q < r.lo {
		r.lo = q
	}
	if q > r.hi {
		r.hi = q
	}
}

// facts computes the session facts for the chain prompt with events evs (in event order) and
// sequence range seqs. Only a chain with a task notification (notif) looks for its parent.
func (s *sessionInfo) facts(prompt string, evs []telemetry.Event, seqs seqRange, notif bool) sessionFacts {
	var f sessionFacts
	f.lastPromptTS = s.lastPromptTS
	if notif && prompt != "" {
		for _, ev := range evs {
			if up, ok := ev.(*telemetry.UserPrompt); ok && isTaskNotification(up) {
				if f.parent = s.parentOf(up, prompt); f.parent != "" {
					break
				}
			}
		}
	}
	if seqs.lo >= 0 {
		f.gap = s.gap(seqs.lo, seqs.hi)
	}
	return f
}

// fold builds the chain for (session, prompt) from its events, sorted and de-duplicated. The
// chain keeps evs as its Events: the caller must not modify them afterwards.
func fold(session, prompt string, evs []telemetry.Event, sf sessionFacts) *Chain {
	return foldInto(nil, session, prompt, evs, sf)
}

// foldInto is fold building the chain in m's memory (see chainMem), which it records there
// for reuse; with m nil it allocates everything, as fold.
func foldInto(m *chainMem, session, prompt string, evs []telemetry.Event, sf sessionFacts) *Chain {
	var local chainMem // fold without reuse: every buffer below is nil, so allocated
	if m == nil {
		m = &local
	}
	// Size every list up front: one allocation each.
	var nAPI, nErr, nDecision, nResult, nFile int
	for _, ev := range evs {
		switch ev := ev.(type) {
		case *telemetry.APIRequest:
			nAPI++
		case *telemetry.APIError, *telemetry.APIRetriesExhausted, *telemetry.APIRefusal:
			nErr++
		case *telemetry.ToolDecision:
			nDecision++
		case *telemetry.ToolResult:
			nResult++
			if _, ok := fileToolOf(ev.ToolName); ok {
				nFile++
			}
		}
	}
	// A decision and its result make one call: size for the usual case, append grows the rest.
	nTool := max(nDecision, nResult)
	// The chain, its prompt, response, reasons and success flags in one allocation.
	blk := m.blk
	if blk == nil {
		blk = new(chainBlock)
		m.blk = blk
	}
	c := &blk.c
	// The name sets and subagents grow in scratch and are copied out once, at their size.
	sc := scratchPool.Get().(*foldScratch)
	// The block is new or reset, so zero: set the fields one by one rather than copying a
	// whole Chain.
	c.ID, c.SessionID, c.PromptID = ChainID(session, prompt), session, prompt
	c.APICalls, c.APIErrors, c.Tools = reuse(m.api, nAPI), reuse(m.errs, nErr), reuse(m.tools, nTool)
	c.MCPServers, c.Skills, c.Plugins = sc.mcp[:0], sc.skills[:0], sc.plugins[:0]
	c.Subagents, c.Files, c.Reasons = sc.subagents[:0], reuse(m.files, nFile), blk.reasons[:0]
	c.EventCount, c.Events = len(evs), evs
	okBuf := blk.ok[:0] // backing store for ToolCall.Success
	if nResult > len(blk.ok) {
		okBuf = reuse(m.ok, nResult)
	}
	// Per tool call, beside c.Tools: its id (a compact slice to search) and the
	// tool_parameters already read into it.
	aux := slices.Grow(sc.aux[:0], nTool)
	terminal := false
	agentCalls := 0
	var promptTS int64
	for i, ev := range evs {
		r := ev.EventRecord()
		if i == 0 {
			c.StartedAt = r.Time()
		}
		fillUser(&c.User, r)
		if c.Product == "" && r.Resource != nil {
			c.Product = r.Resource.ServiceName
		}
		switch ev := ev.(type) {
		case *telemetry.UserPrompt:
			if c.Prompt == nil {
				text := ev.Prompt
				if text == "" {
					text = ev.PromptText
				}
				c.Prompt = &blk.prompt
				*c.Prompt = Prompt{Text: text, Length: ev.PromptLength, Command: ev.CommandName,
					TaskNotification: isTaskNotification(ev), At: r.Time()}
				promptTS = tsOf(r)
				if c.Prompt.TaskNotification {
					c.ParentPromptID = sf.parent
				}
			}
		case *telemetry.APIRequest:
			a := grow(&c.APICalls)
			a.Sequence, a.At, a.Model, a.RequestID = r.Sequence, r.Time(), ev.Model, ev.RequestID
			a.InputTokens, a.OutputTokens = ev.InputTokens, ev.OutputTokens
			a.CacheReadTokens, a.CacheCreationTokens = ev.CacheReadTokens, ev.CacheCreationTokens
			a.CostUSD, a.CostUSDMicros, a.DurationMS, a.TTFTMS = ev.CostUSD, ev.CostUSDMicros, ev.DurationMS, ev.TTFTMS
			a.QuerySource, a.AgentID, a.Skill, a.Plugin = ev.QuerySource, ev.AgentID, ev.SkillName, ev.PluginName
			a.MCPServer, a.MCPTool = ev.MCPServerName, ev.MCPToolName
			if v, ok := r.Attrs.Get(telemetry.KeyAttempt); ok { // not a typed field today
				a.Attempt, _ = v.AsInt()
			}
			t := &c.Totals
			t.APIRequests++
			t.CostUSD += ev.CostUSD
			t.CostUSDMicros += ev.CostUSDMicros
			t.InputTokens += ev.InputTokens
			t.OutputTokens += ev.OutputTokens
			t.CacheReadTokens += ev.CacheReadTokens
			t.CacheCreationTokens += ev.CacheCreationTokens
			c.Skills = addName(c.Skills, ev.SkillName)
			c.Plugins = addName(c.Plugins, ev.PluginName)
			c.MCPServers = addName(c.MCPServers, ev.MCPServerName)
			c.addSubagent(ev.AgentID, agentType(ev.AgentName, ev.QuerySource))
		case *telemetry.APIError:
			c.APIErrors = append(c.APIErrors, APIError{Sequence: r.Sequence, At: r.Time(), Kind: ev.Name(),
				Model: ev.Model, Error: ev.Error, StatusCode: ev.StatusCode, DurationMS: ev.DurationMS,
				Attempt: ev.Attempt, RequestID: ev.RequestID, AgentID: ev.AgentID})
			c.Totals.APIErrors++
			c.addSubagent(ev.AgentID, agentType(ev.AgentName, ev.QuerySource))
			if ev.AgentID == "" {
				terminal = true
			}
		case *telemetry.APIRetriesExhausted:
			c.APIErrors = append(c.APIErrors, APIError{Sequence: r.Sequence, At: r.Time(), Kind: ev.Name(),
				Model: ev.Model, Error: ev.Error, StatusCode: ev.StatusCode, Attempt: ev.TotalAttempts})
			terminal = true
		case *telemetry.APIRefusal:
			c.APIErrors = append(c.APIErrors, APIError{Sequence: r.Sequence, At: r.Time(), Kind: ev.Name(),
				Model: ev.Model, Attempt: ev.Attempt, RequestID: ev.RequestID})
			c.Totals.APIErrors++
			if !ev.ServerFallbackHop {
				terminal = true
			}
		case *telemetry.ToolDecision:
			tc, ta := c.tool(&aux, ev.ToolUseID, ev.ToolName, r)
			if tc.DecisionSequence < 0 {
				tc.DecisionSequence = r.Sequence
				tc.Decision = rawText(ev, telemetry.KeyDecision, ev.Decision.String())
				tc.DecisionSource = rawText(ev, telemetry.KeySource, ev.Source.String())
				c.toolParams(tc, ta, ev.ToolName, ev.ToolParameters)
			}
		case *telemetry.ToolResult:
			tc, ta := c.tool(&aux, ev.ToolUseID, ev.ToolName, r)
			if tc.ResultSequence < 0 {
				tc.ResultSequence = r.Sequence
				tc.HasResult = true
				ok := ev.Success
				okBuf = append(okBuf, ok)
				tc.Success = &okBuf[len(okBuf)-1]
				tc.DurationMS, tc.ErrorType, tc.Error = ev.DurationMS, ev.ErrorType, ev.Error
				if tc.Decision == "" {
					tc.Decision = rawText(ev, telemetry.KeyDecisionType, ev.DecisionType.String())
				}
				if tc.DecisionSource == "" {
					tc.DecisionSource = rawText(ev, telemetry.KeyDecisionSource, ev.DecisionSource.String())
				}
				c.toolParams(tc, ta, ev.ToolName, ev.ToolParameters)
				if ev.ToolInput != "" && (ev.ToolName == "Skill" || isFileTool(ev.ToolName)) {
					var tf toolFields
					scanToolInput(ev.ToolInput, &tf)
					if tc.Skill == "" && ev.ToolName == "Skill" {
						tc.Skill = tf.skill
					}
					if fa, ok := fileAccess(ev.ToolName, ev.ToolInput, &tf); ok {
						c.Files = append(c.Files, FileTouch{Path: fa.Path, Operation: fa.Op.String(), Tool: fa.Tool,
							Pattern: fa.Pattern, ToolUseID: ev.ToolUseID})
					}
				}
				if !ok {
					c.Totals.Failed++
				}
			}
		case *telemetry.SkillActivated:
			c.Skills = addName(c.Skills, ev.SkillName)
			c.Plugins = addName(c.Plugins, ev.PluginName)
		case *telemetry.SubagentCompleted:
			s := c.addSubagent(ev.AgentID, ev.AgentType)
			if s == nil {
				s = &Subagent{} // neither id nor type: nothing to record
			}
			s.Completed, s.Async, s.DurationMS = true, ev.IsAsync, ev.DurationMS
			s.TotalTokens, s.TotalToolUses = ev.TotalTokens, ev.TotalToolUses
			s.Model = cmp.Or(ev.FinalModel, ev.Model)
			c.Plugins = addName(c.Plugins, ev.PluginName)
		case *telemetry.AssistantResponse:
			if ev.AgentID == "" {
				c.Response = &blk.response
				*c.Response = Response{Text: ev.Response, Length: ev.ResponseLength, Model: ev.Model, At: r.Time()}
				terminal = true
			} else {
				c.addSubagent(ev.AgentID, agentType("", ev.QuerySource))
			}
		case *telemetry.MCPServerConnection:
			c.MCPServers = addName(c.MCPServers, ev.ServerName)
		case *telemetry.PluginLoaded:
			c.Plugins = addName(c.Plugins, ev.PluginName)
		}
	}
	for i := range c.Tools {
		tc := &c.Tools[i]
		c.Totals.ToolCalls++
		if tc.Rejected() {
			c.Totals.Rejected++
		}
		if tc.Name == "Agent" || tc.Name == "Task" {
			if !tc.Rejected() {
				agentCalls++
			}
		}
	}
	if len(evs) > 0 {
		c.EndedAt = evs[len(evs)-1].EventRecord().Time()
	}
	if !c.StartedAt.IsZero() {
		c.Totals.DurationMS = c.EndedAt.Sub(c.StartedAt).Milliseconds()
	}
	sc.release(c, aux, m)
	m.api, m.errs, m.tools, m.files = c.APICalls, c.APIErrors, c.Tools, c.Files
	if nResult > len(blk.ok) {
		m.ok = okBuf
	}

	if prompt != "" {
		if c.Prompt == nil {
			c.Reasons = append(c.Reasons, ReasonNoPrompt)
		}
		followed := c.Prompt != nil && sf.lastPromptTS > promptTS
		if !terminal && !followed {
			c.Reasons = append(c.Reasons, ReasonNoTerminal)
		}
		for i := range c.Tools {
			if tc := &c.Tools[i]; !tc.HasResult && !tc.Rejected() {
				c.Reasons = append(c.Reasons, ReasonUnpairedDecision)
				break
			}
		}
		done := 0
		for _, s := range c.Subagents {
			if s.Completed {
				done++
			}
		}
		if agentCalls > done {
			c.Reasons = append(c.Reasons, ReasonAwaitingSubagent)
		}
	}
	if sf.gap {
		c.Reasons = append(c.Reasons, ReasonSequenceGap)
	}
	c.Complete = len(c.Reasons) == 0
	return c
}

// chainBlock holds a folded chain with its prompt, response, reasons and the first results'
// success flags: 592+72+64+10+16 bytes and the allocation header fill the 768-byte size class
// the chain alone rounds up to 640 in.
type chainBlock struct {
	c        Chain
	prompt   Prompt
	response Response
	reasons  [numReasons]Reason
	ok       [16]bool
}

// chainMem is the memory of a chain built by foldInto: its block and the backing arrays of
// its lists, each at its full capacity. An assembler with [WithChainReuse] takes it back once
// the consumer has returned and builds a later chain in it (reset, then foldInto).
type chainMem struct {
	blk   *chainBlock
	api   []APICall
	errs  []APIError
	tools []ToolCall
	files []FileTouch
	names []string
	subs  []Subagent
	ok    []bool
}

// maxReused is the longest list a chainMem keeps for reuse: a rare huge chain's lists are
// left to the GC rather than held in the pool.
const maxReused = 1024

// reuse returns buf emptied when it can hold n elements (its elements are zero: see reset),
// else a new slice of capacity n. It never returns nil, so an empty list stays [] in JSON.
func reuse[T any](buf []T, n int) []T {
	if buf != nil && cap(buf) >= n {
		return buf[:0]
	}
	return make([]T, 0, n)
}

// clearList zeroes the used part of *s (the rest is still zero) and empties it, or drops it
// when it is too large to keep.
func clearList[T any](s *[]T) {
	if cap(*s) > maxReused {
		*s = nil
		return
	}
	clear(*s)
	*s = (*s)[:0]
}

// reset zeroes the chain built in m and its lists, so that foldInto can build another in it
// (the fold's lists rely on zero elements past their length, see grow), and so that the pool
// holds no references to events.
func (m *chainMem) reset() {
	if m.blk != nil {
		*m.blk = chainBlock{}
	}
	clearList(&m.api)
	clearList(&m.errs)
	clearList(&m.tools)
	clearList(&m.files)
	clearList(&m.names)
	clearList(&m.subs)
	clearList(&m.ok)
}

var chainMemPool = sync.Pool{New: func() any { return new(chainMem) }}

// withTrigger records how the chain closed and adds the reasons a trigger implies.
func (c *Chain) withTrigger(t Trigger, version int, partial bool) {
	c.ClosedBy, c.Version = t, version
	switch t {
	case TriggerMaxEvents:
		c.Reasons = append(c.Reasons, ReasonMaxEvents)
	case TriggerMaxBytes:
		c.Reasons = append(c.Reasons, ReasonMaxBytes)
	case TriggerEvicted:
		c.Reasons = append(c.Reasons, ReasonEvicted)
	}
	if partial {
		c.Reasons = append(c.Reasons, ReasonPartial)
	}
	c.Complete = len(c.Reasons) == 0
}

// pendingCount counts what a chain's events still wait for: accepted calls without their
// result (open) and Agent calls without subagent_completed (agents). The sums do not depend on
// event order, so the assembler keeps them as events arrive.
type pendingCount struct{ open, agents int32 }

func (n *pendingCount) add(ev telemetry.Event) {
	switch ev := ev.(type) {
	case *telemetry.ToolDecision:
		if ev.Decision == telemetry.DecisionAccept {
			n.open++
		}
		if ev.Decision != telemetry.DecisionReject && (ev.ToolName == "Agent" || ev.ToolName == "Task") {
			n.agents++
		}
	case *telemetry.ToolResult:
		n.open--
	case *telemetry.SubagentCompleted:
		n.agents--
	}
}

// pending reports whether the chain still waits for more: an accepted call without its
// result, or an Agent call without subagent_completed. The assembler waits for the idle
// timeout rather than the quiet period while something is pending.
func (n pendingCount) pending() bool { return n.open > 0 || n.agents > 0 }

// terminalHint reports whether an event ends its prompt's main thread.
func terminalHint(ev telemetry.Event) bool {
	switch ev := ev.(type) {
	case *telemetry.AssistantResponse:
		return ev.AgentID == ""
	case *telemetry.APIError:
		return ev.AgentID == ""
	case *telemetry.APIRetriesExhausted:
		return true
	case *telemetry.APIRefusal:
		return !ev.ServerFallbackHop
	}
	return false
}

// toolAux is the fold's scratch for one tool call, at the same index as the call in
// Chain.Tools.
type toolAux struct {
	id           string // ToolUseID
	name, params string // the tool name and tool_parameters last read into the call
	read         bool   // name and params are set
}

// foldScratch is what a fold builds before it knows the sizes, reused across folds.
type foldScratch struct {
	aux                  []toolAux
	mcp, skills, plugins []string
	subagents            []Subagent
}

var scratchPool = sync.Pool{New: func() any { return new(foldScratch) }}

// release copies c's name sets (one allocation for the three) and subagents out of the
// scratch, into m's buffers when they are large enough (recording them there), then returns
// the scratch, cleared, to the pool.
func (sc *foldScratch) release(c *Chain, aux []toolAux, m *chainMem) {
	mcp, skills, plugins, subs := c.MCPServers, c.Skills, c.Plugins, c.Subagents
	names := reuse(m.names, len(mcp)+len(skills)+len(plugins))
	carve := func(set []string) []string {
		i := len(names)
		names = append(names, set...)
		return names[i:len(names):len(names)]
	}
	c.MCPServers, c.Skills, c.Plugins = carve(mcp), carve(skills), carve(plugins)
	m.names = names
	c.Subagents = append(reuse(m.subs, len(subs)), subs...)
	m.subs = c.Subagents
	clear(mcp)
	clear(skills)
	clear(plugins)
	clear(subs)
	clear(aux)
	sc.mcp, sc.skills, sc.plugins, sc.subagents, sc.aux = mcp[:0], skills[:0], plugins[:0], subs[:0], aux[:0]
	scratchPool.Put(sc)
}

// tool returns the call with tool_use_id id (a new one when id is empty or not seen yet) and
// its scratch; aux holds one entry per call in c.Tools.
func (c *Chain) tool(aux *[]toolAux, id, name string, r *telemetry.Record) (*ToolCall, *toolAux) {
	if id != "" {
		for i := range *aux {
			if (*aux)[i].id == id {
				if c.Tools[i].Name == "" {
					c.Tools[i].Name = name
				}
				return &c.Tools[i], &(*aux)[i]
			}
		}
	}
	tc := grow(&c.Tools)
	tc.ToolUseID, tc.Name, tc.At, tc.DecisionSequence, tc.ResultSequence = id, name, r.Time(), -1, -1
	*aux = append(*aux, toolAux{id: id})
	return &c.Tools[len(c.Tools)-1], &(*aux)[len(*aux)-1]
}

// toolParams reads a decision's or result's tool_parameters into the call. Every effect only
// fills what is empty or adds to a set, so reading the same (name, parameters) a second time
// (the result repeats its decision's) changes nothing and is skipped.
func (c *Chain) toolParams(tc *ToolCall, ta *toolAux, name, params string) {
	if ta.read && ta.name == name && ta.params == params {
		return
	}
	ta.name, ta.params, ta.read = name, params, true
	var tf toolFields
	scanToolParameters(params, &tf)
	if mcp, ok := mcpCall(name, params, &tf); ok {
		tc.MCPServer = cmp.Or(tc.MCPServer, mcp.Server)
		tc.MCPTool = cmp.Or(tc.MCPTool, mcp.Tool)
		c.MCPServers = addName(c.MCPServers, mcp.Server)
	}
	tc.Command = cmp.Or(tc.Command, tf.fullCommand)
	tc.Skill = cmp.Or(tc.Skill, tf.skillName)
	tc.Subagent = cmp.Or(tc.Subagent, tf.subagentType)
	c.Skills = addName(c.Skills, tf.skillName)
}

// grow appends a zero element to *s and returns it. The fold's lists are allocated zeroed
// (make, or append when it grows them) and never shortened, so with room the element is
// already zero: the fold then writes each field once in place rather than building the
// element and copying it in (a copy of every word through the write barrier while the GC
// marks).
func grow[T any](s *[]T) *T {
	n := len(*s)
	if n < cap(*s) {
		*s = (*s)[:n+1]
	} else {
		var zero T
		*s = append(*s, zero)
	}
	return &(*s)[n]
}

// addSubagent returns the subagent (id, typ), added on first sight; nil when both are empty.
func (c *Chain) addSubagent(id, typ string) *Subagent {
	if id == "" && typ == "" {
		return nil
	}
	for i := range c.Subagents {
		s := &c.Subagents[i]
		if (id != "" && s.AgentID == id) || (id == "" && s.AgentID == "" && s.Type == typ) {
			if s.Type == "" {
				s.Type = typ
			}
			return s
		}
	}
	c.Subagents = append(c.Subagents, Subagent{AgentID: id, Type: typ})
	return &c.Subagents[len(c.Subagents)-1]
}

func agentType(name, querySource string) string {
	if name != "" {
		return name
	}
	if rest, ok := strings.CutPrefix(querySource, "agent:"); ok {
		if i := strings.LastIndexByte(rest, ':'); i >= 0 {
			return rest[i+1:]
		}
		return rest
	}
	return ""
}

func fillUser(u *User, r *telemetry.Record) {
	if u.AccountUUID != "" && u.AccountID != "" && u.Email != "" && u.UserID != "" && u.OrganizationID != "" {
		return
	}
	// Read only the fields still missing: each read of a cold event costs a cache miss.
	if u.AccountUUID == "" {
		u.AccountUUID = r.AccountUUID
	}
	if u.AccountID == "" {
		u.AccountID = r.AccountID
	}
	if u.Email == "" {
		u.Email = r.UserEmail
	}
	if u.UserID == "" {
		u.UserID = r.UserID
	}
	if u.OrganizationID == "" {
		u.OrganizationID = r.OrganizationID
	}
}

// rawText returns the wire text of key (keeping values this version does not know), else def.
func rawText(ev telemetry.Event, key, def string) string {
	if def != "" {
		return def
	}
	if v, ok := telemetry.AttributesOf(ev).Get(key); ok {
		return v.Text()
	}
	return ""
}

// addName adds name to a sorted set of names.
func addName(set []string, name string) []string {
	if name == "" {
		return set
	}
	i, found := slices.BinarySearch(set, name)
	if found {
		return set
	}
	return slices.Insert(set, i, name)
}

// isTaskNotification is up.IsTaskNotification without reading the end of the prompt, which
// strings.TrimSpace does (a cache miss of a long prompt's last line, three times per prompt
// in Add): the prefix ends in '>', so trailing space cannot change whether it matches, and
// leading space is skipped the same way (ASCII, then unicode.IsSpace).
func isTaskNotification(up *telemetry.UserPrompt) bool {
	p := up.Prompt
	if p == "" || p == "<REDACTED>" {
		p = up.PromptText
	}
	i := 0
	for i < len(p) && asciiSpace(p[i]) {
		i++
	}
	if i < len(p) && p[i] >= utf8.RuneSelf {
		return strings.HasPrefix(strings.TrimLeftFunc(p[i:], unicode.IsSpace), telemetry.TaskNotificationPrefix)
	}
	return strings.HasPrefix(p[i:], telemetry.TaskNotificationPrefix)
}

// asciiSpace reports whether b is one of the ASCII spaces strings.TrimSpace trims.
func asciiSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r'
}

// timeOf converts an entry time to time.Time (UTC).
func timeOf(ns int64) time.Time { return time.Unix(0, ns).UTC() }
