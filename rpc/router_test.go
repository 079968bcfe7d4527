package rpc

import (
	"encoding/json"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// routerVectors is testdata/router.json or router_edge.json, produced by
// scripts/vectors/gen.js with npm crc@0.2.0.
type routerVectors struct {
	Cases []struct {
		UID         string `json:"uid"`
		CRC32Signed int64  `json:"crc32_signed"`
		Index       []struct {
			Servers int `json:"servers"`
			Index   int `json:"index"`
		} `json:"index"`
	} `json:"cases"`
}

func loadRouterVectors(t testing.TB, name string) routerVectors {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v routerVectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Cases) == 0 {
		t.Fatalf("%s: no cases", name)
	}
	return v
}

func TestRouterVectors(t *testing.T) {
	for _, file := range []string{"router.json", "router_edge.json"} {
		for _, c := range loadRouterVectors(t, file).Cases {
			if got := CRC32JS(c.UID); int64(got) != c.CRC32Signed {
				t.Errorf("%s: CRC32JS(%+q) = %d, want %d", file, c.UID, got, c.CRC32Signed)
			}
			for _, ix := range c.Index {
				if got := DefaultRoute(c.UID, ix.Servers); got != ix.Index {
					t.Errorf("%s: DefaultRoute(%+q, %d) = %d, want %d", file, c.UID, ix.Servers, got, ix.Index)
				}
			}
		}
	}
}

// TestRouterMinInt32 pins the case where abs overflows an int32: the edge
// vectors hold a uid whose checksum is math.MinInt32.
func TestRouterMinInt32(t *testing.T) {
	for _, c := range loadRouterVectors(t, "router_edge.json").Cases {
		if CRC32JS(c.UID) != math.MinInt32 {
			continue
		}
		// 2^31 mod 3 = 2; a 32-bit abs would give MinInt32 % 3 = -2.
		if got := DefaultRoute(c.UID, 3); got != 2 {
			t.Fatalf("DefaultRoute(%+q, 3) = %d, want 2", c.UID, got)
		}
		return
	}
	t.Fatal("router_edge.json has no uid with checksum math.MinInt32")
}

func TestDefaultRouteNoServers(t *testing.T) {
	for _, n := range []int{0, -1, math.MinInt} {
		if got := DefaultRoute("u1", n); got != -1 {
			t.Errorf("DefaultRoute(u1, %d) = %d, want -1", n, got)
		}
	}
}

// crc32Reference is the definition written the slow way: encode to UTF-16,
// keep the low byte of each unit, CRC-32 the bytes.
func crc32Reference(s string) int32 {
	units := utf16.Encode([]rune(s))
	low := make([]byte, len(units))
	for i, u := range units {
		low[i] = byte(u)
	}
	return int32(crc32.ChecksumIEEE(low))
}

func TestCRC32JSMatchesReference(t *testing.T) {
	// Latin-1 text: the checksum is plain CRC-32 of the Latin-1 bytes.
	latin1 := make([]byte, 256)
	var sb strings.Builder
	for i := range latin1 {
		latin1[i] = byte(i)
		sb.WriteRune(rune(i))
	}
	if got, want := CRC32JS(sb.String()), int32(crc32.ChecksumIEEE(latin1)); got != want {
		t.Fatalf("Latin-1: %d, want %d", got, want)
	}

	ranges := [][2]rune{{0, 0x7F}, {0x80, 0x7FF}, {0x800, 0xD7FF}, {0xE000, 0xFFFF}, {0x10000, 0x10FFFF}}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		sb.Reset()
		for range rng.IntN(12) {
			r := ranges[rng.IntN(len(ranges))]
			sb.WriteRune(r[0] + rng.Int32N(r[1]-r[0]+1))
		}
		s := sb.String()
		if got, want := CRC32JS(s), crc32Reference(s); got != want {
			t.Fatalf("CRC32JS(%+q) = %d, want %d", s, got, want)
		}
	}
}

func TestCRC32JSInvalidUTF8(t *testing.T) {
	// Each stray byte reads as U+FFFD, whose low byte is 0xFD.
	if got, want := CRC32JS("a\xffb\xc3"), int32(crc32.ChecksumIEEE([]byte("a\xfdb\xfd"))); got != want {
		t.Fatalf("CRC32JS = %d, want %d", got, want)
	}
}
