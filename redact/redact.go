package redact

import (
	"strings"

	"github.com/coworkgov/cowork/telemetry"
)

// bodyKey is the path under which a record's body is matched by rules and reported.
const bodyKey = "$body"

type change struct {
	key string
	v   telemetry.Value
	oc  outcome
}

// Event redacts ev's record attributes and its body (unless the body is only the
// claude_code.<name> marker) in place, using [telemetry.Set] and [telemetry.Delete] so typed fields stay in step
// with the attribute list. Clone the event first ([telemetry.Clone]) to keep the original. It
// does not touch
// ev's Resource, which is shared by the events of a batch: use [Engine.Logs] for batches, or
// [Engine.Resource] once per resource. With AuditCounts or AuditKeys, an event that changed
// gets the audit attributes ([AuditKeyCount], …). Event is safe for concurrent use on
// different events.
//
// Values keep their wire type unless a rule rewrites them: a rewritten number, boolean or
// bytes value, and a map masked, hashed or reduced to its length as a whole, become strings.
// Whole-value generalise, truncate and partial rules on a map or array apply to each string
// inside it. Numbers and booleans are never scanned by detectors; a number under a
// password-like key (a PIN) is a secret, and becomes a string when replaced.
func (e *Engine) Event(ev telemetry.Event) Report {
	if ev == nil {
		return Report{}
	}
	w := e.walker()
	defer w.release()
	return w.event(ev, nil)
}

// event redacts ev. With sum nil it returns ev's report; otherwise it adds the report to
// *sum (as [Report.Add] would, without building the per-event rule list) and returns a zero
// Report.
func (w *walker) event(ev telemetry.Event, sum *Report) Report {
	e := w.e
	root := w.recordRoot(ev.Name())
	attrs := telemetry.AttributesOf(ev)
	changes := w.changes[:0]
	hasAudit := false // attrs hold an audit attribute already
	if e.general {
		for _, kv := range attrs {
			p := root.child(kv.Key)
			if p.protect {
				hasAudit = hasAudit || isAuditKey(kv.Key)
				continue
			}
			if nv, oc := w.value(p, kv.Value); oc != same {
				changes = append(changes, change{kv.Key, nv, oc})
			}
		}
	} else {
		changes, hasAudit = w.attrs(root, attrs, changes)
	}
	rec := ev.EventRecord()
	var rep Report
	if !isBodyMarker(rec.Body, ev.Name()) {
		nv, oc := w.value(root.child(bodyKey), rec.Body)
		if oc != same {
			rec.Body = nv
			w.tally(&rep, bodyKey, oc)
		}
	}
	for _, c := range changes {
		if c.oc == changed {
			telemetry.Set(ev, c.key, c.v)
		} else {
			telemetry.Delete(ev, c.key)
		}
		w.tally(&rep, c.key, c.oc)
	}
	setAny := len(changes) > 0
	clear(changes) // the walker keeps the list, not the values
	w.changes = changes[:0]
	rep.Detections += w.dets
	w.dets = 0
	if rep.Failed > 0 {
		e.logger.Debug("redact: values removed because they could not be processed", "event", ev.Name(), "count", rep.Failed)
	}
	if rep.Total() > 0 && e.audit >= AuditCounts {
		// After a Set or Delete, Attrs is the event's list.
		w.writeAudit(ev, &rep, setAny && !hasAudit && !e.general)
	}
	if sum == nil {
		w.finish(&rep)
		return rep
	}
	sum.Changed += rep.Changed
	sum.Removed += rep.Removed
	sum.Failed += rep.Failed
	sum.Detections += rep.Detections
	for i, c := range w.counts {
		if c > 0 {
			sum.addRule(w.ruleName(i), int(c))
		}
	}
	clear(w.counts)
	sum.Keys = append(sum.Keys, rep.Keys...)
	return Report{}
}

// isBodyMarker reports whether body is the claude_code.<name> marker of the event named name,
// which carries nothing but the name. Any other body (text after the name, a map, an array,
// bytes) is redacted.
func isBodyMarker(body telemetry.Value, name string) bool {
	if body.Kind() != telemetry.ValueString {
		return false
	}
	rest, ok := strings.CutPrefix(body.Str(), telemetry.BodyPrefix)
	return ok && rest == name
}

// attrs redacts an event's attributes below root, appending what changed to changes. It
// also reports whether they hold an audit attribute. Events of one name mostly carry the
// same keys in the same order: the root's layout finds each key's plan by position, without
// hashing it, and says which values the plan leaves as they are, so most attributes are
// decided without calling value (TestFastPathAgrees checks this against the general path).
func (w *walker) attrs(root *plan, attrs telemetry.Attributes, changes []change) ([]change, bool) {
	var lay layout
	if l := root.layout.Load(); l != nil {
		lay = *l
	}
	j, missing, hasAudit := 0, false, false
	for _, kv := range attrs {
		var p *plan
		if le := lay.find(kv.Key, &j); le != nil {
			if f := le.fast; f != 0 {
				if f&fastProtected != 0 {
					hasAudit = hasAudit || f&fastAudit != 0
					continue
				}
				switch kv.Value.Kind() {
				case telemetry.ValueString:
					if f&fastPlain != 0 && w.plainSame(kv.Value.Str()) {
						continue
					}
				case telemetry.ValueInt:
					if f&fastScalars != 0 && !cardInt(kv.Value.IntRaw()) {
						continue
					}
				case telemetry.ValueDouble, telemetry.ValueBool, telemetry.ValueEmpty:
					if f&fastScalars != 0 {
						continue
					}
				}
			}
			p = le.p
		} else {
			p = root.child(kv.Key)
			missing = missing || !lay.has(kv.Key)
			if p.protect {
				hasAudit = hasAudit || isAuditKey(kv.Key)
				continue
			}
		}
		if nv, oc := w.value(p, kv.Value); oc != same {
			changes = append(changes, change{kv.Key, nv, oc})
		}
	}
	if missing && len(lay) < layoutMax {
		plans := make([]*plan, len(attrs))
		for i, kv := range attrs {
			plans[i] = root.child(kv.Key)
		}
		root.mergeLayout(lay, plans)
	}
	return changes, hasAudit
}

func isAuditKey(k string) bool { return k == AuditKeyCount || k == AuditKeyRules || k == AuditKeyKeys }

// writeAudit sets the audit attributes of a changed event: the count, the rule counts and,
// at AuditKeys, the changed paths. With direct, ev's Attrs is its attribute list (a Set or
// Delete made it so) and holds no audit attribute, so Set would append them; no typed field
// views them (TestAuditKeysHaveNoField), so they are appended here without Set's lookups,
// into an exact-size copy from the batch's arena when the list is full (the decoder sizes
// lists exactly; append would double it), with the rule counts' map in the same block.
func (w *walker) writeAudit(ev telemetry.Event, rep *Report, direct bool) {
	n := 0
	for _, c := range w.counts {
		if c > 0 {
			n++
		}
	}
	rec := ev.EventRecord()
	need := 2 + btoi(w.e.audit >= AuditKeys)
	var kvs []telemetry.KeyValue
	var attrs telemetry.Attributes
	k := len(rec.Attrs)
	switch {
	case !direct || n == 0:
		kvs = make([]telemetry.KeyValue, 0, n)
	case cap(rec.Attrs)-k >= need:
		attrs = rec.Attrs[: k+need : k+need]
		kvs = w.kvs(n)[:0]
	default:
		buf := w.kvs(k + need + n)
		copy(buf, rec.Attrs)
		attrs = buf[: k+need : k+need]
		kvs = buf[k+need : k+need : k+need+n]
	}
	for i, c := range w.counts {
		if c > 0 {
			kvs = append(kvs, telemetry.KeyValue{Key: w.ruleName(i), Value: telemetry.Int(int64(c))})
		}
	}
	count, rules := telemetry.Int(int64(rep.Total())), telemetry.Map(kvs...)
	if attrs == nil {
		telemetry.Set(ev, AuditKeyCount, count)
		telemetry.Set(ev, AuditKeyRules, rules)
		if need == 3 {
			telemetry.Set(ev, AuditKeyKeys, telemetry.Strings(rep.Keys...))
		}
		return
	}
	attrs[k] = telemetry.KeyValue{Key: AuditKeyCount, Value: count}
	attrs[k+1] = telemetry.KeyValue{Key: AuditKeyRules, Value: rules}
	if need == 3 {
		attrs[k+2] = telemetry.KeyValue{Key: AuditKeyKeys, Value: telemetry.Strings(rep.Keys...)}
	}
	rec.Attrs = attrs
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ruleName is the name of rule i, or "default" for the last count slot.
func (w *walker) ruleName(i int) string {
	if i < len(w.e.rules) {
		return w.e.rules[i].Name
	}
	return defaultRuleName
}

func (w *walker) tally(rep *Report, key string, oc outcome) {
	switch oc {
	case changed:
		rep.Changed++
	case removed:
		rep.Removed++
	case failed:
		rep.Failed++
	}
	if w.e.audit >= AuditKeys {
		rep.Keys = append(rep.Keys, key)
	}
}

// finish moves the walker's rule counts into rep and resets them.
func (w *walker) finish(rep *Report) {
	rep.Detections += w.dets
	w.dets = 0
	n := 0
	for _, c := range w.counts {
		if c > 0 {
			n++
		}
	}
	if n > 0 {
		rep.Rules = make([]RuleCount, 0, n)
		for i, c := range w.counts {
			if c > 0 {
				rep.Rules = append(rep.Rules, RuleCount{w.ruleName(i), int(c)})
			}
		}
		clear(w.counts)
	}
}

// Value redacts one record attribute value as if it had key key in an event of no known
// name (rules with Events do not apply). It returns the value to keep and true, or false when
// the value must be removed (dropped or failed closed). Value is safe for concurrent use.
func (e *Engine) Value(key string, v telemetry.Value) (telemetry.Value, bool) {
	w := e.walker()
	defer w.release()
	nv, oc := w.value(e.root(ScopeRecord, "").child(key), v)
	if oc == removed || oc == failed {
		return telemetry.Value{}, false
	}
	return nv, true
}

// Resource redacts r's attributes with the resource-scope rules and refreshes its named
// fields. The attribute list is replaced, not edited in place, so other holders of the old
// list are unaffected; r itself is changed, and every event that points at it sees the
// change. Resource is safe for concurrent use on different resources.
func (e *Engine) Resource(r *telemetry.Resource) Report {
	if r == nil {
		return Report{}
	}
	w := e.walker()
	defer w.release()
	var rep Report
	root := e.root(ScopeResource, "")
	var out telemetry.Attributes
	for i, kv := range r.Attrs {
		p := root.child(kv.Key)
		nv, oc := w.value(p, kv.Value)
		if oc == same {
			if out != nil {
				out = append(out, kv)
			}
			continue
		}
		if out == nil {
			out = make(telemetry.Attributes, i, len(r.Attrs))
			copy(out, r.Attrs[:i])
		}
		if oc == changed {
			out = append(out, telemetry.KeyValue{Key: kv.Key, Value: nv})
		}
		w.tally(&rep, kv.Key, oc)
	}
	if out != nil {
		r.Attrs = out
		r.Refresh()
	}
	w.finish(&rep)
	return rep
}

// Logs redacts a decoded batch in place: each distinct resource once, then every event (see
// [Engine.Event]). It returns the sum of the reports. The batch's Resources are changed in
// place too (see [Engine.Resource]); events cloned with [telemetry.Clone] still share them, so
// decode the batch again to keep an unredacted copy. Logs is safe for concurrent use on
// different batches that share no Resource.
func (e *Engine) Logs(l *telemetry.Logs) Report {
	var rep Report
	if l == nil {
		return rep
	}
	var seen []*telemetry.Resource
	w := e.walker()
	defer w.release()
	w.left = l.Len()
	for _, rl := range l.ResourceLogs {
		if rl.Resource != nil && !containsPtr(seen, rl.Resource) {
			seen = append(seen, rl.Resource)
			rep.Add(e.Resource(rl.Resource))
		}
		for _, sl := range rl.ScopeLogs {
			for _, ev := range sl.Events {
				if ev != nil {
					w.event(ev, &rep)
				}
				w.left--
			}
		}
	}
	return rep
}

func containsPtr(s []*telemetry.Resource, r *telemetry.Resource) bool {
	for _, x := range s {
		if x == r {
			return true
		}
	}
	return false
}
