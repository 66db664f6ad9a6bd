package main

import (
	"fmt"
	"math"
	"strconv"
)

// The charts are inline SVG whose geometry is computed here and drawn by the template: no
// script, no external resource, nothing for the browser to fetch.

// HBar is one bar of a horizontal bar chart.
type HBar struct {
	Label, Value string
	Y, W         float64 // bar top and width
	TextY        float64
}

// HChart is a horizontal bar chart: one labelled row per item.
type HChart struct {
	Title         string
	Width, Height float64
	LabelW, BarH  float64
	Bars          []HBar
}

const (
	chartWidth = 640.0
	labelWidth = 200.0
	rowHeight  = 22.0
	valueRoom  = 90.0
)

func hchart(title string, labels []string, values []float64, format func(float64) string) HChart {
	c := HChart{Title: title, Width: chartWidth, LabelW: labelWidth, BarH: rowHeight - 6}
	c.Height = math.Max(rowHeight, float64(len(values))*rowHeight) + 4
	max := 0.0
	for _, v := range values {
		max = math.Max(max, v)
	}
	room := chartWidth - labelWidth - valueRoom
	for i, v := range values {
		w := 0.0
		if max > 0 {
			w = v / max * room
		}
		if v > 0 && w < 1 {
			w = 1
		}
		y := float64(i)*rowHeight + 2
		c.Bars = append(c.Bars, HBar{Label: shorten(labels[i], 30), Value: format(v), Y: y, W: w, TextY: y + rowHeight/2 + 2})
	}
	return c
}

// VGroup is one x position of a vertical chart with one bar per series.
type VGroup struct {
	Label  string
	LabelX float64
	Bars   []VBar
}

// VBar is one bar of a vertical chart.
type VBar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

// VChart is a vertical grouped bar chart with a y axis.
type VChart struct {
	Title         string
	Width, Height float64
	Left, Bottom  float64 // plot area: x from Left, y from 10 to Bottom
	Groups        []VGroup
	Ticks         []Tick
	Series        []Legend
	EveryNthLabel int
}

// Tick is a y-axis grid line.
type Tick struct {
	Y     float64
	Label string
}

// Legend names a series.
type Legend struct {
	Name, Class string
	X           float64
}

func vchart(title string, labels []string, series [][]int, names, classes []string) VChart {
	c := VChart{Title: title, Width: chartWidth, Height: 220, Left: 40, Bottom: 180, EveryNthLabel: 1}
	max := 0
	for _, s := range series {
		for _, v := range s {
			max = maxInt(max, v)
		}
	}
	top := niceCeil(max)
	plotH := c.Bottom - 10
	for i := 0; i <= 4; i++ {
		v := float64(top) * float64(i) / 4
		c.Ticks = append(c.Ticks, Tick{Y: c.Bottom - plotH*float64(i)/4, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	n := len(labels)
	if n == 0 {
		return c
	}
	slot := (c.Width - c.Left - 10) / float64(n)
	barW := math.Min(40, math.Max(1, slot*0.8/float64(len(series))))
	pad := (slot - barW*float64(len(series))) / 2
	if n > 16 {
		c.EveryNthLabel = (n + 15) / 16
	}
	for i, l := range labels {
		g := VGroup{Label: l, LabelX: c.Left + slot*float64(i) + slot/2}
		if i%c.EveryNthLabel != 0 {
			g.Label = ""
		}
		for j, s := range series {
			h := 0.0
			if top > 0 {
				h = float64(s[i]) / float64(top) * plotH
			}
			x := c.Left + slot*float64(i) + pad + barW*float64(j)
			g.Bars = append(g.Bars, VBar{X: x, Y: c.Bottom - h, W: barW, H: h, Class: classes[j], Title: fmt.Sprintf("%s %s: %d", l, names[j], s[i])})
		}
		c.Groups = append(c.Groups, g)
	}
	for j, name := range names {
		c.Series = append(c.Series, Legend{Name: name, Class: classes[j], X: c.Left + float64(j)*110})
	}
	return c
}

// niceCeil rounds n up to 1, 2, 4 or 8 times a power of ten (at least 4, so ticks are whole).
func niceCeil(n int) int {
	if n <= 4 {
		return 4
	}
	p := 1
	for p*10 <= n {
		p *= 10
	}
	for _, m := range []int{1, 2, 4, 8, 10} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
