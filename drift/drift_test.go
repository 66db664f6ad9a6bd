package drift

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/plugins"
	"github.com/coworkgov/cowork/policy"
	"github.com/coworkgov/cowork/telemetry"
)

// Corpus identities (internal/corpus/testdata/README.md).
const (
	corpusOrg = "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9"
	janeID    = "user_01EikcPGzmzE4FeHanisYbhW"
	samID     = "user_016WYJqouEY7JdQKTzgdXcqL"
	priyaUUID = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
)

// corpusEvents decodes every recorded log request of the real corpus.
func corpusEvents(t testing.TB) []telemetry.Event {
	t.Helper()
	var out []telemetry.Event
	for _, sc := range corpus.Scenarios() {
		for _, f := range corpus.Logs(corpus.Protobuf, sc) {
			l, err := telemetry.DecodeLogsProto(f.Data)
			require.NoError(t, err, f.Name)
			out = append(out, l.Events()...)
		}
	}
	require.NotEmpty(t, out)
	return out
}

func loadSnapshot(t testing.TB, name string) *plugins.Snapshot {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	s, err := plugins.Load(b)
	require.NoError(t, err)
	require.NoError(t, s.Validate().Err())
	return s
}

// firstEvent returns the first corpus event of a scenario with the given name.
func firstEvent(t testing.TB, scenario, name string) telemetry.Event {
	t.Helper()
	for _, f := range corpus.Logs(corpus.Protobuf, scenario) {
		l, err := telemetry.DecodeLogsProto(f.Data)
		require.NoError(t, err)
		for _, ev := range l.Events() {
			if ev.Name() == name {
				return ev
			}
		}
	}
	t.Fatalf("no %s in %s", name, scenario)
	return nil
}

// derived returns real corpus events changed in one attribute each: a plugin load from a
// marketplace the org does not know (jane, files session) and a prompt sent under another
// organization's id (sam, deny session).
func derived(t testing.TB) []telemetry.Event {
	t.Helper()
	community := telemetry.Clone(firstEvent(t, "files", telemetry.NamePluginLoaded))
	telemetry.Set(community, telemetry.KeyPluginName, telemetry.String("jira-sync"))
	telemetry.Set(community, telemetry.KeyMarketplaceName, telemetry.String("community-hub"))
	foreign := telemetry.Clone(firstEvent(t, "deny", telemetry.NameUserPrompt))
	telemetry.Set(foreign, telemetry.KeyOrganizationID, telemetry.String("ffffffff-0000-4000-8000-000000000001"))
	require.Equal(t, "community-hub", community.(*telemetry.PluginLoaded).MarketplaceName)
	require.Equal(t, "ffffffff-0000-4000-8000-000000000001", foreign.EventRecord().OrganizationID)
	return []telemetry.Event{community, foreign}
}

type want struct {
	kind     Kind
	member   string
	subject  string
	sessions int
}

func summary(r Report) []want {
	var out []want
	for _, f := range r.Findings {
		out = append(out, want{f.Kind, f.Member.String(), f.Subject, f.Sessions})
	}
	return out
}

func TestCleanSnapshotNoFindings(t *testing.T) {
	snap := loadSnapshot(t, "clean.yaml")
	rep, err := Check(snap, corpusEvents(t), Options{})
	require.NoError(t, err)
	assert.Empty(t, rep.Findings, rep.String())
	assert.Equal(t, 3, rep.Stats.Members, "jane by account_id, priya by account_uuid, sam by email")
	assert.Zero(t, rep.Stats.Unknown)
	assert.Zero(t, rep.Stats.Anonymous)
	assert.Equal(t, 28, rep.Stats.PluginEvents, "7 sessions × 4 built-in plugins")
	assert.Equal(t, 28, rep.Stats.BuiltinPlugins)
	assert.Equal(t, rep.Stats.Events, rep.Stats.CoworkEvents)
	assert.Contains(t, rep.String(), "no drift")
}

func TestEveryKindFromCorpus(t *testing.T) {
	snap := loadSnapshot(t, "drift.yaml")
	events := append(corpusEvents(t), derived(t)...)
	rep, err := Check(snap, events, Options{})
	require.NoError(t, err)

	assert.Equal(t, []want{
		{KindForeignOrganization, samID, "ffffffff-0000-4000-8000-000000000001", 1},
		{KindUnknownMember, "priya.n@acme.example", "membership", 2},
		{KindCoworkNotAllowed, samID, "cowork", 2},
		{KindForbiddenLoaded, janeID, "cc-plugin-privacy@builtin", 3},
		{KindUnknownMarketplace, janeID, "jira-sync@community-hub", 1},
		{KindRequiredMissing, janeID, "security-baseline@security", 3},
	}, summary(rep), rep.String())
	for _, k := range Kinds() {
		assert.Equal(t, 1, rep.Count(k), k)
	}

	byKind := map[Kind]Finding{}
	for _, f := range rep.Findings {
		byKind[f.Kind] = f
		assert.Equal(t, snap.Revision(), f.Revision)
		assert.Equal(t, f.Kind.Severity(), f.Severity)
		assert.NotEmpty(t, f.Evidence)
		assert.NotEmpty(t, f.Explanation)
		assert.False(t, f.FirstSeen.After(f.LastSeen))
		assert.True(t, slices.IsSortedFunc(f.Evidence, compareEvidence))
	}

	// Sam sent 13 + 11 Cowork events (deny and web) with his Cowork switched off; the
	// explanation is the policy decision stopped at his own setting.
	cw := byKind[KindCoworkNotAllowed]
	assert.Equal(t, 24, cw.Events)
	assert.Contains(t, cw.Explanation, policy.GateMemberSetting.String())
	assert.Equal(t, "managed_settings_resolved", cw.Evidence[0].Event)
	assert.Equal(t, int64(0), cw.Evidence[0].Sequence)

	// Jane loaded the hidden built-in in each of her three sessions; the explanation is the
	// resolver's, naming the group that hides it.
	fl := byKind[KindForbiddenLoaded]
	assert.Equal(t, "plugin_privacy", fl.PluginID)
	assert.Equal(t, 3, fl.Events)
	assert.Contains(t, fl.Explanation, "not_available")
	assert.Contains(t, fl.Explanation, "rbac_group_eng")
	for _, e := range fl.Evidence {
		assert.Equal(t, telemetry.NamePluginLoaded, e.Event)
		assert.Empty(t, e.PromptID, "start-up events have no prompt.id")
	}

	// security-baseline is required (marketplace default) and never loaded: the evidence is
	// each observed session start of Jane's. Sam has Cowork off, so nothing is installed for
	// him and nothing is missing.
	rm := byKind[KindRequiredMissing]
	assert.Equal(t, "plugin_security_baseline", rm.PluginID)
	assert.Equal(t, "jane.doe@acme.example", rm.Member.Email)
	assert.Contains(t, rm.Explanation, "required")

	um := byKind[KindUnknownMember]
	assert.Equal(t, "user_01LCzt4WA3a2xsWKHwCLSvC4", um.Member.AccountID)
	assert.Equal(t, priyaUUID, um.Member.AccountUUID)

	fo := byKind[KindForeignOrganization]
	assert.Equal(t, 1, fo.Events)
	assert.Equal(t, telemetry.NameUserPrompt, fo.Evidence[0].Event)
	assert.NotEmpty(t, fo.Evidence[0].PromptID)
	assert.Equal(t, 1, rep.Stats.Foreign)
}

// TestEachKindAlone changes one thing in the clean snapshot at a time and expects exactly the
// findings that change makes.
func TestEachKindAlone(t *testing.T) {
	events := corpusEvents(t)
	tests := []struct {
		name   string
		change func(s *plugins.Snapshot)
		extra  []telemetry.Event
		opts   Options
		want   []want
	}{
		{name: "org toggle off", change: func(s *plugins.Snapshot) { s.Cowork = policy.Bool(false) },
			want: []want{
				{KindCoworkNotAllowed, priyaUUID, "cowork", 2},
				{KindCoworkNotAllowed, janeID, "cowork", 3},
				{KindCoworkNotAllowed, "user_sam", "cowork", 2},
			}},
		{name: "custom role grants nothing", change: func(s *plugins.Snapshot) { s.Roles[0].Grants = nil },
			want: []want{{KindCoworkNotAllowed, janeID, "cowork", 3}}},
		{name: "entitlement forces cowork off", change: func(s *plugins.Snapshot) { s.Entitlements.Cowork = policy.Bool(false) },
			want: []want{
				{KindCoworkNotAllowed, priyaUUID, "cowork", 2},
				{KindCoworkNotAllowed, janeID, "cowork", 3},
				{KindCoworkNotAllowed, "user_sam", "cowork", 2},
			}},
		{name: "required plugin", change: func(s *plugins.Snapshot) {
			s.Plugins = append(s.Plugins, plugins.Plugin{ID: "plugin_dlp", Name: "dlp", MarketplaceID: "marketplace_acme",
				OrganizationInstallationPreference: plugins.Lvl(plugins.LevelRequired)})
		}, want: []want{
			{KindRequiredMissing, priyaUUID, "dlp@acme-tools", 2},
			{KindRequiredMissing, janeID, "dlp@acme-tools", 3},
			{KindRequiredMissing, "user_sam", "dlp@acme-tools", 2},
		}},
		{name: "other organization", change: func(s *plugins.Snapshot) { s.Organization.ID = "org_01other" },
			want: []want{
				{KindForeignOrganization, priyaUUID, corpusOrg, 2},
				{KindForeignOrganization, janeID, corpusOrg, 3},
				{KindForeignOrganization, "user_sam", corpusOrg, 2},
			}},
		{name: "other organization accepted by option", change: func(s *plugins.Snapshot) { s.Organization.ID = "org_01acme" },
			opts: Options{OrganizationIDs: []string{strings.ToUpper(corpusOrg)}}},
		{name: "no organization id: not checked", change: func(s *plugins.Snapshot) { s.Organization.ID = "" }},
		{name: "priya not a member", change: func(s *plugins.Snapshot) { s.Members = slices.Delete(s.Members, 1, 2) },
			want: []want{{KindUnknownMember, "priya.n@acme.example", "membership", 2}}},
		{name: "built-in hidden from ops", change: func(s *plugins.Snapshot) {
			s.Marketplaces = append(s.Marketplaces, plugins.Marketplace{ID: "marketplace_builtin", Name: "builtin",
				DefaultInstallationPreference: plugins.Lvl(plugins.LevelAvailable)})
			for _, n := range []string{"cc-plugin-agents-md", "cc-plugin-telemetry", "cc-plugin-privacy", "cc-plugin-plugin-authoring"} {
				s.Plugins = append(s.Plugins, plugins.Plugin{ID: "plugin_" + n, Name: n, MarketplaceID: "marketplace_builtin"})
			}
			s.InstallationSettings = append(s.InstallationSettings, plugins.InstallationSetting{PluginID: "plugin_cc-plugin-telemetry",
				Target: plugins.Target{Type: plugins.TargetRBACGroup, RBACGroupID: "rbac_group_ops"}, InstallationPreference: plugins.LevelNotAvailable})
		}, want: []want{
			{KindForbiddenLoaded, priyaUUID, "cc-plugin-telemetry@builtin", 2},
			{KindForbiddenLoaded, "user_sam", "cc-plugin-telemetry@builtin", 2},
		}},
		{name: "built-in marketplace listed with only one plugin", change: func(s *plugins.Snapshot) {
			s.Marketplaces = append(s.Marketplaces, plugins.Marketplace{ID: "marketplace_builtin", Name: "builtin",
				DefaultInstallationPreference: plugins.Lvl(plugins.LevelAvailable)})
			s.Plugins = append(s.Plugins, plugins.Plugin{ID: "plugin_privacy", Name: "cc-plugin-privacy", MarketplaceID: "marketplace_builtin"})
			s.Members = s.Members[:1]
		}, want: []want{
			{KindUnknownMember, "priya.n@acme.example", "membership", 2},
			{KindUnknownMember, "sam.lee@acme.example", "membership", 2},
			{KindForbiddenLoaded, janeID, "cc-plugin-agents-md@builtin", 3},
			{KindForbiddenLoaded, janeID, "cc-plugin-plugin-authoring@builtin", 3},
			{KindForbiddenLoaded, janeID, "cc-plugin-telemetry@builtin", 3},
		}},
		{name: "community marketplace", extra: derived(t)[:1],
			want: []want{{KindUnknownMarketplace, janeID, "jira-sync@community-hub", 1}}},
		{name: "community marketplace known by option", extra: derived(t)[:1], opts: Options{KnownMarketplaces: []string{"Community-Hub"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := loadSnapshot(t, "clean.yaml").Clone()
			if tt.change != nil {
				tt.change(snap)
			}
			rep, err := Check(snap, append(slices.Clone(events), tt.extra...), tt.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.want, summary(rep), rep.String())
		})
	}
}

// TestOrderIndependent checks that the report depends on the set of events, not their order.
func TestOrderIndependent(t *testing.T) {
	snap := loadSnapshot(t, "drift.yaml")
	events := append(corpusEvents(t), derived(t)...)
	want, err := Check(snap, events, Options{MaxEvidence: 2})
	require.NoError(t, err)
	wantJSON, err := json.Marshal(want)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		shuffled := slices.Clone(events)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got, err := Check(snap, shuffled, Options{MaxEvidence: 2})
		require.NoError(t, err)
		gotJSON, err := json.Marshal(got)
		require.NoError(t, err)
		require.JSONEq(t, string(wantJSON), string(gotJSON), "shuffle %d", i)
	}
}

func TestMaxEvidence(t *testing.T) {
	snap := loadSnapshot(t, "drift.yaml")
	events := corpusEvents(t)
	for _, tt := range []struct {
		max, want int
	}{{0, 3}, {1, 1}, {-1, 3}, {2, 2}} {
		rep, err := Check(snap, events, Options{MaxEvidence: tt.max})
		require.NoError(t, err)
		i := slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.Kind == KindForbiddenLoaded })
		require.GreaterOrEqual(t, i, 0)
		assert.Len(t, rep.Findings[i].Evidence, tt.want, "max %d", tt.max)
		assert.Equal(t, 3, rep.Findings[i].Sessions)
	}
}

func TestIncremental(t *testing.T) {
	snap := loadSnapshot(t, "drift.yaml")
	events := corpusEvents(t)
	d, err := New(snap, Options{})
	require.NoError(t, err)
	half := len(events) / 2
	for _, ev := range events[:half] {
		d.Add(ev)
	}
	first := d.Report()
	for _, ev := range events[half:] {
		d.Add(ev)
	}
	d.Add(nil)
	all, err := Check(snap, events, Options{})
	require.NoError(t, err)
	assert.Equal(t, all, d.Report(), "a report after more events equals a check of all of them")
	assert.Less(t, first.Stats.Events, all.Stats.Events)
}

func TestErrors(t *testing.T) {
	_, err := New(nil, Options{})
	require.ErrorIs(t, err, ErrNoSnapshot)
	_, err = Check(nil, nil, Options{})
	require.ErrorIs(t, err, ErrNoSnapshot)
}

func TestAnonymousEvents(t *testing.T) {
	snap := loadSnapshot(t, "clean.yaml")
	ev := telemetry.Clone(firstEvent(t, "deny", telemetry.NameUserPrompt))
	for _, k := range []string{telemetry.KeyUserEmail, telemetry.KeyAccountUUID, telemetry.KeyAccountID} {
		telemetry.Delete(ev, k)
	}
	rep, err := Check(snap, []telemetry.Event{ev}, Options{})
	require.NoError(t, err)
	assert.Empty(t, rep.Findings)
	assert.Equal(t, 1, rep.Stats.Anonymous)
}

func TestEnumText(t *testing.T) {
	for _, k := range append(Kinds(), KindUnknown) {
		b, err := k.MarshalText()
		require.NoError(t, err)
		var got Kind
		require.NoError(t, got.UnmarshalText(b))
		assert.Equal(t, k, got)
	}
	var k Kind
	require.NoError(t, k.UnmarshalText([]byte("nope")))
	assert.Equal(t, KindUnknown, k)
	assert.Equal(t, "unknown", Kind(200).String())
	for _, s := range []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityUnknown} {
		b, err := s.MarshalText()
		require.NoError(t, err)
		var got Severity
		require.NoError(t, got.UnmarshalText(b))
		assert.Equal(t, s, got)
	}
	assert.Equal(t, "unknown", Severity(9).String())
}

func TestIdentify(t *testing.T) {
	d, err := New(loadSnapshot(t, "clean.yaml"), Options{})
	require.NoError(t, err)
	for _, tt := range []struct {
		id, uuid, email, want string
	}{
		{janeID, "", "", janeID},
		{"", priyaUUID, "", priyaUUID},
		{"", "", " sam.lee@acme.EXAMPLE ", "user_sam"},
		{"user_other", "other", "jane.doe@acme.example", janeID},
		{"user_other", "", "nobody@acme.example", ""},
	} {
		m, ok := d.Identify(tt.id, tt.uuid, tt.email)
		assert.Equal(t, tt.want != "", ok)
		if ok {
			assert.Equal(t, tt.want, m.ID)
		}
	}
}
