package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coworkgov/cowork/correlate"
	"github.com/coworkgov/cowork/drift"
	"github.com/coworkgov/cowork/plugins"
)

// Report is everything the audit shows; the HTML page and the JSON file are two renderings of
// the same value.
type Report struct {
	Generated time.Time `json:"generated"`
	// Since and Until bound the window; Since is zero for "everything retained".
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Source names where the data came from.
	Source string `json:"source"`
	// Policy names the snapshot used for groups and drift (empty without one).
	Policy       string `json:"policy,omitempty"`
	Organization string `json:"organization,omitempty"`

	Totals Totals `json:"totals"`
	// Users, Groups and Models break cost and tokens down, most expensive first. A member in
	// several groups counts in each, so group rows may add up to more than the total.
	Users  []Usage `json:"users"`
	Groups []Usage `json:"groups"`
	Models []Usage `json:"models"`
	// Days counts prompts and chains per UTC day of the window.
	Days []Day `json:"days"`
	// Tools, MCPServers and Skills are the most used, most first.
	Tools      []Count `json:"tools"`
	MCPServers []Count `json:"mcp_servers"`
	Skills     []Count `json:"skills"`
	// Rejected lists every rejected tool call, newest last.
	Rejected []Rejection `json:"rejected"`
	// APIErrors lists every API error, newest last.
	APIErrors []APIError `json:"api_errors"`
	// Files lists the files touched, as stored (redacted upstream), most touched first.
	Files []File `json:"files"`
	// Drift is the drift check against the policy; nil without a policy.
	Drift *drift.Report `json:"drift,omitempty"`
	// Retention describes the data the source holds.
	Retention Retention `json:"retention"`
}

// Totals sums the window.
type Totals struct {
	CostUSD             float64 `json:"cost_usd"`
	InputTokens         int64   `json:"input_tokens"`
	OutputTokens        int64   `json:"output_tokens"`
	CacheReadTokens     int64   `json:"cache_read_tokens"`
	CacheCreationTokens int64   `json:"cache_creation_tokens"`
	Prompts             int     `json:"prompts"`
	Chains              int     `json:"chains"`
	Sessions            int     `json:"sessions"`
	Users               int     `json:"users"`
	APIRequests         int     `json:"api_requests"`
	APIErrors           int     `json:"api_errors"`
	ToolCalls           int     `json:"tool_calls"`
	Rejected            int     `json:"rejected"`
	Events              int     `json:"events"`
}

// Usage is cost and tokens for one user, group or model.
type Usage struct {
	Name                string  `json:"name"`
	CostUSD             float64 `json:"cost_usd"`
	InputTokens         int64   `json:"input_tokens"`
	OutputTokens        int64   `json:"output_tokens"`
	CacheReadTokens     int64   `json:"cache_read_tokens"`
	CacheCreationTokens int64   `json:"cache_creation_tokens"`
	APIRequests         int     `json:"api_requests"`
	Chains              int     `json:"chains"`
}

func (u *Usage) addTotals(t correlate.Totals) {
	u.CostUSD += t.CostUSD
	u.InputTokens += t.InputTokens
	u.OutputTokens += t.OutputTokens
	u.CacheReadTokens += t.CacheReadTokens
	u.CacheCreationTokens += t.CacheCreationTokens
	u.APIRequests += t.APIRequests
}

// Day is one UTC day.
type Day struct {
	Date    string  `json:"date"`
	Prompts int     `json:"prompts"`
	Chains  int     `json:"chains"`
	CostUSD float64 `json:"cost_usd"`
}

// Count is how often a tool, MCP server or skill was used.
type Count struct {
	Name     string `json:"name"`
	Calls    int    `json:"calls"`
	Rejected int    `json:"rejected,omitempty"`
	Failed   int    `json:"failed,omitempty"`
}

// Rejection is one rejected tool call and who or what rejected it.
type Rejection struct {
	At   time.Time `json:"at"`
	User string    `json:"user"`
	Tool string    `json:"tool"`
	// Detail is the command, MCP tool, skill or subagent the call asked for (as redacted).
	Detail string `json:"detail,omitempty"`
	// Source is the decision source on the wire (config, hook, user_reject, user_abort, …)
	// and RejectedBy says it in words.
	Source     string `json:"source"`
	RejectedBy string `json:"rejected_by"`
	SessionID  string `json:"session_id"`
	PromptID   string `json:"prompt_id"`
}

// APIError is one failed API call.
type APIError struct {
	At         time.Time `json:"at"`
	User       string    `json:"user"`
	Kind       string    `json:"kind"`
	Model      string    `json:"model,omitempty"`
	StatusCode int64     `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	SessionID  string    `json:"session_id"`
	PromptID   string    `json:"prompt_id"`
}

// File is one path touched in one way.
type File struct {
	Path      string   `json:"path"`
	Operation string   `json:"operation"`
	Tools     []string `json:"tools"`
	Count     int      `json:"count"`
	Users     []string `json:"users"`
}

// Retention is what the source holds and how old it is.
type Retention struct {
	Store    string    `json:"store"`
	Events   int       `json:"events"`
	Chains   int       `json:"chains"`
	Sessions int       `json:"sessions"`
	Bytes    int64     `json:"bytes"`
	Oldest   time.Time `json:"oldest"`
	Newest   time.Time `json:"newest"`
	// OldestAgeDays is the age of the oldest event at Report.Generated, in days.
	OldestAgeDays float64 `json:"oldest_age_days"`
}

func (r *Retention) observe(t time.Time) {
	if t.IsZero() {
		return
	}
	t = t.UTC()
	if r.Oldest.IsZero() || t.Before(r.Oldest) {
		r.Oldest = t
	}
	if t.After(r.Newest) {
		r.Newest = t
	}
}

// options are the inputs of build besides the source.
type options struct {
	since, now time.Time
	snap       *plugins.Snapshot
	policyName string
	top        int
	drift      drift.Options
}

// userName names the person behind a chain: the email, else the tagged account ID, else the
// account UUID.
func userName(u correlate.User) string {
	return cmp.Or(u.Email, u.AccountID, u.AccountUUID, "(unknown user)")
}

// rejectedBy says who or what rejected a tool call.
func rejectedBy(source, user string) string {
	switch source {
	case "config":
		return "configuration (a permission rule)"
	case "hook":
		return "a hook"
	case "user_reject", "user_temporary", "user_permanent":
		return "the user, " + user
	case "user_abort":
		return "the user, " + user + " (aborted)"
	case "":
		return "not recorded"
	}
	return source
}

// build computes the report from a source.
func build(ctx context.Context, src Source, o options) (*Report, error) {
	chains, err := src.Chains(ctx, o.since)
	if err != nil {
		return nil, err
	}
	events, err := src.Events(ctx, o.since)
	if err != nil {
		return nil, err
	}
	ret, err := src.Retained(ctx)
	if err != nil {
		return nil, err
	}
	if !ret.Oldest.IsZero() {
		ret.OldestAgeDays = o.now.Sub(ret.Oldest).Hours() / 24
	}
	if o.top <= 0 {
		o.top = 10
	}
	rep := &Report{Generated: o.now.UTC(), Since: o.since.UTC(), Until: o.now.UTC(), Source: src.Describe(), Retention: ret}
	rep.Totals.Events = len(events)
	correlate.SortChains(chains)

	var det *drift.Detector
	if o.snap != nil {
		det, err = drift.New(o.snap, o.drift)
		if err != nil {
			return nil, err
		}
		rep.Policy = o.policyName + " (" + o.snap.Revision() + ")"
		rep.Organization = cmp.Or(o.snap.Organization.Name, o.snap.Organization.ID)
	}

	users, groups, models := map[string]*Usage{}, map[string]*Usage{}, map[string]*Usage{}
	days := map[string]*Day{}
	tools, servers, skills := map[string]*Count{}, map[string]*Count{}, map[string]*Count{}
	files := map[[2]string]*File{}
	sessions := map[string]bool{}
	get := func(m map[string]*Usage, k string) *Usage {
		u := m[k]
		if u == nil {
			u = &Usage{Name: k}
			m[k] = u
		}
		return u
	}
	count := func(m map[string]*Count, k string) *Count {
		c := m[k]
		if c == nil {
			c = &Count{Name: k}
			m[k] = c
		}
		return c
	}

	for _, c := range chains {
		sessions[c.SessionID] = true
		user := userName(c.User)
		u := get(users, user)
		u.addTotals(c.Totals)
		for _, g := range groupsOf(det, o.snap, c.User) {
			get(groups, g).addTotals(c.Totals)
			if !c.IsPreamble() {
				get(groups, g).Chains++
			}
		}
		t := &rep.Totals
		t.CostUSD += c.Totals.CostUSD
		t.InputTokens += c.Totals.InputTokens
		t.OutputTokens += c.Totals.OutputTokens
		t.CacheReadTokens += c.Totals.CacheReadTokens
		t.CacheCreationTokens += c.Totals.CacheCreationTokens
		t.APIRequests += c.Totals.APIRequests
		t.APIErrors += c.Totals.APIErrors
		t.ToolCalls += c.Totals.ToolCalls
		t.Rejected += c.Totals.Rejected

		day := c.StartedAt.UTC().Format(time.DateOnly)
		d := days[day]
		if d == nil {
			d = &Day{Date: day}
			days[day] = d
		}
		d.CostUSD += c.Totals.CostUSD
		if !c.IsPreamble() {
			u.Chains++
			t.Chains++
			d.Chains++
			if c.Prompt != nil && !c.Prompt.TaskNotification {
				t.Prompts++
				d.Prompts++
			}
		}

		seenModel := map[string]bool{}
		for _, a := range c.APICalls {
			name := cmp.Or(a.Model, "(unknown model)")
			m := get(models, name)
			if !seenModel[name] && !c.IsPreamble() {
				seenModel[name] = true
				m.Chains++
			}
			m.CostUSD += a.CostUSD
			m.InputTokens += a.InputTokens
			m.OutputTokens += a.OutputTokens
			m.CacheReadTokens += a.CacheReadTokens
			m.CacheCreationTokens += a.CacheCreationTokens
			m.APIRequests++
		}
		for _, e := range c.APIErrors {
			rep.APIErrors = append(rep.APIErrors, APIError{At: e.At.UTC(), User: user, Kind: e.Kind, Model: e.Model,
				StatusCode: e.StatusCode, Error: e.Error, SessionID: c.SessionID, PromptID: c.PromptID})
		}
		for i := range c.Tools {
			tc := &c.Tools[i]
			name := tc.Name
			if tc.MCPServer != "" {
				name = "mcp:" + tc.MCPServer + "/" + tc.MCPTool
				s := count(servers, tc.MCPServer)
				s.Calls++
				if tc.Rejected() {
					s.Rejected++
				}
			}
			tt := count(tools, name)
			tt.Calls++
			if tc.Skill != "" {
				count(skills, tc.Skill).Calls++
			}
			if tc.Success != nil && !*tc.Success {
				tt.Failed++
			}
			if tc.Rejected() {
				tt.Rejected++
				rep.Rejected = append(rep.Rejected, Rejection{At: tc.At.UTC(), User: user, Tool: tc.Name,
					Detail: cmp.Or(tc.Command, mcpName(tc), tc.Skill, tc.Subagent), Source: tc.DecisionSource,
					RejectedBy: rejectedBy(tc.DecisionSource, user), SessionID: c.SessionID, PromptID: c.PromptID})
			}
		}
		for _, f := range c.Files {
			k := [2]string{f.Path, f.Operation}
			fl := files[k]
			if fl == nil {
				fl = &File{Path: f.Path, Operation: f.Operation}
				files[k] = fl
			}
			fl.Count++
			fl.Tools = addUnique(fl.Tools, f.Tool)
			fl.Users = addUnique(fl.Users, user)
		}
	}
	rep.Totals.Sessions = len(sessions)
	rep.Totals.Users = len(users)

	if det != nil {
		for _, ev := range events {
			det.Add(ev)
		}
		dr := det.Report()
		rep.Drift = &dr
	}

	rep.Users = sortedUsage(users)
	rep.Groups = sortedUsage(groups)
	rep.Models = sortedUsage(models)
	rep.Days = fillDays(days, o.since, o.now)
	rep.Tools = topCounts(tools, o.top)
	rep.MCPServers = topCounts(servers, o.top)
	rep.Skills = topCounts(skills, o.top)
	for _, f := range files {
		rep.Files = append(rep.Files, *f)
	}
	slices.SortFunc(rep.Files, func(a, b File) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Operation, b.Operation))
	})
	slices.SortStableFunc(rep.Rejected, func(a, b Rejection) int { return a.At.Compare(b.At) })
	slices.SortStableFunc(rep.APIErrors, func(a, b APIError) int { return a.At.Compare(b.At) })
	return rep, nil
}

func mcpName(tc *correlate.ToolCall) string {
	if tc.MCPServer == "" {
		return ""
	}
	return tc.MCPServer + "/" + tc.MCPTool
}

// groupsOf names the policy groups of the member behind u: "(no policy)" without a snapshot,
// "(not a member)" when no member matches, "(no group)" for a member without groups.
func groupsOf(det *drift.Detector, snap *plugins.Snapshot, u correlate.User) []string {
	if det == nil {
		return []string{"(no policy)"}
	}
	m, ok := det.Identify(u.AccountID, u.AccountUUID, u.Email)
	if !ok {
		return []string{"(not a member)"}
	}
	if len(m.Groups) == 0 {
		return []string{"(no group)"}
	}
	out := make([]string, 0, len(m.Groups))
	for _, id := range m.Groups {
		name := id
		if g, ok := snap.Group(id); ok && g.Name != "" {
			name = g.Name
		}
		out = append(out, name)
	}
	return out
}

func addUnique(s []string, v string) []string {
	if v == "" || slices.Contains(s, v) {
		return s
	}
	s = append(s, v)
	slices.Sort(s)
	return s
}

func sortedUsage(m map[string]*Usage) []Usage {
	out := make([]Usage, 0, len(m))
	for _, u := range m {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b Usage) int {
		return cmp.Or(cmp.Compare(b.CostUSD, a.CostUSD), cmp.Compare(b.InputTokens+b.OutputTokens, a.InputTokens+a.OutputTokens), strings.Compare(a.Name, b.Name))
	})
	return out
}

func topCounts(m map[string]*Count, n int) []Count {
	out := make([]Count, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(cmp.Compare(b.Calls, a.Calls), strings.Compare(a.Name, b.Name)) })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// maxDays bounds the per-day series.
const maxDays = 400

// fillDays returns one row per UTC day from the window's first day (or the first day with
// data when the window is open) to the last, days without data included.
func fillDays(m map[string]*Day, since, until time.Time) []Day {
	if len(m) == 0 && since.IsZero() {
		return nil
	}
	first, last := since.UTC(), until.UTC()
	if since.IsZero() {
		first = time.Time{}
	}
	for k := range m {
		t, err := time.Parse(time.DateOnly, k)
		if err != nil {
			continue
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	first = first.Truncate(24 * time.Hour)
	if last.Sub(first) > maxDays*24*time.Hour {
		first = last.Add(-maxDays * 24 * time.Hour).Truncate(24 * time.Hour)
	}
	var out []Day
	for t := first; !t.After(last); t = t.Add(24 * time.Hour) {
		k := t.Format(time.DateOnly)
		if d, ok := m[k]; ok {
			out = append(out, *d)
		} else {
			out = append(out, Day{Date: k})
		}
	}
	return out
}

// String is a short text summary, printed by the command.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d prompt(s) in %d chain(s), %d session(s), %d user(s); $%.4f; %d rejected tool call(s); %d API error(s)",
		r.Totals.Prompts, r.Totals.Chains, r.Totals.Sessions, r.Totals.Users, r.Totals.CostUSD, len(r.Rejected), len(r.APIErrors))
	if r.Drift != nil {
		fmt.Fprintf(&b, "; %d drift finding(s)", len(r.Drift.Findings))
	}
	return b.String()
}
