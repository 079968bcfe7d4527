package codec

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// Tiny local assertions (style practice 13): no framework.

func requireEqual[T comparable](t testing.TB, got, want T, what ...any) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", label(what), got, want)
	}
}

func requireNoError(t testing.TB, err error, what ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", label(what), err)
	}
}

func requireErrorIs(t testing.TB, err, want error, what ...any) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", label(what), err, want)
	}
}

func requireBytes(t testing.TB, got, want []byte, what ...any) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s:\n got % x\nwant % x", label(what), clip(got), clip(want))
	}
}

func label(what []any) string {
	if len(what) == 0 {
		return "value"
	}
	var b strings.Builder
	for i, w := range what {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch w := w.(type) {
		case string:
			b.WriteString(w)
		case int:
			b.WriteString(strconv.Itoa(w))
		default:
			b.WriteString(strings.TrimSpace(strings.ReplaceAll(jsonish(w), "\n", " ")))
		}
	}
	return b.String()
}

func jsonish(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}

// clip keeps failure messages readable when a 70000-byte body differs.
func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// wire turns an annotated byte listing into bytes (style practice 8). Each line holds tokens and an
// optional "// comment". A token is one of:
//
//	04 00002c      hex digits, an even number of them
//	0b000_0_010_0  "0b" and eight binary digits, "_" allowed between fields (a flag: 000 G TTT R)
//	'onChat'       text between single quotes, taken as UTF-8 bytes (no spaces inside)
func wire(listing string) []byte {
	var out []byte
	for _, line := range strings.Split(listing, "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		for _, tok := range strings.Fields(line) {
			out = append(out, wireToken(tok)...)
		}
	}
	return out
}

func wireToken(tok string) []byte {
	switch {
	case len(tok) >= 2 && tok[0] == '\'' && tok[len(tok)-1] == '\'':
		return []byte(tok[1 : len(tok)-1])
	case strings.HasPrefix(tok, "0b") && len(strings.ReplaceAll(tok[2:], "_", "")) == 8:
		v, err := strconv.ParseUint(strings.ReplaceAll(tok[2:], "_", ""), 2, 8)
		if err != nil {
			panic("wire: bad bit token " + tok)
		}
		return []byte{byte(v)}
	default:
		b, err := hex.DecodeString(tok)
		if err != nil {
			panic("wire: bad hex token " + tok)
		}
		return b
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// pktView and msgView are comparable snapshots of a Packet and a Message, so that requireEqual can
// compare them (and print them) whole.
type pktView struct {
	Type Type
	Body string
}

func viewPacket(p Packet) pktView { return pktView{p.Type, string(p.Body)} }

type msgView struct {
	Type       MessageType
	ID         uint32
	Compressed bool
	Code       uint16
	Route      string
	Gzip       bool
	Body       string
}

func viewMessage(m *Message) msgView {
	return msgView{m.Type, m.ID, m.Compressed, m.Code, string(m.Route), m.Gzip, string(m.Body)}
}

// within reports whether the first byte of b lies inside the backing array of buf.
func within(b, buf []byte) bool {
	if len(b) == 0 || cap(buf) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	return p >= lo && p < lo+uintptr(cap(buf))
}

// mapTable is a RouteTable for tests.
type mapTable map[uint16]string

func (m mapTable) RouteBytes(code uint16) ([]byte, bool) {
	r, ok := m[code]
	return []byte(r), ok
}

// Vectors produced by the published pomelo-protocol@0.1.6 library (copied into testdata/).

type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	*h = v
	return err
}

type packageVector struct {
	Name string   `json:"name"`
	Type Type     `json:"type"`
	Body hexBytes `json:"body_hex"`
	Hex  hexBytes `json:"hex"`
}

type packageVectors struct {
	Cases  []packageVector `json:"cases"`
	Stream struct {
		Hex     hexBytes `json:"hex"`
		Decoded []struct {
			Type Type     `json:"type"`
			Body hexBytes `json:"body_hex"`
		} `json:"decoded"`
	} `json:"stream"`
}

type messageVector struct {
	Name       string   `json:"name"`
	ID         uint32   `json:"id"`
	Type       string   `json:"type"`
	Compressed bool     `json:"compressRoute"`
	Body       hexBytes `json:"body_hex"`
	Hex        hexBytes `json:"hex"`
	Route      *string  `json:"route"`
	Code       *uint16  `json:"code"`
}

// message is the decoded form the vector describes.
func (v *messageVector) message(t testing.TB) Message {
	types := map[string]MessageType{"request": Request, "notify": Notify, "response": Response, "push": Push}
	mt, ok := types[v.Type]
	if !ok {
		t.Fatalf("%s: unknown type %q", v.Name, v.Type)
	}
	m := Message{Type: mt, Compressed: v.Compressed, Body: v.Body}
	if mt.HasID() {
		m.ID = v.ID
	}
	if v.Route != nil {
		m.Route = []byte(*v.Route)
	}
	if v.Code != nil {
		m.Code = *v.Code
	}
	return m
}

func loadJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	requireNoError(t, err, "read", name)
	requireNoError(t, json.Unmarshal(b, v), "parse", name)
}

func loadPackages(t testing.TB) packageVectors {
	var v packageVectors
	loadJSON(t, "packages.json", &v)
	if len(v.Cases) == 0 || len(v.Stream.Decoded) == 0 {
		t.Fatal("packages.json: no cases")
	}
	return v
}

func loadMessages(t testing.TB) []messageVector {
	var v struct {
		Cases []messageVector `json:"cases"`
	}
	loadJSON(t, "message.json", &v)
	if len(v.Cases) == 0 {
		t.Fatal("message.json: no cases")
	}
	return v.Cases
}

// vectorStreams returns byte streams made of the package vectors, with the packages each one holds.
func vectorStreams(t testing.TB) []streamCase {
	pv := loadPackages(t)
	var streams []streamCase

	s := streamCase{name: "stream vector", wire: pv.Stream.Hex}
	for _, p := range pv.Stream.Decoded {
		s.want = append(s.want, Packet{Type: p.Type, Body: p.Body})
	}
	streams = append(streams, s)

	all := streamCase{name: "all package vectors"}
	for _, c := range pv.Cases {
		all.wire = append(all.wire, c.Hex...)
		all.want = append(all.want, Packet{Type: c.Type, Body: c.Body})
	}
	streams = append(streams, all)

	msgs := streamCase{name: "message vectors as DATA packages"}
	for _, c := range loadMessages(t) {
		msgs.wire = append(msgs.wire, byte(TypeData), 0, byte(len(c.Hex)>>8), byte(len(c.Hex)))
		msgs.wire = append(msgs.wire, c.Hex...)
		msgs.want = append(msgs.want, Packet{Type: TypeData, Body: c.Hex})
	}
	streams = append(streams, msgs)
	return streams
}

type streamCase struct {
	name string
	wire []byte
	want []Packet
}
