package wire

import (
	"os"
	"testing"
)

func BenchmarkTopField(b *testing.B) {
	for _, tc := range []struct{ name, obj string }{
		{"first", `{"code":200,"msg":"hello"}`},
		{"after-nested", `{"users":["a","b","c","d"],"info":{"code":1,"x":[1,2,3]},"code":500}`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			obj := []byte(tc.obj)
			b.ReportAllocs()
			b.SetBytes(int64(len(obj)))
			for i := 0; i < b.N; i++ {
				if _, ok := TopField(obj, "code"); !ok {
					b.Fatal("not found")
				}
			}
		})
	}
}

// BenchmarkParseServer is the cost of one handshake response parse (a cache miss).
func BenchmarkParseServer(b *testing.B) {
	body, err := os.ReadFile("testdata/handshake_template.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		if _, err := ParseServer(body); err != nil {
			b.Fatal(err)
		}
	}
}
