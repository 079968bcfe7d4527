package rpc

import (
	"hash/crc32"
	"strconv"
	"strings"
	"testing"
)

var uidSizes = []int{8, 32, 128, 1024}

func BenchmarkCRC32JS(b *testing.B) {
	for _, kind := range []struct{ name, unit string }{
		{"ascii", "u"}, {"cjk", "中"}, {"astral", "😀"},
	} {
		for _, size := range uidSizes {
			uid := strings.Repeat(kind.unit, size/len(kind.unit))
			b.Run(kind.name+"/"+strconv.Itoa(size), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(uid)))
				for b.Loop() {
					_ = CRC32JS(uid)
				}
			})
		}
	}
}

// BenchmarkCRC32Baseline is hash/crc32 on the same ASCII bytes: the
// library's vectorised CRC against our byte-at-a-time table loop.
func BenchmarkCRC32Baseline(b *testing.B) {
	for _, size := range uidSizes {
		uid := []byte(strings.Repeat("u", size))
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(uid)))
			for b.Loop() {
				_ = crc32.ChecksumIEEE(uid)
			}
		})
	}
}

func BenchmarkDefaultRoute(b *testing.B) {
	b.ReportAllocs()
	uid := "player-000123"
	b.SetBytes(int64(len(uid)))
	for b.Loop() {
		_ = DefaultRoute(uid, 7)
	}
}
