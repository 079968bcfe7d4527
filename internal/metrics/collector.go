package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// family is one metric family read at scrape time: a description and how to read each of its
// samples from a source S (a snapshot of counters taken once per scrape).
type family[S any] struct {
	desc    *prometheus.Desc
	kind    prometheus.ValueType
	samples []sample[S]
	absent  func(*S) bool // optional: the family has no value this scrape
}

// sample is one labelled value of a family.
type sample[S any] struct {
	labels []string
	value  func(*S) float64
}

// funcCollector exports families whose values are read from a snapshot taken at scrape time, so
// that the code being measured only keeps its own atomic counters and pays nothing for export.
type funcCollector[S any] struct {
	snap     func(*S) bool // fills the snapshot; false: emit nothing this scrape
	families []family[S]
}

// Describe implements prometheus.Collector.
func (c *funcCollector[S]) Describe(ch chan<- *prometheus.Desc) {
	for i := range c.families {
		ch <- c.families[i].desc
	}
}

// Collect implements prometheus.Collector.
func (c *funcCollector[S]) Collect(ch chan<- prometheus.Metric) {
	var s S
	if !c.snap(&s) {
		return
	}
	for i := range c.families {
		f := &c.families[i]
		if f.absent != nil && f.absent(&s) {
			continue
		}
		for _, smp := range f.samples {
			ch <- prometheus.MustNewConstMetric(f.desc, f.kind, smp.value(&s), smp.labels...)
		}
	}
}

// newDesc describes a family named shaddock_<name>.
func newDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil)
}

// one is a family with a single unlabelled sample.
func one[S any](name, help string, kind prometheus.ValueType, v func(*S) float64) family[S] {
	return family[S]{desc: newDesc(name, help), kind: kind, samples: []sample[S]{{value: v}}}
}

// unless marks f absent from scrapes where absent returns true.
func unless[S any](absent func(*S) bool, f family[S]) family[S] {
	f.absent = absent
	return f
}

// byLabel is a family with one label and one sample per listed value.
func byLabel[S any](name, help, label string, kind prometheus.ValueType, values ...labelled[S]) family[S] {
	f := family[S]{desc: newDesc(name, help, label), kind: kind}
	for _, v := range values {
		f.samples = append(f.samples, sample[S]{labels: []string{v.label}, value: v.value})
	}
	return f
}

// labelled pairs a label value with its reader.
type labelled[S any] struct {
	label string
	value func(*S) float64
}

func lv[S any](label string, v func(*S) float64) labelled[S] { return labelled[S]{label, v} }
