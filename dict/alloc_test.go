//go:build !race

package dict

import "testing"

// The lookups sit on the per-message path (encoding a push, decoding a
// compressed route), so they must not allocate.
func TestAllocLookups(t *testing.T) {
	tab, err := Build([]string{"connector.entryHandler.entry", "chat.chatHandler.send"}, []string{"onChat"})
	requireNoError(t, err)
	route := []byte("chat.chatHandler.send")
	miss := []byte("chat.chatHandler.sent")
	var nilTab *Table
	buf := make([]byte, 0, 256)

	for name, f := range map[string]func(){
		"Code":       func() { _, _ = tab.Code(route) },
		"Code miss":  func() { _, _ = tab.Code(miss) },
		"CodeString": func() { _, _ = tab.CodeString("onChat") },
		"Route":      func() { _, _ = tab.Route(3) },
		"Route miss": func() { _, _ = tab.Route(4) },
		"nil Code":   func() { _, _ = nilTab.Code(route) },
		"nil Route":  func() { _, _ = nilTab.Route(1) },
		"Version":    func() { _ = tab.Version() },
		"AppendRouteToCodeJSON": func() {
			buf = tab.AppendRouteToCodeJSON(buf[:0])
		},
		"AppendCodeToRouteJSON": func() {
			buf = tab.AppendCodeToRouteJSON(buf[:0])
		},
		"round trip": func() {
			code, _ := tab.Code(route)
			r, _ := tab.Route(code)
			buf = append(buf[:0], r...)
		},
	} {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s: %v allocs per run, want 0", name, n)
		}
	}
}
