package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Chromium is Debian's `chromium`. The test installs it with apt-get when it is missing and
// the test runs as root (as in CI); testdata/chromium.sh does the same and then runs this
// test. Set AUDIT_SCREENSHOT_DIR to keep the screenshot.

var (
	chromiumOnce sync.Once
	chromiumPath string
	chromiumWhy  string
)

func chromium(t *testing.T) string {
	t.Helper()
	chromiumOnce.Do(func() {
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				chromiumPath = p
				return
			}
		}
		if os.Geteuid() != 0 {
			chromiumWhy = "chromium is not installed and the test is not root, so it cannot apt-get install it; run examples/audit/testdata/chromium.sh as root"
			return
		}
		if _, err := exec.LookPath("apt-get"); err != nil {
			chromiumWhy = "chromium is not installed and there is no apt-get to install it"
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
		defer cancel()
		t.Log("installing Debian chromium with apt-get (once)")
		for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "chromium"}} {
			cmd := exec.CommandContext(ctx, "apt-get", args...)
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			if out, err := cmd.CombinedOutput(); err != nil {
				chromiumWhy = "apt-get " + args[0] + " failed: " + err.Error() + "\n" + tail(string(out), 2000)
				return
			}
		}
		if p, err := exec.LookPath("chromium"); err == nil {
			chromiumPath = p
			return
		}
		chromiumWhy = "apt-get installed chromium but it is not on PATH"
	})
	if chromiumPath == "" {
		t.Skip("SKIPPING THE BROWSER TEST: " + chromiumWhy)
	}
	return chromiumPath
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// headless runs Chromium on a local file with every network feature off and returns its
// combined output (logging on, so that console messages appear as INFO:CONSOLE lines).
func headless(t *testing.T, bin, page string, extra ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}, extra...)
	args = append(args, "file://"+page)
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), tail(out.String(), 4000))
	return out.String()
}

var consoleRE = regexp.MustCompile(`(?m)^.*:CONSOLE[:(].*$`)

// TestChromiumRendersReport opens the report rendered from the real corpus in headless
// Chromium, takes a screenshot and checks that the page rendered without a console message
// (a script error, a blocked resource or a Content-Security-Policy violation would log one),
// that the screenshot shows the styled page and its charts, and that the browser's DOM has
// every section and chart.
func TestChromiumRendersReport(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bin := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	require.NoError(t, run(context.Background(), []string{"-corpus", "-policy", "testdata/org.yaml", "-since", "0",
		"-now", testNow.Format(time.RFC3339), "-out", page}, &bytes.Buffer{}, &bytes.Buffer{}))

	shot := filepath.Join(dir, "report.png")
	log := headless(t, bin, page, "--screenshot="+shot, "--window-size=1280,2000", "--hide-scrollbars")
	assert.Empty(t, consoleRE.FindAllString(log, -1), "the page logged to the console")

	raw, err := os.ReadFile(shot)
	require.NoError(t, err, log)
	require.Greater(t, len(raw), 20_000, "a real page, not a blank one")
	require.True(t, bytes.HasPrefix(raw, []byte("\x89PNG\r\n\x1a\n")))
	img, err := png.Decode(bytes.NewReader(raw))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 1280, 2000), img.Bounds())
	if d := os.Getenv("AUDIT_SCREENSHOT_DIR"); d != "" {
		require.NoError(t, os.WriteFile(filepath.Join(d, "audit-report.png"), raw, 0o644))
	}

	// The header is the dark band the style sheet draws; the bar charts' blue is there (the
	// SVG rendered); and the page is not one flat colour.
	assert.True(t, near(img.At(5, 5), color.RGBA{0x1d, 0x23, 0x30, 0xff}), "header colour at (5,5): %v", img.At(5, 5))
	var blue, nonWhite int
	colors := map[color.Color]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			c := img.At(x, y)
			colors[c] = true
			if near(c, color.RGBA{0x3b, 0x6f, 0xd8, 0xff}) {
				blue++
			}
			if r, g, bb, _ := c.RGBA(); r < 0xf000 || g < 0xf000 || bb < 0xf000 {
				nonWhite++
			}
		}
	}
	assert.Greater(t, blue, 500, "chart bars drawn")
	assert.Greater(t, len(colors), 50, "text and charts, not a flat page")
	assert.Greater(t, nonWhite, 1280*2000/4/10, "more than a tenth of the page is drawn")

	// The DOM as Chromium parsed it has every section and every chart.
	dom := headless(t, bin, page, "--dump-dom")
	for _, id := range []string{"summary", "cost", "activity", "tools", "rejected", "api-errors", "files", "drift", "retention"} {
		assert.Contains(t, dom, `<section id="`+id+`">`)
	}
	assert.GreaterOrEqual(t, strings.Count(dom, "<svg "), 5)
	assert.Contains(t, dom, "rm -rf")
	assert.Contains(t, dom, "cowork_not_allowed")
}

// TestChromiumCatchesErrors is the control: a page with a script error and an external image
// does log console messages, so the check above can fail.
func TestChromiumCatchesErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bin := chromium(t)
	page := filepath.Join(t.TempDir(), "bad.html")
	require.NoError(t, os.WriteFile(page, []byte(`<!DOCTYPE html><html><head>`+
		`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`+
		`</head><body><img src="http://192.0.2.1/x.png"><script>undefinedFunction()</script></body></html>`), 0o644))
	log := headless(t, bin, page, "--screenshot="+filepath.Join(t.TempDir(), "bad.png"), "--window-size=400,300")
	assert.GreaterOrEqual(t, len(consoleRE.FindAllString(log, -1)), 2, log)
}

func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool {
		x := int(a>>8) - int(w)
		return x > -8 && x < 8
	}
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}
