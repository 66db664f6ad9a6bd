package drift

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/plugins"
	"github.com/coworkgov/cowork/policy"
	"github.com/coworkgov/cowork/telemetry"
	"github.com/coworkgov/cowork/telemetry/telemetrytest"
)

// fleetCase is a simulated fleet and a snapshot of its organization in which every member is
// known, acme-finance-close is required, acme-legal-review is hidden from half the members and
// a tenth of the members have switched Cowork off: a fleet with drift of every plugin kind.
type fleetCase struct {
	snap   *plugins.Snapshot
	events []telemetry.Event
	bytes  int64
}

func newFleetCase(tb testing.TB, users int) fleetCase {
	tb.Helper()
	opts := telemetrytest.Realistic(42)
	opts.Users, opts.SessionsPerUser, opts.PromptsPerSession = users, 3, 3
	fl := telemetrytest.NewFleet(opts)
	snap := &plugins.Snapshot{
		Snapshot: policy.Snapshot{
			Plan:   policy.PlanEnterprise,
			Groups: []policy.Group{{ID: "rbac_group_legal"}, {ID: "rbac_group_rest"}},
		},
		Marketplaces: []plugins.Marketplace{{ID: "marketplace_acme", Name: "acme-internal", DefaultInstallationPreference: plugins.Lvl(plugins.LevelAvailable)}},
		Plugins: []plugins.Plugin{
			{ID: "plugin_sales", Name: "acme-sales-toolkit", MarketplaceID: "marketplace_acme"},
			{ID: "plugin_legal", Name: "acme-legal-review", MarketplaceID: "marketplace_acme"},
			{ID: "plugin_close", Name: "finance-close", MarketplaceID: "marketplace_acme", OrganizationInstallationPreference: plugins.Lvl(plugins.LevelRequired)},
		},
		InstallationSettings: []plugins.InstallationSetting{{PluginID: "plugin_legal", InstallationPreference: plugins.LevelNotAvailable,
			Target: plugins.Target{Type: plugins.TargetRBACGroup, RBACGroupID: "rbac_group_rest"}}},
	}
	for i, u := range fl.Users() {
		if i == 0 {
			snap.Organization.ID = u.OrganizationID
		}
		m := policy.Member{ID: u.AccountID, Email: u.Email, Role: policy.RoleUser, Groups: []string{"rbac_group_legal"}}
		if i%2 == 1 {
			m.Groups = []string{"rbac_group_rest"}
		}
		if i%10 == 3 {
			m.Cowork = policy.Bool(false)
		}
		snap.Members = append(snap.Members, m)
	}
	c := fleetCase{snap: snap}
	for l := range fl.Batches() {
		b, err := telemetry.EncodeLogsProto(l)
		require.NoError(tb, err)
		c.bytes += int64(len(b))
		c.events = append(c.events, l.Events()...)
	}
	return c
}

func TestSimulatedFleet(t *testing.T) {
	c := newFleetCase(t, 40)
	rep, err := Check(c.snap, c.events, Options{})
	require.NoError(t, err)
	require.Equal(t, len(c.events), rep.Stats.Events)
	require.Equal(t, 40, rep.Stats.Members)
	for _, k := range []Kind{KindCoworkNotAllowed, KindForbiddenLoaded, KindRequiredMissing} {
		require.NotZero(t, rep.Count(k), "%s\n%s", k, rep.String())
	}
	require.Zero(t, rep.Count(KindUnknownMember))
	require.Zero(t, rep.Count(KindUnknownMarketplace))
}

func BenchmarkCheck(b *testing.B) {
	for _, users := range []int{10, 100} {
		c := newFleetCase(b, users)
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(c.bytes)
			var findings int
			for b.Loop() {
				rep, err := Check(c.snap, c.events, Options{})
				if err != nil {
					b.Fatal(err)
				}
				findings = len(rep.Findings)
			}
			b.ReportMetric(float64(len(c.events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(findings), "findings")
		})
	}
}

// BenchmarkAdd measures the streaming path: one Add per event on a warm detector.
func BenchmarkAdd(b *testing.B) {
	c := newFleetCase(b, 100)
	d, err := New(c.snap, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, ev := range c.events {
		d.Add(ev)
	}
	b.ReportAllocs()
	b.SetBytes(c.bytes / int64(len(c.events)))
	i := 0
	for b.Loop() {
		d.Add(c.events[i%len(c.events)])
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
