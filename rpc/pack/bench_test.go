package pack

import (
	"strconv"
	"testing"
)

var benchSizes = []int{16, 256, 4096, 65536}

// BenchmarkString encodes and decodes one string of each size in place.
func BenchmarkString(b *testing.B) {
	for _, n := range benchSizes {
		s := string(make([]byte, n))
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			buf := make([]byte, 0, n+16)
			for i := 0; i < b.N; i++ {
				buf = AppendString(buf[:0], s)
				d := NewDecoder(buf)
				if len(d.StringBytesUnsafe()) != n {
					b.Fatal("bad length")
				}
			}
		})
	}
}

// BenchmarkSettings is a session-settings-like map: typed encode and in-place decode, with the
// generic Any decode as the baseline twin.
func BenchmarkSettings(b *testing.B) {
	enc := func(dst []byte) []byte {
		dst = AppendMapHeader(dst, 3)
		dst = AppendString(AppendKey(dst, "rid"), "room-42")
		dst = AppendInt(AppendKey(dst, "level"), 17)
		return AppendBool(AppendKey(dst, "vip"), true)
	}
	wire := enc(nil)
	b.Run("typed", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(wire)))
		buf := make([]byte, 0, 64)
		for i := 0; i < b.N; i++ {
			buf = enc(buf[:0])
			d := NewDecoder(buf)
			for n := d.MapLen(); n > 0; n-- {
				d.KeyUnsafe()
				d.Skip()
			}
			if d.Done() != nil {
				b.Fatal(d.Err())
			}
		}
	})
	b.Run("any", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(wire)))
		for i := 0; i < b.N; i++ {
			d := NewDecoder(wire)
			v := d.Any()
			if _, err := AppendAny(nil, v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
