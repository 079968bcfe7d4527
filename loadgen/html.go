package main

import (
	"fmt"
	"html/template"
	"math"
	"os"
	"strings"
)

// The HTML report is one self-contained file: tables and inline SVG charts drawn here, no script,
// no external resource.

type serie struct {
	name  string
	color string
	pts   [][2]float64
}

const (
	chartW, chartH = 860, 260
	padL, padR     = 70, 150
	padT, padB     = 30, 40
)

// axis maps values to pixels, linearly or in log10.
type axis struct {
	lo, hi float64
	log    bool
	px0    float64
	px1    float64
}

func (a axis) at(v float64) float64 {
	lo, hi := a.lo, a.hi
	if a.log {
		v, lo, hi = math.Log10(math.Max(v, a.lo)), math.Log10(lo), math.Log10(hi)
	}
	if hi == lo {
		return a.px0
	}
	return a.px0 + (v-lo)/(hi-lo)*(a.px1-a.px0)
}

// ticks returns round tick values for the axis.
func (a axis) ticks() []float64 {
	var out []float64
	if a.log {
		for e := math.Floor(math.Log10(a.lo)); e <= math.Ceil(math.Log10(a.hi)); e++ {
			if v := math.Pow(10, e); v >= a.lo*0.999 && v <= a.hi*1.001 {
				out = append(out, v)
			}
		}
		return out
	}
	span := a.hi - a.lo
	if span <= 0 {
		return []float64{a.lo}
	}
	step := math.Pow(10, math.Floor(math.Log10(span/5)))
	for _, m := range []float64{1, 2, 5, 10} {
		if span/(step*m) <= 6 {
			step *= m
			break
		}
	}
	for v := math.Ceil(a.lo/step) * step; v <= a.hi+step*1e-9; v += step {
		out = append(out, v)
	}
	return out
}

func fmtTick(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case math.Abs(v) >= 1e3:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", math.Round(v*1000)/1000)
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// lineChart draws series as polylines; logY uses a log10 value axis (values <= 0 are skipped).
func lineChart(title, xLabel, yLabel string, logX, logY bool, series []serie) template.HTML {
	xa := axis{lo: math.Inf(1), hi: math.Inf(-1), log: logX, px0: padL, px1: chartW - padR}
	ya := axis{lo: math.Inf(1), hi: math.Inf(-1), log: logY, px0: chartH - padB, px1: padT}
	for _, s := range series {
		for _, p := range s.pts {
			if logY && p[1] <= 0 || logX && p[0] <= 0 {
				continue
			}
			xa.lo, xa.hi = math.Min(xa.lo, p[0]), math.Max(xa.hi, p[0])
			ya.lo, ya.hi = math.Min(ya.lo, p[1]), math.Max(ya.hi, p[1])
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`, chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<text x="%d" y="18" class="t">%s</text>`, padL, esc(title))
	if math.IsInf(xa.lo, 0) {
		b.WriteString(`<text x="300" y="130">no data</text></svg>`)
		return template.HTML(b.String())
	}
	if logY {
		ya.lo, ya.hi = math.Pow(10, math.Floor(math.Log10(ya.lo))), math.Pow(10, math.Ceil(math.Log10(ya.hi)))
	} else {
		ya.lo = math.Min(0, ya.lo)
		if ya.hi <= ya.lo {
			ya.hi = ya.lo + 1
		}
		ya.hi *= 1.05
	}
	if xa.hi <= xa.lo {
		xa.hi = xa.lo + 1
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" class="f"/>`, padL, padT, chartW-padL-padR, chartH-padT-padB)
	for _, v := range ya.ticks() {
		y := ya.at(v)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" class="g"/><text x="%d" y="%.1f" class="yl">%s</text>`,
			padL, chartW-padR, y, y, padL-6, y+4, fmtTick(v))
	}
	for _, v := range xa.ticks() {
		x := xa.at(v)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" class="g"/><text x="%.1f" y="%d" class="xl">%s</text>`,
			x, x, padT, chartH-padB, x, chartH-padB+16, fmtTick(v))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="xl">%s</text>`, (padL+chartW-padR)/2, chartH-6, esc(xLabel))
	fmt.Fprintf(&b, `<text x="14" y="%d" class="yl" transform="rotate(-90 14 %d)">%s</text>`, (padT+chartH-padB)/2, (padT+chartH-padB)/2, esc(yLabel))
	for i, s := range series {
		var pts []string
		for _, p := range s.pts {
			if logY && p[1] <= 0 || logX && p[0] <= 0 {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", xa.at(p[0]), ya.at(p[1])))
		}
		if len(pts) == 1 {
			pts = append(pts, pts[0])
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.6"/>`, strings.Join(pts, " "), s.color)
		y := padT + 14 + i*16
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="3"/><text x="%d" y="%d">%s</text>`,
			chartW-padR+10, chartW-padR+28, y-4, y-4, s.color, chartW-padR+32, y, esc(s.name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"}

func timeSeries(rows []row, names []string, get func(*row) []float64) []serie {
	out := make([]serie, len(names))
	for i, n := range names {
		out[i] = serie{name: n, color: palette[i%len(palette)]}
	}
	for i := range rows {
		vals := get(&rows[i])
		for j := range out {
			out[j].pts = append(out[j].pts, [2]float64{rows[i].T, vals[j]})
		}
	}
	return out
}

func rate(n uint64, r *row) float64 {
	if r.Seconds <= 0 {
		return 0
	}
	return float64(n) / r.Seconds
}

// histogramSeries plots a latency histogram as counts per bucket (density per ms, so that the
// log-linear buckets of different widths compare).
func histogramSeries(name, color string, bs []bucket) serie {
	s := serie{name: name, color: color}
	for _, b := range bs {
		w := b.Hi - b.Lo
		if w <= 0 {
			continue
		}
		d := float64(b.Count) / w
		s.pts = append(s.pts, [2]float64{b.Lo, d}, [2]float64{b.Hi, d})
	}
	return s
}

// spectrum plots latency against 1/(1-q): the tail on a log axis, as HdrHistogram plots do.
func spectrum(name, color string, bs []bucket) serie {
	var total uint64
	for _, b := range bs {
		total += b.Count
	}
	s := serie{name: name, color: color}
	var seen uint64
	for _, b := range bs {
		seen += b.Count
		q := float64(seen) / float64(total)
		x := 1 / (1 - math.Min(q, 0.999999))
		s.pts = append(s.pts, [2]float64{x, b.Hi})
	}
	return s
}

type htmlPage struct {
	R      *result
	Text   string
	Charts []template.HTML
}

var pageTmpl = template.Must(template.New("p").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>loadgen: {{.R.Scenario}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222}
pre{background:#f6f6f6;padding:12px;overflow-x:auto;font-size:13px}
svg{display:block;margin:12px 0;font-size:11px}
svg .t{font-size:14px;font-weight:600} svg .f{fill:#fcfcfc;stroke:#999}
svg .g{stroke:#e2e2e2} svg .yl{text-anchor:end} svg .xl{text-anchor:middle}
table{border-collapse:collapse;font-size:13px} td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
</style></head><body>
<h1>loadgen — {{.R.Scenario}} ({{.R.Loop}})</h1>
<p>Started {{.R.Started.Format "2006-01-02 15:04:05 MST"}}; {{.R.Machine.OS}}/{{.R.Machine.Arch}}, {{.R.Machine.CPUs}} CPUs,
GOMAXPROCS {{.R.Machine.GOMAXPROCS}}, {{.R.Machine.Go}}, kernel {{.R.Machine.Kernel}}.</p>
<pre>{{.Text}}</pre>
{{range .Charts}}{{.}}{{end}}
<h2>Timeline</h2>
<table><tr><th>t (s)</th><th>phase</th><th>open</th><th>connecting</th><th>handshakes</th><th>requests</th><th>responses</th>
<th>errors</th><th>timeouts</th><th>pushes</th><th>dropped</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th><th>loadgen CPU %</th></tr>
{{range .R.Timeline}}<tr><td>{{printf "%.1f" .T}}</td><td>{{.Phase}}</td><td>{{.Open}}</td><td>{{.Connecting}}</td><td>{{.Handshakes}}</td>
<td>{{.Requests}}</td><td>{{.Responses}}</td><td>{{.Errors}}</td><td>{{.Timeouts}}</td><td>{{.Pushes}}</td><td>{{.Dropped}}</td>
<td>{{printf "%.3f" .P50}}</td><td>{{printf "%.3f" .P99}}</td><td>{{printf "%.3f" .Max}}</td><td>{{printf "%.0f" .SelfCPU}}</td></tr>
{{end}}</table>
</body></html>
`))

func writeHTML(path string, r *result) error {
	var text strings.Builder
	writeText(&text, r)
	rows := r.Timeline
	charts := []template.HTML{
		lineChart("Latency per second", "seconds", "ms", false, true, timeSeries(rows, []string{"p50", "p90", "p99", "max"},
			func(x *row) []float64 { return []float64{x.P50, x.P90, x.P99, x.Max} })),
		lineChart("Throughput", "seconds", "per second", false, false, timeSeries(rows,
			[]string{"requests", "responses", "notifies", "pushes", "errors"},
			func(x *row) []float64 {
				return []float64{rate(x.Requests, x), rate(x.Responses, x), rate(x.Notifies, x), rate(x.Pushes, x), rate(x.Errors, x)}
			})),
		lineChart("Connections", "seconds", "connections", false, false, timeSeries(rows,
			[]string{"open", "connecting", "handshakes/s", "dropped/s", "failed/s"},
			func(x *row) []float64 {
				return []float64{float64(x.Open), float64(x.Connecting), rate(x.Handshakes, x), rate(x.Dropped, x), rate(x.Failed, x)}
			})),
	}
	if len(r.Histogram) > 0 {
		ss := []serie{histogramSeries("responses", palette[0], r.Histogram)}
		sp := []serie{spectrum("responses", palette[0], r.Histogram)}
		if len(r.PushHist) > 0 {
			ss = append(ss, histogramSeries("pushes", palette[1], r.PushHist))
			sp = append(sp, spectrum("pushes", palette[1], r.PushHist))
		}
		charts = append(charts,
			lineChart("Latency histogram (count per ms of bucket width)", "latency ms", "count / ms", true, true, ss),
			lineChart("Latency by percentile (x = 1/(1-q): 10 = p90, 100 = p99, 1000 = p99.9)", "1/(1-q)", "latency ms", true, true, sp))
	}
	var cpuNames []string
	for _, s := range r.Servers {
		cpuNames = append(cpuNames, fmt.Sprintf("server %d", s.PID))
	}
	nSrv := len(cpuNames)
	charts = append(charts,
		lineChart("CPU (% of one core)", "seconds", "%", false, false, timeSeries(rows, append(cpuNames, "loadgen"),
			func(x *row) []float64 {
				v := make([]float64, nSrv+1)
				copy(v, x.ServerCPU)
				v[nSrv] = x.SelfCPU
				return v
			})),
		lineChart("Resident memory (MiB)", "seconds", "MiB", false, false, timeSeries(rows, append(cpuNames, "loadgen"),
			func(x *row) []float64 {
				v := make([]float64, nSrv+1)
				for i := 0; i < nSrv && i < len(x.ServerRSS); i++ {
					v[i] = float64(x.ServerRSS[i]) / (1 << 20)
				}
				v[nSrv] = float64(x.SelfRSS) / (1 << 20)
				return v
			})))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pageTmpl.Execute(f, htmlPage{R: r, Text: text.String(), Charts: charts}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
