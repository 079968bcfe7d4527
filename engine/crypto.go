package engine

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// cryptoKey is the body member that carries the signature.
const cryptoKey = "__crypto__"

// Errors of the signature check (all counted as BadSignature).
var (
	errNoPublicKey = errors.New("engine: no RSA public key for the connection")
	errNoSignature = errors.New("engine: body has no __crypto__ member")
	errBadJSON     = errors.New("engine: body is not a JSON object")
)

// verify checks the request's __crypto__ signature (pomelo useCrypto, protocol §7) and, when it
// holds, replaces the body with the JSON text without the member, as pomelo deletes it before the
// handler runs.
//
// The signed text is the JSON the client produced with JSON.stringify before adding __crypto__.
// For a JSON body that is the received text with the member removed (not re-marshalled, so key
// order, number formatting and escapes are the client's). For a pomelo-protobuf body it is the
// JSON rebuilt from the wire in wire order, which is the client's key order (pomelo's encoder
// walks the object's keys); the route's description must declare __crypto__ as a string field for
// the signature to travel at all. Non-ASCII text is hashed as its UTF-8 bytes.
func (c *Context) verify() bool {
	pub := c.sess.conn.PublicKey()
	if pub == nil {
		return false
	}
	text, err := c.jsonOrWire()
	if err != nil {
		return false
	}
	var stripped []byte
	var sig []byte
	if c.reqPB != nil {
		stripped, sig, err = stripMember(text[:0], text, cryptoKey) // in place, in jbuf
	} else {
		stripped, sig, err = stripMember(c.buf[:0], text, cryptoKey)
	}
	if err != nil || verifySignature(pub, stripped, sig) != nil {
		return false
	}
	if c.reqPB != nil {
		c.json, c.jbuf = stripped, stripped
	} else {
		c.buf, c.body, c.owned = stripped, stripped, true
	}
	return true
}

// verifySignature checks sigHex (the signature integer in hex, no fixed width) over text with
// RSASSA-PKCS1-v1_5, SHA-256 first, then SHA-1 (pomelo's verifier accepts both DigestInfos).
func verifySignature(pub *rsa.PublicKey, text, sigHex []byte) error {
	if len(sigHex)%2 == 1 {
		sigHex = append([]byte{'0'}, sigHex...)
	}
	raw := make([]byte, hex.DecodedLen(len(sigHex)))
	if _, err := hex.Decode(raw, sigHex); err != nil {
		return err
	}
	k := pub.Size()
	for len(raw) > k && raw[0] == 0 {
		raw = raw[1:]
	}
	if len(raw) > k {
		return rsa.ErrVerification
	}
	sig := make([]byte, k)
	copy(sig[k-len(raw):], raw)
	h256 := sha256.Sum256(text)
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, h256[:], sig) == nil {
		return nil
	}
	h1 := sha1.Sum(text)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA1, h1[:], sig)
}

// stripMember appends to dst the JSON object text with every top-level member named key removed,
// byte for byte otherwise, and returns a copy of the raw content of the last such member's string
// value. dst may be text[:0]: bytes only move backwards. The value must be a string without
// escapes (a hex signature).
func stripMember(dst, text []byte, key string) (out, value []byte, err error) {
	i := skipSpace(text, 0)
	if i >= len(text) || text[i] != '{' {
		return nil, nil, errBadJSON
	}
	type member struct {
		comma, start, end int // comma: index of the ',' before the member (0 for the first)
		drop              bool
	}
	var members [16]member
	list := members[:0]
	var val []byte
	found := false
	i = skipSpace(text, i+1)
	if i < len(text) && text[i] == '}' {
		return nil, nil, errNoSignature
	}
	comma := 0
	for {
		keyStart := i
		keyEnd, ok := skipString(text, i)
		if !ok {
			return nil, nil, errBadJSON
		}
		if i = skipSpace(text, keyEnd); i >= len(text) || text[i] != ':' {
			return nil, nil, errBadJSON
		}
		valStart := skipSpace(text, i+1)
		if i, ok = skipValue(text, valStart, 0); !ok {
			return nil, nil, errBadJSON
		}
		drop := isKey(text[keyStart:keyEnd], key)
		list = append(list, member{comma, keyStart, i, drop})
		if drop {
			if text[valStart] != '"' || hasEscape(text[valStart+1:i-1]) {
				return nil, nil, errNoSignature
			}
			val, found = text[valStart+1:i-1], true
		}
		if i = skipSpace(text, i); i >= len(text) {
			return nil, nil, errBadJSON
		}
		if text[i] == '}' {
			break
		}
		if text[i] != ',' {
			return nil, nil, errBadJSON
		}
		comma = i
		i = skipSpace(text, i+1)
	}
	if skipSpace(text, i+1) != len(text) {
		return nil, nil, errBadJSON
	}
	if !found {
		return nil, nil, errNoSignature
	}
	value = append([]byte(nil), val...) // copied before dst may overwrite text
	// Cut each dropped member: from the comma before it when a kept member precedes it (so the
	// text around the others stays as it was), else up to the start of the next member.
	last, kept := 0, false
	for k, m := range list {
		if !m.drop {
			kept = true
			continue
		}
		from, to := m.comma, m.end
		if !kept {
			from = m.start
			if k+1 < len(list) {
				to = list[k+1].start
			}
		}
		dst = append(dst, text[last:from]...)
		last = to
	}
	return append(dst, text[last:]...), value, nil
}

// isKey reports whether quoted is the JSON string of key, written without escapes.
func isKey(quoted []byte, key string) bool {
	return len(quoted) == len(key)+2 && string(quoted[1:len(quoted)-1]) == key
}

func hasEscape(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the JSON string starting at b[i].
func skipString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

// maxJSONDepth bounds nesting in skipValue.
const maxJSONDepth = 100

// skipValue returns the index after the JSON value starting at b[i]. It checks structure, not
// the finer grammar of numbers and literals.
func skipValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) || depth > maxJSONDepth {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		closer := byte('}')
		if b[i] == '[' {
			closer = ']'
		}
		obj := b[i] == '{'
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1, true
		}
		for {
			var ok bool
			if obj {
				if i, ok = skipString(b, i); !ok {
					return 0, false
				}
				if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
					return 0, false
				}
				i = skipSpace(b, i+1)
			}
			if i, ok = skipValue(b, i, depth+1); !ok {
				return 0, false
			}
			if i = skipSpace(b, i); i >= len(b) {
				return 0, false
			}
			if b[i] == closer {
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = skipSpace(b, i+1)
		}
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' &&
		b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return 0, false
	}
	return j, true
}
