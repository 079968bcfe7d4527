package rpc

import (
	"testing"
	"unicode/utf8"
)

// FuzzCRC32JS compares CRC32JS with the slow UTF-16 reference on arbitrary
// valid strings, and checks that DefaultRoute stays in range for any
// server count.
func FuzzCRC32JS(f *testing.F) {
	for _, file := range []string{"router.json", "router_edge.json"} {
		for _, c := range loadRouterVectors(f, file).Cases {
			f.Add(c.UID, 7)
		}
	}
	f.Fuzz(func(t *testing.T, uid string, n int) {
		got := CRC32JS(uid)
		if utf8.ValidString(uid) {
			if want := crc32Reference(uid); got != want {
				t.Fatalf("CRC32JS(%+q) = %d, want %d", uid, got, want)
			}
		}
		i := DefaultRoute(uid, n)
		switch {
		case n <= 0 && i != -1:
			t.Fatalf("DefaultRoute(%+q, %d) = %d, want -1", uid, n, i)
		case n > 0 && (i < 0 || i >= n):
			t.Fatalf("DefaultRoute(%+q, %d) = %d, out of range", uid, n, i)
		}
	})
}
