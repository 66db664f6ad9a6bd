package redact

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// labelledCase is one line of testdata/labelled.jsonl (see testdata/gen_corpus.py).
type labelledCase struct {
	ID     int    `json:"id"`
	Where  string `json:"where"`
	Text   string `json:"text"`
	Labels []struct {
		Detector string `json:"detector"`
		Value    string `json:"value"`
	} `json:"labels"`
}

func loadLabelled(t testing.TB) []labelledCase { return loadCases(t, "testdata/labelled.jsonl") }

func loadCases(t testing.TB, path string) []labelledCase {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []labelledCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c labelledCase
		require.NoError(t, json.Unmarshal(sc.Bytes(), &c))
		out = append(out, c)
	}
	require.NoError(t, sc.Err())
	return out
}

type prStats struct{ tp, fn, dtp, dfp int }

func (s prStats) recall() float64 {
	if s.tp+s.fn == 0 {
		return 1
	}
	return float64(s.tp) / float64(s.tp+s.fn)
}

func (s prStats) precision() float64 {
	if s.dtp+s.dfp == 0 {
		return 1
	}
	return float64(s.dtp) / float64(s.dtp+s.dfp)
}

// TestLabelledCorpus measures every detector on the labelled corpus: a label is recalled when
// one detection covers its whole value; a detection is a true positive when it overlaps a
// label, a false positive otherwise (every detection in a hard negative is one). It fails
// under recall 0.99 on vendor-prefixed secrets, 0.95 overall, or precision 0.98 overall.
func TestLabelledCorpus(t *testing.T) {
	for _, file := range []string{"labelled.jsonl", "heldout.jsonl"} {
		t.Run("file="+file, func(t *testing.T) { evaluate(t, file) })
	}
}

// evaluate measures the detectors on one labelled file. heldout.jsonl was written after the
// detectors were tuned on labelled.jsonl, in shapes and contexts that file does not use; it
// is held to the same bars except the minimum sizes.
func evaluate(t *testing.T, file string) {
	cases := loadCases(t, "testdata/"+file)
	sc := newScanner(allDetectors)
	stats := map[string]*prStats{}
	get := func(n string) *prStats {
		if stats[n] == nil {
			stats[n] = &prStats{}
		}
		return stats[n]
	}
	var vendor, all prStats
	positives, negatives := 0, 0
	var misses, fps []string
	for _, c := range cases {
		spans := sc.scan(c.Text, nil)
		type lab struct {
			start, end int
			det        string
		}
		var labs []lab
		for _, l := range c.Labels {
			k := strings.Index(c.Text, l.Value)
			require.GreaterOrEqual(t, k, 0, "case %d", c.ID)
			labs = append(labs, lab{k, k + len(l.Value), l.Detector})
		}
		if len(labs) == 0 {
			negatives++
		}
		positives += len(labs)
		for _, l := range labs {
			d, ok := ParseDetector(l.det)
			require.True(t, ok, l.det)
			covered := false
			for _, sp := range spans {
				if sp.start <= l.start && sp.end >= l.end {
					covered = true
				}
			}
			st := get(l.det)
			if covered {
				st.tp++
				all.tp++
				if d.IsVendor() {
					vendor.tp++
				}
			} else {
				st.fn++
				all.fn++
				if d.IsVendor() {
					vendor.fn++
				}
				misses = append(misses, fmt.Sprintf("case %d %s: %q", c.ID, l.det, c.Text))
			}
		}
		for _, sp := range spans {
			hit := false
			for _, l := range labs {
				if sp.start < l.end && l.start < sp.end {
					hit = true
				}
			}
			st := get(sp.det.String())
			if hit {
				st.dtp++
				all.dtp++
			} else {
				st.dfp++
				all.dfp++
				fps = append(fps, fmt.Sprintf("case %d %s: %q in %q", c.ID, sp.det, c.Text[sp.start:sp.end], c.Text))
			}
		}
	}
	names := make([]string, 0, len(stats))
	for n := range stats {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%d positives, %d hard negatives\n%-20s %6s %6s %9s %9s\n", positives, negatives, "detector", "labels", "found", "recall", "precision")
	for _, n := range names {
		s := stats[n]
		fmt.Fprintf(&b, "%-20s %6d %6d %9.4f %9.4f\n", n, s.tp+s.fn, s.dtp+s.dfp, s.recall(), s.precision())
	}
	fmt.Fprintf(&b, "%-20s %6d %6s %9.4f %9s\n", "vendor-prefixed", vendor.tp+vendor.fn, "", vendor.recall(), "")
	fmt.Fprintf(&b, "%-20s %6d %6d %9.4f %9.4f\n", "all", all.tp+all.fn, all.dtp+all.dfp, all.recall(), all.precision())
	t.Log("\n" + b.String())
	for _, m := range misses {
		t.Log("missed: " + m)
	}
	for _, f := range fps {
		t.Log("false positive: " + f)
	}
	if file == "labelled.jsonl" {
		assert.GreaterOrEqual(t, positives, 300)
		assert.GreaterOrEqual(t, negatives, 300)
	}
	assert.GreaterOrEqual(t, vendor.recall(), 0.99, "vendor-prefixed recall")
	assert.GreaterOrEqual(t, all.recall(), 0.95, "overall recall")
	assert.GreaterOrEqual(t, all.precision(), 0.98, "overall precision")
}
