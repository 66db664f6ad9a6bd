package collector_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/internal/realclient"
)

// TestRealClaudeCode drives the real Claude Code CLI (npm @anthropic-ai/claude-code, the
// corpus's version) at the collector through the project's harness (internal/realclient: a
// stand-in model API that scripts tool calls), over http/json and http/protobuf, and checks:
// one chain per prompt.id, each session's chain costs adding up to the CLI's own
// total_cost_usd, a background subagent's notification chain linked to its parent, and no
// e-mail address or card number from the prompts anywhere in the store under strict
// redaction. It skips, loudly, only when the CLI cannot be installed.
func TestRealClaudeCode(t *testing.T) {
	if testing.Short() {
		t.Skip("collector: -short set: the real Claude Code CLI end-to-end test did NOT run")
	}
	ctx, cancel := context.WithTimeout(t.Context(), realclient.InstallTimeout+30*time.Second)
	defer cancel()
	bin, err := realclient.Install(ctx, corpus.Version)
	if errors.Is(err, realclient.ErrUnavailable) {
		t.Skipf("collector: the real Claude Code CLI %s is unavailable, the end-to-end test did NOT run: %v", corpus.Version, err)
	}
	require.NoError(t, err)

	dir := t.TempDir()
	cfg := fastChains(dir)
	cfg.QuietPeriod, cfg.IdleTimeout = 500*time.Millisecond, 3*time.Second
	c, endpoint := start(t, cfg)

	runs := []struct {
		scenario string
		proto    realclient.Protocol
	}{
		{"files", realclient.ProtocolJSON},
		{"agent", realclient.ProtocolJSON},
		{"mcp", realclient.ProtocolProtobuf},
		{"deny", realclient.ProtocolProtobuf},
	}
	results := make([]*realclient.Result, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			res, err := realclient.Run(rctx, realclient.Config{Bin: bin, Scenario: r.scenario, Protocol: r.proto, Endpoint: endpoint, Timeout: 60 * time.Second})
			if assert.NoError(t, err, "%s over %s", r.scenario, r.proto) {
				results[i] = res
			}
		}()
	}
	wg.Wait()
	for _, res := range results {
		require.NotNil(t, res)
	}
	// Every chain closes (the preambles at the idle timeout) and is stored.
	require.Eventually(t, func() bool {
		s := apiStats(t, c)
		return s["open_chains"] == 0 && s["chains"] > 0
	}, 30*time.Second, 100*time.Millisecond, "stats %v", apiStats(t, c))

	var emails []string
	for i, res := range results {
		name := runs[i].scenario + "/" + string(runs[i].proto)
		require.NotEmpty(t, res.CLI.SessionID, name)
		emails = append(emails, res.User.Email)
		var list struct{ Chains []apiChain }
		require.Equal(t, 200, getJSON(t, endpoint+"/api/chains?limit=1000&session="+url.QueryEscape(res.CLI.SessionID), &list))
		require.NotEmpty(t, list.Chains, name)
		seen := map[string]int{}
		var cost float64
		for _, ch := range list.Chains {
			if ch.PromptID != "" {
				seen[ch.PromptID]++
			}
			cost += ch.Totals.CostUSD
		}
		require.NotEmpty(t, seen, "%s: prompt chains", name)
		for p, n := range seen {
			assert.Equal(t, 1, n, "%s: prompt %s has %d chains", name, p, n)
		}
		assert.InDelta(t, res.CLI.TotalCostUSD, cost, 1e-9, "%s: chains' cost vs the CLI's total_cost_usd", name)
		t.Logf("%s: %d prompt chains, cost %.6f (CLI %.6f)", name, len(seen), cost, res.CLI.TotalCostUSD)
		if runs[i].scenario == "agent" {
			var linked bool
			for _, ch := range list.Chains {
				if ch.ParentPromptID != "" {
					linked = true
					assert.Contains(t, seen, ch.ParentPromptID, "%s: the parent chain is stored", name)
				}
			}
			assert.True(t, linked, "%s: the subagent's notification opened a chain linked to its parent", name)
		}
		if runs[i].scenario == "deny" {
			var rejected int
			for _, ch := range list.Chains {
				rejected += ch.Totals.Rejected
			}
			assert.Positive(t, rejected, "%s: the rejected tool call", name)
		}
	}
	require.NoError(t, c.Shutdown(context.Background()))
	old := secrets
	secrets = append(append([]string(nil), secrets...), emails...)
	defer func() { secrets = old }()
	assertNoSecrets(t, dir)
}
