package hybrid

// protocol is what the first bytes of a connection say it speaks.
type protocol uint8

const (
	protoUndecided protocol = iota // a prefix of something valid: wait for more bytes
	protoPomelo                    // a pomelo package type byte (1..5): raw TCP
	protoHTTP                      // an HTTP method and a space: WebSocket Upgrade
	protoTLS                       // a TLS record header: handshake record, version 3.x
	protoUnknown                   // none of these: close
)

// tlsRecordHandshake and tlsMajorVersion start every TLS ClientHello record.
const (
	tlsRecordHandshake = 0x16
	tlsMajorVersion    = 0x03
)

// httpMethods are the request lines pomelo's switcher sends to its WebSocket server (with the space
// that ends the method, so that "GETX" is not taken for GET).
var httpMethods = [...]string{"GET ", "POST ", "PUT ", "HEAD ", "DELETE "}

// maxSniff is the most bytes classify needs: the longest method and its space.
const maxSniff = len("DELETE ")

// classify decides the protocol from the first bytes of a connection, b (at least one byte). It
// waits (protoUndecided, need = bytes wanted) while b is a proper prefix of a valid start, so a
// client whose first segment holds a single "G" is classified correctly once more arrives, unlike
// pomelo's switcher. tlsOK is false inside TLS, where another TLS record is not accepted.
func classify(b []byte, tlsOK bool) (p protocol, need int) {
	switch c := b[0]; {
	case c >= 1 && c <= 5:
		return protoPomelo, 0
	case c == tlsRecordHandshake && tlsOK:
		if len(b) < 2 {
			return protoUndecided, 2
		}
		if b[1] == tlsMajorVersion {
			return protoTLS, 0
		}
		return protoUnknown, 0
	}
	prefix := false
	for _, m := range httpMethods {
		n := min(len(b), len(m))
		if string(b[:n]) != m[:n] {
			continue
		}
		if n == len(m) {
			return protoHTTP, 0
		}
		prefix = true
	}
	if prefix {
		return protoUndecided, len(b) + 1
	}
	return protoUnknown, 0
}
