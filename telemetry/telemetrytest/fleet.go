package telemetrytest

import (
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/coworkgov/cowork/telemetry"
)

// FleetOptions configures a [Fleet]. Counts left at zero take the defaults in their comments;
// rates are probabilities in [0, 1] used as given, so a zero rate means never. [Realistic]
// returns options with every rate set to a plausible value.
type FleetOptions struct {
	// Seed makes the fleet reproducible: the same options give the same events, byte for byte.
	Seed uint64
	// Orgs is the number of organizations the users belong to (default 1).
	Orgs int
	// Users is the number of users (default 3).
	Users int
	// SessionsPerUser is the number of sessions (CLI processes) per user (default 2).
	SessionsPerUser int
	// PromptsPerSession is the number of prompts a person types per session (default 3);
	// task notifications from background subagents come on top.
	PromptsPerSession int
	// MaxToolCalls is the most tool calls in one prompt (default 4).
	MaxToolCalls int
	// BatchSize is the most events in one exported batch (default 20, like the CLI's).
	BatchSize int
	// Start is when the first session starts (default DefaultStart).
	Start time.Time

	// ClaudeCodeRate is the share of users on the Claude Code CLI (service.name claude-code);
	// the others use Cowork.
	ClaudeCodeRate float64
	// MCPRate is the share of sessions with MCP servers connected; in those, about half the
	// tool calls go to an MCP tool.
	MCPRate float64
	// SkillRate is the chance that a prompt activates a skill.
	SkillRate float64
	// SubagentRate is the chance that a prompt starts a background subagent.
	SubagentRate float64
	// RejectRate is the chance that a tool call is rejected (by config, a hook or the user).
	RejectRate float64
	// ToolFailureRate is the chance that an accepted tool call fails.
	ToolFailureRate float64
	// ErrorRate is the chance that a prompt ends in an API error.
	ErrorRate float64

	// Chaos disturbs delivery; the ground truth is unaffected.
	Chaos Chaos
}

// Chaos disturbs the delivery of a session's events the way retries and exporters do. Each
// rate is a per-event probability.
type Chaos struct {
	// DuplicateRate delivers an event a second time (a retried export): the same event value,
	// so the same session.id, event.name, event.sequence and timeUnixNano.
	DuplicateRate float64
	// ReorderRate swaps an event with the next one.
	ReorderRate float64
	// LateRate moves an event to the end of its session, into a later batch.
	LateRate float64
}

// Realistic returns options for a small fleet with plausible rates of every behaviour.
func Realistic(seed uint64) FleetOptions {
	return FleetOptions{
		Seed: seed, ClaudeCodeRate: 0.3, MCPRate: 0.4, SkillRate: 0.2, SubagentRate: 0.15,
		RejectRate: 0.1, ToolFailureRate: 0.05, ErrorRate: 0.05,
	}
}

func (o FleetOptions) withDefaults() FleetOptions {
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&o.Orgs, 1)
	def(&o.Users, 3)
	def(&o.SessionsPerUser, 2)
	def(&o.PromptsPerSession, 3)
	def(&o.MaxToolCalls, 4)
	def(&o.BatchSize, 20)
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	return o
}

// User is one simulated person: the identity their sessions carry, and their product.
type User struct {
	Identity        // SessionID is empty; each session has its own
	Name     string // display name, e.g. "Jane Doe"
	Product  telemetry.Product
	Resource *telemetry.Resource // shared by the user's sessions
}

// Fleet simulates users running Cowork and Claude Code sessions. Sessions are generated one at
// a time, each from its own seed, so a load generator can stream millions of events in bounded
// memory, and any session can be regenerated alone with [Fleet.Session].
//
// A Fleet must be created with [NewFleet]. It is immutable and safe for concurrent use; the
// events it yields are new values the caller owns (a chaos duplicate is the same value twice).
type Fleet struct {
	opts  FleetOptions
	users []User
}

// NewFleet creates the fleet's users from opts.Seed.
func NewFleet(opts FleetOptions) *Fleet {
	opts = opts.withDefaults()
	g := ids{r: newRand(mix(opts.Seed, 0xf1ee7))}
	type org struct{ id, domain string }
	orgs := make([]org, opts.Orgs)
	for i := range orgs {
		orgs[i] = org{id: g.uuid(), domain: orgDomains[i%len(orgDomains)]}
		if i >= len(orgDomains) {
			orgs[i].domain = fmt.Sprintf("org%d.example", i)
		}
	}
	fl := &Fleet{opts: opts, users: make([]User, opts.Users)}
	taken := map[string]bool{}
	for i := range fl.users {
		first, last := firstNames[g.r.IntN(len(firstNames))], lastNames[g.r.IntN(len(lastNames))]
		owner := strings.ToLower(first + "." + last)
		if taken[owner] {
			owner = fmt.Sprintf("%s%d", owner, i)
		}
		taken[owner] = true
		o := orgs[i%len(orgs)]
		u := User{
			Name: first + " " + last,
			Identity: Identity{
				UserID: g.userID(), OrganizationID: o.id, Email: owner + "@" + o.domain,
				AccountUUID: g.uuid(), AccountID: g.accountID(), ProcessOwner: owner,
			},
			Product: telemetry.ProductCowork,
		}
		if g.r.Float64() < opts.ClaudeCodeRate {
			u.Product = telemetry.ProductClaudeCode
			u.Resource = NewResource(telemetry.ProductClaudeCode, "", DefaultCLIVersion)
		} else {
			u.HostPaths = []string{"/Users/" + owner + "/Documents/" + projects[g.r.IntN(len(projects))]}
			if g.r.IntN(3) == 0 {
				u.HostPaths = append(u.HostPaths, "/Users/"+owner+"/Downloads")
			}
			u.Resource = NewResource(telemetry.ProductCowork, owner, "1.22209.3")
		}
		fl.users[i] = u
	}
	return fl
}

// Options returns the options the fleet was made with, defaults filled in.
func (fl *Fleet) Options() FleetOptions { return fl.opts }

// Users returns the fleet's users.
func (fl *Fleet) Users() []User { return append([]User(nil), fl.users...) }

// NumSessions returns how many sessions the fleet has.
func (fl *Fleet) NumSessions() int { return len(fl.users) * fl.opts.SessionsPerUser }

// Sessions yields every session, user by user, generating each when it is reached.
func (fl *Fleet) Sessions() iter.Seq[*Session] {
	return func(yield func(*Session) bool) {
		for i := range fl.NumSessions() {
			if !yield(fl.Session(i)) {
				return
			}
		}
	}
}

// Events yields every event as delivered (chaos applied), session by session.
func (fl *Fleet) Events() iter.Seq[telemetry.Event] {
	return func(yield func(telemetry.Event) bool) {
		for s := range fl.Sessions() {
			for _, ev := range s.Events {
				if !yield(ev) {
					return
				}
			}
		}
	}
}

// Batches yields every session's export batches in order (see [Session.Batches]).
func (fl *Fleet) Batches() iter.Seq[*telemetry.Logs] {
	return func(yield func(*telemetry.Logs) bool) {
		for s := range fl.Sessions() {
			for _, l := range s.Batches() {
				if !yield(l) {
					return
				}
			}
		}
	}
}

// Encoding names an OTLP body encoding for [Fleet.Payloads].
type Encoding uint8

// The OTLP encodings. EncodingUnknown is refused.
const (
	EncodingUnknown  Encoding = iota
	EncodingProtobuf          // application/x-protobuf
	EncodingJSON              // application/json
)

// String returns "protobuf", "json" or "".
func (e Encoding) String() string {
	switch e {
	case EncodingProtobuf:
		return "protobuf"
	case EncodingJSON:
		return "json"
	}
	return ""
}

// Payloads yields every batch encoded as an OTLP ExportLogsServiceRequest body, or the
// encoder's error.
func (fl *Fleet) Payloads(enc Encoding) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		for l := range fl.Batches() {
			var b []byte
			var err error
			switch enc {
			case EncodingProtobuf:
				b, err = telemetry.EncodeLogsProto(l)
			case EncodingJSON:
				b, err = telemetry.EncodeLogsJSON(l)
			default:
				err = fmt.Errorf("telemetrytest: unknown encoding %d", enc)
			}
			if !yield(b, err) || err != nil {
				return
			}
		}
	}
}

// Session is one simulated CLI process: its events as delivered and what really happened.
type Session struct {
	User  User
	Index int // position in the fleet
	// Events are the session's events in delivery order, with chaos applied.
	Events []telemetry.Event
	// Truth is what the session did, independent of chaos.
	Truth SessionTruth
	batch int
}

// Batches splits the delivered events into export requests of at most the fleet's BatchSize
// events, each with the session's one Resource and the Claude Code events Scope.
func (s *Session) Batches() []*telemetry.Logs {
	n := s.batch
	if n <= 0 {
		n = 20
	}
	var out []*telemetry.Logs
	for i := 0; i < len(s.Events); i += n {
		out = append(out, telemetry.NewLogs(s.Events[i:min(i+n, len(s.Events))]...))
	}
	return out
}

// SessionTruth is the ground truth of a session, for checking reconstruction (chains, costs,
// pairing) against what a pipeline rebuilt from the delivered events.
type SessionTruth struct {
	SessionID      string
	UserEmail      string
	AccountUUID    string
	AccountID      string
	OrganizationID string
	Product        telemetry.Product
	// Prompts lists every prompt.id opened, in order, task notifications included.
	Prompts []PromptTruth
	// Preamble is the number of events without a prompt.id (startup events).
	Preamble int
	// Events is the number of distinct events generated; Duplicates the extra copies chaos
	// delivered on top.
	Events, Duplicates int
	// CostUSDMicros is the sum of cost_usd_micros over every api_request, subagents included;
	// CostUSD is the same in dollars.
	CostUSDMicros int64
	CostUSD       float64
}

// PromptTruth is the ground truth of one prompt.id.
type PromptTruth struct {
	PromptID string
	// TaskNotification is set for the synthetic prompt with which a background subagent
	// reported; ParentPromptID is the prompt that started it and AgentID the subagent.
	TaskNotification bool
	ParentPromptID   string
	AgentID          string
	// Events is the number of distinct events carrying this prompt.id.
	Events int
	// APIRequests counts api_request events (subagents' included), APIErrors api_error events.
	APIRequests, APIErrors int
	// CostUSDMicros sums cost_usd_micros of the prompt's api_requests.
	CostUSDMicros int64
	// ToolCalls lists the tool_use_id of every decision; Rejected those rejected (which have
	// no tool_result); Failed those whose result reported success=false.
	ToolCalls, Rejected, Failed []string
	// MCP lists "server/tool" of each accepted MCP call; Skills the skills activated;
	// Subagents the agent_id of subagents started; Files the paths file tools touched.
	MCP, Skills, Subagents, Files []string
	// Errored is set when the prompt ended in an API error, without a response.
	Errored bool
}

// Session generates session i (0 ≤ i < NumSessions) alone, as Sessions would yield it.
func (fl *Fleet) Session(i int) *Session {
	o := fl.opts
	u := fl.users[i/o.SessionsPerUser]
	si := i % o.SessionsPerUser
	sim := &simulator{opts: o, f: NewFactory(mix(o.Seed, uint64(i)+1)), byPrompt: map[string]int{}}
	f := sim.f
	id := u.Identity
	id.SessionID = f.UUID()
	f.Identity = id
	f.Resource = u.Resource
	f.SetNow(o.Start.Add(time.Duration(si)*3*time.Hour + time.Duration(f.id.r.IntN(7200))*time.Second))
	if u.Product != telemetry.ProductCowork {
		sim.querySource = "repl_main_thread"
	} else {
		sim.querySource = "sdk"
	}
	sim.truth = SessionTruth{SessionID: id.SessionID, UserEmail: id.Email, AccountUUID: id.AccountUUID, AccountID: id.AccountID,
		OrganizationID: id.OrganizationID, Product: u.Product}
	sim.run()
	s := &Session{User: u, Index: i, Truth: sim.truth, batch: o.BatchSize}
	s.Events = sim.chaos(sim.events)
	s.Truth.Duplicates = len(s.Events) - len(sim.events)
	return s
}

// mix derives a seed (splitmix64).
func mix(seed, n uint64) uint64 {
	z := seed + n*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

var orgDomains = []string{"acme.example", "globex.example", "initech.example", "umbrella.example"}
