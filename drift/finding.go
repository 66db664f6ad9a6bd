package drift

import (
	"fmt"
	"strings"
	"time"
)

// Member identifies who a finding is about: the snapshot member when one matched, and the
// identity the events carried.
type Member struct {
	// ID is the snapshot member's ID; empty when no member matched.
	ID string `json:"id,omitempty"`
	// Email, AccountID and AccountUUID are from the events (user.email, user.account_id,
	// user.account_uuid), or from the snapshot for [KindRequiredMissing].
	Email       string `json:"email,omitempty"`
	AccountID   string `json:"account_id,omitempty"`
	AccountUUID string `json:"account_uuid,omitempty"`
}

// String returns the member ID, else the email, else the account ID or UUID.
func (m Member) String() string {
	for _, s := range []string{m.ID, m.Email, m.AccountID, m.AccountUUID} {
		if s != "" {
			return s
		}
	}
	return "(anonymous)"
}

// Evidence is one event that supports a finding: the earliest relevant event of one session.
type Evidence struct {
	// Event is the event name, such as plugin_loaded.
	Event string `json:"event"`
	// SessionID, Sequence (event.sequence) and PromptID (empty for start-up events) locate it.
	SessionID string `json:"session_id"`
	Sequence  int64  `json:"sequence"`
	PromptID  string `json:"prompt_id,omitempty"`
	// Time is the event's time (event.timestamp, else the record time).
	Time time.Time `json:"time"`
}

// String returns "event session#sequence at time".
func (e Evidence) String() string {
	return fmt.Sprintf("%s %s#%d at %s", e.Event, e.SessionID, e.Sequence, e.Time.UTC().Format(time.RFC3339Nano))
}

// Finding is one difference between policy and observed behaviour.
type Finding struct {
	// Kind says what the finding is about; Severity grades it (Kind.Severity).
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	// Member is who it is about.
	Member Member `json:"member"`
	// Subject is the plugin ("name@marketplace"), the capability ("cowork") or the foreign
	// organization ID the finding is about.
	Subject string `json:"subject"`
	// PluginID is the snapshot's plugin ID when the subject is a plugin the snapshot lists.
	PluginID string `json:"plugin_id,omitempty"`
	// Evidence lists the earliest event of each session involved, earliest first, at most
	// [Options.MaxEvidence]. For [KindRequiredMissing] it lists sessions whose start-up plugin
	// loads were observed without the plugin.
	Evidence []Evidence `json:"evidence"`
	// Sessions and Events count every session and event involved, including those beyond
	// Evidence. Events counts events as added (a duplicate counts twice).
	Sessions int `json:"sessions"`
	Events   int `json:"events"`
	// FirstSeen and LastSeen bound the events involved.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Explanation is the policy reasoning that makes this a finding: a summary line, then the
	// resolver's decision rendered as text ([plugins.Decision.String] or
	// [policy.Decision.String]).
	Explanation string `json:"explanation"`
	// Revision is the snapshot revision the explanation came from.
	Revision string `json:"revision"`
}

// Summary returns one line: severity, kind, member and subject.
func (f *Finding) Summary() string {
	return fmt.Sprintf("%s %s: %s: %s (%d event(s) in %d session(s))", f.Severity, f.Kind, f.Member, f.Subject, f.Events, f.Sessions)
}

// String returns the summary, the evidence and the explanation as indented text.
func (f *Finding) String() string {
	var b strings.Builder
	b.WriteString(f.Summary())
	b.WriteByte('\n')
	for _, e := range f.Evidence {
		fmt.Fprintf(&b, "  evidence: %s\n", e)
	}
	for _, l := range strings.Split(strings.TrimRight(f.Explanation, "\n"), "\n") {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	return b.String()
}

// Stats counts what a detector saw.
type Stats struct {
	// Events is every event added.
	Events int `json:"events"`
	// Anonymous counts events without user.email, user.account_id or user.account_uuid.
	Anonymous int `json:"anonymous"`
	// Foreign counts events from another organization.
	Foreign int `json:"foreign"`
	// Members counts distinct snapshot members seen; Unknown distinct unmatched identities.
	Members int `json:"members"`
	Unknown int `json:"unknown"`
	// PluginEvents counts plugin_loaded, plugin_installed and skill_activated events naming a
	// plugin; BuiltinPlugins those from a known marketplace such as builtin.
	PluginEvents   int `json:"plugin_events"`
	BuiltinPlugins int `json:"builtin_plugins"`
	// CoworkEvents counts events from service.name "cowork".
	CoworkEvents int `json:"cowork_events"`
}

// Report is the result of a check: the findings in a stable order (kind, member, subject),
// the snapshot revision and counters.
type Report struct {
	// Revision names the snapshot checked against.
	Revision string `json:"revision"`
	// Organization is the organization ID the snapshot names (may be empty).
	Organization string `json:"organization,omitempty"`
	// Findings lists every finding.
	Findings []Finding `json:"findings"`
	// Stats counts what was seen.
	Stats Stats `json:"stats"`
}

// Count returns how many findings are of kind k.
func (r *Report) Count(k Kind) int {
	n := 0
	for i := range r.Findings {
		if r.Findings[i].Kind == k {
			n++
		}
	}
	return n
}

// String renders every finding, or "no drift" when there is none.
func (r *Report) String() string {
	if len(r.Findings) == 0 {
		return fmt.Sprintf("no drift against %s (%d events)\n", r.Revision, r.Stats.Events)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d finding(s) against %s (%d events)\n", len(r.Findings), r.Revision, r.Stats.Events)
	for i := range r.Findings {
		b.WriteString(r.Findings[i].String())
	}
	return b.String()
}
