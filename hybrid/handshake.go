package hybrid

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"math/big"
	"strconv"
	"unicode/utf8"
)

// Handshake request errors. Both are answered with {"code":500} and a close, as pomelo does.
var (
	ErrHandshakeNotJSON = errors.New("hybrid: handshake body is not a JSON object")
	ErrHandshakeNoSys   = errors.New("hybrid: handshake has no \"sys\" object")
)

// parseHandshake fills req from a HANDSHAKE body. Keys are matched case-sensitively, as in
// JavaScript. Only an object "sys" is accepted. Fields of the wrong JSON type read as "" (strings)
// or nil (RSA); req.User aliases body. The cost is bounded by len(body), which the package limit
// bounds before the handshake.
func parseHandshake(body []byte, req *HandshakeRequest) error {
	*req = HandshakeRequest{}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return ErrHandshakeNotJSON
	}
	var sys map[string]json.RawMessage
	raw, ok := top["sys"]
	if !ok || json.Unmarshal(raw, &sys) != nil || sys == nil {
		return ErrHandshakeNoSys
	}
	req.Type = jsonString(sys["type"])
	req.Version = jsonString(sys["version"])
	req.ProtoVersion = versionString(sys["protoVersion"])
	req.DictVersion = versionString(sys["dictVersion"])
	req.RSA = parseRSA(sys["rsa"])
	if u, ok := top["user"]; ok && !isNull(u) {
		req.User = u
	}
	return nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(raw, []byte("null")) }

// jsonString returns raw as a string when it is a JSON string, else "".
func jsonString(raw json.RawMessage) string {
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// versionString renders a cached version the way pomelo compares it: strings as they are, numbers
// as written, and "" for the falsy values (absent, null, false, 0, "") and for other types. The JS
// client sends protoVersion 0 when it has nothing cached.
func versionString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	switch c := raw[0]; {
	case c == '"':
		return jsonString(raw)
	case c == '-' || (c >= '0' && c <= '9'):
		if f, err := strconv.ParseFloat(string(raw), 64); err != nil || f == 0 {
			return ""
		}
		return string(raw)
	case c == 't':
		return "true"
	}
	return ""
}

// parseRSA reads sys.rsa = {"rsa_n": "<hex modulus>", "rsa_e": 65537}. pomelo hands rsa_e to its
// RSA library through toString(16), so a number is read in decimal and a string in hex. Anything
// malformed gives nil.
func parseRSA(raw json.RawMessage) *rsa.PublicKey {
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var k struct {
		N json.RawMessage `json:"rsa_n"`
		E json.RawMessage `json:"rsa_e"`
	}
	if json.Unmarshal(raw, &k) != nil {
		return nil
	}
	n, ok := new(big.Int).SetString(jsonString(k.N), 16)
	if !ok || n.Sign() <= 0 {
		return nil
	}
	var e int64
	var err error
	if len(k.E) > 0 && k.E[0] == '"' {
		e, err = strconv.ParseInt(jsonString(k.E), 16, 32)
	} else {
		e, err = strconv.ParseInt(string(k.E), 10, 32)
	}
	if err != nil || e < 2 {
		return nil
	}
	return &rsa.PublicKey{N: n, E: int(e)}
}

// appendHandshakeBody appends the JSON body of the handshake response, keys in pomelo's order:
//
//	{"code":200,"sys":{"heartbeat":3,<sysExtra>},"user":<user>}
//	{"code":500}
//
// heartbeat is omitted when hbSecs is 0, user when nil.
func appendHandshakeBody(dst []byte, code, hbSecs int, sysExtra, user []byte) []byte {
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	if code != 200 {
		return append(dst, '}')
	}
	dst = append(dst, `,"sys":{`...)
	if hbSecs > 0 {
		dst = append(dst, `"heartbeat":`...)
		dst = strconv.AppendInt(dst, int64(hbSecs), 10)
		if len(sysExtra) > 0 {
			dst = append(dst, ',')
		}
	}
	dst = append(dst, sysExtra...)
	dst = append(dst, '}')
	if user != nil {
		dst = append(dst, `,"user":`...)
		dst = append(dst, user...)
	}
	return append(dst, '}')
}

// maxKickReason bounds the reason carried by a KICK package.
const maxKickReason = 1 << 10

// appendKickBody appends {"reason":"..."} with reason JSON-escaped (cut to maxKickReason bytes at a
// rune boundary).
func appendKickBody(dst []byte, reason string) []byte {
	if len(reason) > maxKickReason {
		i := maxKickReason
		for i > 0 && !utf8.RuneStart(reason[i]) {
			i--
		}
		reason = reason[:i]
	}
	dst = append(dst, `{"reason":`...)
	dst = appendJSONString(dst, reason)
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: quotes, backslashes and control characters are
// escaped, invalid UTF-8 becomes U+FFFD, and U+2028/U+2029 are escaped for JavaScript.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
