package dict

import (
	"strconv"
	"testing"
)

// benchTable builds a table of n routes shaped like real ones
// ("area.playerHandler.m123").
func benchTable(b *testing.B, n int) (*Table, []string) {
	b.Helper()
	routes := make([]string, n)
	for i := range routes {
		routes[i] = "area.playerHandler.m" + strconv.Itoa(i)
	}
	tab, err := Build(routes, nil)
	if err != nil {
		b.Fatal(err)
	}
	return tab, routes
}

var sizes = []int{16, 256, 4096, MaxCode}

func BenchmarkCode(b *testing.B) {
	for _, n := range sizes {
		tab, routes := benchTable(b, n)
		keys := make([][]byte, len(routes))
		for i, r := range routes {
			keys[i] = []byte(r)
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(keys[len(keys)/2])))
			for i := 0; b.Loop(); i++ {
				if _, ok := tab.Code(keys[i%len(keys)]); !ok {
					b.Fatal("miss")
				}
			}
		})
	}
}

// BenchmarkCodeBaselineMap is the floor: a bare map[string]uint16 looked
// up with a string key.
func BenchmarkCodeBaselineMap(b *testing.B) {
	for _, n := range sizes {
		_, routes := benchTable(b, n)
		m := make(map[string]uint16, n)
		for i, r := range routes {
			m[r] = uint16(i + 1)
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(routes[len(routes)/2])))
			for i := 0; b.Loop(); i++ {
				if _, ok := m[routes[i%len(routes)]]; !ok {
					b.Fatal("miss")
				}
			}
		})
	}
}

func BenchmarkCodeString(b *testing.B) {
	for _, n := range sizes {
		tab, routes := benchTable(b, n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(routes[len(routes)/2])))
			for i := 0; b.Loop(); i++ {
				if _, ok := tab.CodeString(routes[i%len(routes)]); !ok {
					b.Fatal("miss")
				}
			}
		})
	}
}

func BenchmarkRoute(b *testing.B) {
	for _, n := range sizes {
		tab, routes := benchTable(b, n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(2) // a code is two bytes on the wire
			for i := 0; b.Loop(); i++ {
				if _, ok := tab.Route(uint16(i%len(routes)) + 1); !ok {
					b.Fatal("miss")
				}
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	for _, n := range sizes {
		_, routes := benchTable(b, n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build(routes, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
