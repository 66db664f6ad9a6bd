package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"

	"github.com/coworkgov/cowork/drift"
)

//go:embed report.html.tmpl
var reportTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"usd":   func(v float64) string { return fmt.Sprintf("$%.4f", v) },
	"num":   func(v int64) string { return groupDigits(v) },
	"int":   func(v int) string { return groupDigits(int64(v)) },
	"time":  func(t time.Time) string { return fmtTime(t) },
	"bytes": humanBytes,
	"days":  func(d float64) string { return strconv.FormatFloat(d, 'f', 1, 64) },
	"f":     func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"sev":   func(s drift.Severity) string { return "sev-" + s.String() },
	"short": func(s string) string { return shorten(s, 13) },
	"add": func(vs ...float64) float64 {
		t := 0.0
		for _, v := range vs {
			t += v
		}
		return t
	},
	"sub": func(a, b float64) float64 { return a - b },
}).Parse(reportTemplate))

// view is what the template renders: the report and its charts.
type view struct {
	*Report
	CostByUser, CostByGroup, CostByModel, TopTools HChart
	PerDay                                         VChart
}

func render(w io.Writer, r *Report) error {
	v := view{Report: r}
	v.CostByUser = usageChart("Cost by user (USD)", r.Users)
	v.CostByGroup = usageChart("Cost by group (USD)", r.Groups)
	v.CostByModel = usageChart("Cost by model (USD)", r.Models)
	labels, values := []string{}, []float64{}
	for _, t := range r.Tools {
		labels, values = append(labels, t.Name), append(values, float64(t.Calls))
	}
	v.TopTools = hchart("Tool calls", labels, values, func(f float64) string { return strconv.FormatFloat(f, 'f', 0, 64) })
	var days []string
	var prompts, chains []int
	for _, d := range r.Days {
		days, prompts, chains = append(days, d.Date[5:]), append(prompts, d.Prompts), append(chains, d.Chains)
	}
	v.PerDay = vchart("Prompts and chains per day (UTC)", days, [][]int{prompts, chains}, []string{"prompts", "chains"}, []string{"s1", "s2"})
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func usageChart(title string, us []Usage) HChart {
	labels, values := []string{}, []float64{}
	for _, u := range us {
		labels, values = append(labels, u.Name), append(values, u.CostUSD)
	}
	return hchart(title, labels, values, func(f float64) string { return fmt.Sprintf("$%.4f", f) })
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func groupDigits(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
