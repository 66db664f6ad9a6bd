package correlate

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coworkgov/cowork/internal/corpus"
	"github.com/coworkgov/cowork/telemetry"
)

// corpusEvents decodes every recorded log request of a scenario (protobuf), in arrival order.
func corpusEvents(t testing.TB, scenario string) []telemetry.Event {
	return corpusEventsOf(t, corpus.Protobuf, scenario)
}

// corpusEventsOf decodes a scenario recorded in either encoding (the two encodings are
// separate recordings, with their own sessions and cli-result.json).
func corpusEventsOf(t testing.TB, enc corpus.Encoding, scenario string) []telemetry.Event {
	t.Helper()
	var evs []telemetry.Event
	for _, f := range corpus.Logs(enc, scenario) {
		decode := telemetry.DecodeLogsProto
		if enc == corpus.JSON {
			decode = telemetry.DecodeLogsJSON
		}
		l, err := decode(f.Data)
		require.NoError(t, err, f.Path())
		evs = append(evs, l.Events()...)
	}
	require.NotEmpty(t, evs)
	return evs
}

func cliResultOf(t testing.TB, enc corpus.Encoding, scenario string) corpus.Result {
	t.Helper()
	var r corpus.Result
	require.NoError(t, json.Unmarshal(corpus.CLIResult(enc, scenario), &r))
	return r
}

func chainsByPrompt(cs []*Chain) (preamble *Chain, prompts []*Chain) {
	for _, c := range cs {
		if c.IsPreamble() {
			preamble = c
		} else {
			prompts = append(prompts, c)
		}
	}
	return preamble, prompts
}

func TestCorpusOneChainPerPrompt(t *testing.T) {
	for _, enc := range []corpus.Encoding{corpus.Protobuf, corpus.JSON} {
		for _, sc := range corpus.Scenarios() {
			t.Run("format="+string(enc)+"/scenario="+sc, func(t *testing.T) { corpusChainsMatchCLI(t, enc, sc) })
		}
	}
}

func corpusChainsMatchCLI(t *testing.T, enc corpus.Encoding, sc string) {
	evs := corpusEventsOf(t, enc, sc)
	want := map[chainKey]bool{}
	for _, ev := range evs {
		r := ev.EventRecord()
		want[chainKey{r.SessionID, r.PromptID}] = true
	}
	cs := Fold(evs)
	got := map[chainKey]bool{}
	for _, c := range cs {
		k := chainKey{c.SessionID, c.PromptID}
		assert.False(t, got[k], "two chains for %v", k)
		got[k] = true
		assert.Equal(t, ChainID(c.SessionID, c.PromptID), c.ID)
	}
	assert.Equal(t, want, got)

	res := cliResultOf(t, enc, sc)
	ss := Sessions(cs)
	require.Len(t, ss, 1)
	assert.Equal(t, res.SessionID, ss[0].SessionID)
	var sum float64
	for _, c := range ss[0].Chains {
		sum += c.Totals.CostUSD
	}
	assert.InDelta(t, res.TotalCostUSD, sum, 1e-9, "sum of chain costs vs cli-result total_cost_usd")
	assert.Equal(t, int64(math.Round(res.TotalCostUSD*1e6)), ss[0].Totals.CostUSDMicros)
	t.Logf("%s %s: chains=%d cost=%.17g cli=%.17g exact=%v", enc, sc, len(ss[0].Chains), sum, res.TotalCostUSD, sum == res.TotalCostUSD)
}

func TestCorpusDeny(t *testing.T) {
	for _, enc := range []corpus.Encoding{corpus.Protobuf, corpus.JSON} {
		t.Run("format="+string(enc), func(t *testing.T) {
			_, cs := chainsByPrompt(Fold(corpusEventsOf(t, enc, "deny")))
			require.Len(t, cs, 1)
			c := cs[0]
			require.Len(t, c.Tools, 2)
			rm := c.Tools[0]
			assert.Equal(t, "Bash", rm.Name)
			assert.Contains(t, rm.Command, "rm -rf")
			assert.Equal(t, "reject", rm.Decision)
			assert.Equal(t, "config", rm.DecisionSource)
			assert.False(t, rm.HasResult)
			assert.Nil(t, rm.Success)
			assert.True(t, rm.Rejected())
			ls := c.Tools[1]
			assert.Equal(t, "accept", ls.Decision)
			assert.True(t, ls.HasResult)
			assert.Equal(t, 1, c.Totals.Rejected)
			assert.True(t, c.Complete, "reasons: %v", c.Reasons)
			assert.Equal(t, TriggerTerminal, c.ClosedBy)
		})
	}
}

func TestCorpusMCP(t *testing.T) {
	for _, enc := range []corpus.Encoding{corpus.Protobuf, corpus.JSON} {
		t.Run("format="+string(enc), func(t *testing.T) {
			pre, cs := chainsByPrompt(Fold(corpusEventsOf(t, enc, "mcp")))
			require.Len(t, cs, 1)
			c := cs[0]
			require.Len(t, c.Tools, 2)
			for _, tc := range c.Tools {
				assert.Equal(t, "crm", tc.MCPServer)
				assert.Equal(t, "lookup_account", tc.MCPTool)
				assert.True(t, tc.HasResult)
			}
			assert.Equal(t, []string{"crm"}, c.MCPServers)
			require.NotNil(t, pre)
			assert.Equal(t, []string{"crm"}, pre.MCPServers)
			assert.True(t, c.Complete, "reasons: %v", c.Reasons)
		})
	}
}

func TestCorpusFiles(t *testing.T) {
	for _, enc := range []corpus.Encoding{corpus.Protobuf, corpus.JSON} {
		t.Run("format="+string(enc), func(t *testing.T) {
			_, cs := chainsByPrompt(Fold(corpusEventsOf(t, enc, "files")))
			require.Len(t, cs, 1)
			c := cs[0]
			const path = "/Users/jane.doe/Documents/competitive-intel/notes.txt"
			ops := map[string]bool{}
			for _, f := range c.Files {
				ops[f.Operation] = true
				if f.Operation != "search" {
					assert.Equal(t, path, f.Path)
				} else {
					assert.Equal(t, "/Users/jane.doe/Documents/competitive-intel", f.Path)
				}
			}
			assert.Equal(t, map[string]bool{"read": true, "write": true, "edit": true, "search": true}, ops)
			assert.Equal(t, 6, c.Totals.APIRequests)
			assert.True(t, c.Complete, "reasons: %v", c.Reasons)
			assert.NotNil(t, c.Response)
		})
	}
}

func TestCorpusFatalSkillWeb(t *testing.T) {
	_, fatal := chainsByPrompt(Fold(corpusEvents(t, "fatal")))
	require.Len(t, fatal, 1)
	assert.Len(t, fatal[0].APIErrors, 1)
	assert.Equal(t, int64(400), fatal[0].APIErrors[0].StatusCode)
	assert.Nil(t, fatal[0].Response)
	assert.True(t, fatal[0].Complete, "a non-retried api_error ends the prompt: %v", fatal[0].Reasons)

	_, skill := chainsByPrompt(Fold(corpusEvents(t, "skill")))
	require.Len(t, skill, 1)
	assert.Equal(t, []string{"ci-report"}, skill[0].Skills)

	_, web := chainsByPrompt(Fold(corpusEvents(t, "web")))
	require.Len(t, web, 1)
	require.Len(t, web[0].Tools, 1)
	require.NotNil(t, web[0].Tools[0].Success)
	assert.False(t, *web[0].Tools[0].Success)
	assert.NotEmpty(t, web[0].Tools[0].ErrorType)
	assert.Equal(t, 1, web[0].Totals.Failed)
}
