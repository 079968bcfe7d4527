package hybrid

import "testing"

func TestClassify(t *testing.T) {
	cases := []struct {
		in    string
		tlsOK bool
		want  protocol
		need  int
	}{
		{"\x01", true, protoPomelo, 0},
		{"\x05\x00", true, protoPomelo, 0},
		{"\x04", false, protoPomelo, 0},
		{"\x00", true, protoUnknown, 0},
		{"\x06", true, protoUnknown, 0},
		{"\x16", true, protoUndecided, 2},
		{"\x16\x03", true, protoTLS, 0},
		{"\x16\x03\x01\x02\x00", true, protoTLS, 0},
		{"\x16\x02", true, protoUnknown, 0},
		{"\x16\x03", false, protoUnknown, 0}, // no TLS configured, or already inside TLS
		{"G", true, protoUndecided, 2},       // pomelo's switcher would call this TCP and close it
		{"GE", true, protoUndecided, 3},
		{"GET", true, protoUndecided, 4},
		{"GET ", true, protoHTTP, 0},
		{"GET /x HTTP/1.1", true, protoHTTP, 0},
		{"GETX", true, protoUnknown, 0},
		{"P", true, protoUndecided, 2}, // POST or PUT
		{"PU", true, protoUndecided, 3},
		{"PUT ", true, protoHTTP, 0},
		{"PO", true, protoUndecided, 3},
		{"POST ", true, protoHTTP, 0},
		{"PX", true, protoUnknown, 0},
		{"HEAD ", true, protoHTTP, 0},
		{"DELETE", true, protoUndecided, 7},
		{"DELETE ", true, protoHTTP, 0},
		{"get ", true, protoUnknown, 0},
		{"\r\n", true, protoUnknown, 0},
		{"SSH-2.0", true, protoUnknown, 0},
	}
	for _, c := range cases {
		p, need := classify([]byte(c.in), c.tlsOK)
		if p != c.want || need != c.need {
			t.Errorf("classify(%q, %v) = %d, %d; want %d, %d", c.in, c.tlsOK, p, need, c.want, c.need)
		}
	}
}

// TestClassifyPrefixConsistent checks every prefix of every accepted start: a prefix is either
// undecided (asking for more than it has) or already gives the final answer.
func TestClassifyPrefixConsistent(t *testing.T) {
	for _, full := range []string{"GET / HTTP/1.1", "POST /", "PUT /", "HEAD /", "DELETE /", "\x16\x03\x01", "\x01\x00"} {
		want, _ := classify([]byte(full), true)
		for n := 1; n <= len(full); n++ {
			p, need := classify([]byte(full[:n]), true)
			switch {
			case p == protoUndecided && need <= n:
				t.Errorf("%q: undecided but needs only %d", full[:n], need)
			case p != protoUndecided && p != want:
				t.Errorf("%q: got %d, full input gives %d", full[:n], p, want)
			}
		}
	}
}
