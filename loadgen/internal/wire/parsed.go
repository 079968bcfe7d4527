package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrBadParsedProto is returned by ParsedToDescription for a field entry that is not
// {"option":rule,"type":type,"tag":n}.
var ErrBadParsedProto = errors.New("wire: malformed parsed proto")

const (
	keyMessages = "__messages"
	keyTags     = "__tags"
)

type parsedField struct {
	Option string `json:"option"`
	Type   string `json:"type"`
	Tag    *int64 `json:"tag"`
}

// ParsedToDescription turns protos in pomelo-protobuf's parsed form, as a handshake response
// carries them (protocol §6.3), back into the description-file form that pomelopb.Parse reads:
//
//	{"r":{"msg":{"option":"required","type":"string","tag":1},"__messages":{},"__tags":{"1":"msg"}}}
//	→ {"r":{"required string msg":1}}
//
// Nested definitions in __messages become "message X" keys; top-level "message X" keys are kept.
// __tags is redundant and ignored. Members keep their order, so that parsing the result gives back
// the same parsed form byte for byte.
func ParsedToDescription(parsed []byte) ([]byte, error) {
	top, err := members(parsed)
	if err != nil {
		return nil, err
	}
	out := []byte{'{'}
	for i, m := range top {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendQuoted(out, m.key)
		out = append(out, ':')
		if out, err = appendMessage(out, m.val, 0); err != nil {
			return nil, fmt.Errorf("%s: %w", m.key, err)
		}
	}
	return append(out, '}'), nil
}

type member struct {
	key string
	val json.RawMessage
}

// members decodes a JSON object into its members, in order (a repeated key is kept twice, and
// pomelopb.Parse then applies JSON.parse's rule to the result).
func members(obj []byte) ([]member, error) {
	d := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%w: not an object", ErrBadParsedProto)
	}
	var out []member
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadParsedProto, err)
		}
		var m member
		m.key, _ = tok.(string)
		if err := d.Decode(&m.val); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadParsedProto, err)
		}
		out = append(out, m)
	}
	if _, err := d.Token(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadParsedProto, err)
	}
	return out, nil
}

const maxParsedDepth = 32

func appendMessage(out []byte, raw json.RawMessage, depth int) ([]byte, error) {
	if depth > maxParsedDepth {
		return nil, fmt.Errorf("%w: nested too deep", ErrBadParsedProto)
	}
	ms, err := members(raw)
	if err != nil {
		return nil, err
	}
	out = append(out, '{')
	n := 0
	var nested json.RawMessage
	for _, m := range ms {
		name := m.key
		if name == keyMessages {
			nested = m.val
		}
		if name == keyMessages || name == keyTags {
			continue
		}
		var f parsedField
		if err := json.Unmarshal(m.val, &f); err != nil || f.Tag == nil || f.Option == "" || f.Type == "" {
			return nil, fmt.Errorf("%w: field %q", ErrBadParsedProto, name)
		}
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out = appendQuoted(out, f.Option+" "+f.Type+" "+name)
		out = fmt.Appendf(out, ":%d", *f.Tag)
	}
	if nested = bytes.TrimSpace(nested); len(nested) > 0 && string(nested) != "null" {
		msgs, err := members(nested)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if n > 0 {
				out = append(out, ',')
			}
			n++
			out = appendQuoted(out, "message "+m.key)
			out = append(out, ':')
			if out, err = appendMessage(out, m.val, depth+1); err != nil {
				return nil, err
			}
		}
	}
	return append(out, '}'), nil
}

func appendQuoted(dst []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(dst, q...)
}
