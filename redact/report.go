package redact

import "log/slog"

// Report counts what one call changed. It never holds a redacted value; Keys holds paths
// only at [AuditKeys].
type Report struct {
	// Changed is the number of values rewritten (masked, pseudonymised, generalised, …).
	Changed int
	// Removed is the number of values removed by drop rules.
	Removed int
	// Failed is the number of values removed because they could not be processed: invalid
	// UTF-8, a declared JSON value that does not parse, a value over the size limit.
	Failed int
	// Detections is the number of detector matches replaced inside values.
	Detections int
	// Rules counts, per rule name, the values (or detections) each rule changed, in policy
	// order; "default" counts detections no rule claimed (they get ActionLabel). Rules with
	// no change are left out.
	Rules []RuleCount
	// Keys are the paths of changed values, at AuditKeys only.
	Keys []string
}

// defaultRuleName names, in reports, the detections no rule claimed.
const defaultRuleName = "default"

// RuleCount is one entry of [Report.Rules].
type RuleCount struct {
	Rule  string
	Count int
}

// Total returns Changed + Removed + Failed.
func (r Report) Total() int { return r.Changed + r.Removed + r.Failed }

// Add accumulates o into r.
func (r *Report) Add(o Report) {
	r.Changed += o.Changed
	r.Removed += o.Removed
	r.Failed += o.Failed
	r.Detections += o.Detections
	for _, rc := range o.Rules {
		r.addRule(rc.Rule, rc.Count)
	}
	r.Keys = append(r.Keys, o.Keys...)
}

// addRule adds n to rule's count, appending the rule when it is not listed yet.
func (r *Report) addRule(rule string, n int) {
	for i := range r.Rules {
		if r.Rules[i].Rule == rule {
			r.Rules[i].Count += n
			return
		}
	}
	r.Rules = append(r.Rules, RuleCount{rule, n})
}

// LogValue renders the counts for slog (never values; paths only when present).
func (r Report) LogValue() slog.Value {
	attrs := []slog.Attr{slog.Int("changed", r.Changed), slog.Int("removed", r.Removed), slog.Int("failed", r.Failed),
		slog.Int("detections", r.Detections)}
	for _, rc := range r.Rules {
		attrs = append(attrs, slog.Int("rule."+rc.Rule, rc.Count))
	}
	return slog.GroupValue(attrs...)
}

var _ slog.LogValuer = Report{}
