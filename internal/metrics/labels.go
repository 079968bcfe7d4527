package metrics

import (
	"sync"
	"sync/atomic"
)

// labelTable maps the values of one label (a route, a remote server id) to pre-resolved metric
// children, so that recording an observation costs one map read and no label hashing, lock or
// allocation. The map is copied on write under mu and published through an atomic pointer: the
// read path takes no lock. At most max values are kept; further values share the OtherLabel
// entry.
type labelTable[T any] struct {
	max   int
	build func(label string) *T // creates the children of a new value; called under mu
	other *T

	mu sync.Mutex // serialises writers
	m  atomic.Pointer[map[string]*T]
}

func newLabelTable[T any](max int, build func(label string) *T) *labelTable[T] {
	t := &labelTable[T]{max: max, build: build}
	t.other = build(OtherLabel)
	t.m.Store(&map[string]*T{})
	return t
}

// lookup returns the entry of v, or nil. Safe for concurrent use; allocation-free.
func (t *labelTable[T]) lookup(v string) *T { return (*t.m.Load())[v] }

// get returns the entry of v, adding it when there is room, else the OtherLabel entry.
func (t *labelTable[T]) get(v string) *T {
	if e := t.lookup(v); e != nil {
		return e
	}
	return t.add(v)
}

// add inserts v (if absent and there is room) and returns its entry, or the OtherLabel entry.
func (t *labelTable[T]) add(v string) *T {
	if v == OtherLabel {
		return t.other
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.m.Load()
	if e := old[v]; e != nil {
		return e
	}
	if len(old) >= t.max {
		return t.other
	}
	m := make(map[string]*T, len(old)+1)
	for k, e := range old {
		m[k] = e
	}
	e := t.build(v)
	m[v] = e
	t.m.Store(&m)
	return e
}

// addAll inserts every value of vs that fits, with one copy of the map.
func (t *labelTable[T]) addAll(vs []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := *t.m.Load()
	m := make(map[string]*T, len(old)+len(vs))
	for k, e := range old {
		m[k] = e
	}
	for _, v := range vs {
		if _, ok := m[v]; ok || v == OtherLabel || len(m) >= t.max {
			continue
		}
		m[v] = t.build(v)
	}
	t.m.Store(&m)
}

// len returns the number of values held (OtherLabel not included).
func (t *labelTable[T]) len() int { return len(*t.m.Load()) }
