//go:build !race

package pack

import "testing"

// TestAllocScalars pins the typed encode and in-place decode paths at zero allocations.
func TestAllocScalars(t *testing.T) {
	buf := make([]byte, 0, 256)
	body := []byte("payload bytes")
	var sink int64
	n := testing.AllocsPerRun(1000, func() {
		b := AppendArrayHeader(buf[:0], 6)
		b = AppendInt(b, -12345)
		b = AppendUint(b, 1<<63)
		b = AppendString(b, "connector-server-1")
		b = AppendBytes(b, body)
		b = AppendFloat64(b, 2.5)
		b = AppendMapHeader(b, 1)
		b = AppendBool(AppendKey(b, "k"), true)

		d := NewDecoder(b)
		d.ArrayLen()
		sink += d.Int() + int64(d.Uint()>>60)
		sink += int64(len(d.StringBytesUnsafe()) + len(d.BytesUnsafe()))
		sink += int64(d.Float())
		d.MapLen()
		sink += int64(len(d.KeyUnsafe()))
		if d.Bool() {
			sink++
		}
		if d.Done() != nil {
			t.Fatal(d.Err())
		}
	})
	if n != 0 {
		t.Fatalf("%v allocations per encode/decode, want 0", n)
	}
	if sink == 0 {
		t.Fatal("nothing decoded")
	}
}
