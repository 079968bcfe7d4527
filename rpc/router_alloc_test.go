//go:build !race

package rpc

import "testing"

// The router runs once per forwarded message, so it must not allocate.
func TestAllocRouter(t *testing.T) {
	uids := []string{"", "player-000123", "中文😀", "a\xffb"}
	for _, uid := range uids {
		if n := testing.AllocsPerRun(1000, func() { _ = CRC32JS(uid) }); n != 0 {
			t.Errorf("CRC32JS(%+q): %v allocs per run, want 0", uid, n)
		}
		if n := testing.AllocsPerRun(1000, func() { _ = DefaultRoute(uid, 7) }); n != 0 {
			t.Errorf("DefaultRoute(%+q): %v allocs per run, want 0", uid, n)
		}
	}
}
